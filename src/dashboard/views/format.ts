/** Small formatters for the pages (sizes and durations are the terminal's too: shared/units.ts). */
export { formatBytes, formatDuration } from '../../shared/units.js';

/** Epoch ms → `2024-05-01 14:03:07 UTC`. */
export function formatTime(at: number): string {
  return `${new Date(at).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** 1234567 → `1,234,567`. */
export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** A rate with one decimal: `12.5/s`. */
export function formatRate(perSecond: number): string {
  return `${perSecond.toFixed(1)}/s`;
}

/** done of total as a whole percentage, floored (100 only when done). */
export function formatPercent(done: number, total: number): string {
  return `${total === 0 ? 100 : Math.floor((done / total) * 100)}%`;
}
