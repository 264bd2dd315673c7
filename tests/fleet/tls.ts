// Throwaway CA + server/client certificates for the API's TLS test (openssl CLI).
import { execFileSync } from "child_process";
import { writeFileSync } from "fs";
import { join } from "path";

const NEW_EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];

function ssl(dir: string, args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
}

export function makeCA(dir: string, name: string): void {
  ssl(dir, [
    "req",
    "-x509",
    ...NEW_EC_KEY,
    "-days",
    "1",
    "-subj",
    `/CN=${name}`,
    "-keyout",
    `${name}-key.pem`,
    "-out",
    `${name}.pem`,
  ]);
}

/** A certificate signed by CA `ca`: a server one when `san` is given, else a client one. */
export function makeCert(
  dir: string,
  ca: string,
  name: string,
  san?: string,
): { cert: string; key: string } {
  ssl(dir, [
    "req",
    ...NEW_EC_KEY,
    "-subj",
    `/CN=${name}`,
    "-keyout",
    `${name}-key.pem`,
    "-out",
    `${name}.csr`,
  ]);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(ext, san ? `subjectAltName=${san}\n` : "extendedKeyUsage=clientAuth\n");
  const sign = ["-CA", `${ca}.pem`, "-CAkey", `${ca}-key.pem`, "-CAcreateserial", "-days", "1"];
  ssl(dir, ["x509", "-req", "-in", `${name}.csr`, ...sign, "-extfile", ext, "-out", `${name}.pem`]);
  return { cert: join(dir, `${name}.pem`), key: join(dir, `${name}-key.pem`) };
}
