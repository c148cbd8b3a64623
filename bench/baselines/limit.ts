/**
 * A p-limit-style limiter (p-limit is not a dependency): at most `concurrency` tasks run at
 * once, started in the order they were given.
 */

/** Runs a task under the limit. */
export type Limit = <T>(task: () => Promise<T>) => Promise<T>;

/** Creates a limiter that runs at most `concurrency` tasks at once. */
export function createLimit(concurrency: number): Limit {
  if (!Number.isInteger(concurrency) || concurrency < 1)
    throw new Error(`concurrency must be a whole number ≥ 1, not ${concurrency}`);
  const waiting: Array<() => void> = [];
  let active = 0;
  const next = () => {
    if (active >= concurrency) return;
    const start = waiting.shift();
    if (!start) return;
    active++;
    start();
  };
  return <T>(task: () => Promise<T>) =>
    new Promise<T>((resolve, reject) => {
      waiting.push(() => {
        task()
          .then(resolve, reject)
          .finally(() => {
            active--;
            next();
          });
      });
      next();
    });
}
