/**
 * `npm run soak`: a million rows, and where Redis memory goes.
 *
 * Enqueues 1,000,000 link rows (generated on the fly and streamed through the enqueue path in
 * chunks: nothing holds the million in memory) on a private redis-server, then runs worker
 * processes against the fake Zoho (no latency, no limit) for a fixed time, sampling Redis
 * `used_memory` throughout. Link rows need no files, so the figures are Redis's and the
 * pipeline's, not the disk's.
 *
 * What it shows: memory per pending row (BullMQ job + ledger), memory per finished row (the
 * ledger alone: finished jobs are removed, only the last 1,000 completed are kept), and so
 * that memory follows the backlog, not the history — except for the ledger's own cost per row,
 * which it states. If the time budget ends before every row is processed, the rest is
 * extrapolated and marked as such.
 *
 *   npm run soak                                   # 1,000,000 rows, about 10 minutes
 *   npm run soak -- --rows 200000 --process-seconds 120
 */
import { parseArgs } from 'node:util';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { loadConfig } from '../../src/config/config.js';
import { startPrivateRedis } from '../../src/demo/private-redis.js';
import { FAKE_CREDENTIALS, startFakeZoho } from '../../src/fake-zoho/index.js';
import { validateRow } from '../../src/manifest/index.js';
import { createWorkerConnection } from '../../src/queue/connections.js';
import { enqueueRows, type ManifestEntry } from '../../src/queue/enqueue.js';
import { UploadQueue } from '../../src/queue/upload-queue.js';
import { formatBytes, machineInfo, sleep, snapshotCli, writeResults } from '../bench-support.js';
import { WorkerPool } from '../chaos/worker-pool.js';
import { sampleLayout } from '../perf/backlog.js';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    'process-seconds': { type: 'string', default: '300' },
    workers: { type: 'string', default: '2' },
    concurrency: { type: 'string', default: '32' },
  },
});
const ROWS = Number(values.rows);
const PROCESS_MS = Number(values['process-seconds']) * 1000;
const WORKERS = Number(values.workers);
const CONCURRENCY = Number(values.concurrency);
const BATCH = 'soak';

const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

/** One `INFO memory` sample, with where the run stood. */
interface Sample {
  t: number;
  phase: 'empty' | 'enqueue' | 'process' | 'end';
  enqueued: number;
  finished: number;
  pending: number;
  completedJobsKept: number;
  usedMemory: number;
  usedMemoryDataset: number;
  usedMemoryRss: number;
}

/** The million rows, generated as they are read. */
async function* rows(count: number): AsyncGenerator<ManifestEntry> {
  for (let i = 1; i <= count; i++) {
    yield validateRow(
      {
        module: 'Accounts',
        // One attachment per record, as in a migration of one document per legacy account.
        record_id: String(4150868000000000000n + BigInt(i)),
        link_url: `https://dms.example.com/documents/${i}`,
        title: `Document ${i}`,
        legacy_id: `DOC-${i}`,
      },
      i,
      process.cwd(),
    );
  }
}

async function memoryInfo(redis: Redis): Promise<Pick<Sample, 'usedMemory' | 'usedMemoryDataset' | 'usedMemoryRss'>> {
  const info = await redis.info('memory');
  const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1] ?? Number.NaN);
  return {
    usedMemory: field('used_memory'),
    usedMemoryDataset: field('used_memory_dataset'),
    usedMemoryRss: field('used_memory_rss'),
  };
}

/** Least-squares slope of y over x. */
function slope(points: Array<{ x: number; y: number }>): number {
  const n = points.length;
  const mx = points.reduce((a, p) => a + p.x, 0) / n;
  const my = points.reduce((a, p) => a + p.y, 0) / n;
  const sxy = points.reduce((a, p) => a + (p.x - mx) * (p.y - my), 0);
  const sxx = points.reduce((a, p) => a + (p.x - mx) ** 2, 0);
  return sxx === 0 ? Number.NaN : sxy / sxx;
}

const started = Date.now();
const runDir = await mkdtemp(path.join(os.tmpdir(), 'za-soak-'));
const cli = await snapshotCli();
const redis = await startPrivateRedis();
const fake = await startFakeZoho({ storeContent: false });
const queueName = 'za-soak';
const env: Record<string, string> = {
  REDIS_URL: redis.url,
  ZOHO_ACCOUNTS_URL: fake.url,
  ZOHO_API_DOMAIN: fake.url,
  ZOHO_CLIENT_ID: FAKE_CREDENTIALS.clientId,
  ZOHO_CLIENT_SECRET: FAKE_CREDENTIALS.clientSecret,
  ZOHO_REFRESH_TOKEN: FAKE_CREDENTIALS.refreshToken,
  ZOHO_ATTACH_QUEUE: queueName,
  ZOHO_CONCURRENCY: String(WORKERS * CONCURRENCY),
  LOG_LEVEL: 'warn',
};
const observer = createWorkerConnection({ url: redis.url }, 'soak-observer');
const uploadQueue = await UploadQueue.open(loadConfig(env, runDir), observer);
const samples: Sample[] = [];
let enqueued = 0;
let phase: Sample['phase'] = 'empty';

const sample = async () => {
  const [memory, meta, completed] = await Promise.all([
    memoryInfo(observer),
    uploadQueue.ledger.getBatch(BATCH),
    uploadQueue.queue.getCompletedCount(),
  ]);
  const s: Sample = {
    t: Date.now() - started,
    phase,
    enqueued,
    finished: (meta?.uploaded ?? 0) + (meta?.dead ?? 0),
    pending: meta?.pending ?? 0,
    completedJobsKept: completed,
    ...memory,
  };
  samples.push(s);
  return s;
};

let pool: WorkerPool | undefined;
try {
  log(
    `soak: ${ROWS.toLocaleString('en')} rows, private redis ${redis.url} (no persistence), fake Zoho ${fake.url} (no latency, no limit)`,
  );
  const empty = await sample();

  // 1. Enqueue, sampling memory as the backlog grows.
  phase = 'enqueue';
  const enqueueStarted = Date.now();
  const sampler = setInterval(() => void sample().catch(() => {}), 2_000);
  const summary = await enqueueRows(uploadQueue, rows(ROWS), {
    batch: BATCH,
    onProgress: (s) => {
      enqueued = s.enqueued;
    },
  });
  clearInterval(sampler);
  enqueued = summary.enqueued;
  const enqueueMs = Date.now() - enqueueStarted;
  const afterEnqueue = await sample();
  log(
    `enqueued ${summary.enqueued.toLocaleString('en')} rows in ${(enqueueMs / 1000).toFixed(1)} s (${Math.round(summary.enqueued / (enqueueMs / 1000))}/s); used_memory ${formatBytes(afterEnqueue.usedMemory)}`,
  );

  // What one row costs, by kind of key (MEMORY USAGE of samples; the same sampling as bench:scale's).
  const keys = uploadQueue.keys;
  const perPendingKey = await sampleLayout(observer, keys.prefix, BATCH, summary.enqueued);

  // 2. Process for the time budget (or until done), sampling memory as the backlog drains.
  phase = 'process';
  pool = new WorkerPool({
    count: WORKERS,
    args: ['worker', '--concurrency', String(CONCURRENCY)],
    env,
    cwd: runDir,
    logDir: runDir,
    cliPath: cli.cliPath,
  });
  const processStarted = Date.now();
  pool.startAll();
  let last = afterEnqueue;
  while (Date.now() - processStarted < PROCESS_MS) {
    await sleep(5_000);
    last = await sample();
    log(
      `processing: ${last.finished.toLocaleString('en')} finished, ${last.pending.toLocaleString('en')} pending, used_memory ${formatBytes(last.usedMemory)}, completed jobs kept ${last.completedJobsKept}`,
    );
    if (last.pending === 0) break;
  }
  await pool.stopAll(30_000);
  const processMs = Date.now() - processStarted;
  phase = 'end';
  const end = await sample();

  const perFinishedKey = await sampleLayout(observer, keys.prefix, BATCH, Math.max(1, end.finished));

  // 3. The figures.
  const enqueueSamples = samples
    .filter((s) => s.phase === 'enqueue' || s === empty || s === afterEnqueue)
    .map((s) => ({ x: s.enqueued, y: s.usedMemory }));
  const perPendingRow = slope(enqueueSamples);
  // While draining, each finished row turns a pending row (job + ledger) into a finished one (ledger only).
  const processSamples = samples
    .filter((s) => s.phase === 'process' && s.completedJobsKept >= 1_000)
    .map((s) => ({ x: s.finished, y: s.usedMemory }));
  const changePerFinishedRow = processSamples.length >= 3 ? slope(processSamples) : Number.NaN;
  const perFinishedRow = perPendingRow + changePerFinishedRow;
  const processed = end.finished;
  const rate = processed / (processMs / 1000);
  const allProcessed = end.pending === 0;
  const figures = {
    rowsEnqueued: summary.enqueued,
    enqueueSeconds: enqueueMs / 1000,
    enqueueRowsPerSecond: Math.round(summary.enqueued / (enqueueMs / 1000)),
    rowsProcessed: processed,
    processSeconds: processMs / 1000,
    processRowsPerSecond: Math.round(rate),
    allProcessed,
    usedMemoryEmpty: empty.usedMemory,
    usedMemoryAfterEnqueue: afterEnqueue.usedMemory,
    usedMemoryAtEnd: end.usedMemory,
    usedMemoryPeak: Math.max(...samples.map((s) => s.usedMemory)),
    completedJobsKeptAtEnd: end.completedJobsKept,
    bytesPerPendingRow: Math.round(perPendingRow),
    bytesPerFinishedRowChange: Math.round(changePerFinishedRow),
    ledgerBytesPerFinishedRow: Math.round(perFinishedRow),
    perPendingKey,
    perFinishedKey,
    extrapolated: allProcessed
      ? undefined
      : {
          note: 'EXTRAPOLATED from the measured rates and per-row costs, not measured',
          secondsToProcessAll: Math.round(summary.enqueued / rate),
          usedMemoryWhenAllFinished: Math.round(empty.usedMemory + summary.enqueued * perFinishedRow),
        },
  };
  const result = {
    kind: 'soak',
    machine: machineInfo(),
    options: { rows: ROWS, processSeconds: PROCESS_MS / 1000, workers: WORKERS, concurrencyPerWorker: CONCURRENCY },
    figures,
    samples,
    workerExits: pool.exits,
  };
  const file = await writeResults('soak', result);

  const table: Array<[string, string]> = [
    [
      'rows enqueued',
      `${summary.enqueued.toLocaleString('en')} in ${figures.enqueueSeconds.toFixed(0)} s (${figures.enqueueRowsPerSecond}/s)`,
    ],
    [
      'rows processed',
      `${processed.toLocaleString('en')} in ${figures.processSeconds.toFixed(0)} s (${figures.processRowsPerSecond}/s, ${WORKERS} workers × ${CONCURRENCY})${allProcessed ? '' : ' — time budget over, the rest not processed'}`,
    ],
    ['used_memory empty', formatBytes(empty.usedMemory)],
    [
      'used_memory after enqueue',
      `${formatBytes(afterEnqueue.usedMemory)} (peak ${formatBytes(figures.usedMemoryPeak)})`,
    ],
    ['used_memory at end', formatBytes(end.usedMemory)],
    [
      'per pending row',
      `${figures.bytesPerPendingRow} B (slope over the enqueue; item ${perPendingKey.itemPerRow} B + batch row ${perPendingKey.batchRowPerRow} B + backlog line ${perPendingKey.backlogPerRow} B, by MEMORY USAGE)`,
    ],
    [
      'per finished row',
      `${figures.ledgerBytesPerFinishedRow} B: the ledger's cost per row (each finished row changed used_memory by ${figures.bytesPerFinishedRowChange} B; item ${perFinishedKey.itemPerRow} B + batch row ${perFinishedKey.batchRowPerRow} B + attachment owner ${perFinishedKey.ownerPerRow} B)`,
    ],
    [
      'completed jobs kept',
      `${end.completedJobsKept} (finished jobs leave BullMQ at once; the ledger keeps the outcome)`,
    ],
  ];
  if (figures.extrapolated) {
    table.push([
      'EXTRAPOLATED: all rows',
      `${(figures.extrapolated.secondsToProcessAll / 60).toFixed(0)} min to process at the measured rate; used_memory ≈ ${formatBytes(figures.extrapolated.usedMemoryWhenAllFinished)} when all are finished (ledger only)`,
    ]);
  }
  const width = Math.max(...table.map(([k]) => k.length));
  console.log(`\n${table.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n')}\n\nfigures written to ${file}`);
} finally {
  await pool?.stopAll(5_000);
  await uploadQueue.close().catch(() => {});
  observer.disconnect();
  await fake.close();
  await redis.stop();
  await cli.remove();
  await rm(runDir, { recursive: true, force: true });
}
