// Prints, for a local docker image, each layer's diff ID and the gzip blob a push to the
// lab registry makes of it, one "<diffID> <digest> <size>" line per layer, base first:
//   ts-node scripts/layer-blobs.ts IMAGE
// image/build.sh uses it to tell the test image's docker that it already has the
// shared base layer the lab registry's manifests name.
import { layerBlobs } from "../infra/registry/client";

const image = process.argv[2];
if (!image || image.startsWith("-")) {
  process.stderr.write("usage: scripts/layer-blobs.ts IMAGE\n");
  process.exit(2);
}
layerBlobs(image).then(
  (layers) => {
    for (const l of layers) process.stdout.write(`${l.diffId} ${l.digest} ${l.size}\n`);
  },
  (e: Error) => {
    process.stderr.write(`${e.message}\n`);
    process.exit(1);
  },
);
