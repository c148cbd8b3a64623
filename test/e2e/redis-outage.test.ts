/**
 * Redis going away, the way an operator meets it: one clear line (the URL without its
 * password, the cause), a reminder every 30 s, no stack traces; signals still obeyed;
 * `status --watch` says "Redis unreachable since …" and recovers by itself.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startPrivateRedis, type PrivateRedis } from '../../src/demo/private-redis.js';
import { collect, createPipelineWorld, runCli, spawnCli, type PipelineWorld } from '../helpers/pipeline.js';

let world: PipelineWorld | undefined;
let redis: PrivateRedis | undefined;
afterEach(async () => {
  await redis?.stop();
  await world?.cleanup();
  [world, redis] = [undefined, undefined];
});

describe('zoho-attach health (the Dockerfile HEALTHCHECK)', () => {
  it('exits 0 while Redis answers, 1 with a one-line reason when it does not', async () => {
    world = await createPipelineWorld();
    redis = await startPrivateRedis();
    const healthy = await runCli(['health'], { ...world.env, REDIS_URL: redis.url }, world.dir);
    expect([healthy.code, healthy.stdout.trim()]).toEqual([0, 'healthy: configuration valid, Redis answers']);
    await redis.kill('SIGTERM');
    const sick = await runCli(['health'], { ...world.env, REDIS_URL: redis.url }, world.dir);
    expect(sick.code).toBe(1);
    expect(sick.stderr.trim().split('\n')).toHaveLength(1);
    expect(sick.stderr).toContain('REDIS_UNREACHABLE');
    expect(world.fake.inspect().calls).toEqual({ upload: 0, list: 0, download: 0, delete: 0 });
  });
});

describe('Redis unreachable', () => {
  it('a worker says so in one line, without stack traces, and stops on the first SIGTERM', async () => {
    world = await createPipelineWorld();
    redis = await startPrivateRedis();
    await redis.kill('SIGTERM');
    const child = spawnCli(
      ['worker'],
      { ...world.env, REDIS_URL: redis.url.replace('redis://', 'redis://:s3cret-pw@'), LOG_LEVEL: 'info' },
      world.dir,
    );
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const done = collect(child, 30_000);
    await expect.poll(() => stderr, { timeout: 15_000 }).toContain('Redis unreachable at redis://:***@127.0.0.1');
    // A few reconnect attempts later, still one line: no reconnect is logged on its own. (A
    // deliberate window: it shows that nothing more is printed, which no poll can show.)
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const stoppedAt = Date.now();
    child.kill('SIGTERM');
    const exit = await done;
    expect(Date.now() - stoppedAt).toBeLessThan(5_000);
    expect(exit.code).toBe(0);
    expect(stderr.match(/Redis unreachable/g)).toHaveLength(1);
    expect(stderr).toContain('ECONNREFUSED');
    expect(stderr).not.toMatch(/^\s+at /m);
    expect(stderr).not.toContain('s3cret-pw');
  });

  it('status --watch shows "Redis unreachable since …" while Redis is down and goes on once it is back', async () => {
    world = await createPipelineWorld();
    redis = await startPrivateRedis();
    const env = { ...world.env, REDIS_URL: redis.url };
    const child = spawnCli(['status', '--watch', '--interval', '1'], env, world.dir);
    let stdout = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    const done = collect(child, 60_000);
    await expect.poll(() => stdout, { timeout: 15_000 }).toContain(`queue ${world.queueName}`);
    await redis.kill('SIGTERM');
    await expect.poll(() => stdout, { timeout: 15_000 }).toMatch(/Redis unreachable since \S+/);
    const before = stdout.length;
    await redis.restart();
    await expect.poll(() => stdout.slice(before), { timeout: 20_000 }).toContain(`queue ${world.queueName}`);
    child.kill('SIGINT');
    const exit = await done;
    expect(exit.code).toBe(0);
  });
});
