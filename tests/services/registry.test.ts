// The lab registry with real parts: Debian's docker-registry (distribution 2.8) started
// by infra/registry/server.ts on 127.0.0.1 with a certificate from a lab CA, images
// pushed by our client through the push side's socket, checked with curl and the
// machine's docker engine. Every process started here is stopped by PID in afterAll.
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { createCa, createCert } from "../../infra/pki";
import { hasManifest, pushImage, registryRequest } from "../../infra/registry/client";
import { pullListen } from "../../infra/registry/address";
import {
  checkListenable,
  ensureRegistry,
  registryPaths,
  registryRunning,
  runningSides,
  stopRegistry,
  type RegistryServer,
} from "../../infra/registry/server";
import { freePort } from "../support/ports";
import { waitFor } from "../support/wait";
import { DOCKER, docker } from "./harness";

const tag = `flt-${process.pid}`;
let tmp: string;
let server: RegistryServer;
const images: string[] = [];

/** A one-layer image of this machine's docker made from `files` (docker import). */
function tinyImage(name: string, files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(tmp, "root-"));
  for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(root, f), text);
  const ref = `${tag}-${name}:1`;
  const tar = spawnSync("tar", ["-C", root, "--mtime=@0", "--owner=0", "--group=0", "-c", "."]);
  execFileSync(DOCKER, ["import", "-", ref], { input: tar.stdout });
  images.push(ref);
  return ref;
}

/** Pushes the local image `ref` as fleetlab/<name>:1 through the push socket. */
const pushTiny = (name: string, ref: string) =>
  pushImage({
    socket: registryPaths(server.dir).socket,
    image: ref,
    name,
    tag: "1",
    cacheFile: path.join(tmp, "layers.json"),
  });

const curl = (url: string, ...args: string[]) =>
  spawnSync("curl", ["-sS", "--max-time", "10", ...args, "--", url], { encoding: "utf8" });

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), `${tag}-registry-`));
  const ca = createCa("fleetlab test CA", 30);
  const cert = createCert(ca, {
    commonName: "fleetlab registry",
    dnsNames: [],
    ipAddresses: ["127.0.0.1"],
    usage: "server",
    validityDays: 30,
  });
  fs.writeFileSync(path.join(tmp, "ca.pem"), ca.certPem);
  server = {
    dir: path.join(tmp, "registry"),
    pull: { host: "127.0.0.1", port: await freePort() },
    caPem: ca.certPem,
    certPem: cert.certPem,
    keyPem: cert.keyPem,
  };
  docker("info");
  await ensureRegistry(server);
});

afterAll(async () => {
  if (server) await stopRegistry(server.dir);
  for (const i of images) spawnSync(DOCKER, ["rmi", "-f", i]);
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

test("both sides run, the key is 0600 and the directory 0700", () => {
  expect(registryRunning(server.dir)).toBe(true);
  const p = registryPaths(server.dir);
  expect(fs.statSync(p.key).mode & 0o777).toBe(0o600);
  expect(fs.statSync(server.dir).mode & 0o777).toBe(0o700);
});

test("the pull side answers over TLS with the lab CA trusted, and not without it", () => {
  const url = `https://127.0.0.1:${server.pull.port}/v2/`;
  const trusted = curl(
    url,
    "--cacert",
    path.join(tmp, "ca.pem"),
    "-o",
    "/dev/null",
    "-w",
    "%{http_code}",
  );
  expect(trusted.stdout).toBe("200");
  const untrusted = curl(url, "-o", "/dev/null");
  expect(untrusted.status).toBe(60); // curl: peer certificate cannot be authenticated
  const plain = curl(
    `http://127.0.0.1:${server.pull.port}/v2/`,
    "-o",
    "/dev/null",
    "-w",
    "%{http_code}",
  );
  expect(plain.stdout).toBe("400"); // Go's TLS server answers plain HTTP with 400
});

test("a push through the socket gives a content digest; pushed again, the same digest and nothing sent", async () => {
  const ref = tinyImage("a", { "hello.txt": "fleetlab\n" });
  const cacheFile = path.join(tmp, "layers.json");
  const push = {
    socket: registryPaths(server.dir).socket,
    image: ref,
    name: "tiny",
    tag: "1",
    cacheFile,
  };
  const first = await pushImage(push);
  expect(first.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  expect(first.uploaded).toBeGreaterThan(0);
  const again = await pushImage(push);
  expect(again).toEqual({ ...first, uploaded: 0 });
  // The pull side (read-only, TLS) serves what the push side stored.
  const pullEp = { address: server.pull, caPem: server.caPem };
  expect(await hasManifest(pullEp, "tiny", first.digest)).toBe(true);
  expect(await hasManifest(pullEp, "tiny", `sha256:${"0".repeat(64)}`)).toBe(false);
});

test("a real OCI client (skopeo) pulls by digest with the lab CA trusted, and fails without it", async () => {
  const { digest } = await pushTiny("skopeo", tinyImage("s", { "s.txt": "skopeo\n" }));
  const certDir = fs.mkdtempSync(path.join(tmp, "certs-"));
  fs.copyFileSync(path.join(tmp, "ca.pem"), path.join(certDir, "ca.crt"));
  const src = `docker://127.0.0.1:${server.pull.port}/fleetlab/skopeo@${digest}`;
  const copy = (...args: string[]) =>
    spawnSync(
      "skopeo",
      ["copy", "--quiet", ...args, "--", src, `dir:${fs.mkdtempSync(path.join(tmp, "out-"))}`],
      {
        encoding: "utf8",
        timeout: 60_000,
      },
    );
  const trusted = copy("--src-cert-dir", certDir);
  expect(trusted.stderr).toBe("");
  expect(trusted.status).toBe(0);
  const untrusted = copy("--src-cert-dir", fs.mkdtempSync(path.join(tmp, "empty-")));
  expect(untrusted.status).not.toBe(0);
  expect(untrusted.stderr).toMatch(/certificate signed by unknown authority/);
});

test("the pull side refuses a push: our client and docker's", async () => {
  const ep = { address: server.pull, caPem: server.caPem };
  const r = await registryRequest(ep, "POST", "/v2/fleetlab/tiny/blobs/uploads/");
  // Distribution's read-only mode: 405 for every write.
  expect(r.status).toBe(405);
  expect(r.body.toString()).toMatch(/not allowed/i);
  // The machine's docker: 127.0.0.0/8 is an insecure registry to it, so it skips the CA
  // check but still speaks TLS; the registry refuses the write all the same.
  const ref = tinyImage("b", { "b.txt": "b\n" });
  const remote = `127.0.0.1:${server.pull.port}/fleetlab/tiny:refused`;
  docker("tag", ref, remote);
  images.push(remote);
  const push = spawnSync(DOCKER, ["push", "--", remote], { encoding: "utf8", timeout: 60_000 });
  expect(push.status).not.toBe(0);
  expect(`${push.stdout}${push.stderr}`).toMatch(/unsupported|405/i);
});

test("the machine's docker pulls the pushed image by digest from the pull side", async () => {
  const ref = tinyImage("c", { "c.txt": "pulled\n" });
  const { digest } = await pushTiny("pulled", ref);
  const remote = `127.0.0.1:${server.pull.port}/fleetlab/pulled@${digest}`;
  images.push(remote);
  docker("pull", "--", remote);
  expect(docker("image", "inspect", "-f", "{{.Id}}", remote)).toBe(
    docker("image", "inspect", "-f", "{{.Id}}", ref),
  );
});

test("ensure is a no-op while both run, restarts a side that died, and stop leaves nothing", async () => {
  const before = runningSides(server.dir);
  await ensureRegistry(server);
  expect(runningSides(server.dir)).toEqual(before);
  process.kill(before.pull!, "SIGKILL");
  for (let i = 0; i < 50 && runningSides(server.dir).pull; i++)
    await new Promise((r) => setTimeout(r, 100));
  expect(registryRunning(server.dir)).toBe(false);
  // Its port is free once the kernel has closed the dead side's sockets, which can trail
  // its command line going away: docker-registry is multithreaded, and its main thread
  // exits before the others (seen once in CI under load: the restart found the port in use).
  await waitFor(
    "the killed pull side's port to be free",
    () => checkListenable(pullListen(server.pull)).then(() => true),
    10_000,
    100,
  );
  await ensureRegistry(server);
  expect(registryRunning(server.dir)).toBe(true);
  // The storage outlived the restart: the image is still there.
  expect(await hasManifest({ socket: registryPaths(server.dir).socket }, "tiny", "1")).toBe(true);
});

test("a port taken by another process is named, with the fix, before anything starts", async () => {
  const other = { ...server, dir: path.join(tmp, "other") };
  try {
    await expect(ensureRegistry(other)).rejects.toThrow(
      new RegExp(`127\\.0\\.0\\.1:${server.pull.port} is already in use.*fix:`),
    );
    expect(fs.existsSync(other.dir)).toBe(false);
  } finally {
    // Should it start after all (the test failing), it must not outlive the test.
    if (fs.existsSync(other.dir)) await stopRegistry(other.dir);
  }
});
