/**
 * The dashboard's memory of progress: it reads the queue's status every few seconds, feeds a
 * {@link ProgressTracker} (rates and ETAs per batch) and keeps the overall upload rate over
 * time for the overview's chart. Nothing is stored in Redis: the history starts when the
 * dashboard does.
 */
import { ProgressTracker, type BatchProgress } from '../queue/progress.js';
import { readStatus, type StatusSnapshot } from '../queue/status.js';
import type { UploadQueue } from '../queue/upload-queue.js';

/** The overall rate at one sample. */
export interface RatePoint {
  /** Epoch ms. */
  at: number;
  /** Uploads (and dead letters) finished per second, all batches together, over the tracker's window. */
  uploadsPerSecond: number;
  bytesPerSecond: number;
}

/** Tuning for {@link ProgressSampler}. */
export interface ProgressSamplerOptions {
  /** Time between samples. @defaultValue 5000 */
  intervalMs?: number;
  /** Rate points kept (at 5 s apart, 360 is half an hour). @defaultValue 360 */
  historyLength?: number;
  /** How far back rates look. @defaultValue 30000 */
  rateWindowMs?: number;
  /** Called when a background sample fails (Redis away); sampling goes on. */
  onError?: (error: unknown) => void;
  /** The clock. @defaultValue Date.now */
  now?: () => number;
}

/** Samples the queue's status on a timer; `stop()` is idempotent. */
export class ProgressSampler {
  private readonly tracker: ProgressTracker;
  private readonly history: RatePoint[] = [];
  private readonly intervalMs: number;
  private readonly historyLength: number;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly uploadQueue: UploadQueue,
    private readonly options: ProgressSamplerOptions = {},
  ) {
    this.tracker = new ProgressTracker(options.rateWindowMs ?? 30_000);
    this.intervalMs = options.intervalMs ?? 5_000;
    this.historyLength = options.historyLength ?? 360;
    this.now = options.now ?? Date.now;
  }

  /** Takes the first sample (so rates start at once), then samples every interval. */
  async start(): Promise<void> {
    await this.tick();
    this.schedule();
  }

  /**
   * Reads the status now and records it for the rates. Pages call this, so what they show is
   * current; only the timer adds points to the rate history, which keeps them evenly spaced.
   */
  async sample(): Promise<StatusSnapshot> {
    const snapshot = await readStatus(this.uploadQueue);
    this.tracker.add(this.now(), snapshot.batches);
    return snapshot;
  }

  /** Every batch's progress as of the latest sample. */
  progress(): BatchProgress[] {
    return this.tracker.progress();
  }

  /** The overall rate at each timer sample, oldest first. */
  rateHistory(): readonly RatePoint[] {
    return this.history;
  }

  /** Stops sampling, after the sample in progress (if any) ends. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.inFlight;
  }

  private schedule(): void {
    if (this.stopped) return;
    // A timeout chain rather than an interval: a slow Redis never has two samples in flight.
    this.timer = setTimeout(() => {
      this.inFlight = this.tick()
        .catch((error: unknown) => this.options.onError?.(error))
        .finally(() => this.schedule());
    }, this.intervalMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    await this.sample();
    const progress = this.tracker.progress();
    this.history.push({
      at: this.now(),
      uploadsPerSecond: progress.reduce((sum, p) => sum + p.uploadsPerSecond, 0),
      bytesPerSecond: progress.reduce((sum, p) => sum + p.bytesPerSecond, 0),
    });
    if (this.history.length > this.historyLength) this.history.shift();
  }
}
