// What both drivers' CLI wrappers (libvirt/virsh.ts, virtualbox/vboxmanage.ts) share.
// Many of their calls may fail without that being an error: a question whose "no" is a
// failed command (does this pool, domain or VM exist?), or a best-effort step that what
// follows copes with (power off before delete, cleanup after a failed create).

/**
 * `fn`, returning undefined where it throws. Every failure, whatever its cause, reads as
 * undefined, so it suits only callers that need no reason (the wrappers' tryRun).
 */
export function orUndefined<A extends unknown[], R>(
  fn: (...args: A) => R,
): (...args: A) => R | undefined {
  return (...args) => {
    try {
      return fn(...args);
    } catch {
      return undefined;
    }
  };
}
