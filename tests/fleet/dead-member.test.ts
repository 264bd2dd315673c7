// A client of several members (a worker's agent, an admin's fleetctl, the e2e's view)
// must not hang on a member whose host vanished. SIGSTOP stands in for a destroyed VM:
// the kernel keeps the TCP connection open and nothing answers on it, no RST. The
// client's call deadline and gRPC keepalive (connect() in fleet/registry/registry.ts)
// give that member up, and etcd3 retries the call on another. Without them, a call
// that lands on the frozen member waits until TCP gives up (the e2e saw 101 s).
import { within } from "../../fleet/agent/agent";
import { CALL_DEADLINE_MS, connect } from "../../fleet/registry/registry";
import { EtcdCluster } from "./etcd";

jest.setTimeout(120_000);

const etcd = new EtcdCluster();
let client: ReturnType<typeof connect>;

beforeAll(async () => {
  await etcd.start();
  client = connect({ endpoints: etcd.endpoints });
});

afterAll(async () => {
  etcd.members.forEach((m) => m.proc?.kill("SIGCONT"));
  client?.close();
  await etcd.stop();
});

/** put then get one key, each tried again after a failure, until `deadline`. */
async function untilDone(key: string, deadline: number): Promise<void> {
  let last = "";
  while (Date.now() < deadline) {
    try {
      await client.put(key).value("y");
      if ((await client.get(key).string()) === "y") return;
    } catch (e) {
      // the member it went to is gone: again, as a caller's next pass would
      last = (e as Error).message;
    }
  }
  throw new Error(`${key}: not written and read back before the deadline (${last})`);
}

test("calls go on through the other members while one member is frozen", async () => {
  // Open a connection to every member first: etcd3 picks a member at random per call,
  // so 40 calls reach all three (each is missed with probability (2/3)^40).
  for (let i = 0; i < 40; i++) await client.put(`/dead-member/warm-${i}`).value("x");
  const frozen = etcd.members[0].proc!;
  frozen.kill("SIGSTOP");
  // A call that lands on the frozen member fails at its deadline and is retried on
  // another member; the caller may still see a failure (three tries, each at a random
  // member) and tries again, as the agent does on its next pass. Each call must
  // succeed within this bound; one stuck on the frozen member's connection would wait
  // minutes.
  const bound = 6 * CALL_DEADLINE_MS;
  const took: number[] = [];
  for (let i = 0; i < 10; i++) {
    const t0 = Date.now();
    await within(bound, `put and get ${i}`, untilDone(`/dead-member/after-${i}`, t0 + bound));
    took.push(Date.now() - t0);
  }
  frozen.kill("SIGCONT");
  console.log(`put+get with one member frozen, ms each: ${took.join(" ")}`);
});
