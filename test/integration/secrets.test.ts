/**
 * Secrets never leave the process that needs them. One run of the whole pipeline, with every
 * log level on and under faults (500s from the API and the token endpoint, an accounts server
 * that repeats the request back, a refused refresh, a wrong Redis password), then every
 * command an operator runs and every page of the dashboard; afterwards the OAuth client
 * secret, the refresh token, every access token and the Redis password appear in no log
 * line, output, report or export file, Redis key or value, nor in BullMQ's job data.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { request } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { startPrivateRedis, type PrivateRedis } from '../../src/demo/private-redis.js';
import { DASHBOARD_PATHS } from '../../src/dashboard/paths.js';
import { keyNames } from '../../src/shared/key-names.js';
import { startEchoAccounts, type EchoAccounts } from '../helpers/echo-accounts.js';
import {
  createPipelineWorld,
  runCli,
  spawnCli,
  collect,
  type CliResult,
  type PipelineWorld,
} from '../helpers/pipeline.js';
import { testRedis } from '../helpers/redis.js';

const CLIENT = {
  clientId: 'grep-client-id',
  clientSecret: 'grep-client-secret-9f8e7d6c5b4a',
  refreshToken: '1000.grepRefreshToken0123456789abcdef.fedcba9876543210',
};
const REDIS_PASSWORD = 'grep-redis-password-5a4b3c2d1e';
const WRONG_REDIS_PASSWORD = 'grep-wrong-redis-password-6f7e8d';
const WRONG_CLIENT_SECRET = 'grep-wrong-client-secret-1a2b3c';
/** How the fake mints access tokens (like Zoho): any of them in an output is a leak. */
const ACCESS_TOKEN_SHAPE = /1000\.[0-9a-f]{32}\.[0-9a-f]{32}/;

let world: PipelineWorld | undefined;
let privateRedis: PrivateRedis | undefined;
let echo: EchoAccounts | undefined;
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await world?.cleanup();
  world = undefined;
  await echo?.close();
  echo = undefined;
  await privateRedis?.stop();
  privateRedis = undefined;
});

/** Every key and value in `redis` whose key contains `queueName`, as `key → value` lines. */
async function dumpKeys(redis: Redis, queueName: string): Promise<Map<string, string>> {
  const dump = new Map<string, string>();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `*${queueName}*`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const type = await redis.type(key);
      if (type === 'string') dump.set(key, (await redis.get(key)) ?? '');
      else if (type === 'hash') dump.set(key, JSON.stringify(await redis.hgetall(key)));
      else if (type === 'list') dump.set(key, JSON.stringify(await redis.lrange(key, 0, -1)));
      else if (type === 'set') dump.set(key, JSON.stringify(await redis.smembers(key)));
      else if (type === 'zset') dump.set(key, JSON.stringify(await redis.zrange(key, 0, -1)));
      else if (type === 'stream') dump.set(key, JSON.stringify(await redis.xrange(key, '-', '+')));
    }
  } while (cursor !== '0');
  return dump;
}

/** Every Redis key and value of the run, as text; without the one key that holds the access token on purpose. */
async function dumpQueueKeys(redis: Redis, queueName: string): Promise<string> {
  const dump = await dumpKeys(redis, queueName);
  return [...dump]
    .filter(([key]) => !key.includes(':oauth:'))
    .flat()
    .join('\n');
}

function expectNoSecret(haystack: string, secrets: Array<string | RegExp>, where: string) {
  for (const secret of secrets) {
    const found = typeof secret === 'string' ? haystack.includes(secret) : secret.test(haystack);
    expect(found, `${where} contains the secret ${String(secret)}`).toBe(false);
  }
}

/** Every file under `dir` (reports, exports and anything else a command wrote), as text. */
async function readAllFiles(dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) files.push(`${entry.name}: ${await readFile(path.join(entry.parentPath, entry.name), 'utf8')}`);
  }
  return files;
}

describe('secrets', () => {
  it(
    'appear in no log, output, report, export, Redis key or job data after a whole run under faults',
    { timeout: 180_000 },
    async () => {
      privateRedis = await startPrivateRedis();
      const admin = new Redis(privateRedis.url, { maxRetriesPerRequest: null });
      await admin.config('SET', 'requirepass', REDIS_PASSWORD);
      await admin.auth(REDIS_PASSWORD);
      const redisUrl = `redis://:${REDIS_PASSWORD}@127.0.0.1:${privateRedis.port}`;
      echo = await startEchoAccounts('error');
      world = await createPipelineWorld({
        fake: { clients: [{ ...CLIENT }], latencyMs: 10 },
        env: {
          REDIS_URL: redisUrl,
          ZOHO_CLIENT_ID: CLIENT.clientId,
          ZOHO_CLIENT_SECRET: CLIENT.clientSecret,
          ZOHO_REFRESH_TOKEN: CLIENT.refreshToken,
          LOG_LEVEL: 'trace',
        },
      });
      const w = world;
      const keys = keyNames(w.queueName);
      const outputs: string[] = [];
      const run = async (
        args: string[],
        env: Record<string, string> = {},
        expectedCode: number | undefined = 0,
      ): Promise<CliResult> => {
        const out = await runCli(args, { ...w.env, ...env }, w.dir);
        outputs.push(`$ ${args.join(' ')}\n${out.stdout}${out.stderr}`);
        if (expectedCode !== undefined) expect(out.code, `${args.join(' ')}: ${out.stderr}`).toBe(expectedCode);
        return out;
      };
      const start = (args: string[], env: Record<string, string> = {}) => {
        const child = spawnCli(args, { ...w.env, ...env }, w.dir);
        children.push(child);
        let output = '';
        child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
        child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
        const finished = collect(child, 120_000).then((result) => {
          outputs.push(`$ ${args.join(' ')}\n${result.stdout}${result.stderr}`);
          return result;
        });
        return { child, output: () => output, finished };
      };
      const pauseCode = async () => {
        const raw = await admin.get(keys.pauseReason);
        return raw === null ? undefined : (JSON.parse(raw) as { code: string }).code;
      };

      const lines = ['module,record_id,file,title'];
      for (let i = 1; i <= 20; i++) {
        await w.writeFile(`f${i}.txt`, `file ${i}`);
        lines.push(`Leads,${i},f${i}.txt,Document ${i}`);
      }
      lines.push('Widgets,99,f1.txt,Widget');
      const manifest = await w.writeFile('m.csv', lines.join('\n'));
      await run(['enqueue', manifest, '--batch', 'secrets']);

      // The dashboard runs through the whole test, and its pages are read at each stage.
      const dashboard = start(['dashboard', '--port', '0']);
      await expect.poll(() => dashboard.output(), { timeout: 20_000 }).toMatch(/dashboard listening at http:\/\/\S+/);
      const dashboardUrl = /dashboard listening at (http:\/\/\S+?)\/?\s/.exec(dashboard.output())![1]!;
      const pages: string[] = [];
      const readPages = async () => {
        for (const page of [
          DASHBOARD_PATHS.overview,
          DASHBOARD_PATHS.statusApi,
          DASHBOARD_PATHS.health,
          DASHBOARD_PATHS.deadLetters,
          DASHBOARD_PATHS.deadLettersApi,
          DASHBOARD_PATHS.exportDeadLetters,
          `${DASHBOARD_PATHS.bullBoard}/api/queues`,
          `${DASHBOARD_PATHS.bullBoard}/api/queues?activeQueue=uploads&status=failed`,
          `${DASHBOARD_PATHS.bullBoard}/api/queues?activeQueue=uploads&status=completed`,
          `${DASHBOARD_PATHS.bullBoard}/api/queues?activeQueue=uploads&status=delayed`,
        ]) {
          const response = await request(`${dashboardUrl}${page}`);
          pages.push(`GET ${page} ${response.statusCode}\n${await response.body.text()}`);
        }
      };

      // 1. The accounts server repeats the request back: the queue pauses, saying only what is known.
      const echoing = start(['worker'], { ZOHO_ACCOUNTS_URL: echo.url });
      await expect.poll(pauseCode, { timeout: 30_000 }).toBe('REFRESH_FAILED');
      await run(['status']);
      await run(['status', '--json']);
      await readPages();
      expect(pages.join('\n')).toContain('REFRESH_FAILED');
      echoing.child.kill('SIGTERM');
      await echoing.finished;
      for (const shape of ['error', 'access-denied', 'invalid-client', 'text', 'server-error'] as const) {
        echo.shape = shape;
        await run(['resume']);
        await run(['doctor'], { ZOHO_ACCOUNTS_URL: echo.url }, 1);
      }
      await run(['resume']);

      // 2. A refused refresh (a wrong client secret): paused again, with a hint.
      const refused = start(['worker'], { ZOHO_CLIENT_SECRET: WRONG_CLIENT_SECRET });
      await expect.poll(pauseCode, { timeout: 30_000 }).toBe('REFRESH_INVALID_CLIENT');
      await run(['status']);
      await readPages();
      refused.child.kill('SIGTERM');
      await refused.finished;
      await run(['resume']);

      // 3. The run itself: 500s from the API and the token endpoint, an expired token midway.
      w.fake.faults.add({ match: { path: 'token' }, kind: 'error500', times: 1 });
      w.fake.faults.add({ match: { path: 'upload' }, kind: 'error500', times: 3 });
      w.fake.faults.add({ match: { path: 'upload' }, kind: 'storeThen500', times: 1 });
      const accessTokens = new Set<string>();
      const worker = start(['worker', '--until-idle']);
      let done = false;
      void worker.finished.then(() => (done = true));
      let expired = false;
      while (!done) {
        // Every access token the run uses (one before and one after the forced expiry).
        const raw = await admin.get(keys.oauth.token);
        if (raw) accessTokens.add((JSON.parse(raw) as { accessToken: string }).accessToken);
        if (!expired && w.fake.inspect().attachments.length >= 5) {
          w.fake.expireAllTokens();
          expired = true;
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const result = await worker.finished;
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toContain('upload outcome');
      expect(accessTokens.size).toBeGreaterThanOrEqual(1);

      // 4. Everything an operator reads afterwards.
      await run(['status']);
      await run(['status', '--json']);
      await run(['report', '--batch', 'secrets']);
      await run(['report', '--batch', 'secrets', '--format', 'jsonl']);
      await run(['report', '--batch', 'secrets', '--out', 'report.csv']);
      await run(['report', '--batch', 'secrets', '--format', 'jsonl', '--out', 'report.jsonl']);
      await run(['dlq', 'list']);
      await run(['dlq', 'list', '--json']);
      await run(['dlq', 'export', '--out', 'dlq.csv']);
      await run(
        ['doctor'],
        { REDIS_URL: `redis://127.0.0.1:${privateRedis.port}/?password=${REDIS_PASSWORD}` },
        undefined,
      );
      await run(['status'], { REDIS_URL: `redis://:${WRONG_REDIS_PASSWORD}@127.0.0.1:${privateRedis.port}` }, 1);
      await run(
        ['doctor'],
        { REDIS_URL: `redis://127.0.0.1:${privateRedis.port}/?password=${WRONG_REDIS_PASSWORD}` },
        1,
      );
      // A worker that cannot log in: ioredis retries AUTH with the wrong password, error after error
      // (the worker says so once; the retries go on behind it, and none may print the password).
      const lockedOut = start(['worker'], {
        REDIS_URL: `redis://:${WRONG_REDIS_PASSWORD}@127.0.0.1:${privateRedis.port}`,
      });
      await expect
        .poll(() => lockedOut.output().split('WRONGPASS').length - 1, { timeout: 20_000 })
        .toBeGreaterThanOrEqual(1);
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      lockedOut.child.kill('SIGKILL');
      await lockedOut.finished;
      await readPages();
      dashboard.child.kill('SIGTERM');
      await dashboard.finished;

      const dump = await dumpKeys(admin, w.queueName);
      admin.disconnect();
      const stored = [...dump].flat().join('\n');
      const storedButTheToken = [...dump]
        .filter(([key]) => key !== keys.oauth.token)
        .flat()
        .join('\n');
      expect(stored).toContain('recordId'); // the dump did read the job data
      expect(pages.join('\n')).toContain('INVALID_MODULE'); // the pages did show the dead letters
      const files = await readAllFiles(w.dir);
      expect(files.some((file) => file.startsWith('dlq.csv'))).toBe(true);

      const secrets = [
        CLIENT.clientSecret,
        CLIENT.refreshToken,
        REDIS_PASSWORD,
        WRONG_REDIS_PASSWORD,
        WRONG_CLIENT_SECRET,
      ];
      const everyAccessToken = [...accessTokens, ACCESS_TOKEN_SHAPE];
      expectNoSecret(outputs.join('\n'), [...secrets, ...everyAccessToken], 'a log line or command output');
      expectNoSecret(pages.join('\n'), [...secrets, ...everyAccessToken], "a dashboard page or the dashboard's API");
      expectNoSecret(files.join('\n'), [...secrets, ...everyAccessToken], 'a report or export file');
      expectNoSecret(stored, secrets, 'a Redis key or value (job data, ledger, control keys)');
      expectNoSecret(storedButTheToken, everyAccessToken, 'a Redis key or value other than the shared token');
    },
  );

  it('a refused refresh explains itself without repeating the secret it was given', async () => {
    world = await createPipelineWorld({
      fake: { clients: [{ ...CLIENT }] },
      env: {
        ZOHO_CLIENT_ID: CLIENT.clientId,
        ZOHO_CLIENT_SECRET: 'wrong-secret-0a1b2c3d4e',
        ZOHO_REFRESH_TOKEN: CLIENT.refreshToken,
        LOG_LEVEL: 'trace',
      },
    });
    await world.writeFile('a.txt', 'a');
    const manifest = await world.writeFile('m.csv', 'module,record_id,file\nLeads,1,a.txt\n');
    expect((await runCli(['enqueue', manifest], world.env, world.dir)).code).toBe(0);
    const worker = spawnCli(['worker'], world.env, world.dir);
    const finished = collect(worker, 30_000);
    let status = '';
    await expect
      .poll(async () => (status = (await runCli(['status'], world!.env, world!.dir)).stdout), {
        timeout: 10_000,
        interval: 100,
      })
      .toContain('REFRESH_INVALID_CLIENT');
    worker.kill('SIGTERM');
    const result = await finished;
    expect(status).toContain('REFRESH_INVALID_CLIENT');
    expect(status).toContain('ZOHO_CLIENT_SECRET');
    expect(result.stderr).toContain('REFRESH_INVALID_CLIENT');
    const redis = testRedis();
    try {
      const everything = [status, result.stdout, result.stderr, await dumpQueueKeys(redis, world.queueName)].join('\n');
      expectNoSecret(
        everything,
        ['wrong-secret-0a1b2c3d4e', CLIENT.refreshToken, CLIENT.clientSecret],
        'output after a refused refresh',
      );
    } finally {
      redis.disconnect();
    }
  });
});
