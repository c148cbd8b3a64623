/**
 * The producer side of the tool: the BullMQ queue of upload jobs, with the ledger and the
 * shared controls that commands, the library API and the dashboard all use.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue, type JobsOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config/config.js';
import { concurrencyAt } from '../config/run-windows.js';
import { claimLedgerFormat } from '../ledger/ledger-format.js';
import { Ledger } from '../ledger/ledger.js';
import { keyNames, UPLOAD_QUEUE_NAME, type KeyNames } from '../shared/key-names.js';
import { retryPolicy } from '../upload/retry-policy.js';
import { connectOrExplain, createProducerConnection } from './connections.js';
import { PauseControl } from './pause-control.js';
import { CreditMeter } from './credit-budget.js';
import { RateControl } from './rate-control.js';
import { VERIFY_JOB_NAME, verifyJobId, type UploadJobData, type UploadJobResult } from './upload-job.js';
import { createTokenProvider, ZohoClient } from '../zoho/index.js';

/** Job states in which a job will still run by itself. */
const LIVE_JOB_STATES = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'paused']);

/** Job options every upload job gets: BullMQ's part of the retry policy (see upload/retry-policy.ts). */
export function uploadJobOptions(config: Config): JobsOptions {
  const policy = retryPolicy(config.queue);
  return {
    attempts: policy.attempts,
    backoff: { type: 'exponential', delay: policy.backoffMs, jitter: policy.backoffJitter },
    // A finished job leaves at once: the ledger keeps every row's outcome, and a kept job would cost a
    // kilobyte of Redis per row for nothing.
    removeOnComplete: true,
    // Failed jobs are the dead letters: kept until an operator retries or purges them.
    removeOnFail: false,
  };
}

/** The upload queue and everything that goes with it. `close()` is idempotent. */
export class UploadQueue {
  readonly keys: KeyNames;
  readonly queue: Queue<UploadJobData, UploadJobResult>;
  readonly ledger: Ledger;
  readonly pauseControl: PauseControl;
  readonly rateControl: RateControl;
  /** Counts this process's API requests for the credit budget (see credit-budget.ts). */
  readonly creditMeter: CreditMeter;
  readonly jobOptions: JobsOptions;
  private closing: Promise<void> | undefined;

  private constructor(
    readonly config: Config,
    readonly redis: Redis,
    private readonly ownsRedis: boolean,
  ) {
    this.keys = keyNames(config.queue.name);
    this.queue = new Queue<UploadJobData, UploadJobResult>(UPLOAD_QUEUE_NAME, {
      connection: redis,
      prefix: this.keys.prefix,
      defaultJobOptions: uploadJobOptions(config),
    });
    this.ledger = new Ledger(redis, this.keys, Date.now, config.redis.waitReplicas);
    this.pauseControl = new PauseControl(this.queue, redis, this.keys);
    this.rateControl = new RateControl(redis, this.keys, {
      // The run window's number when ZOHO_ATTACH_WINDOWS is set, else ZOHO_CONCURRENCY.
      maxConcurrency: () => concurrencyAt(config.queue, new Date()).concurrency,
      creditsReserve: config.queue.creditsReserve,
      firstPauseMs: config.queue.rateLimitPauseMs,
    });
    this.creditMeter = new CreditMeter(redis, this.keys);
    this.jobOptions = uploadJobOptions(config);
    // Without a listener BullMQ prints every error of the queue's connection (one per reconnect
    // attempt during an outage) as a raw stack trace. Commands see failures as rejected calls;
    // a long-lived process (the worker) routes these to its outage reporter.
    this.queue.on('error', (error) => this.onConnectionError(error));
  }

  /** Told of every error of the queue's Redis connection (none is printed). */
  onConnectionError: (error: Error) => void = () => undefined;

  /**
   * Opens the queue on a new producer connection (or on `redis` when given, which the
   * caller then keeps owning).
   */
  static async open(config: Config, redis?: Redis): Promise<UploadQueue> {
    const connection = redis ?? (await connectOrExplain(createProducerConnection(config.redis), config.redis));
    try {
      // Before anything is read or written (BullMQ's Queue writes its meta as it starts): a queue a
      // newer version wrote to is refused, not misread.
      await claimLedgerFormat(connection, keyNames(config.queue.name));
    } catch (error) {
      if (redis === undefined) await connection.quit().catch(() => connection.disconnect());
      throw error;
    }
    return new UploadQueue(config, connection, redis === undefined);
  }

  /**
   * A Zoho client on the deployment's shared OAuth token (for check and undo, which call Zoho
   * outside the workers). The caller closes it.
   */
  zohoClient(): ZohoClient {
    return new ZohoClient({
      config: this.config.zoho,
      tokens: createTokenProvider(this.config.zoho, this.redis, this.keys.oauth),
      onRequest: (batch) => this.creditMeter.count(batch),
    });
  }

  /** Counts of jobs per BullMQ state (all batches together). */
  async jobCounts(): Promise<Record<string, number>> {
    return this.queue.getJobCounts(
      'waiting',
      'active',
      'delayed',
      'prioritized',
      'failed',
      'completed',
      'waiting-children',
    );
  }

  /**
   * Removes a row's job so that its id can be used again, unless it will still run by itself
   * (waiting, active, delayed, …): a requeue finished by someone else must not be undone.
   * @returns `live` when the job stays; otherwise the removed job's data, if there was a job
   */
  async removeFinishedJob(jobId: string): Promise<{ live: boolean; data?: UploadJobData }> {
    const job = await this.queue.getJob(jobId);
    if (!job) return { live: false };
    if (LIVE_JOB_STATES.has(await job.getState())) return { live: true };
    await job.remove();
    return { live: false, data: job.data };
  }

  /**
   * Adds the settle-and-verify job of a row, due at `dueAt`. One per row: adding it again while
   * one is scheduled changes nothing. It leaves no trace when done (the ledger has the result).
   */
  async scheduleVerification(rowData: UploadJobData, rowJobId: string, dueAt: number): Promise<void> {
    await this.queue.add(
      VERIFY_JOB_NAME,
      { ...rowData, verifies: rowJobId },
      {
        ...this.jobOptions,
        jobId: verifyJobId(rowJobId),
        delay: Math.max(0, dueAt - Date.now()),
        removeOnComplete: true,
        removeOnFail: true,
      },
    );
  }

  /**
   * True when no row waits in a backlog, nothing is waiting, delayed or active and no
   * settle-and-verify listing is due (dead letters do not count).
   */
  async isIdle(): Promise<boolean> {
    const [counts, verifications, backlog] = await Promise.all([
      this.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized'),
      this.ledger.countDueVerifications(),
      this.ledger.backlogCount(),
    ]);
    return verifications === 0 && backlog === 0 && Object.values(counts).every((n) => n === 0);
  }

  /**
   * Resolves once the queue has been seen idle twice in a row, `pollMs` apart (a job can be
   * between two states once); `onPoll` runs after every look (a progress line, a recovery pass).
   * @throws when `timeoutMs` passes first, naming the job counts; when `signal` aborts
   */
  async waitUntilIdle(
    options: {
      pollMs?: number;
      timeoutMs?: number;
      signal?: AbortSignal;
      onPoll?: (idle: boolean) => Promise<void> | void;
    } = {},
  ): Promise<void> {
    const pollMs = options.pollMs ?? 500;
    const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
    let idleSeen = 0;
    while (idleSeen < 2) {
      await sleep(pollMs, undefined, options.signal ? { signal: options.signal } : {});
      if (Date.now() > deadline)
        throw new Error(
          `the queue was not idle within ${options.timeoutMs} ms: ${JSON.stringify(await this.jobCounts())}`,
        );
      const idle = await this.isIdle();
      idleSeen = idle ? idleSeen + 1 : 0;
      await options.onPoll?.(idle);
    }
  }

  /** Closes the queue (and the connection, if it made it). */
  close(): Promise<void> {
    this.closing ??= (async () => {
      // What this process spent counts against the credit budget, also after it is gone.
      await this.creditMeter.flush().catch(() => undefined);
      await this.queue.close();
      if (this.ownsRedis) await this.redis.quit().catch(() => this.redis.disconnect());
    })();
    return this.closing;
  }
}
