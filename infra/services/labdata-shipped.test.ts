// The lab-data readers as the LabData dynamic provider ships them: serialized by
// Pulumi's closure serializer, loaded from the text alone, they still read and check
// every set (the web folder's rules, the LDAP and DHCP keys) exactly as in-process.
import * as fs from "fs";
import Module from "module";
import { tmpdir } from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { dataDirPaths, loadDataSet } from "../../containers/dataset/load";

const DATA = path.join(__dirname, "../../data");

test("loadDataSet survives serialization: same hashes, same refusals", async () => {
  const load = loadDataSet;
  const sf = await pulumi.runtime.serializeFunction(() => load);
  const file = path.join(__dirname, "__serialized_labdata__.js");
  const m = new Module(file, module) as Module & { _compile(code: string, file: string): void };
  m.filename = file;
  m.paths = (Module as unknown as { _nodeModulePaths(d: string): string[] })._nodeModulePaths(
    __dirname,
  );
  m._compile(sf.text, file);
  const shipped = (m.exports as Record<string, () => typeof loadDataSet>)[sf.exportName]();
  for (const set of ["dhcp", "ldap", "www"] as const)
    expect(shipped(set, DATA).manifest.hash).toBe(loadDataSet(set, DATA).manifest.hash);
  const dir = fs.mkdtempSync(path.join(tmpdir(), "flt-shipped-"));
  try {
    fs.cpSync(path.join(DATA, "www"), path.join(dir, "www"), { recursive: true });
    fs.symlinkSync("/etc/passwd", path.join(dir, "www", "passwd"));
    expect(() => shipped("www", { ...dataDirPaths(DATA), www: path.join(dir, "www") })).toThrow(
      /passwd = "-> \/etc\/passwd": is a symbolic link pointing outside the folder/,
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
