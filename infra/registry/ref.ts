// Image references by content digest: what unit files and Ignition name, so a node
// never runs a stale tag and a changed image changes exactly the units that use it.

/** The repository namespace of every lab image in the lab registry. */
export const LAB_NAMESPACE = "fleetlab";

const HOST_PORT = /^([a-z0-9]([a-z0-9.-]*[a-z0-9])?|\d{1,3}(\.\d{1,3}){3}):(\d{1,5})$/;
const NAME = /^[a-z0-9]+([._-][a-z0-9]+)*$/;
const DIGEST = /^sha256:[0-9a-f]{64}$/;

export interface ImageRef {
  registry: string;
  name: string;
  digest: string;
}

/** Problems with one part of a reference, each naming the value and the fix. */
function problems(r: ImageRef): string[] {
  const out: string[] = [];
  const hp = HOST_PORT.exec(r.registry);
  if (!hp || Number(hp[4]) < 1 || Number(hp[4]) > 65535)
    out.push(`registry = ${JSON.stringify(r.registry)}: not host:port; fix: e.g. 10.88.0.1:5000`);
  if (!NAME.test(r.name))
    out.push(
      `name = ${JSON.stringify(r.name)}: not an image name (lower-case letters, digits, . _ - between them); fix: e.g. www`,
    );
  if (!DIGEST.test(r.digest))
    out.push(
      `digest = ${JSON.stringify(r.digest)}: not sha256:<64 lower-case hex digits>; fix: use the digest the registry returned for the push`,
    );
  return out;
}

/** `<host:port>/fleetlab/<name>@sha256:<hex>`; throws on any malformed part. */
export function imageRef(r: ImageRef): string {
  const p = problems(r);
  if (p.length) throw new Error(`image reference: ${p.join("; ")}`);
  return `${r.registry}/${LAB_NAMESPACE}/${r.name}@${r.digest}`;
}

/** Inverse of imageRef: only references it could have produced parse. */
export function parseImageRef(text: string): ImageRef {
  const m = new RegExp(`^([^/]+)/${LAB_NAMESPACE}/([^@/]+)@(.+)$`).exec(text);
  if (!m)
    throw new Error(
      `image reference ${JSON.stringify(text)}: not <host:port>/${LAB_NAMESPACE}/<name>@sha256:<hex>`,
    );
  const r = { registry: m[1], name: m[2], digest: m[3] };
  imageRef(r);
  return r;
}
