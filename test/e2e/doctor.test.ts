/**
 * `zoho-attach doctor` against the fake Zoho and a real Redis: a checklist that passes on a
 * good set-up, and on each broken one fails naming the variable or setting to fix. The
 * shared Redis's configuration is never touched: a misconfigured Redis is a private one.
 */
import net from 'node:net';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { startPrivateRedis, type PrivateRedis } from '../../src/demo/private-redis.js';
import { FAKE_CREDENTIALS } from '../../src/fake-zoho/index.js';
import { createPipelineWorld, runCli, type PipelineWorld } from '../helpers/pipeline.js';

let world: PipelineWorld | undefined;
let privateRedis: PrivateRedis | undefined;
afterEach(async () => {
  await privateRedis?.stop();
  await world?.cleanup();
  [world, privateRedis] = [undefined, undefined];
});

/** The checklist line of the check called `name`, as "MARK detail" (the name left out). */
function line(stdout: string, name: string): string {
  const found = findLine(stdout, name);
  return `${found.slice(0, 1)} ${found.slice(name.length + 4)}`;
}

function findLine(stdout: string, name: string): string {
  const found = stdout.split('\n').find((l) => l.slice(2).startsWith(`${name}: `));
  if (!found) throw new Error(`no "${name}" line in:\n${stdout}`);
  return found;
}

/** The fix printed under the check called `name`. */
function fixOf(stdout: string, name: string): string {
  const lines = stdout.split('\n');
  const next = lines[lines.indexOf(findLine(stdout, name)) + 1] ?? '';
  if (!next.trimStart().startsWith('fix: ')) throw new Error(`no fix under "${name}" in:\n${stdout}`);
  return next;
}

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('zoho-attach doctor', () => {
  it('passes a good set-up (warnings allowed), and every run tests its credentials with a refresh of its own', async () => {
    world = await createPipelineWorld();
    const first = await runCli(['doctor'], world.env, world.dir);
    expect(first.code, first.stdout + first.stderr).toBe(0);
    for (const name of [
      'Redis reachable',
      'Redis version',
      'Redis maxmemory-policy',
      'Ledger format',
      'Zoho OAuth',
      'Zoho API domain',
      `file root ${world.dir}`,
    ]) {
      expect(line(first.stdout, name)).toMatch(/^✓ /);
    }
    expect(line(first.stdout, 'Redis persistence')).toMatch(/^[✓!] /);
    expect(line(first.stdout, 'Zoho OAuth')).toMatch(/refreshed at .* with exactly these credentials/);
    expect(first.stdout).toMatch(/all checks passed/);
    expect(world.fake.inspect().tokens.refreshes).toBe(1);

    const second = await runCli(['doctor'], world.env, world.dir);
    expect(second.code).toBe(0);
    expect(world.fake.inspect().tokens.refreshes).toBe(2);
    expect(second.stdout + second.stderr).not.toContain(FAKE_CREDENTIALS.clientSecret);
  });

  it('fails a wrong client secret even right after a good run left a valid token in Redis', async () => {
    world = await createPipelineWorld();
    expect((await runCli(['doctor'], world.env, world.dir)).code).toBe(0);
    const result = await runCli(['doctor'], { ...world.env, ZOHO_CLIENT_SECRET: 'a-wrong-secret' }, world.dir);
    expect(result.code).toBe(1);
    expect(line(result.stdout, 'Zoho OAuth')).toMatch(/^✗ wrong client or wrong data centre .*invalid_client/);
    expect(fixOf(result.stdout, 'Zoho OAuth')).toMatch(/ZOHO_CLIENT_ID and ZOHO_CLIENT_SECRET/);
    expect(result.stdout + result.stderr).not.toContain('a-wrong-secret');
  });

  it('names invalid_client, not a failure an earlier run with a revoked refresh token left behind', async () => {
    world = await createPipelineWorld();
    world.fake.revokeRefreshToken(FAKE_CREDENTIALS.refreshToken);
    expect(line((await runCli(['doctor'], world.env, world.dir)).stdout, 'Zoho OAuth')).toMatch(/invalid_code/);
    const result = await runCli(['doctor'], { ...world.env, ZOHO_CLIENT_SECRET: 'a-wrong-secret' }, world.dir);
    expect(line(result.stdout, 'Zoho OAuth')).toMatch(/^✗ wrong client or wrong data centre .*invalid_client/);
  });

  it('fails on a revoked refresh token, naming ZOHO_REFRESH_TOKEN', async () => {
    world = await createPipelineWorld();
    world.fake.revokeRefreshToken(FAKE_CREDENTIALS.refreshToken);
    const result = await runCli(['doctor'], world.env, world.dir);
    expect(result.code).toBe(1);
    expect(line(result.stdout, 'Zoho OAuth')).toMatch(/^✗ .*invalid_code/);
    expect(fixOf(result.stdout, 'Zoho OAuth')).toContain('ZOHO_REFRESH_TOKEN');
    expect(line(result.stdout, 'Zoho API domain')).toMatch(/^- /);
    expect(result.stdout + result.stderr).not.toContain(FAKE_CREDENTIALS.refreshToken);
  });

  it('says "wrong client or wrong data centre" for invalid_client, naming ZOHO_DC', async () => {
    world = await createPipelineWorld({ env: { ZOHO_CLIENT_ID: 'a-client-of-another-data-centre', ZOHO_DC: 'eu' } });
    const result = await runCli(['doctor'], world.env, world.dir);
    expect(result.code).toBe(1);
    expect(line(result.stdout, 'Zoho OAuth')).toMatch(/^✗ wrong client or wrong data centre \(ZOHO_DC=eu/);
    expect(fixOf(result.stdout, 'Zoho OAuth')).toMatch(/ZOHO_CLIENT_ID.*ZOHO_DC/);
  });

  it('fails when REDIS_WAIT_REPLICAS asks for replicas the primary does not have, and passes when it has them', async () => {
    world = await createPipelineWorld();
    privateRedis = await startPrivateRedis();
    const env = { ...world.env, REDIS_URL: privateRedis.url, REDIS_WAIT_REPLICAS: '1' };
    const alone = await runCli(['doctor'], env, world.dir);
    expect(alone.code).toBe(1);
    expect(line(alone.stdout, 'Redis replicas')).toMatch(
      /^✗ 0 replica\(s\) connected, but REDIS_WAIT_REPLICAS asks for 1: no upload would be sent/,
    );
    expect(fixOf(alone.stdout, 'Redis replicas')).toContain('REDIS_WAIT_REPLICAS=0');
    const replica = await startPrivateRedis({ extraArgs: ['--replicaof', '127.0.0.1', String(privateRedis.port)] });
    try {
      const admin = new Redis(privateRedis.url);
      await expect
        .poll(async () => /connected_slaves:1/.test(await admin.info('replication')), { timeout: 10_000 })
        .toBe(true);
      admin.disconnect();
      expect(line((await runCli(['doctor'], env, world.dir)).stdout, 'Redis replicas')).toBe(
        '✓ 1 replica(s) connected; REDIS_WAIT_REPLICAS asks for 1',
      );
    } finally {
      await replica.stop();
    }
  });

  it('fails on a missing file root, naming ZOHO_ATTACH_FILE_ROOTS', async () => {
    world = await createPipelineWorld();
    const missing = path.join(world.dir, 'not-mounted');
    const result = await runCli(
      ['doctor'],
      { ...world.env, ZOHO_ATTACH_FILE_ROOTS: `${world.dir}:${missing}` },
      world.dir,
    );
    expect(result.code).toBe(1);
    expect(line(result.stdout, `file root ${world.dir}`)).toMatch(/^✓ /);
    expect(line(result.stdout, `file root ${missing}`)).toMatch(/^✗ .*does not exist/);
    expect(fixOf(result.stdout, `file root ${missing}`)).toContain('ZOHO_ATTACH_FILE_ROOTS');
  });

  it('fails on an unreachable Redis, naming REDIS_URL, and still checks the file roots', async () => {
    world = await createPipelineWorld();
    const redisUrl = `redis://127.0.0.1:${await closedPort()}`;
    const result = await runCli(['doctor'], { ...world.env, REDIS_URL: redisUrl }, world.dir);
    expect(result.code).toBe(1);
    expect(line(result.stdout, 'Redis reachable')).toMatch(
      /^✗ cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+.*ECONNREFUSED/,
    );
    expect(fixOf(result.stdout, 'Redis reachable')).toContain('REDIS_URL');
    expect(line(result.stdout, 'Zoho OAuth')).toMatch(/^- /);
    expect(line(result.stdout, `file root ${world.dir}`)).toMatch(/^✓ /);
  });

  it('fails on a Redis that may evict keys, explaining the fix', async () => {
    world = await createPipelineWorld();
    privateRedis = await startPrivateRedis({ extraArgs: ['--maxmemory-policy', 'allkeys-lru'] });
    const result = await runCli(['doctor'], { ...world.env, REDIS_URL: privateRedis.url }, world.dir);
    expect(result.code).toBe(1);
    expect(line(result.stdout, 'Redis maxmemory-policy')).toMatch(/^✗ maxmemory-policy is allkeys-lru/);
    expect(fixOf(result.stdout, 'Redis maxmemory-policy')).toContain('CONFIG SET maxmemory-policy noeviction');
    expect(line(result.stdout, 'Zoho OAuth')).toMatch(/^✓ /);
  });

  it('on a Redis with AOF off and an evicting policy, names both settings and both fixes, and changes neither', async () => {
    world = await createPipelineWorld();
    privateRedis = await startPrivateRedis({ extraArgs: ['--appendonly', 'no', '--maxmemory-policy', 'allkeys-lru'] });
    const result = await runCli(['doctor'], { ...world.env, REDIS_URL: privateRedis.url }, world.dir);
    expect(result.code).toBe(1);
    expect(line(result.stdout, 'Redis maxmemory-policy')).toMatch(/^✗ maxmemory-policy is allkeys-lru: .*deletes keys/);
    expect(fixOf(result.stdout, 'Redis maxmemory-policy')).toContain('CONFIG SET maxmemory-policy noeviction');
    expect(line(result.stdout, 'Redis persistence')).toMatch(
      /^! AOF is off \(appendonly no\), and no RDB snapshots: .*loses every queued upload/,
    );
    const persistenceFix = fixOf(result.stdout, 'Redis persistence');
    expect(persistenceFix).toContain('CONFIG SET appendonly yes');
    expect(persistenceFix).toContain('CONFIG SET appendfsync always');
    // doctor only reads: the server keeps the settings it was started with.
    const redis = new Redis(privateRedis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
    try {
      expect(await redis.config('GET', 'appendonly')).toEqual(['appendonly', 'no']);
      expect(await redis.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'allkeys-lru']);
    } finally {
      redis.disconnect();
    }
  });

  it('reads the policy from INFO where CONFIG is disabled, and warns that persistence cannot be read', async () => {
    world = await createPipelineWorld();
    privateRedis = await startPrivateRedis({ extraArgs: ['--rename-command', 'CONFIG', ''] });
    const result = await runCli(['doctor'], { ...world.env, REDIS_URL: privateRedis.url }, world.dir);
    expect(result.code, result.stdout).toBe(0);
    expect(line(result.stdout, 'Redis maxmemory-policy')).toMatch(/^✓ noeviction \(read from INFO: CONFIG is disabled/);
    expect(line(result.stdout, 'Redis persistence')).toMatch(/^! AOF is off.*CONFIG is disabled/);
    expect(fixOf(result.stdout, 'Redis persistence')).toContain('appendonly yes');
  });

  it('passes persistence on a Redis with AOF and appendfsync always', async () => {
    world = await createPipelineWorld();
    privateRedis = await startPrivateRedis({ appendOnly: true, appendFsync: 'always' });
    const result = await runCli(['doctor'], { ...world.env, REDIS_URL: privateRedis.url }, world.dir);
    expect(result.code).toBe(0);
    expect(line(result.stdout, 'Redis persistence')).toBe('✓ AOF on, appendfsync always');
    expect(result.stdout).toMatch(/all checks passed$/m);
  });

  it('warns when AOF fsyncs only every second: a crash can lose the last acknowledged writes', async () => {
    world = await createPipelineWorld();
    privateRedis = await startPrivateRedis({ appendOnly: true, appendFsync: 'everysec' });
    const result = await runCli(['doctor'], { ...world.env, REDIS_URL: privateRedis.url }, world.dir);
    expect(result.code).toBe(0);
    expect(line(result.stdout, 'Redis persistence')).toMatch(/^! AOF on, but appendfsync everysec: .*duplicate upload/);
    expect(fixOf(result.stdout, 'Redis persistence')).toContain('appendfsync always');
  });
});
