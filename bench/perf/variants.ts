/**
 * Running one variant of a scenario and measuring it: zoho-attach itself (`enqueue`, then
 * `worker` processes), a bare BullMQ worker, or a one-process baseline script.
 *
 * Queue-based variants are timed the same way: the queue is paused, filled, the workers are
 * started and seen ready, then the clock starts with `resume()` and stops when the queue is
 * idle. Their CPU is read from /proc over exactly that span.
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { loadConfig } from '../../src/config/config.js';
import type { FakeZoho } from '../../src/fake-zoho/index.js';
import { uploadJobOptions, UploadQueue } from '../../src/queue/upload-queue.js';
import { sleep } from '../bench-support.js';
import type { BaselineResult, BaselineUpload, BaselineZoho } from '../baselines/spec.js';
import { resultOf, runScript, slug, startCli, startScript, type BenchProcess } from './processes.js';
import { contextSwitchesOf, cpuMark, cpuSince, PeakMemory } from './proc.js';
import {
  fakeFigures,
  writeManifest,
  zohoAttachEnv,
  type BenchRedis,
  type Scratch,
  type VariantFigures,
} from './world.js';

/** The batch name zoho-attach variants enqueue under. */
const BATCH = 'bench';

/** What a queue-based variant needs. */
export interface QueueVariantOptions {
  variant: string;
  redis: BenchRedis;
  fake: FakeZoho;
  scratch: Scratch;
  uploads: BaselineUpload[];
  /** Worker processes. */
  workers: number;
  /** The global cap (`ZOHO_CONCURRENCY`), also each process's own concurrency. */
  concurrency: number;
  /** Longest the uploads may take. */
  timeoutMs: number;
  /** More environment for zoho-attach processes. */
  env?: Record<string, string>;
  log: (line: string) => void;
}

/** zoho-attach as operators run it: `zoho-attach enqueue`, then `zoho-attach worker` processes. */
export async function runZohoAttach(options: QueueVariantOptions): Promise<VariantFigures> {
  const { redis, fake, scratch, uploads } = options;
  const queueName = `bench-${slug(options.variant)}-${randomBytes(3).toString('hex')}`;
  const env = zohoAttachEnv({
    redis,
    fake,
    queueName,
    fileRoot: scratch.dir,
    concurrency: options.concurrency,
    extra: options.env,
  });
  const manifest = path.join(scratch.dir, `${queueName}.csv`);
  await writeManifest(manifest, uploads);

  const uploadQueue = await UploadQueue.open(loadConfig(env, scratch.dir));
  const workers: BenchProcess[] = [];
  try {
    await uploadQueue.queue.pause();
    const memoryBefore = await redis.usedMemory();
    const enqueueStarted = performance.now();
    const enqueue = startCli(`${options.variant}-enqueue`, ['enqueue', manifest, '--batch', BATCH], {
      env,
      cwd: scratch.dir,
      logDir: scratch.logDir,
    });
    const enqueueExit = await enqueue.exited;
    if (enqueueExit.code !== 0)
      throw new Error(`zoho-attach enqueue failed (${enqueueExit.code ?? enqueueExit.signal}); see ${enqueue.logFile}`);
    const enqueueSeconds = (performance.now() - enqueueStarted) / 1000;
    const memoryEnqueued = await redis.usedMemory();

    for (let i = 1; i <= options.workers; i++) {
      workers.push(
        startCli(`${options.variant}-worker-${i}`, ['worker'], { env, cwd: scratch.dir, logDir: scratch.logDir }),
      );
    }
    await waitForWorkers(uploadQueue.queue, workers);
    options.log(
      `  ${options.variant}: ${uploads.length} rows enqueued in ${enqueueSeconds.toFixed(1)} s, ${options.workers} workers ready`,
    );

    const measured = await measureQueueRun(uploadQueue.queue, workers, options);
    const batch = await uploadQueue.ledger.getBatch(BATCH);
    await stopAll(workers);
    const memoryFinished = await redis.usedMemory();
    // What stays per row for good: the ledger, without the completed jobs BullMQ keeps for the
    // dashboard (the last 1,000) and its capped events stream.
    await uploadQueue.queue.clean(0, 10_000_000, 'completed');
    await redis.client.del(`${uploadQueue.keys.prefix}:uploads:events`);
    const memoryLedgerOnly = await redis.usedMemory();
    const rows = uploads.length;
    return {
      ...measured.figures,
      uploads: batch?.uploaded ?? 0,
      rate: (batch?.uploaded ?? 0) / measured.figures.seconds,
      extra: {
        ...measured.figures.extra,
        ledger: {
          uploaded: batch?.uploaded,
          dead: batch?.dead,
          retries: batch?.retries,
          rateLimited: batch?.rateLimited,
        },
        enqueueSeconds,
        redisMemory: {
          before: memoryBefore,
          enqueued: memoryEnqueued,
          finished: memoryFinished,
          ledgerOnly: memoryLedgerOnly,
          bytesPerPendingRow: Math.round((memoryEnqueued - memoryBefore) / rows),
          bytesPerFinishedRow: Math.round((memoryLedgerOnly - memoryBefore) / rows),
        },
      },
    };
  } finally {
    await stopAll(workers);
    await uploadQueue.close();
  }
}

/** A bare BullMQ worker (bench/baselines/bare-bullmq-worker.ts) per process, same queue options and global cap. */
export async function runBareBullmq(options: QueueVariantOptions & { zoho: BaselineZoho }): Promise<VariantFigures> {
  const { redis, scratch, uploads } = options;
  const prefix = `bench-bare-${randomBytes(3).toString('hex')}`;
  const queueName = 'uploads';
  const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  const queue = new Queue<BaselineUpload>(queueName, { connection, prefix });
  const workers: BenchProcess[] = [];
  try {
    await queue.pause();
    // The same job options as zoho-attach's (attempts, backoff, completed jobs kept).
    const jobOptions = uploadJobOptions(loadConfig({}, scratch.dir));
    for (let start = 0; start < uploads.length; start += 1_000) {
      await queue.addBulk(
        uploads
          .slice(start, start + 1_000)
          .map((u, i) => ({ name: 'upload', data: u, opts: { ...jobOptions, jobId: `j-${start + i}` } })),
      );
    }
    const specFile = path.join(scratch.dir, `${prefix}.json`);
    await writeFile(
      specFile,
      JSON.stringify({
        zoho: options.zoho,
        redisUrl: redis.url,
        queueName,
        prefix,
        concurrency: options.concurrency,
        globalConcurrency: options.concurrency,
      }),
    );
    for (let i = 1; i <= options.workers; i++) {
      workers.push(
        startScript(`${options.variant}-worker-${i}`, 'baselines/bare-bullmq-worker.ts', {
          specFile,
          logDir: scratch.logDir,
        }),
      );
    }
    await Promise.all(workers.map((w) => w.waitForLine(/^READY/)));
    options.log(`  ${options.variant}: ${uploads.length} jobs added, ${options.workers} workers ready`);
    const measured = await measureQueueRun(queue, workers, options);
    await stopAll(workers);
    const statuses: Record<string, number> = {};
    for (const w of workers) {
      for (const [status, n] of Object.entries((await resultOf<{ statuses: Record<string, number> }>(w)).statuses))
        statuses[status] = (statuses[status] ?? 0) + n;
    }
    const succeeded = statuses['200'] ?? 0;
    return {
      ...measured.figures,
      uploads: succeeded,
      rate: succeeded / measured.figures.seconds,
      extra: { ...measured.figures.extra, statuses },
    };
  } finally {
    await stopAll(workers);
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    connection.disconnect();
  }
}

/** Resumes the paused queue, waits until it is idle, and measures what happened meanwhile. */
async function measureQueueRun(
  queue: Queue,
  workers: BenchProcess[],
  options: QueueVariantOptions,
): Promise<{ figures: VariantFigures }> {
  const { fake, redis } = options;
  await fake.reset();
  const pids = workers.map((w) => w.pid);
  const workerCpu = await cpuMark(pids);
  const redisCpu = await cpuMark([redis.pid]);
  const switchesBefore = await sumOf(pids, contextSwitchesOf);
  const commandsBefore = await redis.commandCounts();
  const memory = new PeakMemory(pids);
  const started = performance.now();
  await queue.resume();
  const idleAt = await waitUntilIdle(queue, started + options.timeoutMs);
  const seconds = (idleAt - started) / 1000;
  const contextSwitches = (await sumOf(pids, contextSwitchesOf)) - switchesBefore;
  const commandsAfter = await redis.commandCounts();
  const cpuMs = await cpuSince(workerCpu);
  const redisCpuMs = await cpuSince(redisCpu);
  const peaks = await memory.stop();
  const seen = fakeFigures(fake);
  const bytes = options.uploads.reduce((sum, u) => sum + u.size, 0);
  const failed = await queue.getFailedCount();
  return {
    figures: {
      variant: options.variant,
      uploads: seen.succeeded,
      seconds,
      rate: seen.succeeded / seconds,
      mbPerSec: bytes / 1e6 / seconds,
      cpuMsPerUpload: cpuMs / Math.max(1, seen.succeeded),
      redisCpuMsPerUpload: redisCpuMs / Math.max(1, seen.succeeded),
      peakRssMB: (Math.max(...peaks.values()) * 1024) / 1e6,
      fake: seen,
      extra: {
        workerCpuMs: cpuMs,
        redisCpuMs,
        contextSwitchesPerUpload: contextSwitches / Math.max(1, seen.succeeded),
        // The orchestrator's own polling (a few commands every 20 ms) is counted too.
        redisCommandsPerUpload: perUpload(commandsBefore, commandsAfter, seen.succeeded),
        failedJobs: failed,
        peakRssMBPerWorker: [...peaks.values()].map((kib) => Math.round((kib * 1024) / 1e6)),
      },
    },
  };
}

/** Resolves with the time the queue was first seen idle (confirmed by a second look). */
async function waitUntilIdle(queue: Queue, deadline: number): Promise<number> {
  let firstIdle: number | undefined;
  for (;;) {
    const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children');
    const now = performance.now();
    if (Object.values(counts).every((n) => n === 0)) {
      if (firstIdle !== undefined) return firstIdle;
      firstIdle = now;
    } else {
      firstIdle = undefined;
    }
    if (now > deadline) throw new Error(`the queue was not idle before the deadline: ${JSON.stringify(counts)}`);
    await sleep(20);
  }
}

/** Resolves once every worker process has registered its BullMQ worker with Redis (whatever its log level). */
async function waitForWorkers(queue: Queue, workers: BenchProcess[], timeoutMs = 30_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while ((await queue.getWorkersCount()) < workers.length) {
    const exited = await Promise.race([...workers.map((w) => w.exited.then(() => w)), sleep(50).then(() => undefined)]);
    if (exited) throw new Error(`${exited.name} exited before it was ready; see ${exited.logFile}`);
    if (performance.now() > deadline)
      throw new Error(`the workers were not ready within ${timeoutMs} ms; see ${workers[0]?.logFile}`);
  }
  // Registered comes just before the first wait for jobs.
  await sleep(200);
}

/** Redis commands run per upload, by name, the most frequent first. */
function perUpload(
  before: Record<string, number>,
  after: Record<string, number>,
  uploads: number,
): Record<string, number> {
  const rows = Object.entries(after)
    .map(([name, calls]) => [name, (calls - (before[name] ?? 0)) / Math.max(1, uploads)] as const)
    .filter(([, n]) => n >= 0.01)
    .sort((a, b) => b[1] - a[1]);
  return Object.fromEntries(rows.map(([name, n]) => [name, Math.round(n * 100) / 100]));
}

async function sumOf(pids: number[], read: (pid: number) => Promise<number | undefined>): Promise<number> {
  let total = 0;
  for (const pid of pids) total += (await read(pid)) ?? 0;
  return total;
}

async function stopAll(processes: BenchProcess[]): Promise<void> {
  await Promise.all(processes.map((p) => p.stop()));
}

/** A one-process baseline script (sequential, p-limit, raw stream copy): it times itself. */
export async function runBaselineScript(options: {
  variant: string;
  script: string;
  spec: Record<string, unknown> & { uploads: BaselineUpload[] };
  fake: FakeZoho;
  scratch: Scratch;
  timeoutMs: number;
}): Promise<VariantFigures> {
  const specFile = path.join(options.scratch.dir, `${slug(options.variant)}-${randomBytes(3).toString('hex')}.json`);
  await writeFile(specFile, JSON.stringify(options.spec));
  await options.fake.reset();
  const result = await runScript<BaselineResult>(options.variant, options.script, {
    specFile,
    logDir: options.scratch.logDir,
    timeoutMs: options.timeoutMs,
  });
  const seconds = (result.endedAt - result.startedAt) / 1000;
  const succeeded = result.statuses['200'] ?? 0;
  return {
    variant: options.variant,
    uploads: succeeded,
    seconds,
    rate: succeeded / seconds,
    mbPerSec: result.bytes / 1e6 / seconds,
    cpuMsPerUpload: result.cpuMs / Math.max(1, succeeded),
    peakRssMB: (result.peakRssKiB * 1024) / 1e6,
    fake: fakeFigures(options.fake),
    extra: { statuses: result.statuses, cpuMs: result.cpuMs },
  };
}
