/**
 * Progress from the samples the ledger keeps in Redis (ledger/progress-samples.ts): done/total,
 * uploads and bytes per second over the last half minute, the ETA, and the rate over a
 * batch's whole life for charts. Pure: the caller reads, this computes. Every view (status
 * --watch, the worker's progress lines, the dashboard) uses these, so they agree, and a view
 * opened late sees the whole batch.
 */
import type { BatchMeta, ProgressSample } from '../ledger/ledger.js';
import { PROGRESS_SAMPLES } from '../ledger/progress-samples.js';
import type { UploadQueue } from './upload-queue.js';

/** How far back the current rates look. */
export const RATE_WINDOW_MS = 30_000;

/** One batch's progress now. */
export interface BatchProgress {
  name: string;
  /** Rows this batch queued. */
  total: number;
  /** Uploaded or dead. */
  done: number;
  uploaded: number;
  dead: number;
  pending: number;
  /** Of `pending`: rows still in the backlog, not yet fed to the queue. */
  backlog: number;
  retries: number;
  rateLimited: number;
  bytes: number;
  /** Over the last {@link RATE_WINDOW_MS}; 0 while nothing finished in it. */
  uploadsPerSecond: number;
  bytesPerSecond: number;
  /** Seconds until `pending` reaches 0 at the current rate; undefined when the rate is 0. */
  etaSeconds: number | undefined;
}

/** The rate over one stretch of time, for a chart. */
export interface RatePoint {
  /** The end of the stretch (epoch ms). */
  at: number;
  /** Rows finished (uploaded or dead) per second over the stretch. */
  uploadsPerSecond: number;
  bytesPerSecond: number;
}

/** Counters at a time. */
interface Reading {
  at: number;
  done: number;
  bytes: number;
}

/**
 * A batch's counters as a function of time, from its samples: within a slot they rise
 * evenly from the previous sample's value to the slot's; a slot nobody wrote is flat (nothing
 * finished in it); before the first sample, nothing had finished.
 */
class CountersOverTime {
  private readonly points: Reading[] = [];

  constructor(samples: readonly ProgressSample[], now: number) {
    let done = 0;
    let bytes = 0;
    for (const sample of samples) {
      this.points.push({ at: sample.at, done, bytes });
      done = sample.uploaded + sample.dead;
      bytes = sample.bytes;
      this.points.push({ at: Math.max(sample.at, Math.min(sample.at + sample.slotMs, now)), done, bytes });
    }
  }

  /** When the first row finished (the start of its slot); undefined when none has. */
  get start(): number | undefined {
    return this.points[0]?.at;
  }

  /** The counters at time `at`. */
  at(at: number): Reading {
    const after = this.points.findIndex((p) => p.at > at);
    if (after === 0) return { at, done: 0, bytes: 0 };
    const last = this.points[after === -1 ? this.points.length - 1 : after - 1];
    if (last === undefined) return { at, done: 0, bytes: 0 };
    const next = after === -1 ? undefined : this.points[after];
    if (next === undefined || next.at === last.at) return { at, done: last.done, bytes: last.bytes };
    const share = (at - last.at) / (next.at - last.at);
    return {
      at,
      done: last.done + share * (next.done - last.done),
      bytes: last.bytes + share * (next.bytes - last.bytes),
    };
  }
}

/**
 * A batch's progress from its counters and stored samples: all of them, or those read since
 * {@link rateSamplesSince} (the earliest of which then stands for the counters before the window).
 */
export function batchProgress(
  meta: BatchMeta,
  samples: readonly ProgressSample[],
  now: number,
  windowMs = RATE_WINDOW_MS,
): BatchProgress {
  const counters = new CountersOverTime(samples, now);
  // The window reaches back `windowMs`, or to the first finish when that is more recent.
  const from = Math.max(now - windowMs, counters.start ?? now);
  const seconds = (now - from) / 1000;
  const before = counters.at(from);
  const done = meta.uploaded + meta.dead;
  const uploadsPerSecond = seconds >= 1 ? Math.max(0, done - before.done) / seconds : 0;
  const bytesPerSecond = seconds >= 1 ? Math.max(0, meta.bytes - before.bytes) / seconds : 0;
  return {
    name: meta.name,
    total: meta.owned,
    done,
    uploaded: meta.uploaded,
    dead: meta.dead,
    pending: meta.pending,
    backlog: meta.backlog,
    retries: meta.retries,
    rateLimited: meta.rateLimited,
    bytes: meta.bytes,
    uploadsPerSecond,
    bytesPerSecond,
    etaSeconds: meta.pending === 0 ? 0 : uploadsPerSecond > 0 ? meta.pending / uploadsPerSecond : undefined,
  };
}

/**
 * From when {@link batchProgress} needs a batch's samples at `now`: the rate window, and one slot
 * of the longest kind before it (the sample that says where the counters stood when it opened).
 */
export function rateSamplesSince(now: number): number {
  return now - RATE_WINDOW_MS - PROGRESS_SAMPLES.lastSlotMs;
}

/** Every batch's progress, from the samples its rates need (read in one round trip). */
export async function readProgress(
  uploadQueue: UploadQueue,
  batches: readonly BatchMeta[],
  now = Date.now(),
): Promise<BatchProgress[]> {
  const samples = await uploadQueue.ledger.progressSamples(
    batches.map((b) => b.name),
    rateSamplesSince(now),
  );
  return batches.map((meta) => batchProgress(meta, samples.get(meta.name) ?? [], now));
}

/** Points in a {@link rateHistory}. */
const HISTORY_POINTS = 120;

/**
 * The rate of the given batches together, from the first finish of any of them until now, as
 * {@link HISTORY_POINTS} evenly spaced stretches (empty when nothing has finished yet).
 */
export function rateHistory(samplesByBatch: ReadonlyMap<string, readonly ProgressSample[]>, now: number): RatePoint[] {
  const batches = [...samplesByBatch.values()].map((samples) => new CountersOverTime(samples, now));
  const starts = batches.flatMap((b) => (b.start === undefined ? [] : [b.start]));
  if (starts.length === 0) return [];
  const start = Math.min(...starts);
  // At least a second, so a batch that finished a moment ago has a chart, not a spike over a few ms.
  const end = Math.max(now, start + 1_000);
  const total = (at: number): Reading => {
    const readings = batches.map((b) => b.at(at));
    return { at, done: readings.reduce((n, r) => n + r.done, 0), bytes: readings.reduce((n, r) => n + r.bytes, 0) };
  };
  const step = (end - start) / HISTORY_POINTS;
  const points: RatePoint[] = [];
  let previous = total(start);
  for (let i = 1; i <= HISTORY_POINTS; i++) {
    const current = total(start + i * step);
    const seconds = step / 1000;
    points.push({
      at: current.at,
      uploadsPerSecond: (current.done - previous.done) / seconds,
      bytesPerSecond: (current.bytes - previous.bytes) / seconds,
    });
    previous = current;
  }
  return points;
}
