// A bounded fuzz run of the /fleet/v1 request path, body reader included, against the
// real API (real etcd, two agents): random methods, paths (percent-encodings, dot
// segments, odd unit names), content types and bodies (bytes, JSON of any shape). Every
// answer must be a JSON error of the 4xx kind or a success, never a 500 or a dropped
// connection: a bad request is the client's fault and is named so.
import fc from "fast-check";
import { ApiFixture, raw, startApiFixture, stopApiFixture } from "./api-fixture";

jest.setTimeout(120_000);
let f: ApiFixture;
beforeAll(async () => {
  f = await startApiFixture("fuzz");
});
afterAll(() => stopApiFixture(f ?? {}));

const segment = fc.oneof(
  fc.constantFrom("units", "state", "machines", "discovery", "..", ".", "%", "%zz", "%00", "%2F"),
  fc.stringMatching(/^[A-Za-z0-9@._%-]{0,40}$/),
  fc.string({ maxLength: 20 }).map(encodeURIComponent),
);
const path = fc
  .array(segment, { minLength: 0, maxLength: 4 })
  .map((s) => `/fleet/v1/${s.join("/")}`);
const body = fc.oneof(
  fc.constant(undefined),
  fc.string({ unit: "binary", maxLength: 300 }),
  fc.anything({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? "null"),
  fc
    .record({
      desiredState: fc.oneof(fc.constantFrom("launched", "loaded", "inactive"), fc.string()),
      options: fc.array(
        fc.record({
          section: fc.oneof(fc.constantFrom("Service", "Unit", "X-Fleet"), fc.string()),
          name: fc.oneof(fc.constantFrom("ExecStart", "MachineOf", "Conflicts"), fc.string()),
          value: fc.string({ unit: "binary", maxLength: 60 }),
        }),
        { maxLength: 4 },
      ),
    })
    .map((v) => JSON.stringify(v)),
);
const type = fc.constantFrom(
  "application/json",
  "application/json; charset=utf-8",
  "text/plain",
  null,
);

test("no request makes the API answer 500 or drop the connection", async () => {
  const seen = new Map<number, number>();
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom("GET", "PUT", "DELETE", "POST", "PATCH"),
      path,
      body,
      type,
      async (method, p, b, t) => {
        const r = await raw(f.socket, method, p, b, t);
        seen.set(r.status, (seen.get(r.status) ?? 0) + 1);
        expect([method, p, r.status]).not.toContainEqual(500);
        expect(r.status < 500).toBe(true);
        if (r.status >= 400) {
          const e = JSON.parse(r.body) as { error?: { code?: number; message?: string } };
          expect(e.error?.code).toBe(r.status);
          expect(typeof e.error?.message).toBe("string");
        }
      },
    ),
    { numRuns: 400, seed: 19, interruptAfterTimeLimit: 60_000 },
  );
  // The run reached past the router: some requests succeeded, some were refused.
  const ok = [...seen].filter(([s]) => s < 300).reduce((n, [, c]) => n + c, 0);
  const refused = [...seen].filter(([s]) => s >= 400).reduce((n, [, c]) => n + c, 0);
  expect(ok).toBeGreaterThan(0);
  expect(refused).toBeGreaterThan(0);
});
