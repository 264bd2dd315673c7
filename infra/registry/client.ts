// Our side of the registry's HTTP API (the OCI distribution spec): GET/HEAD for checks,
// and a push of a local Docker image, taken with `docker save`, through the push side's
// unix socket. Our own push (not `docker push`) because the engine that built the
// images is not where the registry is: `docker push` runs in dockerd, which may sit in
// another network namespace (the e2e) and would need the lab CA installed host-wide,
// while this code runs in the Pulumi process, next to the registry's socket.
// The manifest and its digest come only from the image's content (config, layers,
// gzip of each layer with fixed settings), so an unchanged image keeps its digest.
import { execFileSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as os from "os";
import * as path from "path";
import { pipeline } from "stream/promises";
import { Transform } from "stream";
import * as zlib from "zlib";
import { hostPort, type RegistryAddress } from "./address";
import { LAB_NAMESPACE } from "./ref";

export const MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json";
const CONFIG_TYPE = "application/vnd.docker.container.image.v1+json";
const LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip";
const DOCKER = "/usr/bin/docker";

/** The pull side over TLS (checked against the lab CA), or the push side's socket. */
export type Endpoint = { address: RegistryAddress; caPem: string } | { socket: string };

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

/** One request; `body` a buffer or a file streamed from disk. Bounded by `timeoutMs`. */
export function registryRequest(
  ep: Endpoint,
  method: string,
  urlPath: string,
  o: {
    headers?: Record<string, string | number>;
    body?: Buffer | { file: string };
    timeoutMs?: number;
  } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const common = { method, path: urlPath, headers: o.headers, timeout: o.timeoutMs ?? 30_000 };
    const req =
      "socket" in ep
        ? http.request({ ...common, socketPath: ep.socket, host: "registry.local" })
        : https.request({
            ...common,
            host: ep.address.host,
            port: ep.address.port,
            ca: ep.caPem,
            agent: false,
          });
    req.on("timeout", () =>
      req.destroy(new Error(`${method} ${urlPath}: no answer within ${common.timeout} ms`)),
    );
    req.on("error", reject);
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on("error", reject);
    });
    if (o.body === undefined) req.end();
    else if (Buffer.isBuffer(o.body)) req.end(o.body);
    else fs.createReadStream(o.body.file).on("error", reject).pipe(req);
  });
}

export const registryGet = (ep: Endpoint, urlPath: string) => registryRequest(ep, "GET", urlPath);

const where = (ep: Endpoint) => ("socket" in ep ? ep.socket : hostPort(ep.address));

function expectStatus(r: Reply, want: number[], what: string, ep: Endpoint): void {
  if (want.includes(r.status)) return;
  const text = r.body.toString("utf8").slice(0, 400).trim();
  const fix =
    r.status === 405 || r.status === 503
      ? " (the registry refuses writes here: pushes go only through the push side's socket on the management host)"
      : "";
  throw new Error(`lab registry at ${where(ep)}: ${what} answered HTTP ${r.status}${fix}: ${text}`);
}

const repo = (name: string) => `${LAB_NAMESPACE}/${name}`;

/** True when the registry has the manifest `ref` (a tag or digest) of `name`. */
export async function hasManifest(ep: Endpoint, name: string, ref: string): Promise<boolean> {
  const r = await registryRequest(ep, "HEAD", `/v2/${repo(name)}/manifests/${ref}`, {
    headers: { Accept: MANIFEST_V2 },
  });
  return r.status === 200;
}

async function hasBlob(ep: Endpoint, name: string, digest: string): Promise<boolean> {
  const r = await registryRequest(ep, "HEAD", `/v2/${repo(name)}/blobs/${digest}`);
  return r.status === 200;
}

/** A monolithic blob upload: POST for an upload URL, PUT the content with its digest. */
async function uploadBlob(
  ep: Endpoint,
  name: string,
  digest: string,
  size: number,
  body: Buffer | { file: string },
) {
  const start = await registryRequest(ep, "POST", `/v2/${repo(name)}/blobs/uploads/`);
  expectStatus(start, [202], `starting an upload to ${repo(name)}`, ep);
  const loc = new URL(String(start.headers.location), "http://registry.local");
  loc.searchParams.set("digest", digest);
  const put = await registryRequest(ep, "PUT", `${loc.pathname}${loc.search}`, {
    headers: { "Content-Type": "application/octet-stream", "Content-Length": size },
    body,
    timeoutMs: 600_000,
  });
  expectStatus(put, [201], `uploading blob ${digest}`, ep);
}

/** gzip (level 6, no name or time in the header: Node writes none) with sha256 and size. */
async function gzipFile(src: string, dst: string): Promise<{ digest: string; size: number }> {
  const hash = createHash("sha256");
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  await pipeline(
    fs.createReadStream(src),
    zlib.createGzip({ level: 6 }),
    tap,
    fs.createWriteStream(dst),
  );
  return { digest: `sha256:${hash.digest("hex")}`, size };
}

/** diff ID -> the gzip blob made of it: compressing a layer once per registry, not per push. */
type LayerCache = Record<string, { digest: string; size: number }>;

export interface PushResult {
  /** The manifest's digest: what nodes pull by. */
  digest: string;
  /** Compressed bytes of the image (config + layers): what a node with none of it pulls. */
  bytes: number;
  /** Bytes actually sent (layers the registry did not have). */
  uploaded: number;
}

/** A local image as `docker save` writes it, unpacked in `dir`. */
interface SavedImage {
  configBytes: Buffer;
  /** diff ID and the layer's tar file, base layer first. */
  layers: { diffId: string; file: string }[];
}

function saveImage(image: string, label: string, dir: string): SavedImage {
  try {
    // `--` : an image name can never be read as an option.
    execFileSync(DOCKER, ["save", "-o", path.join(dir, "image.tar"), "--", image], {
      stdio: ["ignore", "ignore", "pipe"],
    });
  } catch (e) {
    const err = String((e as { stderr?: Buffer }).stderr ?? e).trim();
    throw new Error(
      `lab image ${label}: docker save ${image} failed: ${err}; fix: build it (containers/build.sh, fleet/build-image.sh)`,
    );
  }
  execFileSync("tar", ["-x", "-f", path.join(dir, "image.tar"), "-C", dir]);
  fs.rmSync(path.join(dir, "image.tar"));
  const [saved] = JSON.parse(fs.readFileSync(path.join(dir, "manifest.json"), "utf8")) as {
    Config: string;
    Layers: string[];
  }[];
  const configBytes = fs.readFileSync(path.join(dir, saved.Config));
  const diffIds = (JSON.parse(configBytes.toString("utf8")) as { rootfs: { diff_ids: string[] } })
    .rootfs.diff_ids;
  if (diffIds.length !== saved.Layers.length)
    throw new Error(
      `lab image ${label}: docker save gave ${saved.Layers.length} layers for ${diffIds.length} diff IDs`,
    );
  return {
    configBytes,
    layers: diffIds.map((diffId, i) => ({ diffId, file: path.join(dir, saved.Layers[i]) })),
  };
}

function withTmp<T>(f: (dir: string) => Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fleetlab-push-"));
  return f(dir).finally(() => fs.rmSync(dir, { recursive: true, force: true }));
}

/**
 * Each layer of a local image as a push gives it: diff ID -> gzip blob digest and size.
 * What a node's docker must know to take a layer it already has for the blob a
 * manifest names (image/build.sh's warm base layer).
 */
export function layerBlobs(
  image: string,
): Promise<{ diffId: string; digest: string; size: number }[]> {
  return withTmp(async (dir) => {
    const saved = saveImage(image, image, dir);
    const out = [];
    for (const l of saved.layers)
      out.push({ diffId: l.diffId, ...(await gzipFile(l.file, `${l.file}.gz`)) });
    return out;
  });
}

/**
 * Pushes the local image `image` as `fleetlab/<name>:<tag>` through the push side's
 * socket. Layers the registry has are not sent again. `cacheFile` keeps the layer
 * cache (beside the registry's storage, so it goes with it).
 */
export function pushImage(o: {
  socket: string;
  image: string;
  name: string;
  tag: string;
  cacheFile: string;
  log?: (m: string) => void;
}): Promise<PushResult> {
  const ep: Endpoint = { socket: o.socket };
  const say = o.log ?? (() => undefined);
  return withTmp(async (tmp) => {
    const { configBytes, layers: saved } = saveImage(o.image, o.name, tmp);
    let cache: LayerCache = {};
    try {
      cache = JSON.parse(fs.readFileSync(o.cacheFile, "utf8")) as LayerCache;
    } catch {
      cache = {};
    }
    let uploaded = 0;
    const layers: { mediaType: string; size: number; digest: string }[] = [];
    for (const [i, { diffId, file }] of saved.entries()) {
      let blob = cache[diffId];
      if (!blob || !(await hasBlob(ep, o.name, blob.digest))) {
        const gz = `${file}.gz`;
        blob = await gzipFile(file, gz);
        if (!(await hasBlob(ep, o.name, blob.digest))) {
          say(
            `pushing ${o.name} layer ${i + 1}/${saved.length} (${(blob.size / 2 ** 20).toFixed(1)} MiB)`,
          );
          await uploadBlob(ep, o.name, blob.digest, blob.size, { file: gz });
          uploaded += blob.size;
        }
        fs.rmSync(gz);
        cache[diffId] = blob;
      }
      layers.push({ mediaType: LAYER_GZIP, ...blob });
    }
    fs.writeFileSync(o.cacheFile, JSON.stringify(cache, null, 1));
    const configDigest = `sha256:${createHash("sha256").update(configBytes).digest("hex")}`;
    if (!(await hasBlob(ep, o.name, configDigest))) {
      await uploadBlob(ep, o.name, configDigest, configBytes.length, configBytes);
      uploaded += configBytes.length;
    }
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: MANIFEST_V2,
        config: { mediaType: CONFIG_TYPE, size: configBytes.length, digest: configDigest },
        layers,
      }),
    );
    const digest = `sha256:${createHash("sha256").update(manifest).digest("hex")}`;
    const put = await registryRequest(ep, "PUT", `/v2/${repo(o.name)}/manifests/${o.tag}`, {
      headers: { "Content-Type": MANIFEST_V2, "Content-Length": manifest.length },
      body: manifest,
    });
    expectStatus(put, [201], `storing the manifest of ${repo(o.name)}:${o.tag}`, ep);
    const said = put.headers["docker-content-digest"];
    if (said !== digest)
      throw new Error(
        `lab image ${o.name}: the registry stored the manifest as ${String(said)}, not ${digest}`,
      );
    const bytes = configBytes.length + layers.reduce((a, l) => a + l.size, 0);
    return { digest, bytes, uploaded };
  });
}
