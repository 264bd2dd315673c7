/**
 * Run `work` now, or — if a run is in progress — once more right after it, however
 * many times it was asked for meanwhile. Watch events arrive in bursts; each pass
 * reads the whole state, so one extra pass covers them all.
 */
export function coalesce(
  work: () => Promise<void>,
  onError: (e: Error) => void,
  stopped: () => boolean,
): () => void {
  let busy = false;
  let again = false;
  const run = async (): Promise<void> => {
    busy = true;
    try {
      do {
        again = false;
        await work();
      } while (again && !stopped());
    } catch (e) {
      onError(e as Error);
    } finally {
      busy = false;
    }
  };
  return () => {
    if (stopped()) return;
    if (busy) again = true;
    else void run();
  };
}
