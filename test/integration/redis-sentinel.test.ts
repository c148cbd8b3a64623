/**
 * zoho-attach on a Sentinel-watched primary: a private primary, a replica and a Sentinel on
 * loopback, the CLI as a user runs it with REDIS_SENTINELS, and a failover in the middle of a
 * run. Nothing may be lost and nothing uploaded twice: without REDIS_WAIT_REPLICAS (1 by default
 * under Sentinel) this run stored 171 attachments for 150 rows, because posting leases the old
 * primary had not yet passed on were lost with it. The run takes about 30 s: the workers' job locks
 * die with the old primary too, and BullMQ takes those jobs back as stalled (the ledger makes the
 * second run adopt, not post).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, startPrivateRedis, type PrivateRedis } from '../../src/demo/private-redis.js';
import { collect, createPipelineWorld, runCli, spawnCli, type PipelineWorld } from '../helpers/pipeline.js';

const MASTER_NAME = 'za-primary';
/** Enough rows, at 100 ms each and 3 at a time, that the failover lands in the middle of the run. */
const ROWS = 100;

let world: PipelineWorld | undefined;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await world?.cleanup();
  world = undefined;
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A primary, one replica of it, and a Sentinel watching them (quorum 1, 1 s to declare it down). */
async function startSentinelSet(): Promise<{
  primary: PrivateRedis;
  replica: PrivateRedis;
  sentinelPort: number;
  sentinel: Redis;
}> {
  const primary = await startPrivateRedis();
  cleanups.push(() => primary.stop());
  const replica = await startPrivateRedis({ extraArgs: ['--replicaof', '127.0.0.1', String(primary.port)] });
  cleanups.push(() => replica.stop());
  const dir = await mkdtemp(path.join(os.tmpdir(), 'za-sentinel-'));
  const sentinelPort = await freePort();
  const config = path.join(dir, 'sentinel.conf');
  await writeFile(
    config,
    [
      `port ${sentinelPort}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `sentinel monitor ${MASTER_NAME} 127.0.0.1 ${primary.port} 1`,
      `sentinel down-after-milliseconds ${MASTER_NAME} 1000`,
      `sentinel failover-timeout ${MASTER_NAME} 10000`,
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn('redis-server', [config, '--sentinel'], { stdio: 'ignore' });
  cleanups.push(async () => {
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });
  // Retries its connection until the Sentinel listens.
  const sentinel = new Redis({
    host: '127.0.0.1',
    port: sentinelPort,
    maxRetriesPerRequest: 1,
    retryStrategy: () => 50,
  });
  sentinel.on('error', () => undefined);
  cleanups.push(async () => sentinel.disconnect());
  await expect.poll(() => sentinel.ping().catch(() => 'not yet'), { timeout: 10_000, interval: 100 }).toBe('PONG');
  // The replica must hold a full copy, and the Sentinel must know it, before it can take over.
  const replicaClient = new Redis(replica.url, { maxRetriesPerRequest: 1 });
  cleanups.push(async () => replicaClient.disconnect());
  await expect
    .poll(async () => /master_link_status:up/.test(await replicaClient.info('replication')), {
      timeout: 15_000,
      interval: 100,
    })
    .toBe(true);
  await expect
    .poll(async () => ((await sentinel.call('SENTINEL', 'REPLICAS', MASTER_NAME)) as unknown[]).length, {
      timeout: 15_000,
      interval: 100,
    })
    .toBe(1);
  return { primary, replica, sentinelPort, sentinel };
}

describe('on a Sentinel-watched primary', () => {
  it('a failover in the middle of a run loses nothing and uploads nothing twice', async () => {
    const { replica, sentinelPort, sentinel } = await startSentinelSet();
    world = await createPipelineWorld({
      fake: { latencyMs: 100 },
      env: {
        REDIS_SENTINELS: `127.0.0.1:${sentinelPort}`,
        REDIS_SENTINEL_NAME: MASTER_NAME,
        REDIS_URL: 'redis://127.0.0.1:6379',
        ZOHO_CONCURRENCY: '3',
      },
    });
    const lines = ['module,record_id,file'];
    for (let i = 1; i <= ROWS; i++) {
      await world.writeFile(`f${i}.txt`, `file ${i}`);
      lines.push(`Leads,${i},f${i}.txt`);
    }
    const manifest = await world.writeFile('m.csv', lines.join('\n'));
    expect((await runCli(['enqueue', manifest, '--batch', 'sentinel'], world.env, world.dir)).code).toBe(0);

    const worker = spawnCli(['worker', '--until-idle'], world.env, world.dir);
    const finished = collect(worker, 120_000);
    await expect
      .poll(() => world!.fake.inspect().attachments.length, { timeout: 30_000, interval: 20 })
      .toBeGreaterThanOrEqual(10);
    // The old primary steps down and the replica takes over while uploads are in flight.
    expect(await sentinel.call('SENTINEL', 'FAILOVER', MASTER_NAME)).toBe('OK');
    await expect
      .poll(async () => ((await sentinel.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', MASTER_NAME)) as string[])[1], {
        timeout: 20_000,
        interval: 100,
      })
      .toBe(String(replica.port));
    expect(world.fake.inspect().attachments.length).toBeLessThan(ROWS);

    const exit = await finished;
    expect(exit.code, exit.stderr).toBe(0);
    const statusRun = await runCli(['status', '--batch', 'sentinel', '--json'], world.env, world.dir);
    expect(statusRun.code, statusRun.stderr).toBe(0);
    const status = JSON.parse(statusRun.stdout);
    expect(status.batches[0]).toMatchObject({ uploaded: ROWS, dead: 0, pending: 0 });
    const stored = world.fake.inspect().attachments;
    expect(stored).toHaveLength(ROWS);
    expect(new Set(stored.map((a) => a.recordId)).size).toBe(ROWS);
  }, 90_000);
});
