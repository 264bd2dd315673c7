// Fencing a hung agent. The agent fences itself when renewals fail, but a process that
// is alive and frozen (SIGSTOP, a stuck event loop, a long GC pause) renews nothing and
// fences nothing. So the agent's systemd unit runs a small host-side watcher as its
// main process: it starts the agent (on a node: `docker run`) and pings systemd's
// watchdog while the agent's own fencing deadline, which the agent writes into the
// heartbeat file after each successful renewal, is not near. A frozen agent writes no
// new deadline; the pings stop; systemd kills the unit WatchdogSec later, at the moment
// the agent would have fenced itself, and BindsTo= stops every fleet unit with it.
//
// Why not sd_notify from the agent: on a node the agent runs in a container, in
// docker's cgroup, and systemd accepts notifications only from the unit's own cgroup.
// The watcher is a host process in the unit's cgroup, and it sends with --pid of
// itself (the main PID), so systemd can attribute the message after systemd-notify
// has exited (NotifyAccess=main). Agent and watcher share one clock: the kernel's
// CLOCK_BOOTTIME in /proc/uptime, which a container sees unchanged.
//
// Timing rule. The last successful renewal was sent at t0, so the lease expires no
// earlier than t0 + TTL. The agent writes pingUntil = t0 + TTL - margin - watchdog; the
// watcher's last ping comes before it; systemd kills the unit at most watchdog later,
// i.e. by t0 + TTL - margin, when the agent would have fenced; stopping the units must
// take less than the margin, as for the agent's own fencing. So:
//   watchdog < TTL - margin (else the deadline lies before t0), and
//   watchdog >= 2 x poll (else a healthy watcher's pings come too far apart);
// stop time < margin is the fencing rule the agent already has.

export interface WatchdogTiming {
  leaseTTL: number;
  renewMs: number;
  fenceMarginMs: number;
  watchdogMs: number;
  watchdogPollMs: number;
}

/** Why these timings cannot fence a frozen agent in time, or undefined when they can. */
export function watchdogTimingProblem(t: WatchdogTiming): string | undefined {
  const room = t.leaseTTL * 1000 - t.fenceMarginMs;
  if (t.watchdogMs >= room)
    return `watchdog ${t.watchdogMs} ms must be below TTL - margin = ${room} ms: systemd could kill a frozen agent only after it should have fenced`;
  if (t.watchdogMs < 2 * t.watchdogPollMs)
    return `watchdog ${t.watchdogMs} ms must be at least 2 x the watcher's poll of ${t.watchdogPollMs} ms, or a healthy agent is killed`;
  return undefined;
}

/** The watcher's deadline for pinging, on the /proc/uptime clock, from t0 on it. */
export function pingUntil(
  t0UptimeMs: number,
  t: Pick<WatchdogTiming, "leaseTTL" | "fenceMarginMs" | "watchdogMs">,
): number {
  return Math.floor(t0UptimeMs + t.leaseTTL * 1000 - t.fenceMarginMs - t.watchdogMs);
}

/** CLOCK_BOOTTIME in ms, as the watcher reads it (/proc/uptime, centiseconds). */
export function parseUptimeMs(text: string): number {
  const m = /^(\d+)\.(\d\d)\s/.exec(text);
  if (!m) throw new Error(`/proc/uptime: unexpected ${JSON.stringify(text.slice(0, 40))}`);
  return Number(m[1]) * 1000 + Number(m[2]) * 10;
}

/** Where the agent writes its heartbeat (shared with the host through /run/fleet). */
export const DEFAULT_HEARTBEAT_FILE = "/run/fleet/heartbeat";

/**
 * The watcher, a bash script: `fleet-watchdog HEARTBEAT POLL_MS -- COMMAND...`.
 * The heartbeat holds pingUntil (ms of /proc/uptime). While there is none (the agent
 * runs nothing, so a freeze leaves nothing running: Agent.arm) it pings freely. It exits with the
 * agent's status.
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
uptime_ms() {
  local up
  read -r up _ </proc/uptime
  echo $((10#\${up/./} * 10))
}
ping --ready
while kill -0 "$agent" 2>/dev/null; do
  until=
  [ -e "$hb" ] && read -r until <"$hb"
  if [ -z "$until" ] || [ "$(uptime_ms)" -lt "$until" ]; then
    ping WATCHDOG=1
  fi
  sleep "$poll"
done
wait "$agent"
`;
}
