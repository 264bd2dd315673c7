// Fencing a hung agent. The agent fences itself when renewals fail, but a process that
// is alive and frozen (SIGSTOP, a stuck event loop, a long GC pause) renews nothing and
// fences nothing. So the agent's systemd unit runs a small host-side watcher as its
// main process: it starts the agent (on a node: `docker run`), and pings systemd's
// watchdog only when the agent's heartbeat file has changed since the last ping. The
// agent rewrites that file only right after a successful lease renewal. A frozen agent
// stops the pings; systemd kills the unit WatchdogSec after the last one, and BindsTo=
// stops every fleet unit with it, before the lease can expire.
//
// Why not sd_notify from the agent: on a node the agent runs in a container, in
// docker's cgroup, and systemd accepts notifications only from the unit's own cgroup.
// The watcher is a host process in the unit's cgroup, and it sends with --pid of
// itself (the main PID), so systemd can attribute the message after systemd-notify
// has exited (NotifyAccess=main).
//
// Timing rule, from the last successful renewal (sent at t0, so the lease expires no
// earlier than t0 + TTL): the heartbeat is written by t0 + renewMs (the agent skips
// slower renewals), the watcher sees it within pollMs, systemd acts watchdogMs after
// that ping, and stopping the units takes at most stopMs (the fence margin):
//   renewMs + pollMs + watchdogMs + stopMs < TTL.
// And a healthy agent must not trip it: watchdogMs > renewMs + pollMs.

export interface WatchdogTiming {
  leaseTTL: number;
  renewMs: number;
  fenceMarginMs: number;
  watchdogMs: number;
  watchdogPollMs: number;
}

/** Why these timings cannot fence a frozen agent in time, or undefined when they can. */
export function watchdogTimingProblem(t: WatchdogTiming): string | undefined {
  const worst = t.renewMs + t.watchdogPollMs + t.watchdogMs + t.fenceMarginMs;
  if (worst >= t.leaseTTL * 1000)
    return `renew ${t.renewMs} + poll ${t.watchdogPollMs} + watchdog ${t.watchdogMs} + stop ${t.fenceMarginMs} = ${worst} ms is not below the lease TTL of ${t.leaseTTL * 1000} ms: a frozen agent's units could outlive its lease`;
  if (t.watchdogMs <= t.renewMs + t.watchdogPollMs)
    return `watchdog ${t.watchdogMs} ms must exceed renew ${t.renewMs} + poll ${t.watchdogPollMs} ms, or a healthy agent is killed`;
  return undefined;
}

/** Where the agent writes its heartbeat (shared with the host through /run/fleet). */
export const DEFAULT_HEARTBEAT_FILE = "/run/fleet/heartbeat";

/**
 * The watcher, a bash script: `fleet-watchdog HEARTBEAT POLL_MS -- COMMAND...`.
 * Before the first heartbeat (the agent is registering and runs nothing yet) it pings
 * freely; after that only on a changed heartbeat. It exits with the agent's status.
 */
export function watchdogScript(): string {
  return `#!/bin/bash
# fleetlab fleet agent watcher (fleet/agent/watchdog.ts explains why it exists).
set -u
hb=$1
poll=$(printf '%d.%03d' $(($2 / 1000)) $(($2 % 1000)))
shift 3
rm -f "$hb"
"$@" &
agent=$!
trap 'kill -TERM "$agent" 2>/dev/null; wait "$agent"; exit $?' TERM INT
ping() { systemd-notify --pid=$$ "$@" || echo "fleet-watchdog: systemd-notify failed" >&2; }
ping --ready
last=
while kill -0 "$agent" 2>/dev/null; do
  cur=
  [ -e "$hb" ] && read -r cur <"$hb"
  if [ -z "$cur" ] && [ -z "$last" ]; then
    ping WATCHDOG=1
  elif [ -n "$cur" ] && [ "$cur" != "$last" ]; then
    last=$cur
    ping WATCHDOG=1
  fi
  sleep "$poll"
done
wait "$agent"
`;
}
