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
        .poll(async () => Number((await redis.hget(`${world!.queueName}:ledger:batch:big:meta`, 'owned')) ?? 0), {
          timeout: 60_000,
          interval: 50,
        })
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
    expect(meta).toMatchObject({ accepted: rows, owned: rows, pending: rows, backlog: rows });
  }, 180_000);
});

describe('signals to a worker', () => {
  it('the first SIGINT drains the upload in flight; a second one exits at once', async () => {
    world = await createPipelineWorld({
      env: { ZOHO_REQUEST_TIMEOUT_MS: '60000', ZOHO_ATTACH_SHUTDOWN_TIMEOUT_MS: '60000' },
    });
    await world.writeFile('a.txt', 'a');
    const manifest = await world.writeFile('m.csv', 'module,record_id,file\nLeads,1,a.txt\n');
    // An upload that never gets an answer: the drain would wait for it up to the shutdown timeout.
    world.fake.faults.add({ match: { path: 'upload' }, kind: 'hang', times: 1 });
    expect((await runCli(['enqueue', manifest, '--batch', 'b'], world.env, world.dir)).code).toBe(0);
    const child = spawnCli(['worker'], world.env, world.dir);
    const done = collect(child, 60_000);
    await expect.poll(() => world!.fake.inspect().inFlight, { timeout: 20_000 }).toBe(1);

    child.kill('SIGINT');
    // Still draining: the process waits for its upload. (A deliberate window: this checks that
    // nothing happens for a while, which no poll can show.)
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(child.exitCode).toBeNull();
    const secondAt = Date.now();
    child.kill('SIGINT');
    const exit = await done;
    expect(exit.signal ?? exit.code).not.toBe(0);
    expect(Date.now() - secondAt).toBeLessThan(5_000);
  }, 60_000);
});
