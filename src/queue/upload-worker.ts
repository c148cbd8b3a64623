/**
 * The consumer side: a BullMQ worker that runs the upload processor, shares one OAuth
 * token and one global concurrency cap with every other worker, and shuts down gracefully.
 */
import { UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Config } from '../config/config.js';
import { concurrencyAt } from '../config/run-windows.js';
import { UPLOAD_QUEUE_NAME } from '../shared/key-names.js';
import { silentLogger, type Logger } from '../shared/logger.js';
import { openSource, sourceLimitsOf, type SourceLimits } from '../sources/index.js';
import {
  createTokenProvider,
  SharedTokenStore,
  ZohoClient,
  type SharedTokenStoreEvents,
  type ZohoError,
} from '../zoho/index.js';
import { BacklogFeeder } from './backlog-feeder.js';
import { enforceCreditBudget } from './credit-budget.js';
import { createWorkerConnection } from './connections.js';
import { UPLOAD_JOB_NAME, type UploadJobData, type UploadJobResult } from './upload-job.js';
import { recoverUnfinishedWork } from './recovery.js';
import { RedisOutageReporter } from './redis-outage.js';
import { createUploadProcessor, postingLeaseTiming, type UploadOutcome } from './upload-processor.js';
import { UploadQueue } from './upload-queue.js';

/**
 * The worker's own limiter. It never binds (Zoho has no per-minute limit on data APIs),
 * but BullMQ only honours `queue.rateLimit()` — our 429 back-off — in workers that have one.
 */
const PERMISSIVE_LIMITER = { max: 1_000_000, duration: 1_000 };

/**
 * Workers get killed in real migrations; a job must survive several of them before BullMQ
 * gives up on it as "stalled too often".
 */
const MAX_STALLED_COUNT = 10;

/** How often a running worker finishes work that an interrupted run left undone (see recovery.ts). */
const RECOVERY_INTERVAL_MS = 30_000;

/** How often a worker writes the credits it spent and, with a budget, checks it. */
const CREDIT_CHECK_MS = 5_000;

/** How often a worker looks at the run windows' timetable (ZOHO_ATTACH_WINDOWS). */
const WINDOW_CHECK_MS = 15_000;

/** The longest a worker waits for each step of its shutdown after the uploads (Redis may be away). */
const CLOSE_STEP_MS = 3_000;

/** Options for {@link startUploadWorker}. */
export interface UploadWorkerOptions {
  config: Config;
  /** Any logger with pino's methods. @defaultValue silentLogger (nothing is written) */
  logger?: Logger;
  /** Uploads this process runs at once; the global cap (`ZOHO_CONCURRENCY`) still applies. @defaultValue config.queue.concurrency */
  concurrency?: number;
  /** Called once per finished attempt (metrics, progress). */
  onOutcome?: (outcome: UploadOutcome) => void;
  /** Called when this process refreshed the shared OAuth token (metrics); never with a fixed `ZOHO_ACCESS_TOKEN`. */
  onTokenRefresh?: (info: SharedTokenStoreEvents['refresh'][0]) => void;
  /** How often the credits spent are written and the budget checked. @defaultValue 5000 */
  creditCheckMs?: number;
  /** Called when this process's refresh of the shared OAuth token failed (metrics). */
  onTokenRefreshFailed?: (error: ZohoError) => void;
}

/** A running worker. */
export interface UploadWorker {
  readonly worker: Worker<UploadJobData, UploadJobResult>;
  readonly uploadQueue: UploadQueue;
  /** Uploads this process is running right now. */
  inFlight(): number;
  /** Finishes requeues and verifications that a crash left half done (it also runs by itself). */
  recover(): Promise<unknown>;
  /**
   * Stops taking jobs, waits for in-flight uploads up to `config.queue.shutdownTimeoutMs`,
   * then closes everything. Idempotent. Jobs cut off by the timeout are recovered by another
   * worker as stalled, and their next attempt checks Zoho before posting again.
   */
  close(): Promise<void>;
}

/** Starts an upload worker. */
export async function startUploadWorker(options: UploadWorkerOptions): Promise<UploadWorker> {
  const { config } = options;
  const logger = options.logger ?? silentLogger;
  const concurrency = options.concurrency ?? config.queue.concurrency;
  // The ledger writes of a worker wait through a Redis blip instead of failing an upload that succeeded.
  const producer = createWorkerConnection(config.redis, `${config.queue.name}:ledger`);
  const outage = new RedisOutageReporter(config.redis.url, logger).watch(producer);
  const uploadQueue = await UploadQueue.open(config, producer);
  // The global cap bounds in-flight uploads across every worker process and machine. It adapts
  // to Zoho's 429s (never above ZOHO_CONCURRENCY), so a worker starting keeps what was learnt.
  await uploadQueue.rateControl.concurrency.init();

  const tokenRedis: Redis = createWorkerConnection(config.redis, `${config.queue.name}:oauth`);
  const tokens = createTokenProvider(config.zoho, tokenRedis, uploadQueue.keys.oauth);
  if (tokens instanceof SharedTokenStore) {
    if (options.onTokenRefresh) tokens.on('refresh', options.onTokenRefresh);
    if (options.onTokenRefreshFailed) tokens.on('refreshFailed', options.onTokenRefreshFailed);
  }
  const client = new ZohoClient({
    config: config.zoho,
    tokens,
    onRequest: (batch) => uploadQueue.creditMeter.count(batch),
  });
  const sourceLimits: SourceLimits = sourceLimitsOf(config.sources);

  const workerConnection = createWorkerConnection(config.redis, `${config.queue.name}:worker`);
  // Batches whose credit budget is spent, as the last check found them.
  let held = new Set<string>();
  const processor = createUploadProcessor({
    isHeld: (batch) => held.has(batch),
    client,
    ledger: uploadQueue.ledger,
    rateControl: uploadQueue.rateControl,
    pauseControl: uploadQueue.pauseControl,
    openSource,
    sourceLimits,
    rateLimit: (ms) => uploadQueue.queue.rateLimit(ms),
    scheduleVerification: (data, rowJobId, dueAt) => uploadQueue.scheduleVerification(data, rowJobId, dueAt),
    postingLease: postingLeaseTiming(config.queue.lockDurationMs),
    settleMs: config.queue.settleMs,
    clockSkewMs: config.queue.clockSkewMs,
    logger,
    ...(options.onOutcome ? { onOutcome: options.onOutcome } : {}),
  });

  // Counted around the processor, not from outcomes: an attempt can end without one (a ledger write failing in a catch).
  let inFlight = 0;
  const countedProcessor: typeof processor = async (job, token) => {
    inFlight++;
    try {
      return await processor(job, token);
    } finally {
      inFlight--;
    }
  };

  const worker = new Worker<UploadJobData, UploadJobResult>(UPLOAD_QUEUE_NAME, countedProcessor, {
    connection: workerConnection,
    prefix: uploadQueue.keys.prefix,
    concurrency,
    limiter: PERMISSIVE_LIMITER,
    lockDuration: config.queue.lockDurationMs,
    stalledInterval: config.queue.lockDurationMs,
    maxStalledCount: MAX_STALLED_COUNT,
  });

  worker.on('failed', (job, error) => {
    // BullMQ fails a job by itself when it stalled too often (a deferred failure, set when it
    // gave up on the job): the processor never saw that, so record it here.
    if (
      job &&
      error instanceof UnrecoverableError &&
      job.deferredFailure !== undefined &&
      job.name === UPLOAD_JOB_NAME
    ) {
      void uploadQueue.ledger
        .markDead(job.id as string, {
          attempt: job.attemptsStarted,
          code: 'STALLED_TOO_OFTEN',
          message: `the job's worker died or stalled more than ${MAX_STALLED_COUNT} times`,
        })
        .catch((cause: unknown) =>
          logger.error({ err: cause, jobId: job.id }, 'could not record a stalled job in the ledger'),
        );
    }
  });
  // A Redis outage is said once (and every 30 s while it lasts), not once per connection and
  // reconnect attempt; the connections reconnect by themselves and uploads wait.
  for (const connection of [producer, tokenRedis, workerConnection]) outage.watch(connection);
  uploadQueue.onConnectionError = (error) => outage.failed(error);
  worker.on('error', (error) => {
    if (outage.unreachableSince !== undefined || isConnectionError(error)) outage.failed(error);
    else logger.error({ err: error }, 'worker error');
  });

  // Rows wait in the backlog; this worker keeps the window of jobs filled, with every other worker.
  const feeder = new BacklogFeeder(uploadQueue, {
    window: config.queue.feedWindow,
    logger,
    onError: (error) => {
      if (outage.unreachableSince !== undefined || isConnectionError(error)) outage.failed(error);
      else logger.warn({ err: error }, 'feeding rows from the backlog failed; tried again shortly');
    },
  });
  // A job that ended freed a slot in the window.
  worker.on('completed', () => feeder.slotFreed());
  worker.on('failed', () => feeder.slotFreed());
  feeder.start();

  // Run windows (ZOHO_ATTACH_WINDOWS): the cap follows the local time without a restart. A lower
  // cap applies at once; a higher one is reached by probing, as after a 429.
  let windowRule = concurrencyAt(config.queue, new Date()).window?.text;
  const followWindows =
    config.queue.windows === undefined
      ? undefined
      : setInterval(() => {
          const now = concurrencyAt(config.queue, new Date());
          if (now.window?.text !== windowRule) {
            windowRule = now.window?.text;
            logger.info(
              { window: windowRule ?? null, concurrency: now.concurrency },
              'run window changed: the uploads in flight follow it',
            );
          }
          void uploadQueue.rateControl.concurrency
            .init()
            .catch((error: unknown) =>
              logger.warn({ err: error }, 'could not apply the run window; tried again shortly'),
            );
        }, WINDOW_CHECK_MS);
  followWindows?.unref();

  // The credit budget (ZOHO_ATTACH_CREDIT_BUDGET): spent credits written every few seconds; with a
  // budget, a batch that spent it is held (its jobs wait) until its 24-hour window frees.
  const { creditBudget } = config.queue;
  const meterCredits = async (): Promise<void> => {
    if (creditBudget === undefined) return uploadQueue.creditMeter.flush();
    const found = await enforceCreditBudget(
      {
        meter: uploadQueue.creditMeter,
        pauseControl: uploadQueue.pauseControl,
        redis: producer,
        keys: uploadQueue.keys,
      },
      {
        budget: creditBudget,
        reserve: config.queue.creditsReserve,
        lastReported: await uploadQueue.rateControl.lastCredits(),
      },
    );
    held = new Set(found.held.keys());
    for (const batch of found.changed)
      if (held.has(batch))
        logger.warn(
          { batch, ...found.held.get(batch) },
          'credit budget spent: the batch waits until its 24-hour window frees',
        );
      else logger.info({ batch }, 'credit budget: the window freed, the batch goes on');
    if (found.paused === 'paused') logger.warn("Zoho's remaining credits are at the reserve: the queue is paused");
    if (found.paused === 'resumed') logger.info("Zoho's credits report is old: the queue goes on");
  };
  await meterCredits();
  const creditTimer = setInterval(
    () =>
      void meterCredits().catch((error: unknown) =>
        logger.warn({ err: error }, 'could not count the credits spent; tried again shortly'),
      ),
    options.creditCheckMs ?? CREDIT_CHECK_MS,
  );
  creditTimer.unref();

  // Requeues and verifications a crash left half done: finished at start, then now and then.
  const recover = () => recoverUnfinishedWork(uploadQueue, { logger });
  await recover();
  const recovery = setInterval(
    () =>
      void recover().catch((error: unknown) =>
        logger.warn({ err: error }, 'recovery pass failed; it runs again later'),
      ),
    RECOVERY_INTERVAL_MS,
  );
  recovery.unref();

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      clearInterval(recovery);
      clearInterval(followWindows);
      clearInterval(creditTimer);
      await atMost(CLOSE_STEP_MS, feeder.stop());
      const graceful = worker.close();
      const timedOut = await Promise.race([
        graceful.then(() => false),
        new Promise<boolean>((resolve) => setTimeout(() => resolve(true), config.queue.shutdownTimeoutMs).unref()),
      ]);
      if (timedOut) {
        logger.warn(
          { timeoutMs: config.queue.shutdownTimeoutMs },
          'in-flight uploads did not finish in time; they will be recovered by another worker',
        );
        await atMost(CLOSE_STEP_MS, worker.close(true));
      }
      // Each step is bounded: with Redis away, a polite QUIT would wait for it for ever.
      await atMost(
        CLOSE_STEP_MS,
        uploadQueue.rateControl.flush().catch(() => undefined),
      );
      await atMost(CLOSE_STEP_MS, client.close());
      await atMost(CLOSE_STEP_MS, uploadQueue.close());
      await Promise.all(
        [producer, tokenRedis, workerConnection].map((r) =>
          atMost(CLOSE_STEP_MS, r.quit()).finally(() => r.disconnect()),
        ),
      );
    })();
    return closing;
  };

  return { worker, uploadQueue, inFlight: () => inFlight, recover, close };
}

/** Errors of a connection that failed or dropped (as opposed to a command Redis refused). */
const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && CONNECTION_ERROR_CODES.has(code);
}

/** Waits for `promise`, or `ms`, whichever comes first (a rejection counts as done). */
function atMost(ms: number, promise: Promise<unknown>): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    timer.unref();
    promise
      .then(
        () => resolve(),
        () => resolve(),
      )
      .finally(() => clearTimeout(timer));
  });
}
