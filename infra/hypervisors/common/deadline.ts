// Every wait of a create (a VM answering SSH, a node fetching its Ignition, the lab's
// fleet engine registering its machines) has one bound for all its steps, so a wait
// that ends says how long it took and the next step gets only what is left.

export class Deadline {
  private readonly start: number;

  constructor(
    readonly ms: number,
    private readonly now: () => number = Date.now,
  ) {
    this.start = now();
  }

  elapsed(): number {
    return this.now() - this.start;
  }

  remaining(): number {
    return Math.max(0, this.ms - this.elapsed());
  }

  passed(): boolean {
    return this.elapsed() >= this.ms;
  }

  /**
   * `p`'s value, or the error `onTimeout` builds (when it happens, so it can say what
   * things look like then) if the deadline passes first.
   */
  async race<T>(p: Promise<T>, onTimeout: () => Error): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(onTimeout()), this.remaining());
    });
    try {
      return await Promise.race([p, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Calls `attempt` until it returns something other than undefined, waiting up to
   * `intervalMs` between calls, and returns that; undefined once the deadline has
   * passed. One last attempt falls on the deadline itself. Bounded by count as well as
   * time, so a clock that jumps back cannot make it spin forever.
   */
  async poll<T>(attempt: () => Promise<T | undefined>, intervalMs: number): Promise<T | undefined> {
    const most = Math.ceil(this.ms / intervalMs) + 1;
    for (let n = 0; n < most; n++) {
      const got = await attempt();
      if (got !== undefined) return got;
      if (this.passed()) break;
      await sleep(Math.min(intervalMs, this.remaining()));
    }
    return undefined;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
