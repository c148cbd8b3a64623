/**
 * The things every scenario stands on: a private Redis, the fake Zoho, files and manifests
 * in a scratch folder, and the figures a run of one variant produces.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { startPrivateRedis } from '../../src/demo/private-redis.js';
import { FAKE_CREDENTIALS, startFakeZoho, type FakeZoho } from '../../src/fake-zoho/index.js';
import type { BaselineUpload, BaselineZoho } from '../baselines/spec.js';

/** The Redis a benchmark uses: a private redis-server, so nothing else disturbs (or is disturbed by) the figures. */
export interface BenchRedis {
  url: string;
  /** A connection for INFO, FLUSHALL and the like. */
  client: Redis;
  /** The redis-server's pid (for its CPU time). */
  pid: number;
  /** Removes everything (a private server holds only benchmark keys). */
  flush(): Promise<void>;
  /** Bytes Redis has allocated (`INFO memory` used_memory). */
  usedMemory(): Promise<number>;
  /** Commands Redis has run so far, by name (`INFO commandstats`). */
  commandCounts(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

/** Starts a private redis-server (no persistence, `noeviction`). */
export async function startBenchRedis(): Promise<BenchRedis> {
  const server = await startPrivateRedis();
  const client = new Redis(server.url, { maxRetriesPerRequest: 3 });
  const info = await client.info('server');
  const pid = Number(/process_id:(\d+)/.exec(info)?.[1]);
  return {
    url: server.url,
    client,
    pid,
    async flush() {
      await client.flushall();
    },
    async usedMemory() {
      const memory = await client.info('memory');
      return Number(/used_memory:(\d+)/.exec(memory)?.[1]);
    },
    async commandCounts() {
      const stats = await client.info('commandstats');
      return Object.fromEntries(
        [...stats.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)].map((m) => [m[1] as string, Number(m[2])]),
      );
    },
    async stop() {
      client.disconnect();
      await server.stop();
    },
  };
}

/** A scratch folder for one scenario (files, manifests, spec files, logs), removed by `remove()`. */
export interface Scratch {
  dir: string;
  logDir: string;
  remove(): Promise<void>;
}

/** Makes a scratch folder. */
export async function makeScratch(name: string): Promise<Scratch> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `zoho-attach-bench-${name}-`));
  const logDir = path.join(dir, 'logs');
  await mkdir(logDir);
  // `npm run bench -- --keep`: scratch folders (and the worker logs in them) are left for a look.
  const keep = process.env.BENCH_KEEP_SCRATCH === '1';
  return {
    dir,
    logDir,
    remove: async () => (keep ? console.log(`kept ${dir}`) : rm(dir, { recursive: true, force: true })),
  };
}

/** A record id for row `i`: 19 digits, unique per row. */
export function recordIdFor(i: number): string {
  return `41508680${String(i).padStart(11, '0')}`;
}

/** Writes `count` files of `size` random bytes under `dir/files` and returns them as uploads. */
export async function makeSmallFiles(dir: string, count: number, size: number): Promise<BaselineUpload[]> {
  const folder = path.join(dir, 'files');
  await mkdir(folder, { recursive: true });
  const uploads: BaselineUpload[] = [];
  for (let i = 0; i < count; i++) {
    const fileName = `doc-${String(i).padStart(7, '0')}.txt`;
    const file = path.join(folder, fileName);
    await writeFile(file, randomBytes(size));
    uploads.push({ module: 'Accounts', recordId: recordIdFor(i), path: file, size, fileName });
  }
  return uploads;
}

/** Creates `count` sparse files of `size` bytes (no disk blocks: they read as zeros) under `dir/large`. */
export async function makeSparseFiles(dir: string, count: number, size: number): Promise<BaselineUpload[]> {
  const folder = path.join(dir, 'large');
  await mkdir(folder, { recursive: true });
  const uploads: BaselineUpload[] = [];
  for (let i = 0; i < count; i++) {
    const fileName = `large-${String(i).padStart(3, '0')}.bin`;
    const file = path.join(folder, fileName);
    const handle = await open(file, 'w');
    await handle.truncate(size);
    await handle.close();
    uploads.push({ module: 'Accounts', recordId: recordIdFor(i), path: file, size, fileName });
  }
  return uploads;
}

/** Writes a CSV manifest (`module,record_id,file`) for the uploads: their path, or their URL. */
export async function writeManifest(file: string, uploads: BaselineUpload[]): Promise<void> {
  const out = createWriteStream(file);
  const write = async (line: string) => {
    if (!out.write(line)) await once(out, 'drain');
  };
  await write('module,record_id,file\n');
  for (const u of uploads) await write(`${u.module},${u.recordId},${u.url ?? u.path}\n`);
  out.end();
  await once(out, 'finish');
}

/** Starts a fake Zoho that keeps no uploaded bytes (only counts and hashes them). */
export function startBenchFake(options: { concurrencyLimit?: number; latencyMs: number }): Promise<FakeZoho> {
  return startFakeZoho({
    latencyMs: options.latencyMs,
    ...(options.concurrencyLimit === undefined ? {} : { concurrencyLimit: options.concurrencyLimit }),
    storeContent: false,
  });
}

/** The fake's address and a fixed access token, for baselines. */
export function baselineZoho(fake: FakeZoho): BaselineZoho {
  return { apiDomain: fake.url, accessToken: fake.issueAccessToken({ ttlSeconds: 24 * 3600 }) };
}

/** The environment of `zoho-attach` processes pointed at the fake and the bench Redis. */
export function zohoAttachEnv(options: {
  redis: Pick<BenchRedis, 'url'>;
  fake: FakeZoho;
  queueName: string;
  fileRoot: string;
  concurrency: number;
  extra?: Record<string, string>;
}): Record<string, string> {
  return {
    REDIS_URL: options.redis.url,
    ZOHO_ACCOUNTS_URL: options.fake.url,
    ZOHO_API_DOMAIN: options.fake.url,
    ZOHO_CLIENT_ID: FAKE_CREDENTIALS.clientId,
    ZOHO_CLIENT_SECRET: FAKE_CREDENTIALS.clientSecret,
    ZOHO_REFRESH_TOKEN: FAKE_CREDENTIALS.refreshToken,
    ZOHO_ATTACH_QUEUE: options.queueName,
    ZOHO_ATTACH_FILE_ROOTS: options.fileRoot,
    ZOHO_CONCURRENCY: String(options.concurrency),
    LOG_LEVEL: 'info',
    ...options.extra,
    // `npm run bench -- --env NAME=VALUE`: for experiments (e.g. LOG_LEVEL=warn).
    ...(process.env.BENCH_ZOHO_ATTACH_ENV
      ? (JSON.parse(process.env.BENCH_ZOHO_ATTACH_ENV) as Record<string, string>)
      : {}),
  };
}

/** What the fake saw during one variant's run. */
export interface FakeFigures {
  /** Upload calls that reached the fake. */
  calls: number;
  /** Answered 200. */
  succeeded: number;
  /** Answered 429. */
  rateLimited: number;
  /** Most calls in flight at once. */
  peakInFlight: number;
}

/** Reads the fake's counters (call `fake.reset()` before the variant). */
export function fakeFigures(fake: FakeZoho): FakeFigures {
  const snapshot = fake.inspect();
  return {
    calls: snapshot.calls.upload,
    succeeded: snapshot.counters['200 SUCCESS'] ?? 0,
    rateLimited: snapshot.counters['429 TOO_MANY_REQUESTS'] ?? 0,
    peakInFlight: snapshot.peakInFlight,
  };
}

/** One variant's measured figures. */
export interface VariantFigures {
  variant: string;
  /** Uploads that succeeded (rows enqueued, for the enqueue scenario). */
  uploads: number;
  seconds: number;
  /** uploads (or rows) per second. */
  rate: number;
  /** Megabytes (10^6 bytes) of files per second, when files were large. */
  mbPerSec?: number;
  /** CPU of the uploading (or enqueueing) processes per upload, ms. */
  cpuMsPerUpload?: number;
  /** CPU of redis-server per upload, ms. */
  redisCpuMsPerUpload?: number;
  /** Peak resident memory of the busiest uploading (or enqueueing) process, MB (10^6 bytes). */
  peakRssMB?: number;
  /** What the fake saw (not for the enqueue scenario). */
  fake?: FakeFigures;
  /** Anything else worth keeping in the JSON. */
  extra?: Record<string, unknown>;
}

/** A goal and whether it was met. */
export interface GoalCheck {
  goal: string;
  measured: string;
  met: boolean;
}

/** One scenario's outcome. */
export interface ScenarioResult {
  id: string;
  title: string;
  parameters: Record<string, unknown>;
  variants: VariantFigures[];
  goals: GoalCheck[];
  extra?: Record<string, unknown>;
}
