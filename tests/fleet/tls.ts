// Throwaway CA + server/client certificates for the API's TLS test (openssl CLI).
import { execFileSync } from "child_process";
import { writeFileSync } from "fs";
import { join } from "path";

function ssl(dir: string, args: string[]): void {
  execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
}

export function makeCA(dir: string, name: string): void {
  ssl(dir, ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", `/CN=${name}`, "-keyout", `${name}-key.pem`, "-out", `${name}.pem`]);
}

export function makeCert(dir: string, ca: string, name: string, san?: string): { cert: string; key: string } {
  ssl(dir, ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", `/CN=${name}`, "-keyout", `${name}-key.pem`, "-out", `${name}.csr`]);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(ext, san ? `subjectAltName=${san}\n` : "extendedKeyUsage=clientAuth\n");
  ssl(dir, ["x509", "-req", "-in", `${name}.csr`, "-CA", `${ca}.pem`, "-CAkey", `${ca}-key.pem`, "-CAcreateserial", "-days", "1", "-extfile", ext, "-out", `${name}.pem`]);
  return { cert: join(dir, `${name}.pem`), key: join(dir, `${name}-key.pem`) };
}
