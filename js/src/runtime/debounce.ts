/**
 * Trailing-edge debounce: the last call wins and runs `ms` after the calls stop. `flush` runs a
 * pending call now (used before cleanup so a final selection still reaches Python); `cancel`
 * drops it.
 */
export function debounce<T extends unknown[]>(
  fn: (...a: T) => void,
  ms: number,
): ((...a: T) => void) & { flush(): void; cancel(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let pending: T | undefined;
  const run = (): void => {
    timer = undefined;
    const args = pending;
    pending = undefined;
    if (args) fn(...args);
  };
  const debounced = (...args: T): void => {
    pending = args;
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(run, ms);
  };
  debounced.flush = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    run();
  };
  debounced.cancel = (): void => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    pending = undefined;
  };
  return debounced;
}
