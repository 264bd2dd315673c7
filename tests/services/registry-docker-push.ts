// The push half of registry-docker.test.ts, run as a child process of the test: our
// client's pushImage takes the image with `docker save`, and that docker reads
// DOCKER_HOST from the environment of the process it runs in. Inside jest,
// process.env is a copy that child processes never see, so the test starts this file
// with DOCKER_HOST naming its private engine instead.
//   node -r ts-node/register/transpile-only registry-docker-push.ts '<json>'
// <json>: { socket, cacheFile, images: [{ image, name, tag }] }
// Prints the PushResult of each image, in order, as one JSON array.
import { pushImage, type PushResult } from "../../infra/registry/client";

interface Job {
  socket: string;
  cacheFile: string;
  images: { image: string; name: string; tag: string }[];
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? "") as Job;
  const out: PushResult[] = [];
  for (const i of job.images)
    out.push(await pushImage({ socket: job.socket, cacheFile: job.cacheFile, ...i }));
  process.stdout.write(JSON.stringify(out));
}

main().catch((e: Error) => {
  process.stderr.write(`${e.message}\n`);
  process.exit(1);
});
