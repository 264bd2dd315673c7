// Kea's control channel: one JSON command per connection on a unix socket.
import { createConnection } from "net";

export interface KeaAnswer {
  result: number;
  text?: string;
  arguments?: unknown;
}

/** Sends one command to Kea's control socket and returns its answer (bounded by timeoutMs). */
export function keaCommand(
  socketPath: string,
  command: string,
  timeoutMs = 30_000, // an emulated lab VM answers in seconds, not ms
): Promise<KeaAnswer> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(socketPath);
    let buf = "";
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`kea ${command}: no answer on ${socketPath} within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.on("connect", () => sock.write(JSON.stringify({ command })));
    sock.on("data", (d) => {
      buf += d.toString();
      try {
        const answer = JSON.parse(buf) as KeaAnswer | KeaAnswer[];
        clearTimeout(timer);
        sock.end();
        resolve(Array.isArray(answer) ? answer[0] : answer);
      } catch {
        // partial JSON: wait for more
      }
    });
    sock.on("error", (e) => {
      clearTimeout(timer);
      reject(
        new Error(
          `kea ${command}: ${e.message} (is the dhcp container running with ${socketPath} shared?)`,
        ),
      );
    });
  });
}

/** Like keaCommand, but waits (bounded: 60 s) for Kea to open its socket after a (re)start. */
export async function keaCommandWhenUp(
  socketPath: string,
  command: string,
  log: (m: string) => void,
): Promise<KeaAnswer> {
  for (let i = 0; ; i++) {
    try {
      return await keaCommand(socketPath, command);
    } catch (e) {
      if (i >= 120 || !/ENOENT|ECONNREFUSED/.test((e as Error).message)) throw e;
      if (i === 0) log("dhcp: waiting for Kea's control socket");
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
