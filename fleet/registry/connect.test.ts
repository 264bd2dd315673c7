// connect()'s fault handling, against a loopback port where nothing listens: every call
// fails as UNAVAILABLE, which etcd3 counts toward its circuit breaker.
import * as net from "net";
import { connect } from "./registry";

/** A loopback port that was free a moment ago (the listener is closed again). */
async function closedPort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

/** The error messages of `n` calls in a row. */
async function failures(endpoints: string[], n: number): Promise<string[]> {
  const client = connect({ endpoints });
  const out: string[] = [];
  try {
    for (let i = 0; i < n; i++) {
      out.push(
        await client.get("k").then(
          () => "answered",
          (e: Error) => e.message,
        ),
      );
    }
  } finally {
    client.close();
  }
  return out;
}

test("with one endpoint, failed calls never open a circuit breaker: the next call tries again", async () => {
  const port = await closedPort();
  const msgs = await failures([`http://127.0.0.1:${port}`], 6);
  expect(msgs).toHaveLength(6);
  for (const m of msgs) expect(m).not.toMatch(/circuit breaker/i);
});

test("with several endpoints, etcd3's breaker stays, so a dead member is skipped", async () => {
  const ports = [await closedPort(), await closedPort()];
  const msgs = await failures(
    ports.map((p) => `http://127.0.0.1:${p}`),
    6,
  );
  expect(msgs.some((m) => /circuit breaker/i.test(m))).toBe(true);
});
