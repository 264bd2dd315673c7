// The VirtualBox driver's bootstrap Ignition (the guest property that points at the full
// config) through the real ignition-validate, for every node of the dev stack with its
// real rendered Ignition (throw-away PKI); and the validator is shown to reject a
// pointer whose hash or URL is broken, so a pass means something.
import * as fs from "fs";
import { serializeIgnition } from "../../infra/ignition";
import {
  bootstrapConfig,
  configUrl,
  GUEST_PROPERTY_LIMIT,
  sha512,
} from "../../infra/hypervisors/virtualbox/bootstrap";
import { renderLab, requireTool, run, tempDir, writeIgnition } from "./lab";

const validator = requireTool("ignition-validate", "ignition");
const dir = tempDir("vboxign");
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("VirtualBox bootstrap Ignition (stack dev)", () => {
  const lab = renderLab("dev");
  const gateway = lab.spec.network.gateway;

  it.each(lab.nodes.map((n) => [n.node.name, n] as const))(
    "%s: the pointer passes ignition-validate and fits the guest property; the full config does not fit",
    (name, n) => {
      const full = serializeIgnition(n.ignition);
      const small = bootstrapConfig(configUrl(gateway, 40123, `fleetlab-dev-${name}`), full);
      expect(run(validator, [writeIgnition(dir, `dev-${name}-bootstrap`, small)])).toEqual({
        code: 0,
        output: "",
      });
      expect(Buffer.byteLength(small)).toBeLessThanOrEqual(GUEST_PROPERTY_LIMIT);
      // Why the pointer exists at all: the real config (TLS key, certificates) is larger.
      expect(Buffer.byteLength(full)).toBeGreaterThan(GUEST_PROPERTY_LIMIT);
      expect(JSON.parse(small).ignition.config.replace.verification.hash).toBe(
        `sha512-${sha512(full)}`,
      );
    },
  );

  const good = JSON.parse(
    bootstrapConfig(configUrl(gateway, 40123, "fleetlab-dev-core-01"), "{}"),
  ) as { ignition: { config: { replace: { source: string; verification: { hash: string } } } } };
  const broken: [string, (c: typeof good) => void, RegExp][] = [
    [
      "a truncated sha512",
      (c) => (c.ignition.config.replace.verification.hash = "sha512-ab"),
      /incorrect size for hash sum/,
    ],
    [
      "an unknown hash function",
      (c) => (c.ignition.config.replace.verification.hash = "md5-ab"),
      /unrecognized hash function/,
    ],
    [
      "a URL without a scheme",
      (c) => (c.ignition.config.replace.source = "192.168.56.1/x.ign"),
      /invalid url scheme/,
    ],
  ];
  it.each(broken)("ignition-validate rejects a pointer with %s", (what, breakIt, message) => {
    const c = structuredClone(good);
    breakIt(c);
    const r = run(validator, [
      writeIgnition(dir, `broken-${what.replace(/\W+/g, "-")}`, JSON.stringify(c)),
    ]);
    expect(r.code).not.toBe(0);
    expect(r.output).toMatch(message);
  });
});
