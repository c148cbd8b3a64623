/**
 * Periodic progress lines for a long-running command on a terminal (the worker): every
 * interval, one line per batch that still has work, with a bar, rates and ETA. Plain lines,
 * not an in-place redraw, because log lines interleave with them.
 */
import { readProgress } from '../queue/progress.js';
import { formatProgressLine } from './progress-format.js';
import { readStatus } from '../queue/status.js';
import type { UploadQueue } from '../queue/upload-queue.js';

/** Starts printing progress to `out` every `intervalMs`; returns a function that stops it. */
export function startProgressTicker(
  uploadQueue: UploadQueue,
  out: NodeJS.WritableStream,
  intervalMs = 5_000,
): () => void {
  const finished = new Set<string>();
  const tick = async () => {
    const snapshot = await readStatus(uploadQueue);
    for (const progress of await readProgress(uploadQueue, snapshot.batches)) {
      // A batch is shown while it has work, and once more when it finishes.
      if (progress.pending === 0 && finished.has(progress.name)) continue;
      if (progress.pending === 0) finished.add(progress.name);
      else finished.delete(progress.name);
      out.write(`${formatProgressLine(progress)}\n`);
    }
    if (snapshot.paused)
      out.write(
        `queue PAUSED${snapshot.pauseReason ? `: [${snapshot.pauseReason.code}] ${snapshot.pauseReason.hint}` : ''}; then \`zoho-attach resume\`\n`,
      );
  };
  const timer = setInterval(() => void tick().catch(() => {}), intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
