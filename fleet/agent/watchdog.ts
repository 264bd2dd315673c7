// Fencing a hung agent. The agent fences itself when renewals fail, but a process that
// is alive and frozen (SIGSTOP, a stuck event loop, a long GC pause) renews nothing and
// fences nothing. So the agent's systemd unit runs a small host-side watcher as its
// main process: it starts the agent (on a node: `docker run`) and holds it to the
// deadline the agent writes into the heartbeat file after each successful renewal.
// When that deadline passes and the agent has not moved it, the watcher itself stops
// every unit bound to the agent's unit (systemd's BoundBy= of it: the fleet units,
// which the agent writes with BindsTo=) — at the latest at the moment the agent would
// have fenced itself, so before the lease can expire and another machine be given
// them. A watcher that still finds the same deadline a lease TTL later holds a hung
// agent, and kills it: the unit fails and systemd restarts it (Restart=always).
//
// Why the watcher acts itself instead of feeding systemd's watchdog (WatchdogSec=):
// systemd counts pings in real time, so a node that stalls for a few seconds (an
// emulated VM under load) misses pings and has its healthy agent killed; in the e2e
// lab that killed every agent right after it registered. The watcher acts only on
// the agent's own deadline, on the clock both read: the kernel's CLOCK_BOOTTIME in
// /proc/uptime, which a container sees unchanged. An agent that is alive but cut off
// from etcd fences itself at the same moment and removes the heartbeat (it runs
// nothing then), so it is not killed: the watcher's stop is then a no-op.
//
// Timing rule. The last successful renewal was sent at t0, so the lease expires no
// earlier than t0 + TTL, and the agent fences at t0 + TTL - margin. The agent writes
// stopAt = t0 + TTL - margin - poll; the watcher, looking every poll, acts in
// [stopAt, stopAt + poll], so by the agent's own fencing moment, and stopping the
// units must take less than the margin, as for the agent's own fencing. The deadline
// must also leave a healthy agent a renewal interval after each renewal, or the units
// would be stopped between two renewals that both succeed:
//   TTL - margin - poll > renew.

export interface WatchdogTiming {
  leaseTTL: number;
  renewMs: number;
  fenceMarginMs: number;
  watchdogPollMs: number;
}

/** Why these timings cannot fence a frozen agent in time, or undefined when they can. */
export function watchdogTimingProblem(t: WatchdogTiming): string | undefined {
  if (t.watchdogPollMs <= 0) return `the watcher's poll ${t.watchdogPollMs} ms must be positive`;
  const room = t.leaseTTL * 1000 - t.fenceMarginMs - t.watchdogPollMs;
  if (room <= t.renewMs)
    return `TTL - margin - the watcher's poll = ${room} ms must exceed the renewal interval of ${t.renewMs} ms, or a healthy agent's units are stopped between two renewals`;
  return undefined;
}

/** The watcher's deadline on the /proc/uptime clock, for a renewal sent at t0 on it. */
export function stopAt(
  t0UptimeMs: number,
  t: Pick<WatchdogTiming, "leaseTTL" | "fenceMarginMs" | "watchdogPollMs">,
): number {
  return Math.floor(t0UptimeMs + t.leaseTTL * 1000 - t.fenceMarginMs - t.watchdogPollMs);
}

/** CLOCK_BOOTTIME in ms, as the watcher reads it (/proc/uptime, centiseconds). */
export function parseUptimeMs(text: string): number {
  const m = /^(\d+)\.(\d\d)\s/.exec(text);
  if (!m) throw new Error(`/proc/uptime: unexpected ${JSON.stringify(text.slice(0, 40))}`);
  return Number(m[1]) * 1000 + Number(m[2]) * 10;
}

/**
 * The watcher's command line: bash with the script's path, then its arguments, then the
 * agent's command. Run through bash, not by the script's own mode: what the unit
 * executes is then a file every node has, which `systemd-analyze verify` can check
 * where the script itself is not installed (tests/validate).
 */
export function watcherCommand(
  script: string,
  heartbeatFile: string,
  t: Pick<WatchdogTiming, "leaseTTL" | "watchdogPollMs">,
  unit: string,
  agent: string[],
): string[] {
  const args = [heartbeatFile, String(t.watchdogPollMs), String(t.leaseTTL * 1000), unit];
  return ["/bin/bash", script, ...args, "--", ...agent];
}

/**
 * The watcher, a bash script: `fleet-watchdog HEARTBEAT POLL_MS HUNG_MS UNIT -- COMMAND...`
 * (watcherCommand). The heartbeat holds stopAt (ms of /proc/uptime); while there is
 * none (the agent runs nothing, so a freeze leaves nothing running: Agent.arm) it only
 * waits. It exits with the agent's status, or 70 after killing a hung agent.
 */
export function watchdogScript(): string {
  return `#!/bin/bash
# fleetlab fleet agent watcher (fleet/agent/watchdog.ts explains why it exists).
set -u
hb=$1
poll=$(printf '%d.%03d' $(($2 / 1000)) $(($2 % 1000)))
hung_ms=$3
unit=$4
shift 5
rm -f "$hb"
"$@" &
agent=$!
trap 'kill -TERM "$agent" 2>/dev/null; wait "$agent"; exit $?' TERM INT
uptime_ms() {
  local up
  read -r up _ </proc/uptime
  echo $((10#\${up/./} * 10))
}
acted=
while kill -0 "$agent" 2>/dev/null; do
  until=
  [ -e "$hb" ] && read -r until <"$hb"
  if [ -n "$until" ] && [ "$(uptime_ms)" -ge "$until" ]; then
    if [ "$acted" != "$until" ]; then
      acted=$until
      units=$(systemctl show --property=BoundBy --value -- "$unit")
      echo "fleet-watchdog: the agent missed its deadline: stopping the units bound to $unit: \${units:-none}"
      [ -z "$units" ] || systemctl stop --no-block -- $units
    elif [ "$(uptime_ms)" -ge $((until + hung_ms)) ]; then
      echo "fleet-watchdog: the agent has not moved its deadline for $hung_ms ms: it is hung, killing it" >&2
      kill -KILL "$agent"
      wait "$agent"
      exit 70
    fi
  fi
  sleep "$poll"
done
wait "$agent"
`;
}
