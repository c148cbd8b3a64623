/**
 * Live progress from successive status snapshots: done/total, uploads and bytes per second
 * over a sliding window, and the ETA. Pure: the caller samples, this computes.
 */
import type { BatchMeta } from '../ledger/ledger.js';

/** One batch's progress at the latest sample. */
export interface BatchProgress {
  name: string;
  /** Rows this batch queued. */
  total: number;
  /** Uploaded or dead. */
  done: number;
  uploaded: number;
  dead: number;
  pending: number;
  retries: number;
  rateLimited: number;
  bytes: number;
  /** Over the sliding window; 0 until two samples exist. */
  uploadsPerSecond: number;
  bytesPerSecond: number;
  /** Seconds until `pending` reaches 0 at the current rate; undefined when the rate is 0. */
  etaSeconds: number | undefined;
}

interface Sample {
  at: number;
  done: number;
  bytes: number;
}

/** Keeps recent samples per batch and derives rates from them. */
export class ProgressTracker {
  private readonly samples = new Map<string, Sample[]>();
  private readonly latest = new Map<string, BatchMeta>();

  /** @param windowMs how far back rates look. @defaultValue 30000 */
  constructor(private readonly windowMs = 30_000) {}

  /** Records the batches as they are at `at` (epoch ms). */
  add(at: number, batches: BatchMeta[]): void {
    for (const meta of batches) {
      const list = this.samples.get(meta.name) ?? [];
      list.push({ at, done: meta.uploaded + meta.dead, bytes: meta.bytes });
      // Keep one sample older than the window, so the rate spans the whole window.
      while (list.length > 2 && (list[1] as Sample).at <= at - this.windowMs) list.shift();
      this.samples.set(meta.name, list);
      this.latest.set(meta.name, meta);
    }
  }

  /** Progress of every batch seen, in the order first seen. */
  progress(): BatchProgress[] {
    return [...this.latest.values()].map((meta) => {
      const list = this.samples.get(meta.name) ?? [];
      const first = list[0];
      const last = list[list.length - 1];
      const seconds = first && last ? (last.at - first.at) / 1000 : 0;
      const uploadsPerSecond = seconds > 0 ? (last!.done - first!.done) / seconds : 0;
      const bytesPerSecond = seconds > 0 ? (last!.bytes - first!.bytes) / seconds : 0;
      return {
        name: meta.name,
        total: meta.owned,
        done: meta.uploaded + meta.dead,
        uploaded: meta.uploaded,
        dead: meta.dead,
        pending: meta.pending,
        retries: meta.retries,
        rateLimited: meta.rateLimited,
        bytes: meta.bytes,
        uploadsPerSecond,
        bytesPerSecond,
        etaSeconds: meta.pending === 0 ? 0 : uploadsPerSecond > 0 ? meta.pending / uploadsPerSecond : undefined,
      };
    });
  }
}

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

/** 1536 → "1.5 KB". */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}

/** 3725 → "1h02m05s"; undefined → "--". */
export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const rest = s % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m${String(rest).padStart(2, '0')}s`;
  if (m > 0) return `${m}m${String(rest).padStart(2, '0')}s`;
  return `${rest}s`;
}
