/**
 * The backlog's measurements (issue 14, items 1 and 2), shared by `npm run bench:backlog` and
 * `npm run bench:scale`: `zoho-attach enqueue` of N link rows and the same rows through a bare
 * BullMQ `addBulk` (rows/s, peak RSS, Redis bytes per waiting row), and M rows enqueued and
 * uploaded (Redis bytes per finished row). Every measurement flushes the bench's private Redis
 * first: it holds nothing else.
 */
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Redis } from 'ioredis';
import { loadConfig } from '../../src/config/config.js';
import type { FakeZoho } from '../../src/fake-zoho/index.js';
import { uploadJobOptions } from '../../src/queue/upload-queue.js';
import { keyNames } from '../../src/shared/key-names.js';
import type { BaselineResult } from '../baselines/spec.js';
import { runScript, startNode } from './processes.js';
import { PeakMemory } from './proc.js';
import { makeScratch, startBenchFake, zohoAttachEnv, type BenchRedis, type Scratch } from './world.js';

/** A goal of issue 14: the target, and the floor below which it is not met at all. */
export interface Goal {
  target: number;
  floor?: number;
  /** Whether a higher or a lower figure is the better one. */
  better: 'higher' | 'lower';
}

/** Issue 14's targets for the backlog. */
export const BACKLOG_GOALS = {
  enqueueRowsPerSecond: { target: 50_000, floor: 20_000, better: 'higher' },
  bytesPerWaitingRow: { target: 200, floor: 300, better: 'lower' },
  enqueuePeakRssMB: { target: 150, better: 'lower' },
  bytesPerFinishedRow: { target: 200, floor: 300, better: 'lower' },
} as const satisfies Record<string, Goal>;

/** `yes` when `value` meets the goal's target, `floor only` when it meets only its floor, else `no`. */
export function verdict(value: number, goal: Goal): 'yes' | 'floor only' | 'no' {
  const meets = (line: number) => (goal.better === 'higher' ? value >= line : value <= line);
  if (meets(goal.target)) return 'yes';
  return goal.floor !== undefined && meets(goal.floor) ? 'floor only' : 'no';
}

/**
 * Finished rows measured by default: as many as the enqueue's rows. The ledger packs items and
 * owners many to a hash, in buckets sized for millions of rows; a few thousand rows would leave
 * nearly every bucket holding one row, which then pays for a Redis key alone.
 */
export const DEFAULT_FINISHED_ROWS = { full: 1_000_000, quick: 100_000 } as const;

/** What the measurements run against: the bench's Redis, a fake Zoho (latency 0) and a scratch folder. */
export interface BacklogWorld {
  redis: BenchRedis;
  fake: FakeZoho;
  scratch: Scratch;
  close(): Promise<void>;
}

/** Starts the fake Zoho and makes the scratch folder; `close()` removes both (not `redis`). */
export async function openBacklogWorld(redis: BenchRedis): Promise<BacklogWorld> {
  const fake = await startBenchFake({ latencyMs: 0 });
  const scratch = await makeScratch('backlog');
  return {
    redis,
    fake,
    scratch,
    async close() {
      await fake.close();
      await scratch.remove();
    },
  };
}

/**
 * `module,record_id,file,title`: N file rows, written as a stream, each naming the same 1 KiB file
 * beside the manifest (a file row's ledger item also holds the upload's sha256 and size).
 */
export async function writeFileManifest(file: string, rows: number, offset = 0): Promise<void> {
  await writeFile(path.join(path.dirname(file), 'contract-signed.pdf'), Buffer.alloc(1024, 'x'));
  await writeManifestLines(file, 'module,record_id,file,title', rows, offset, (i) => {
    return `Accounts,${4_876_876_000_000_000 + i},contract-signed.pdf,Contract ${i}`;
  });
}

/** `module,record_id,link_url,title`: N link rows, written as a stream. */
export async function writeLinkManifest(file: string, rows: number, offset = 0): Promise<void> {
  await writeManifestLines(file, 'module,record_id,link_url,title', rows, offset, (i) => {
    return `Accounts,${4_876_876_000_000_000 + i},https://files.example.com/contracts/${i}.pdf,Contract ${i}`;
  });
}

/** Writes `header` and the lines `lineOf(offset)` … `lineOf(offset + rows - 1)`, a MB at a time. */
async function writeManifestLines(
  file: string,
  header: string,
  rows: number,
  offset: number,
  lineOf: (i: number) => string,
): Promise<void> {
  const out = createWriteStream(file);
  out.write(`${header}\n`);
  let buffer = '';
  for (let i = offset; i < offset + rows; i++) {
    buffer += `${lineOf(i)}\n`;
    if (buffer.length > 1 << 20) {
      if (!out.write(buffer)) await once(out, 'drain');
      buffer = '';
    }
  }
  out.end(buffer);
  await once(out, 'finish');
}

function envFor(world: BacklogWorld, queueName: string): Record<string, string> {
  return zohoAttachEnv({
    redis: world.redis,
    fake: world.fake,
    queueName,
    fileRoot: world.scratch.dir,
    concurrency: 10,
    extra: { ZOHO_ATTACH_ALLOW_PRIVATE_URLS: 'true', LOG_LEVEL: 'warn' },
  });
}

/** One enqueue variant's figures. */
export interface EnqueueFigures {
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

/** `MEMORY USAGE` summed over up to `limit` keys matching `pattern`, with how many entries they hold. */
async function usageOf(
  admin: Redis,
  pattern: string,
  limit = 300,
): Promise<{ keys: number; bytes: number; entries: number }> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    found.push(...keys);
  } while (cursor !== '0' && found.length < limit);
  let bytes = 0;
  let entries = 0;
  for (const key of found.slice(0, limit)) {
    bytes += (await admin.memory('USAGE', key, 'SAMPLES', '0')) ?? 0;
    entries += (await admin.type(key)) === 'hash' ? await admin.hlen(key) : 1;
  }
  return { keys: Math.min(found.length, limit), bytes, entries };
}

/**
 * Where a row's bytes go, by `MEMORY USAGE` of samples of each kind of key: an item (in its
 * bucket, or a key of its own in builds before the packed store), a batch row, a backlog line,
 * an attachment's owner entry. Either ledger layout; 0 where a kind has no key.
 */
export async function sampleLayout(
  admin: Redis,
  queueName: string,
  batch: string,
  rows: number,
): Promise<Record<string, number>> {
  const keys = keyNames(queueName);
  const perEntry = ({ bytes, entries }: { bytes: number; entries: number }) =>
    entries === 0 ? 0 : Math.round(bytes / entries);
  const items = await usageOf(admin, `${queueName}:ledger:items:*`);
  // A key per item: its bytes per key, not per field.
  const legacyItems = await usageOf(admin, `${queueName}:ledger:item:*`);
  legacyItems.entries = legacyItems.keys;
  const owners = await usageOf(admin, `${keys.attachmentOwners}:*`);
  const legacyOwners = await usageOf(admin, keys.attachmentOwners, 1);
  const pages = await usageOf(admin, `${keys.batchRows(batch)}:*`, 1_000_000);
  const legacyRows = await usageOf(admin, keys.batchRows(batch), 1);
  const backlog = (await admin.memory('USAGE', keys.batchBacklog(batch), 'SAMPLES', '0')) ?? 0;
  return {
    itemPerRow: perEntry(items) || perEntry(legacyItems),
    itemsPerBucket: items.keys === 0 ? 0 : Math.round(items.entries / items.keys),
    batchRowPerRow: Math.round((pages.bytes + legacyRows.bytes) / rows),
    backlogPerRow: Math.round(backlog / rows),
    ownerPerRow: perEntry(owners) || perEntry(legacyOwners),
  };
}

/** Runs `zoho-attach enqueue` (of the build at `cli`) of `manifest`'s link rows and measures it. */
export async function measureEnqueue(
  world: BacklogWorld,
  variant: string,
  cli: string,
  manifest: string,
  rows: number,
): Promise<EnqueueFigures> {
  const admin: Redis = world.redis.client;
  await world.redis.flush();
  const before = await world.redis.usedMemory();
  const started = performance.now();
  const child = startNode(variant, [cli, 'enqueue', manifest, '--batch', 'big', '--skip-source-checks'], {
    env: envFor(world, `bench-${variant.replace(/\W+/g, '-')}`),
    cwd: world.scratch.dir,
    logFile: path.join(world.scratch.logDir, `${variant.replace(/\W+/g, '-')}.log`),
  });
  const memory = new PeakMemory([child.pid], 50);
  const exit = await child.exited;
  const seconds = (performance.now() - started) / 1000;
  const peakKiB = (await memory.stop()).get(child.pid) ?? NaN;
  if (exit.code !== 0) throw new Error(`${variant} failed (${exit.code ?? exit.signal}); see ${child.logFile}`);
  const sampleKeys = await sampleLayout(admin, `bench-${variant.replace(/\W+/g, '-')}`, 'big', rows);
  return {
    sampleKeys,
    variant,
    rows,
    seconds,
    rowsPerSecond: rows / seconds,
    peakRssMB: (peakKiB * 1024) / 1e6,
    cpuMsPerRow: (memory.lastCpuMs(child.pid) ?? NaN) / rows,
    redisBytesPerRow: ((await world.redis.usedMemory()) - before) / rows,
  };
}

/** The name {@link measureBareAddBulk}'s figures carry. */
export const BARE_ADD_BULK = 'bare BullMQ addBulk';

/** The same rows through a bare BullMQ `addBulk` (bench/baselines/bare-bullmq-enqueue.ts): the queue's own ceiling and cost. */
export async function measureBareAddBulk(world: BacklogWorld, manifest: string): Promise<EnqueueFigures> {
  await world.redis.flush();
  const before = await world.redis.usedMemory();
  const specFile = path.join(world.scratch.dir, 'bare.json');
  await writeFile(
    specFile,
    JSON.stringify({
      redisUrl: world.redis.url,
      queueName: 'uploads',
      prefix: 'bench-bare',
      manifest,
      // The options zoho-attach gave its jobs before the backlog: completed jobs were kept then.
      jobOptions: uploadJobOptions(loadConfig({}, world.scratch.dir)),
    }),
  );
  const result = await runScript<BaselineResult>('bare-bullmq-enqueue', 'baselines/bare-bullmq-enqueue.ts', {
    specFile,
    logDir: world.scratch.logDir,
    timeoutMs: 20 * 60_000,
  });
  const seconds = (result.endedAt - result.startedAt) / 1000;
  return {
    variant: BARE_ADD_BULK,
    rows: result.uploads,
    seconds,
    rowsPerSecond: result.uploads / seconds,
    peakRssMB: (result.peakRssKiB * 1024) / 1e6,
    cpuMsPerRow: result.cpuMs / result.uploads,
    redisBytesPerRow: ((await world.redis.usedMemory()) - before) / result.uploads,
  };
}

/** An enqueue variant: its name, and one measured run of it. */
export interface EnqueueVariant {
  name: string;
  run: () => Promise<EnqueueFigures>;
}

/**
 * Runs every variant twice, in A B … B A order, and keeps each one's faster run: load drifts
 * during a run, and would otherwise favour whichever ran first.
 * @returns the kept figures by variant name, in the variants' order
 */
export async function bestOfTwo(
  variants: EnqueueVariant[],
  log: (line: string) => void,
): Promise<Map<string, EnqueueFigures>> {
  const best = new Map<string, EnqueueFigures>();
  for (const variant of [...variants, ...[...variants].reverse()]) {
    const figures = await variant.run();
    log(
      `${figures.variant}: ${figures.rowsPerSecond.toFixed(0)} rows/s, ${figures.redisBytesPerRow.toFixed(0)} B/row, RSS ${figures.peakRssMB.toFixed(0)} MB`,
    );
    const kept = best.get(variant.name);
    if (!kept || figures.rowsPerSecond > kept.rowsPerSecond) best.set(variant.name, figures);
  }
  return best;
}

/** Redis memory per finished row. */
export interface FinishedFigures {
  variant: string;
  rows: number;
  uploadsPerSecond: number;
  bytesPerFinishedRow: number;
  /** Without BullMQ's events stream (capped at about 10,000 entries: the queue's, not the rows'). */
  bytesPerFinishedRowWithoutEvents: number;
  completedJobsKept: number;
  /** Where a finished row's bytes go (see {@link sampleLayout}). */
  sampleKeys: Record<string, number>;
}

/**
 * Enqueues `rows` link rows (or file rows, each naming the same 1 KiB file) and uploads them with
 * one worker (of the build at `cli`); Redis bytes per finished row.
 */
export async function measureFinished(
  world: BacklogWorld,
  cli: string,
  variant: string,
  rows: number,
  kind: 'link' | 'file' = 'link',
): Promise<FinishedFigures> {
  const { redis, scratch } = world;
  await redis.flush();
  const manifest = path.join(scratch.dir, `finished.csv`);
  if (kind === 'link') await writeLinkManifest(manifest, rows, 10_000_000);
  else await writeFileManifest(manifest, rows, 10_000_000);
  const queueName = `bench-finished-${variant.replace(/\W+/g, '-')}`;
  const env = envFor(world, queueName);
  const before = await redis.usedMemory();
  const enqueue = startNode('finished-enqueue', [cli, 'enqueue', manifest, '--batch', 'done'], {
    env,
    cwd: scratch.dir,
    logFile: path.join(scratch.logDir, `finished-enqueue-${variant}.log`),
  });
  if ((await enqueue.exited).code !== 0) throw new Error(`enqueue failed; see ${enqueue.logFile}`);
  const started = performance.now();
  const worker = startNode('finished-worker', [cli, 'worker', '--until-idle'], {
    env: { ...env, ZOHO_CONCURRENCY: '20' },
    cwd: scratch.dir,
    logFile: path.join(scratch.logDir, `finished-worker-${variant}.log`),
  });
  if ((await worker.exited).code !== 0) throw new Error(`worker failed; see ${worker.logFile}`);
  const seconds = (performance.now() - started) / 1000;
  const afterRun = await redis.usedMemory();
  // BullMQ's events stream (capped at about 10,000 entries) is the queue's, not the rows'.
  await redis.client.del(`${queueName}:uploads:events`);
  const withoutEvents = await redis.usedMemory();
  return {
    variant,
    rows,
    uploadsPerSecond: rows / seconds,
    bytesPerFinishedRow: (afterRun - before) / rows,
    bytesPerFinishedRowWithoutEvents: (withoutEvents - before) / rows,
    completedJobsKept: await redis.client.zcard(`${queueName}:uploads:completed`),
    sampleKeys: await sampleLayout(redis.client, queueName, 'done', rows),
  };
}
