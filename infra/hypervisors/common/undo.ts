// Create steps register how to undo themselves; if a later step fails, everything made
// so far is removed before the error surfaces, so a failed create leaves nothing
// behind that Pulumi does not know about.
export class Undo {
  private readonly steps: { what: string; fn: () => void }[] = [];

  push(what: string, fn: () => void): void {
    this.steps.push({ what, fn });
  }

  /** Runs the undo steps newest first; failures are collected, never thrown over the cause. */
  run(): string[] {
    const failed: string[] = [];
    for (const s of this.steps.reverse()) {
      try {
        s.fn();
      } catch (e) {
        failed.push(`${s.what}: ${(e as Error).message}`);
      }
    }
    this.steps.length = 0;
    return failed;
  }

  async guard<T>(body: () => Promise<T>): Promise<T> {
    try {
      return await body();
    } catch (e) {
      const left = this.run();
      const err = e as Error;
      if (left.length > 0)
        err.message += `\n(cleanup after the failure also failed: ${left.join("; ")})`;
      throw err;
    }
  }
}
