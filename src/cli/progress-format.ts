/** Progress on a terminal: a bar, and one line per batch with counts, rates and the ETA. */
import type { BatchProgress } from '../queue/progress.js';
import { formatBytes, formatDuration } from '../shared/units.js';

/** One line for a batch: a bar, counts, rates and ETA. */
export function formatProgressLine(p: BatchProgress, barWidth = 24): string {
  const bar = progressBar(p.done, p.total, barWidth);
  const percent = p.total === 0 ? 100 : Math.floor((p.done / p.total) * 100);
  return (
    `${p.name} ${bar} ${p.done}/${p.total} (${percent}%)  ${p.uploadsPerSecond.toFixed(1)} uploads/s  ${formatBytes(p.bytesPerSecond)}/s` +
    `  ETA ${formatDuration(p.etaSeconds)}  retries ${p.retries}  429s ${p.rateLimited}  dead ${p.dead}`
  );
}

/** `[#####...]`: `done` of `total` as a bar `width` characters wide (full when there is nothing to do). */
export function progressBar(done: number, total: number, width = 24): string {
  const filled = total === 0 ? width : Math.min(width, Math.round((done / total) * width));
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}
