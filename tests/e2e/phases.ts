// The wall time of each phase of an end-to-end test, for its bench/results file.

export interface Phases {
  /** Seconds per phase, one decimal. */
  phases: Record<string, number>;
  /** Phases that failed: their time is how long they took to fail, not a result. */
  failedPhases: string[];
  /** Runs `fn` as phase `name`, recording its time whether it succeeds or not. */
  timed<T>(name: string, fn: () => Promise<T> | T): Promise<T>;
}

export function createPhases(): Phases {
  const phases: Record<string, number> = {};
  const failedPhases: string[] = [];
  return {
    phases,
    failedPhases,
    async timed(name, fn) {
      const t0 = Date.now();
      try {
        return await fn();
      } catch (e) {
        failedPhases.push(name);
        throw e;
      } finally {
        phases[name] = Math.round((Date.now() - t0) / 100) / 10;
      }
    },
  };
}
