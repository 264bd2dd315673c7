// Status and journal of a unit, asked of the agent that runs it (fleet's fleetctl
// ran `systemctl status` / `journalctl` over SSH). Whichever agent serves the API
// writes a request under the target machine's inspect prefix; that machine's agent
// watches the prefix, asks its systemd, and writes the answer; the asker polls for
// it (bounded) and removes both keys. The API's TLS client certificate is the only
// credential involved: no SSH to the node.
import { randomBytes } from "crypto";
import { keys } from "./keys";
import { Registry } from "./registry";

/** The most journal lines one request may ask for (bounded answer size). */
export const MAX_JOURNAL_LINES = 1000;

export interface InspectRequest {
  unit: string;
  kind: "status" | "journal";
  lines: number;
}

export interface InspectAnswer {
  /** text lines as systemd gave them */
  lines?: string[];
  /** why the agent could not answer */
  error?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Ask `machineID`'s agent; resolves with its answer or rejects after `timeoutMs`. */
export async function ask(
  reg: Registry,
  machineID: string,
  req: InspectRequest,
  timeoutMs = 5000,
  pollMs = 100,
): Promise<InspectAnswer> {
  const id = randomBytes(8).toString("hex");
  const c = reg.client;
  reg.requests++;
  await c.put(keys.inspect(machineID, id)).value(JSON.stringify(req));
  try {
    for (let waited = 0; waited <= timeoutMs; waited += pollMs) {
      reg.requests++;
      const v = await c.get(keys.answer(id)).string();
      if (v !== null) return JSON.parse(v) as InspectAnswer;
      await sleep(pollMs);
    }
    throw new Error(
      `machine ${machineID} did not answer the ${req.kind} request for ${req.unit} within ${timeoutMs} ms (is its agent running?)`,
    );
  } finally {
    reg.requests += 2;
    await c.delete().key(keys.inspect(machineID, id));
    await c.delete().key(keys.answer(id));
  }
}

/**
 * Serve requests for `machineID`: calls `answer` for each new request (requests
 * already waiting when the watch starts are served too) and stores its result.
 */
export async function serveInspect(
  reg: Registry,
  machineID: string,
  answer: (req: InspectRequest) => Promise<InspectAnswer>,
): Promise<{ cancel(): Promise<void> }> {
  const prefix = keys.inspectPrefix(machineID);
  const serve = async (key: string, value: string) => {
    const id = key.slice(prefix.length);
    let a: InspectAnswer;
    try {
      a = await answer(JSON.parse(value) as InspectRequest);
    } catch (e) {
      a = { error: (e as Error).message };
    }
    reg.requests++;
    await reg.client.put(keys.answer(id)).value(JSON.stringify(a));
  };
  const w = await reg.client.watch().prefix(prefix).create();
  reg.requests++;
  w.on("put", (kv) => void serve(kv.key.toString(), kv.value.toString()).catch(() => undefined));
  const waiting = await reg.client.getAll().prefix(prefix).strings();
  reg.requests++;
  for (const [k, v] of Object.entries(waiting)) void serve(k, v).catch(() => undefined);
  return { cancel: () => w.cancel() };
}
