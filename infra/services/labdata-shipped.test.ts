// The lab-data readers as the LabData dynamic provider ships them: serialized by
// Pulumi's closure serializer, loaded from the text alone, they still read and check
// every set (the web folder's rules, the LDAP and DHCP keys) exactly as in-process.
import * as fs from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { dataDirPaths, loadDataSet } from "../../labdata/load";
import { shippedValue } from "../testing/serialized";

const DATA = path.join(__dirname, "../../data");

test("loadDataSet survives serialization: same hashes, same refusals", async () => {
  const shipped = await shippedValue(loadDataSet, __dirname);
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
