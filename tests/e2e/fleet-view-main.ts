// The e2e's one reader of fleet's state, run as a process inside the test's network
// namespace (fleet-view.ts starts it): it watches the fleet registry in etcd with the
// admin certificate and prints a snapshot of the machines and unit states, as the
// /fleet/v1 API serves them (the same FleetService), as one JSON line whenever they
// change and at least every REFRESH_MS.
//
// Why not ask a node's fleet API each time: every such request was a new TLS
// handshake served by Node.js inside an emulated VM, several per second while the
// test waited, all on the first node; that load starved the node's etcd member and
// agent, which then fenced and moved units: the test slowed and broke what it
// measured. A watch is one connection, and etcd pushes the changes.
//
// Usage: fleet-view-main <endpoints,comma-separated> <ca> <cert> <key>
// Ends when stdin closes (its parent is gone) or on SIGTERM.
import { within } from "../../fleet/agent/agent";
import { FleetService } from "../../fleet/api/service";
import { coalesce } from "../../fleet/engine/coalesce";
import { connect, Registry } from "../../fleet/registry/registry";
import { keys } from "../../fleet/registry/keys";

const REFRESH_MS = 5000;
const DEBOUNCE_MS = 200;
/** A list that hangs (no quorum) must not stop the snapshots: it is reported as an error. */
const LIST_BOUND_MS = 8000;

async function main(): Promise<void> {
  const [endpoints, caFile, certFile, keyFile] = process.argv.slice(2);
  if (!keyFile) {
    process.stderr.write("usage: fleet-view-main <endpoints> <ca> <cert> <key>\n");
    process.exit(2);
  }
  const client = connect({ endpoints: endpoints.split(","), caFile, certFile, keyFile });
  const reg = new Registry(client);
  const svc = new FleetService(reg);
  const emit = (o: object) => process.stdout.write(`${JSON.stringify({ at: Date.now(), ...o })}\n`);
  // One listing at a time, and one more after it for whatever changed meanwhile.
  const list = coalesce(
    async () => {
      const [machines, states] = await within(
        LIST_BOUND_MS,
        "listing machines and states",
        Promise.all([svc.listMachines(), svc.listStates({})]),
      );
      emit({ machines, states });
    },
    (e) => emit({ error: e.message }),
    () => false,
  );
  let pending: NodeJS.Timeout | undefined;
  const soon = () => {
    if (!pending) pending = setTimeout(() => ((pending = undefined), list()), DEBOUNCE_MS);
  };
  const watchers = await Promise.all(
    [keys.machinesPrefix, keys.statePrefix].map((p) =>
      within(LIST_BOUND_MS * 4, `watching ${p}`, reg.watch(p, soon)).catch((e: Error) => {
        emit({ error: `watch ${p}: ${e.message}` });
        return undefined;
      }),
    ),
  );
  const timer = setInterval(() => list(), REFRESH_MS);
  list();
  const stop = () => {
    clearInterval(timer);
    for (const w of watchers) void w?.cancel().catch(() => undefined);
    client.close();
    process.exit(0);
  };
  process.stdin.on("end", stop);
  process.stdin.on("close", stop);
  process.stdin.resume();
  process.on("SIGTERM", stop);
}

main().catch((e) => {
  process.stderr.write(`fleet-view: ${(e as Error).message}\n`);
  process.exit(1);
});
