/**
 * The Redis password is never printed: not by `status`, `doctor` or `dashboard` when it is
 * wrong (in the URL's userinfo or in its `password` query parameter), and not by a running
 * worker or dashboard whose password was rotated under it, though ioredis then fails an AUTH
 * with the old password on every reconnect and attaches it to each error.
 *
 * A private redis-server with `requirepass`: the shared Redis on 6379 is never touched.
 */
import type { ChildProcess } from 'node:child_process';
import { Redis } from 'ioredis';
import { request } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startPrivateRedis, type PrivateRedis } from '../../src/demo/private-redis.js';
import { createPipelineWorld, runCli, spawnCli, type PipelineWorld } from '../helpers/pipeline.js';

const PASSWORD = 'Redis-Pw-7f3a9c1e5b';
const ROTATED = 'Redis-Pw-Rotated-2d8e4a6c';
const WRONG = 'Redis-Pw-Wrong-0b1c2d3e';
const ALL_PASSWORDS = [PASSWORD, ROTATED, WRONG];

let redisServer: PrivateRedis | undefined;
let admin: Redis | undefined;
let world: PipelineWorld | undefined;
const children: ChildProcess[] = [];

beforeEach(async () => {
  // Started open, then locked: startPrivateRedis waits for a PING that needs no password.
  redisServer = await startPrivateRedis();
  admin = new Redis(redisServer.url, { maxRetriesPerRequest: null });
  await admin.config('SET', 'requirepass', PASSWORD);
  await admin.auth(PASSWORD);
});

afterEach(async () => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  admin?.disconnect();
  admin = undefined;
  await world?.cleanup();
  world = undefined;
  await redisServer?.stop();
  redisServer = undefined;
});

/** REDIS_URL for the private server with `password`, in the userinfo or as a query parameter. */
function redisUrl(password: string, form: 'userinfo' | 'query'): string {
  const port = redisServer!.port;
  return form === 'userinfo'
    ? `redis://:${password}@127.0.0.1:${port}`
    : `redis://127.0.0.1:${port}/?password=${password}`;
}

/** A CLI process whose output so far can be read while it runs. */
function start(args: string[], env: Record<string, string>): { child: ChildProcess; output: () => string } {
  const child = spawnCli(args, env, world!.dir);
  children.push(child);
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  return { child, output: () => output };
}

function expectNoPassword(text: string, where: string): void {
  for (const password of ALL_PASSWORDS)
    expect(text.includes(password), `${where} shows a Redis password:\n${text}`).toBe(false);
}

/** Sets a new password and drops every client but the admin one, so each reconnects with what it has. */
async function rotatePassword(): Promise<void> {
  await admin!.config('SET', 'requirepass', ROTATED);
  await admin!.auth(ROTATED);
  await admin!.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
}

describe('the Redis password', () => {
  it.each(['userinfo', 'query'] as const)(
    'is not shown by status, doctor or dashboard when it is wrong (%s)',
    async (form) => {
      world = await createPipelineWorld({ env: { REDIS_URL: redisUrl(WRONG, form), LOG_LEVEL: 'trace' } });

      const status = await runCli(['status'], world.env, world.dir);
      expect(status.code).toBe(1);
      expect(status.stderr).toContain('[REDIS_UNREACHABLE]');
      expect(status.stderr).toContain('WRONGPASS');
      expect(status.stderr).toContain('***');
      expectNoPassword(status.stdout + status.stderr, 'status');

      const doctor = await runCli(['doctor'], world.env, world.dir);
      expect(doctor.code).toBe(1);
      expect(doctor.stdout).toMatch(/✗ Redis reachable: .*\*\*\*.*WRONGPASS/);
      expectNoPassword(doctor.stdout + doctor.stderr, 'doctor');

      const dashboard = await runCli(['dashboard', '--port', '0'], world.env, world.dir);
      expect(dashboard.code).toBe(1);
      expect(dashboard.stderr).toContain('[REDIS_UNREACHABLE]');
      expectNoPassword(dashboard.stdout + dashboard.stderr, 'dashboard');
    },
  );

  it('is not shown by a worker that cannot log in (ioredis retries AUTH with it over and over)', async () => {
    world = await createPipelineWorld({ env: { REDIS_URL: redisUrl(WRONG, 'userinfo'), LOG_LEVEL: 'trace' } });
    const worker = start(['worker'], world.env);
    // One clear line (the outage reporter), while ioredis retries AUTH behind it again and again.
    await expect
      .poll(() => worker.output().split('WRONGPASS').length - 1, { timeout: 20_000 })
      .toBeGreaterThanOrEqual(1);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    worker.child.kill('SIGKILL');
    expect(worker.output()).toContain('Redis unreachable at redis://:***@');
    expectNoPassword(worker.output(), 'the worker');
  });

  it('is not shown by a running worker and dashboard when it is rotated under them, nor by status and doctor after', async () => {
    world = await createPipelineWorld({ env: { REDIS_URL: redisUrl(PASSWORD, 'userinfo'), LOG_LEVEL: 'trace' } });
    await world.writeFile('a.txt', 'a');
    const manifest = await world.writeFile('m.csv', 'module,record_id,file\nLeads,1,a.txt\n');
    expect((await runCli(['enqueue', manifest], world.env, world.dir)).code).toBe(0);

    const worker = start(['worker'], world.env);
    const dashboard = start(['dashboard', '--port', '0'], world.env);
    await expect.poll(() => worker.output(), { timeout: 20_000 }).toContain('upload outcome');
    await expect
      .poll(() => dashboard.output(), { timeout: 20_000 })
      .toMatch(/dashboard listening at (http:\/\/\S+?)\/?\s/);
    const dashboardUrl = /dashboard listening at (http:\/\/\S+?)\/?\s/.exec(dashboard.output())![1]!;

    await rotatePassword();
    await expect
      .poll(() => worker.output().split('WRONGPASS').length - 1, { timeout: 20_000 })
      .toBeGreaterThanOrEqual(1);

    // The dashboard's pages and API while its connection is locked out.
    const pages: string[] = [];
    for (const page of ['/', '/api/status', '/dead-letters', '/health']) {
      const response = await request(`${dashboardUrl}${page}`, { headersTimeout: 15_000, bodyTimeout: 15_000 }).catch(
        (error: Error) => ({
          statusCode: 0,
          body: { text: async () => error.message },
        }),
      );
      pages.push(`${page} ${response.statusCode}: ${await response.body.text()}`);
    }
    // The dashboard's connection errors are no longer printed (no stack per reconnect); its pages above said what they could.

    // The operator's commands with the old password (now wrong), then with the new one.
    const outputs: string[] = [];
    for (const password of [PASSWORD, ROTATED]) {
      const env = { ...world.env, REDIS_URL: redisUrl(password, 'query') };
      for (const args of [['status'], ['status', '--json'], ['doctor']]) {
        const out = await runCli(args, env, world.dir);
        outputs.push(
          `${args.join(' ')} (${password === PASSWORD ? 'old' : 'new'} password): ${out.stdout}${out.stderr}`,
        );
      }
    }
    expect(outputs.join('\n')).toContain('WRONGPASS');
    expect(outputs.join('\n')).toContain('Redis answers at');

    worker.child.kill('SIGKILL');
    dashboard.child.kill('SIGKILL');
    expectNoPassword(worker.output(), 'the worker after the rotation');
    expectNoPassword(dashboard.output(), 'the dashboard after the rotation');
    expectNoPassword(pages.join('\n'), "the dashboard's pages after the rotation");
    expectNoPassword(outputs.join('\n'), 'status and doctor after the rotation');
  });
});
