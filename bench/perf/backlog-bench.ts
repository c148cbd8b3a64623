/**
 * Issue 14's memory and enqueue targets, each beside its baseline, in one run on one private
 * redis-server:
 * - `zoho-attach enqueue` of N link rows: rows/s, peak RSS, Redis bytes per waiting row;
 * - the same rows through a bare BullMQ `addBulk` (the queue's own ceiling and cost);
 * - optionally the same enqueue by another build (`--before-cli`), for a before/after ratio;
 * - finished rows: M rows enqueued and uploaded by one worker against the fake Zoho (latency 0),
 *   then Redis bytes per finished row.
 *
 *   npm run build && node --import tsx bench/perf/backlog-bench.ts [--rows 1000000] [--finished 20000]
 *     [--before-cli /path/to/older/dist/cli/main.js]
 *
 * Redis's `used_memory` is read after each step; the server is flushed between variants (it is
 * the bench's own). Figures go to bench/results/backlog-<time>.json.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { loadConfig } from '../../src/config/config.js';
import { startPrivateRedis } from '../../src/demo/private-redis.js';
import { startFakeZoho } from '../../src/fake-zoho/index.js';
import { uploadJobId } from '../../src/queue/upload-job.js';
import { uploadJobOptions } from '../../src/queue/upload-queue.js';
import { keyNames } from '../../src/shared/key-names.js';
import type { BaselineResult } from '../baselines/spec.js';
import { CLI_PATH, machineInfo, writeResults } from '../bench-support.js';
import { runScript, startNode } from './processes.js';
import { PeakMemory } from './proc.js';
import { zohoAttachEnv } from './world.js';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '1000000' },
    finished: { type: 'string', default: '20000' },
    'before-cli': { type: 'string' },
  },
});
const ROWS = Number(values.rows);
const FINISHED = Number(values.finished);

const redisServer = await startPrivateRedis();
const admin = new Redis(redisServer.url);
const fake = await startFakeZoho({ latencyMs: 0, storeContent: false });
const dir = await mkdtemp(path.join(os.tmpdir(), 'za-backlog-bench-'));
const logDir = dir;

async function usedMemory(): Promise<number> {
  const info = await admin.info('memory');
  return Number(/^used_memory:(\d+)/m.exec(info)?.[1]);
}

/** `module,record_id,link_url,title`: N link rows, written as a stream. */
async function writeLinkManifest(file: string, rows: number, offset = 0): Promise<void> {
  const out = createWriteStream(file);
  out.write('module,record_id,link_url,title\n');
  let buffer = '';
  for (let i = offset; i < offset + rows; i++) {
    buffer += `Accounts,${4_876_876_000_000_000 + i},https://files.example.com/contracts/${i}.pdf,Contract ${i}\n`;
    if (buffer.length > 1 << 20) {
      if (!out.write(buffer)) await once(out, 'drain');
      buffer = '';
    }
  }
  out.end(buffer);
  await once(out, 'finish');
}

function envFor(queueName: string): Record<string, string> {
  return zohoAttachEnv({
    redis: redisServer,
    fake,
    queueName,
    fileRoot: dir,
    concurrency: 10,
    extra: { ZOHO_ATTACH_ALLOW_PRIVATE_URLS: 'true', LOG_LEVEL: 'warn' },
  });
}

interface EnqueueFigures {
  variant: string;
  rows: number;
  seconds: number;
  rowsPerSecond: number;
  peakRssMB: number;
  cpuMsPerRow: number;
  redisBytesPerRow: number;
  /** `MEMORY USAGE` of the first row's keys, and of the batch's hashes and lists per row. */
  sampleKeys?: Record<string, number>;
}

/** Runs `zoho-attach enqueue` (of the build at `cli`) and measures it. */
async function measureEnqueue(variant: string, cli: string, manifest: string, rows: number): Promise<EnqueueFigures> {
  await admin.flushall();
  const before = await usedMemory();
  const started = performance.now();
  const child = startNode(variant, [cli, 'enqueue', manifest, '--batch', 'big', '--skip-source-checks'], {
    env: envFor(`bench-${variant.replace(/\W+/g, '-')}`),
    cwd: dir,
    logFile: path.join(logDir, `${variant.replace(/\W+/g, '-')}.log`),
  });
  const memory = new PeakMemory([child.pid], 50);
  const exit = await child.exited;
  const seconds = (performance.now() - started) / 1000;
  const peakKiB = (await memory.stop()).get(child.pid) ?? NaN;
  if (exit.code !== 0) throw new Error(`${variant} failed (${exit.code ?? exit.signal}); see ${child.logFile}`);
  const keys = keyNames(`bench-${variant.replace(/\W+/g, '-')}`);
  const firstJobId = uploadJobId({
    module: 'Accounts',
    recordId: String(4_876_876_000_000_000),
    target: { kind: 'link', url: 'https://files.example.com/contracts/0.pdf' },
    title: 'Contract 0',
  });
  const usage = async (key: string, perRow = false) =>
    Math.round(((await admin.memory('USAGE', key, 'SAMPLES', '0')) ?? 0) / (perRow ? rows : 1));
  const sampleKeys = {
    ledgerItem: await usage(keys.ledgerItem(firstJobId)),
    bullmqJob: await usage(`${keys.jobPrefix}${firstJobId}`),
    batchRowsPerRow: await usage(keys.batchRows('big'), true),
    backlogPerRow: await usage(keys.batchBacklog('big'), true),
    bullmqWaitListPerRow: await usage(`${keys.jobPrefix}wait`, true),
  };
  return {
    sampleKeys,
    variant,
    rows,
    seconds,
    rowsPerSecond: rows / seconds,
    peakRssMB: (peakKiB * 1024) / 1e6,
    cpuMsPerRow: (memory.lastCpuMs(child.pid) ?? NaN) / rows,
    redisBytesPerRow: ((await usedMemory()) - before) / rows,
  };
}

async function measureBareAddBulk(manifest: string): Promise<EnqueueFigures> {
  await admin.flushall();
  const before = await usedMemory();
  const specFile = path.join(dir, 'bare.json');
  await writeFile(
    specFile,
    JSON.stringify({
      redisUrl: redisServer.url,
      queueName: 'uploads',
      prefix: 'bench-bare',
      manifest,
      // The options zoho-attach gave its jobs before the backlog: completed jobs were kept then.
      jobOptions: uploadJobOptions(loadConfig({}, dir)),
    }),
  );
  const result = await runScript<BaselineResult>('bare-bullmq-enqueue', 'baselines/bare-bullmq-enqueue.ts', {
    specFile,
    logDir,
    timeoutMs: 20 * 60_000,
  });
  const seconds = (result.endedAt - result.startedAt) / 1000;
  return {
    variant: 'bare BullMQ addBulk',
    rows: result.uploads,
    seconds,
    rowsPerSecond: result.uploads / seconds,
    peakRssMB: (result.peakRssKiB * 1024) / 1e6,
    cpuMsPerRow: result.cpuMs / result.uploads,
    redisBytesPerRow: ((await usedMemory()) - before) / result.uploads,
  };
}

/** Enqueues and uploads `rows` link rows with one worker; Redis bytes per finished row. */
async function measureFinished(cli: string, variant: string): Promise<Record<string, number | string>> {
  await admin.flushall();
  const manifest = path.join(dir, `finished.csv`);
  await writeLinkManifest(manifest, FINISHED, 10_000_000);
  const queueName = `bench-finished-${variant.replace(/\W+/g, '-')}`;
  const env = envFor(queueName);
  const before = await usedMemory();
  const enqueue = startNode('finished-enqueue', [cli, 'enqueue', manifest, '--batch', 'done'], {
    env,
    cwd: dir,
    logFile: path.join(logDir, `finished-enqueue-${variant}.log`),
  });
  if ((await enqueue.exited).code !== 0) throw new Error(`enqueue failed; see ${enqueue.logFile}`);
  const started = performance.now();
  const worker = startNode('finished-worker', [cli, 'worker', '--until-idle'], {
    env: { ...env, ZOHO_CONCURRENCY: '20' },
    cwd: dir,
    logFile: path.join(logDir, `finished-worker-${variant}.log`),
  });
  if ((await worker.exited).code !== 0) throw new Error(`worker failed; see ${worker.logFile}`);
  const seconds = (performance.now() - started) / 1000;
  const afterRun = await usedMemory();
  // BullMQ's events stream (capped at about 10,000 entries) is the queue's, not the rows'.
  await admin.del(`${queueName}:uploads:events`);
  const withoutEvents = await usedMemory();
  const completedKept = await admin.zcard(`${queueName}:uploads:completed`);
  return {
    variant,
    rows: FINISHED,
    uploadsPerSecond: FINISHED / seconds,
    bytesPerFinishedRow: (afterRun - before) / FINISHED,
    bytesPerFinishedRowWithoutEvents: (withoutEvents - before) / FINISHED,
    completedJobsKept: completedKept,
  };
}

try {
  const manifest = path.join(dir, 'links.csv');
  await writeLinkManifest(manifest, ROWS);
  console.log(`wrote ${ROWS} link rows`);
  const enqueues: EnqueueFigures[] = [];
  // Each enqueue variant twice, in A B B A order, keeping each one's better run (load drifts).
  const variants: Array<{ name: string; run: () => Promise<EnqueueFigures> }> = [
    { name: 'zoho-attach enqueue', run: () => measureEnqueue('zoho-attach enqueue', CLI_PATH, manifest, ROWS) },
    { name: 'bare BullMQ addBulk', run: () => measureBareAddBulk(manifest) },
  ];
  const beforeCli = values['before-cli'];
  if (beforeCli)
    variants.push({
      name: 'zoho-attach enqueue (before)',
      run: () => measureEnqueue('zoho-attach enqueue (before)', beforeCli, manifest, ROWS),
    });
  const best = new Map<string, EnqueueFigures>();
  for (const variant of [...variants, ...[...variants].reverse()]) {
    const figures = await variant.run();
    console.log(
      `${figures.variant}: ${figures.rowsPerSecond.toFixed(0)} rows/s, ${figures.redisBytesPerRow.toFixed(0)} B/row, RSS ${figures.peakRssMB.toFixed(0)} MB`,
    );
    const kept = best.get(variant.name);
    if (!kept || figures.rowsPerSecond > kept.rowsPerSecond) best.set(variant.name, figures);
  }
  enqueues.push(...best.values());

  const finished = [await measureFinished(CLI_PATH, 'now')];
  if (beforeCli) finished.push(await measureFinished(beforeCli, 'before'));
  for (const f of finished) console.log(JSON.stringify(f));
  for (const f of best.values()) if (f.sampleKeys) console.log(f.variant, JSON.stringify(f.sampleKeys));

  const za = best.get('zoho-attach enqueue') as EnqueueFigures;
  const bare = best.get('bare BullMQ addBulk') as EnqueueFigures;
  console.log('\n| variant | rows/s | × bare addBulk | Redis B/waiting row | peak RSS MB | CPU µs/row |');
  console.log('|---|---|---|---|---|---|');
  for (const f of enqueues)
    console.log(
      `| ${f.variant} | ${f.rowsPerSecond.toFixed(0)} | ${(f.rowsPerSecond / bare.rowsPerSecond).toFixed(2)} | ${f.redisBytesPerRow.toFixed(0)} | ${f.peakRssMB.toFixed(0)} | ${(f.cpuMsPerRow * 1000).toFixed(1)} |`,
    );
  console.log(
    '\n| finished rows | rows | uploads/s | Redis B/finished row | without the events stream | completed jobs kept |',
  );
  console.log('|---|---|---|---|---|---|');
  for (const f of finished)
    console.log(
      `| ${f.variant} | ${f.rows} | ${Number(f.uploadsPerSecond).toFixed(0)} | ${Number(f.bytesPerFinishedRow).toFixed(0)} | ${Number(f.bytesPerFinishedRowWithoutEvents).toFixed(0)} | ${f.completedJobsKept} |`,
    );
  console.log('\n| target | measured | met |');
  console.log('|---|---|---|');
  console.log(
    `| enqueue ≥ 50,000 rows/s (floor 20,000) | ${za.rowsPerSecond.toFixed(0)} | ${za.rowsPerSecond >= 50_000 ? 'yes' : za.rowsPerSecond >= 20_000 ? 'floor only' : 'no'} |`,
  );
  console.log(
    `| ≤ 200 B per waiting row (floor 300) | ${za.redisBytesPerRow.toFixed(0)} | ${za.redisBytesPerRow <= 200 ? 'yes' : za.redisBytesPerRow <= 300 ? 'floor only' : 'no'} |`,
  );
  console.log(`| enqueue RSS ≤ 150 MB | ${za.peakRssMB.toFixed(0)} | ${za.peakRssMB <= 150 ? 'yes' : 'no'} |`);
  const now = finished[0] as { bytesPerFinishedRowWithoutEvents: number };
  console.log(
    `| ≤ 200 B per finished row (floor 300) | ${Number(now.bytesPerFinishedRowWithoutEvents).toFixed(0)} | ${now.bytesPerFinishedRowWithoutEvents <= 200 ? 'yes' : now.bytesPerFinishedRowWithoutEvents <= 300 ? 'floor only' : 'no'} |`,
  );
  const file = await writeResults('backlog', { machine: machineInfo(), rows: ROWS, enqueues, finished });
  console.log(`\nfigures: ${file}`);
} finally {
  admin.disconnect();
  await fake.close();
  await redisServer.stop();
  await rm(dir, { recursive: true, force: true });
}
