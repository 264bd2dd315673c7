// Test helper: a value as a dynamic provider ships it. Pulumi's closure serializer
// writes the function's text; this loads that text as a fresh module (resolving
// requires from `dir`) and returns what the function returns there.
import Module from "module";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";

export async function shippedValue<T>(value: T, dir: string): Promise<T> {
  const sf = await pulumi.runtime.serializeFunction(() => value, { allowSecrets: true });
  const file = path.join(dir, "__serialized__.js");
  const m = new Module(file, module) as Module & { _compile(code: string, file: string): void };
  m.filename = file;
  m.paths = (Module as unknown as { _nodeModulePaths(d: string): string[] })._nodeModulePaths(dir);
  m._compile(sf.text, file);
  return (m.exports as Record<string, () => T>)[sf.exportName]();
}
