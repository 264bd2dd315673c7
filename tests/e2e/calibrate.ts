// How fast this host runs an emulated VM, measured, so the e2e's waits follow the host
// instead of a clock tuned on one machine. The probe is the stand-in's own kernel
// under QEMU software emulation (TCG), the same accelerator the lab's VMs use, booted
// with no disk and no initramfs: it panics as soon as it looks for a root file system,
// and `panic=-1` + `-no-reboot` make QEMU exit right there. No network device, so the
// probe sends no traffic anywhere. The figure is the median of a few boots, and the
// slowness factor compares it with the same probe on the machine the bases were set on.
import { spawn, spawnSync } from "child_process";
import * as os from "os";

/**
 * The probe's wall seconds (QEMU start, kernel to panic, exit) that count as speed 1.
 * On an idle machine of the faster CI kind the probe's median is about 6 s (5.8 to
 * 6.7 s in the CI runs of this change, load 1.6); the reference sits below that on
 * purpose, so even there every bound is about 1.5 times the fixed one it replaced,
 * and a host that needs twice as long gets bounds twice as long again.
 */
export const REFERENCE_PROBE_SECONDS = 4;

export interface Calibration {
  /** Every probe's wall seconds, in order. */
  samples: number[];
  medianSeconds: number;
  referenceSeconds: number;
  /** medianSeconds / referenceSeconds, never below 1: waits only ever grow. */
  factor: number;
  loadAverage1m: number;
  label: string;
}

function probeOnce(kernel: string, timeoutMs: number): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(
    "qemu-system-x86_64",
    [
      "-accel",
      "tcg",
      "-m",
      "256",
      "-smp",
      "1",
      "-nographic",
      "-no-reboot",
      "-nic",
      "none",
      "-kernel",
      kernel,
      "-append",
      "console=ttyS0 panic=-1 root=/dev/fleetlab-calibration-none quiet",
    ],
    { encoding: "utf8", timeout: timeoutMs, stdio: ["ignore", "pipe", "pipe"] },
  );
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.error || r.status !== 0) {
    throw new Error(
      `calibration probe (qemu -kernel ${kernel}) did not exit cleanly within ${timeoutMs} ms: ` +
        `${r.error?.message ?? `status ${r.status}`}; last output: ${(r.stdout + r.stderr).slice(-400)}`,
    );
  }
  return seconds;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Boots the probe `runs` times (bounded: 2 min each) and derives the slowness factor. */
export function calibrate(kernel: string, label: string, runs = 3): Calibration {
  const samples = Array.from(
    { length: runs },
    () => Math.round(probeOnce(kernel, 120_000) * 100) / 100,
  );
  const medianSeconds = median(samples);
  return {
    samples,
    medianSeconds,
    referenceSeconds: REFERENCE_PROBE_SECONDS,
    factor: Math.max(1, Math.round((medianSeconds / REFERENCE_PROBE_SECONDS) * 100) / 100),
    loadAverage1m: Math.round(os.loadavg()[0] * 100) / 100,
    label,
  };
}

/**
 * The most a wait is stretched: past this the host is too slow or too busy for an
 * emulated 3-node lab to mean anything, and a run should fail and say so, not wait
 * for hours.
 */
export const MAX_FACTOR = 6;

/**
 * A wait's bound on this host: `baseMs` is generous for the reference machine (about
 * three times what it took there), scaled by the measured slowness (at most MAX_FACTOR).
 */
export function boundMs(c: Calibration, baseMs: number): number {
  return Math.round(baseMs * Math.min(c.factor, MAX_FACTOR));
}

/** Busy processes started by a test (CPU hogs), each bounded by `timeout` and stopped by PID. */
export interface Load {
  pids: number[];
  stop(): void;
}

/**
 * `count` shell loops that keep a core busy each, like other work on a shared host.
 * Each runs under coreutils `timeout`, so even a test killed before stop() leaves
 * nothing spinning past `maxSeconds`.
 */
export function startLoad(count: number, maxSeconds: number): Load {
  const procs = Array.from({ length: count }, () =>
    spawn("timeout", [String(maxSeconds), "sh", "-c", "while :; do :; done"], {
      stdio: "ignore",
    }),
  );
  return {
    pids: procs.map((p) => p.pid!),
    stop() {
      // SIGTERM to `timeout` is passed on to its child, and both exit.
      for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill("SIGTERM");
    },
  };
}
