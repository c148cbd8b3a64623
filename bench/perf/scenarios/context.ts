/** What every scenario is given. */
import type { BenchRedis } from '../world.js';
import type { BenchSizes } from '../sizes.js';

/** The shared Redis, the sizes, and where progress lines go. */
export interface ScenarioContext {
  redis: BenchRedis;
  sizes: BenchSizes;
  log: (line: string) => void;
}

/** `value` with `digits` decimals. */
export function fixed(value: number | undefined, digits = 1): string {
  return value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits);
}
