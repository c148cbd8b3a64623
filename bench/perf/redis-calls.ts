/**
 * Redis commands per upload: zoho-attach's worker against a bare BullMQ worker doing the same
 * POSTs, on one private redis-server whose `INFO commandstats` is reset before each run. The
 * per-command table shows where the extra calls go (issue 14, "less work per upload").
 *
 *   node --import tsx bench/perf/redis-calls.ts [--rows N]      # default 300 files of 1 KiB
 *
 * Both run one worker process with 10 in flight against the fake Zoho at 20 ms latency.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { startPrivateRedis } from '../../src/demo/private-redis.js';
import { FAKE_CREDENTIALS, startFakeZoho } from '../../src/fake-zoho/index.js';
import { postAttachment } from '../baselines/zoho-post.js';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '300' } } });
const ROWS = Number(values.rows);
const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

const redisServer = await startPrivateRedis();
const fake = await startFakeZoho({ latencyMs: 20, concurrencyLimit: 10 });
const dir = await mkdtemp(path.join(os.tmpdir(), 'za-redis-calls-'));
const admin = new Redis(redisServer.url);

/** Calls per command since the last reset. */
async function commandStats(): Promise<Map<string, number>> {
  const stats = new Map<string, number>();
  for (const line of (await admin.info('commandstats')).split('\r\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line);
    if (match) stats.set(match[1] as string, Number(match[2]));
  }
  return stats;
}

function run(args: string[], env: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      cwd: dir,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    child.once('error', reject);
    child.once('exit', (code) => resolve(code ?? 1));
  });
}

try {
  const lines = ['module,record_id,file'];
  for (let i = 1; i <= ROWS; i++) {
    await writeFile(path.join(dir, `f${i}.txt`), 'x'.repeat(1024));
    lines.push(`Leads,${i},f${i}.txt`);
  }
  await writeFile(path.join(dir, 'm.csv'), lines.join('\n'));

  // zoho-attach: enqueue, then count only what the worker does.
  const env = {
    REDIS_URL: redisServer.url,
    ZOHO_ACCOUNTS_URL: fake.url,
    ZOHO_API_DOMAIN: fake.url,
    ZOHO_CLIENT_ID: FAKE_CREDENTIALS.clientId,
    ZOHO_CLIENT_SECRET: FAKE_CREDENTIALS.clientSecret,
    ZOHO_REFRESH_TOKEN: FAKE_CREDENTIALS.refreshToken,
    ZOHO_ATTACH_QUEUE: 'calls',
    ZOHO_ATTACH_FILE_ROOTS: dir,
    ZOHO_CONCURRENCY: '10',
    LOG_LEVEL: 'warn',
  };
  if ((await run(['enqueue', 'm.csv', '--batch', 'calls'], env)) !== 0) throw new Error('enqueue failed');
  await admin.config('RESETSTAT');
  if ((await run(['worker', '--until-idle'], env)) !== 0) throw new Error('worker failed');
  const zohoAttach = await commandStats();

  // A bare BullMQ worker: the same POSTs, no ledger.
  const token = fake.issueAccessToken({});
  const connection = new Redis(redisServer.url, { maxRetriesPerRequest: null });
  const queue = new Queue('bare', { connection, prefix: 'bare' });
  await queue.addBulk(
    Array.from({ length: ROWS }, (_, i) => ({
      name: 'upload',
      data: {
        module: 'Leads',
        recordId: String(100_000 + i),
        path: path.join(dir, `f${i + 1}.txt`),
        fileName: `f${i + 1}.txt`,
        size: 1024,
      },
      opts: { removeOnComplete: true },
    })),
  );
  await admin.config('RESETSTAT');
  let done = 0;
  const workerConnection = new Redis(redisServer.url, { maxRetriesPerRequest: null });
  const allDone = new Promise<void>((resolve) => {
    const worker = new Worker(
      'bare',
      async (job) => {
        await postAttachment({ apiDomain: fake.url, accessToken: token }, job.data);
      },
      { connection: workerConnection, prefix: 'bare', concurrency: 10 },
    );
    worker.on('completed', () => {
      if (++done === ROWS) void worker.close().then(resolve);
    });
  });
  await allDone;
  const bare = await commandStats();
  await queue.close();
  connection.disconnect();
  workerConnection.disconnect();

  const total = (stats: Map<string, number>) => [...stats.values()].reduce((a, b) => a + b, 0);
  const names = [...new Set([...zohoAttach.keys(), ...bare.keys()])].sort(
    (a, b) => (zohoAttach.get(b) ?? 0) - (zohoAttach.get(a) ?? 0),
  );
  console.log(
    `Redis commands per upload, ${ROWS} uploads of 1 KiB each, one worker, 10 in flight, fake Zoho at 20 ms:`,
  );
  console.log('| command | zoho-attach | bare BullMQ |');
  console.log('| --- | --- | --- |');
  for (const name of names)
    console.log(
      `| ${name} | ${((zohoAttach.get(name) ?? 0) / ROWS).toFixed(2)} | ${((bare.get(name) ?? 0) / ROWS).toFixed(2)} |`,
    );
  console.log(`| **all** | **${(total(zohoAttach) / ROWS).toFixed(2)}** | **${(total(bare) / ROWS).toFixed(2)}** |`);
  console.log(
    `ratio: ${(total(zohoAttach) / total(bare)).toFixed(2)}× the bare worker's commands; ${fake.inspect().attachments.length} attachments stored (${ROWS} by each)`,
  );
} finally {
  admin.disconnect();
  await fake.close();
  await redisServer.stop();
  await rm(dir, { recursive: true, force: true });
}
