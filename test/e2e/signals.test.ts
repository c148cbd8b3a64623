/**
 * Signals, the way a person sends them: the built CLI as a child process, real SIGINTs.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { collect, createPipelineWorld, runCli, spawnCli, type PipelineWorld } from '../helpers/pipeline.js';
import { testRedis } from '../helpers/redis.js';
import { withQueue } from '../helpers/queue-runs.js';

let world: PipelineWorld | undefined;
afterEach(async () => {
  await world?.cleanup();
  world = undefined;
});

/** A manifest of `rows` link rows (no files to read: enqueue is the only work). */
function linkManifest(rows: number): string {
  const lines = ['module,record_id,link_url,title'];
  for (let i = 1; i <= rows; i++) lines.push(`Leads,${1_000_000 + i},https://example.com/doc/${i},Doc ${i}`);
  return `${lines.join('\n')}\n`;
}

describe('Ctrl-C during enqueue', () => {
  it('stops within 5 s after the chunk in flight, says how to go on, exits 130; the same command then finishes with no row twice', async () => {
    world = await createPipelineWorld();
    const rows = 60_000;
    const manifest = await world.writeFile('big.csv', linkManifest(rows));
    const child = spawnCli(['enqueue', manifest, '--batch', 'big'], world.env, world.dir);
    const done = collect(child, 120_000);

    // Wait until rows are going in, then press Ctrl-C once.
    const redis = testRedis();
    try {
      await expect
        .poll(async () => Number((await redis.hget(`${world!.queueName}:ledger:batch:big:meta`, 'owned')) ?? 0), { timeout: 60_000, interval: 50 })
        .toBeGreaterThan(0);
    } finally {
      redis.disconnect();
    }
    const interruptedAt = Date.now();
    child.kill('SIGINT');
    const first = await done;
    const stoppedAfterMs = Date.now() - interruptedAt;

    expect(first.code, first.stderr).toBe(130);
    expect(stoppedAfterMs).toBeLessThan(5_000);
    const read = Number(/interrupted after (\d+) rows/.exec(first.stdout)?.[1]);
    expect(read).toBeGreaterThan(0);
    expect(read).toBeLessThan(rows);
    expect(first.stdout).toContain(`zoho-attach enqueue ${manifest} --batch big`);

    const second = await runCli(['enqueue', manifest, '--batch', 'big'], world.env, world.dir, 120_000);
    expect(second.code, second.stderr).toBe(0);
    const meta = await withQueue(world, (queue) => queue.ledger.getBatch('big'));
    expect(meta).toMatchObject({ accepted: rows, owned: rows, pending: rows });
    expect(await withQueue(world, (queue) => queue.queue.getJobCounts('waiting'))).toEqual({ waiting: rows });
  }, 180_000);
});
