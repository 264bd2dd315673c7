// npm run render -- <stack | path/to/Pulumi.<stack>.yaml> <outdir>
// Writes <outdir>/<node>.ign (pretty Ignition JSON) for every node of a stack, from
// Pulumi.<stack>.yaml alone: no Pulumi engine, no hypervisor. The TLS material is
// generated fresh on every run (Pulumi's state, which holds the lab's real CA, is
// not read), so these files show the shape of what boots, not the keys.
import * as fs from "fs";
import * as path from "path";
import { labSpecFromFile } from "../infra/config";
import { renderIgnition, serializeIgnition } from "../infra/ignition";
import { generateLabTls } from "../infra/pki";
import { writeSecretFile } from "./secret-file";

function main(argv: string[]): number {
  if (argv.length !== 2 || argv.some((a) => a.startsWith("-"))) {
    console.error(
      "usage: npm run render -- <stack | path/to/Pulumi.<stack>.yaml> <outdir>   (stacks: dev, faculty, local)",
    );
    return 2;
  }
  const [stack, outDir] = argv;
  let spec;
  try {
    spec = labSpecFromFile(stack);
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    return 1;
  }
  fs.mkdirSync(outDir, { recursive: true });
  const tls = generateLabTls(spec);
  for (const node of spec.nodes) {
    const ign = renderIgnition(spec, node, tls.nodes.get(node.name)!);
    const file = path.join(outDir, `${node.name}.ign`);
    // The file holds a private key: created 0600 and renamed into place, never
    // written through an existing file (and its mode) or a symlink.
    try {
      writeSecretFile(file, serializeIgnition(ign, true));
    } catch (err) {
      console.error(`${file}: ${err instanceof Error ? err.message : String(err)}`);
      return 1;
    }
    console.log(`${file}  ${node.role.padEnd(6)} ${node.ip}  ${node.mac}`);
  }
  console.log(`stack ${stack}: ${spec.nodes.length} Ignition files (spec 3.3.0) in ${outDir}`);
  console.log("note: the CA and node keys in these files were generated just now for this render;");
  console.log(
    "      `pulumi up` uses the lab's own CA, created once and kept (encrypted) in Pulumi state.",
  );
  return 0;
}

process.exitCode = main(process.argv.slice(2));
