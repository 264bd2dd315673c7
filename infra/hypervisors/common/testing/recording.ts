// What the drivers' node tests share about their recording test doubles
// (libvirt/testing/virsh, virtualbox/testing/VBoxManage): each appends the argv of every
// call to <dir>/calls.log, one JSON array a line.
import * as fs from "fs";
import * as path from "path";

/** The argv of every call the double in `dir` answered, oldest first. */
export function recordedCalls(dir: string): string[][] {
  return fs
    .readFileSync(path.join(dir, "calls.log"), "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as string[]);
}

/** A node's Ignition of a realistic size: a real one carries the node's key and certificates. */
export const FULL_IGNITION = JSON.stringify({
  ignition: { version: "3.3.0" },
  key: "k".repeat(5000),
});
