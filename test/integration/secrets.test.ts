/**
 * Secrets never leave the process that needs them: after a run with every log level on,
 * the OAuth client secret, refresh token and access token appear in no log line, job data,
 * ledger entry, report, status, dead-letter listing or export, nor in any error message.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createPipelineWorld, runCli, spawnCli, collect, type PipelineWorld } from '../helpers/pipeline.js';
import { testRedis } from '../helpers/redis.js';

const CLIENT = {
  clientId: 'grep-client-id',
  clientSecret: 'grep-client-secret-9f8e7d6c5b4a',
  refreshToken: '1000.grepRefreshToken0123456789abcdef.fedcba9876543210',
};

let world: PipelineWorld | undefined;
afterEach(async () => {
  await world?.cleanup();
  world = undefined;
});

/** Every value stored under the run's queue name, except the OAuth keys (the shared token lives there on purpose). */
async function dumpQueueKeys(redis: Redis, queueName: string): Promise<string> {
  const parts: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `*${queueName}*`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      if (key.includes(':oauth:')) continue;
      const type = await redis.type(key);
      if (type === 'string') parts.push(key, (await redis.get(key)) ?? '');
      else if (type === 'hash') parts.push(key, JSON.stringify(await redis.hgetall(key)));
      else if (type === 'list') parts.push(key, JSON.stringify(await redis.lrange(key, 0, -1)));
      else if (type === 'set') parts.push(key, JSON.stringify(await redis.smembers(key)));
      else if (type === 'zset') parts.push(key, JSON.stringify(await redis.zrange(key, 0, -1)));
      else if (type === 'stream') parts.push(key, JSON.stringify(await redis.xrange(key, '-', '+')));
    }
  } while (cursor !== '0');
  return parts.join('\n');
}

function expectNoSecret(haystack: string, secrets: string[], where: string) {
  for (const secret of secrets) expect(haystack.includes(secret), `${where} contains a secret`).toBe(false);
}

describe('secrets', () => {
  it('appear in no log, job data, ledger, report, status or dead-letter output after a run with faults', async () => {
    world = await createPipelineWorld({
      fake: { clients: [{ ...CLIENT }], latencyMs: 10 },
      env: { ZOHO_CLIENT_ID: CLIENT.clientId, ZOHO_CLIENT_SECRET: CLIENT.clientSecret, ZOHO_REFRESH_TOKEN: CLIENT.refreshToken, LOG_LEVEL: 'trace' },
    });
    const lines = ['module,record_id,file'];
    for (let i = 1; i <= 20; i++) {
      await world.writeFile(`f${i}.txt`, `file ${i}`);
      lines.push(`Leads,${i},f${i}.txt`);
    }
    lines.push('Widgets,99,f1.txt');
    const manifest = await world.writeFile('m.csv', lines.join('\n'));
    world.fake.faults.add({ match: { path: 'upload' }, kind: 'error500', times: 3 });
    world.fake.faults.add({ match: { path: 'upload' }, kind: 'storeThen500', times: 1 });

    const outputs: string[] = [];
    const enqueue = await runCli(['enqueue', manifest, '--batch', 'secrets'], world.env, world.dir);
    outputs.push(enqueue.stdout, enqueue.stderr);

    const redis = testRedis();
    const accessTokens = new Set<string>();
    try {
      const worker = spawnCli(['worker', '--until-idle'], world.env, world.dir);
      const finished = collect(worker, 60_000);
      // Capture every access token the run uses (one before and one after a forced expiry).
      const tokenKey = `${world.queueName}:oauth:token`;
      let expired = false;
      let done = false;
      void finished.then(() => (done = true));
      while (!done) {
        const raw = await redis.get(tokenKey);
        if (raw) accessTokens.add((JSON.parse(raw) as { accessToken: string }).accessToken);
        if (!expired && world.fake.inspect().attachments.length >= 5) {
          world.fake.expireAllTokens();
          expired = true;
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const result = await finished;
      expect(result.code, result.stderr).toBe(0);
      outputs.push(result.stdout, result.stderr);
      expect(result.stderr).toContain('upload outcome');
      expect(accessTokens.size).toBeGreaterThanOrEqual(1);

      for (const args of [
        ['status', '--json'],
        ['report', '--batch', 'secrets'],
        ['report', '--batch', 'secrets', '--format', 'jsonl'],
        ['dlq', 'list', '--json'],
        ['dlq', 'export', '--out', 'dlq.csv'],
      ]) {
        const out = await runCli(args, world.env, world.dir);
        expect(out.code, `${args.join(' ')}: ${out.stderr}`).toBe(0);
        outputs.push(out.stdout, out.stderr);
      }
      outputs.push(await readFile(path.join(world.dir, 'dlq.csv'), 'utf8'));
      const stored = await dumpQueueKeys(redis, world.queueName);
      expect(stored).toContain('recordId'); // the dump did read the job data

      const secrets = [CLIENT.clientSecret, CLIENT.refreshToken, ...accessTokens];
      expectNoSecret(stored, secrets, 'Redis job data and ledger');
      expectNoSecret(outputs.join('\n'), secrets, 'CLI output and logs');
    } finally {
      redis.disconnect();
    }
  });

  it('a refused refresh explains itself without repeating the secret it was given', async () => {
    world = await createPipelineWorld({
      fake: { clients: [{ ...CLIENT }] },
      env: { ZOHO_CLIENT_ID: CLIENT.clientId, ZOHO_CLIENT_SECRET: 'wrong-secret-0a1b2c3d4e', ZOHO_REFRESH_TOKEN: CLIENT.refreshToken, LOG_LEVEL: 'trace' },
    });
    await world.writeFile('a.txt', 'a');
    const manifest = await world.writeFile('m.csv', 'module,record_id,file\nLeads,1,a.txt\n');
    expect((await runCli(['enqueue', manifest], world.env, world.dir)).code).toBe(0);
    const worker = spawnCli(['worker'], world.env, world.dir);
    const finished = collect(worker, 30_000);
    let status = '';
    for (let i = 0; i < 100 && !status.includes('REFRESH_INVALID_CLIENT'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      status = (await runCli(['status'], world.env, world.dir)).stdout;
    }
    worker.kill('SIGTERM');
    const result = await finished;
    expect(status).toContain('REFRESH_INVALID_CLIENT');
    expect(status).toContain('ZOHO_CLIENT_SECRET');
    expect(result.stderr).toContain('REFRESH_INVALID_CLIENT');
    const redis = testRedis();
    try {
      const everything = [status, result.stdout, result.stderr, await dumpQueueKeys(redis, world.queueName)].join('\n');
      expectNoSecret(everything, ['wrong-secret-0a1b2c3d4e', CLIENT.refreshToken, CLIENT.clientSecret], 'output after a refused refresh');
    } finally {
      redis.disconnect();
    }
  });
});
