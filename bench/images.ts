// npm run bench:images — how many bytes a node pulls for the lab's five images
// (fleet, dhcp, www, ldap, sidekick), as built here by containers/build.sh and
// fleet/build-image.sh (run first; both skip an image that is up to date):
//  - per image: its uncompressed size (`docker image inspect` .Size), its layers
//    (what made each one), and each layer's size as a tar and gzip-compressed at
//    the default level (6), which is what a registry push stores and a pull moves;
//  - for the whole lab: the compressed bytes of the union of unique layers (what a
//    node with none of the images pulls), and of the one base layer they all share;
//  - beside it, the floor: the debootstrap minbase root base.sh starts from
//    ($FLEETLAB_CACHE/bookworm-minbase, before any stripping), tarred as base.sh
//    tars it and compressed the same way, in the same run.
// The layers come from one `docker save` of the five images (the engine here is
// Docker 20.10, whose archive holds each layer as an uncompressed layer.tar, listed
// in the order of the config's rootfs.diff_ids). Writes bench/results/images.json.
// Not part of npm test.
import { execFileSync, spawn } from "child_process";
import {
  createReadStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "fs";
import { cpus } from "os";
import { join } from "path";
import { Readable } from "stream";
import { createGzip } from "zlib";

const ROOT = join(__dirname, "..");
const DOCKER = process.env.FLEETLAB_DOCKER ?? "/usr/bin/docker";
const CACHE = process.env.FLEETLAB_CACHE ?? "/var/cache/fleetlab";
const BASE = process.env.FLEETLAB_BASE_IMAGE ?? "debian:bookworm-slim";
const VERSION = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).version as string;
const REPO = process.env.FLEETLAB_IMAGE_REPO ?? "ghcr.io/fleetlab";
const IMAGES = ["fleet", "dhcp", "www", "ldap", "sidekick"];
const MB = 1e6;

interface Layer {
  diffId: string;
  createdBy: string;
  tarBytes: number;
  gzipBytes: number;
}

const docker = (...args: string[]) =>
  execFileSync(DOCKER, args, { encoding: "utf8", maxBuffer: 64 << 20 }).trim();

/** Bytes out of gzip (default level) for a stream. */
function gzipBytes(input: Readable): Promise<number> {
  return new Promise((resolve, reject) => {
    let n = 0;
    const gz = createGzip();
    gz.on("data", (chunk: Buffer) => (n += chunk.length));
    gz.on("end", () => resolve(n));
    gz.on("error", reject);
    input.on("error", reject);
    input.pipe(gz);
  });
}

/** The minbase root tarred as base.sh tars it: its size as a tar and gzip-compressed. */
async function floor(rootfs: string): Promise<{ tarBytes: number; gzipBytes: number }> {
  const tar = spawn("tar", ["-C", rootfs, "--numeric-owner", "-c", "."], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  let tarBytes = 0;
  tar.stdout.on("data", (chunk: Buffer) => (tarBytes += chunk.length));
  const [gz, code] = await Promise.all([
    gzipBytes(tar.stdout),
    new Promise<number | null>((resolve) => tar.on("close", resolve)),
  ]);
  if (code !== 0) throw new Error(`tar of ${rootfs} exited ${code}`);
  return { tarBytes, gzipBytes: gz };
}

const mb = (bytes: number) => +(bytes / MB).toFixed(1);

async function main(): Promise<void> {
  console.log("==> bench: build the images (skipped when up to date)");
  execFileSync("bash", [join(ROOT, "containers/build.sh")], { stdio: "inherit" });
  execFileSync("bash", [join(ROOT, "fleet/build-image.sh")], { stdio: "inherit" });
  const tags = IMAGES.map((name) => `${REPO}/${name}:${VERSION}`);
  const dir = mkdtempSync(join(CACHE, "bench-images-"));
  try {
    console.log("==> bench: docker save + gzip of each layer");
    execFileSync("bash", ["-c", `"${DOCKER}" save "$@" | tar -x -C "${dir}"`, "save", ...tags], {
      stdio: "inherit",
    });
    const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as {
      Config: string;
      RepoTags: string[];
      Layers: string[];
    }[];
    const layers = new Map<string, Layer>();
    const images = [];
    for (const [i, name] of IMAGES.entries()) {
      const entry = manifest.find((m) => m.RepoTags.includes(tags[i]));
      if (!entry) throw new Error(`${tags[i]} missing from docker save's manifest.json`);
      const config = JSON.parse(readFileSync(join(dir, entry.Config), "utf8")) as {
        rootfs: { diff_ids: string[] };
        history: { created_by?: string; empty_layer?: boolean }[];
      };
      const made = config.history.filter((h) => !h.empty_layer).map((h) => h.created_by ?? "");
      const own: Layer[] = [];
      for (const [j, diffId] of config.rootfs.diff_ids.entries()) {
        let layer = layers.get(diffId);
        if (!layer) {
          const file = join(dir, entry.Layers[j]);
          layer = {
            diffId,
            // docker import leaves no created_by; base.sh is what imports.
            createdBy: made[j] || "docker import (containers/base.sh)",
            tarBytes: statSync(file).size,
            gzipBytes: await gzipBytes(createReadStream(file)),
          };
          layers.set(diffId, layer);
        }
        own.push(layer);
      }
      images.push({
        name,
        tag: tags[i],
        sizeBytes: Number(docker("image", "inspect", "-f", "{{.Size}}", tags[i])),
        gzipBytes: own.reduce((n, l) => n + l.gzipBytes, 0),
        layers: own,
      });
      console.log(`    ${name}: ${own.length} layers`);
    }
    const baseId = docker("image", "inspect", "-f", "{{index .RootFS.Layers 0}}", BASE);
    const base = layers.get(baseId);
    const notOnBase = images.filter((im) => im.layers[0].diffId !== baseId).map((im) => im.name);
    if (!base || notOnBase.length > 0)
      throw new Error(`not on ${BASE}'s layer ${baseId}: ${notOnBase.join(", ") || "all"}`);
    const unionGzipBytes = [...layers.values()].reduce((n, l) => n + l.gzipBytes, 0);
    const rootfs = join(CACHE, "bookworm-minbase");
    console.log(`==> bench: floor (${rootfs}, tar + gzip)`);
    const minbase = existsSync(rootfs) ? await floor(rootfs) : null;

    const result = {
      when: new Date().toISOString(),
      machine: { cores: cpus().length },
      command: "npm run bench:images",
      images,
      lab: {
        uniqueLayers: layers.size,
        unionGzipBytes,
        baseLayer: { image: BASE, ...base },
      },
      floor: minbase && { rootfs, ...minbase },
      notes: [
        "gzipBytes: each layer.tar of `docker save` through zlib at the default level (6), as a registry push compresses it; a node pulls each unique layer once",
        "unionGzipBytes: the sum over the unique layers of the five images (by diff ID): what a node with none of them pulls",
        "sizeBytes: docker image inspect .Size (uncompressed, the base included)",
        "floor: the debootstrap --variant=minbase bookworm root cached by containers/base.sh, before base.sh strips anything (base.sh before this bench also emptied /var/lib/apt/lists and /var/cache/apt/*.bin in that cache, a few MB), tarred like base.sh's import; null when the cache is missing",
      ],
    };
    mkdirSync(join(ROOT, "bench/results"), { recursive: true });
    writeFileSync(join(ROOT, "bench/results/images.json"), JSON.stringify(result, null, 2) + "\n");
    console.table(
      images.map((im) => ({
        image: im.name,
        "size MB": mb(im.sizeBytes),
        layers: im.layers.length,
        "gzip MB": mb(im.gzipBytes),
        "gzip MB above base": mb(im.gzipBytes - base.gzipBytes),
      })),
    );
    console.table({
      "base layer (shared)": { "tar MB": mb(base.tarBytes), "gzip MB": mb(base.gzipBytes) },
      "minbase root, unstripped (floor)": {
        "tar MB": minbase ? mb(minbase.tarBytes) : "-",
        "gzip MB": minbase ? mb(minbase.gzipBytes) : "-",
      },
      [`whole lab (${layers.size} unique layers)`]: {
        "tar MB": mb([...layers.values()].reduce((n, l) => n + l.tarBytes, 0)),
        "gzip MB": mb(unionGzipBytes),
      },
    });
    console.log("MB = 10^6 bytes; every layer in bench/results/images.json");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
