/**
 * The feeder: keeps a window of real BullMQ jobs filled from the backlog (see ledger/backlog.ts),
 * so that a million waiting rows are a million short list entries and not a million job hashes.
 * Every worker runs one; they need no leader, because each take is one script and feeding a row
 * twice is harmless. A worker feeds once a quarter of the window has freed through its own jobs,
 * and on a timer (for slots freed by other workers, and rows enqueued since).
 */
import type { Logger } from '../shared/logger.js';
import { jobDataFromStoredRow, UPLOAD_JOB_NAME } from './upload-job.js';
import type { UploadQueue } from './upload-queue.js';

/**
 * Rows taken and not finished for this long belong to a feeder that died: they go back to the
 * backlog. A feed takes milliseconds; until then they count against the window (a killed worker's
 * half-finished feed would otherwise hold slots for long). Too short costs nothing but a second,
 * harmless feeding of the same rows.
 */
export const FEED_STALE_MS = 5_000;

/** How often an idle feeder looks for free slots. */
const FEED_INTERVAL_MS = 500;

/** Options of {@link BacklogFeeder}. */
export interface BacklogFeederOptions {
  /** Jobs kept waiting or running, all workers together (`ZOHO_ATTACH_FEED_WINDOW`). */
  window: number;
  /** @defaultValue 500 */
  intervalMs?: number;
  /** @defaultValue {@link FEED_STALE_MS} */
  staleMs?: number;
  /** Told of a feed that failed (it is tried again on the next occasion). */
  onError?: (error: unknown) => void;
  logger?: Logger;
}

/** Moves rows from the backlog into the queue as slots free up. */
export class BacklogFeeder {
  private running: Promise<number> | undefined;
  private again = false;
  /** Jobs of this worker that ended since its last feed. */
  private freedSinceFeed = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly uploadQueue: UploadQueue,
    private readonly options: BacklogFeederOptions,
  ) {}

  /** Feeds now and then every `intervalMs` until {@link stop}. */
  start(): void {
    this.stopped = false;
    this.request();
    this.timer = setInterval(() => this.request(), this.options.intervalMs ?? FEED_INTERVAL_MS);
    this.timer.unref();
  }

  /**
   * A job of this worker ended. Feeds once a quarter of the window has freed: each feed costs Redis
   * three round trips, and a feed per job would double what an upload costs it. The window keeps
   * three quarters waiting meanwhile, and the timer covers slots other workers free.
   */
  slotFreed(): void {
    this.freedSinceFeed++;
    if (this.freedSinceFeed >= Math.max(1, Math.floor(this.options.window / 4))) this.request();
  }

  /** Asks for a feed: one runs at a time, and a request during one makes one more after it. */
  request(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.freedSinceFeed = 0;
    this.running = this.feedOnce()
      .catch((error: unknown) => {
        this.options.onError?.(error);
        return 0;
      })
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.request();
        }
      });
  }

  /**
   * One feed: takes what the window has room for and adds those jobs.
   * @returns how many rows it fed
   */
  async feedOnce(): Promise<number> {
    const { ledger, queue, jobOptions } = this.uploadQueue;
    const take = await ledger.takeFromBacklog({
      window: this.options.window,
      staleMs: this.options.staleMs ?? FEED_STALE_MS,
    });
    if (take.rows.length === 0) return 0;
    await queue.addBulk(
      take.rows.map(({ batch, line, row }) => ({
        name: UPLOAD_JOB_NAME,
        data: jobDataFromStoredRow(batch, line, row),
        opts: { ...jobOptions, jobId: row.jobId },
      })),
    );
    await ledger.finishFeeding(take.rows);
    this.options.logger?.debug({ fed: take.rows.length, live: take.live }, 'fed rows from the backlog');
    return take.rows.length;
  }

  /** Stops feeding and waits for a feed in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }
}
