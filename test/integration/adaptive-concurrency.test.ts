/**
 * ZOHO_CONCURRENCY set above what the org allows: the shared limit settles at Zoho's, with a
 * handful of 429s, instead of a stall per round (real workers, real Redis, the fake over HTTP).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createPipelineWorld, runCli, type PipelineWorld } from '../helpers/pipeline.js';
import { enqueueManifest, runWorkersUntilIdle, withQueue } from '../helpers/queue-runs.js';
import { AdaptiveConcurrency } from '../../src/queue/adaptive-concurrency.js';
import { keyNames } from '../../src/shared/key-names.js';

let world: PipelineWorld | undefined;
afterEach(async () => {
  await world?.cleanup();
  world = undefined;
});

describe('adaptive concurrency', () => {
  it('with ZOHO_CONCURRENCY 12 and Zoho allowing 4, settles at 4 with few 429s and uploads everything once', async () => {
    world = await createPipelineWorld({
      fake: { concurrencyLimit: 4, latencyMs: 40 },
      env: { ZOHO_CONCURRENCY: '12' },
    });
    const lines = ['module,record_id,link_url'];
    for (let i = 1; i <= 120; i++) lines.push(`Leads,${1000 + i},https://example.com/doc/${i}`);
    const manifest = await world.writeFile('m.csv', `${lines.join('\n')}\n`);
    await enqueueManifest(world, manifest, 'aimd');
    await runWorkersUntilIdle(world, { count: 2, timeoutMs: 60_000 });

    const fake = world.fake.inspect();
    expect(fake.attachments).toHaveLength(120);
    const refused = fake.counters['429 TOO_MANY_REQUESTS'] ?? 0;
    // The first rounds shed the excess (8 calls, at most halving per round); a probe above 4 now and then costs one more each.
    expect(refused).toBeGreaterThanOrEqual(1);
    expect(refused).toBeLessThanOrEqual(25);
    const { limit, max } = await withQueue(world, (queue) => queue.rateControl.concurrency.current());
    expect(max).toBe(12);
    expect(limit).toBeGreaterThanOrEqual(3);
    expect(limit).toBeLessThanOrEqual(5);
    const status = await runCli(['status'], world.env, world.dir);
    expect(status.stdout).toContain(`uploads in flight: at most ${limit} (Zoho refused more; ZOHO_CONCURRENCY is 12)`);
  });

  it('follows the run window without a restart: a lower cap at once, a higher one by probing; status names the window', async () => {
    world = await createPipelineWorld({ env: { ZOHO_CONCURRENCY: '10', ZOHO_ATTACH_WINDOWS: '*=4' } });
    const keys = keyNames(world.queueName);
    await withQueue(world, async (uploadQueue) => {
      // The timetable as the clock moves through it: 10 in flight, then a business-hours window of 3.
      let windowNow = 10;
      const concurrency = new AdaptiveConcurrency(uploadQueue.redis, keys, () => windowNow);
      const bullmqLimit = async () => Number(await uploadQueue.redis.hget(keys.queueMeta, 'concurrency'));
      expect(await concurrency.init()).toBe(10);
      expect(await bullmqLimit()).toBe(10);
      windowNow = 3;
      // A worker's timer sends init: the lower cap is BullMQ's global concurrency at once.
      expect(await concurrency.init()).toBe(3);
      expect(await bullmqLimit()).toBe(3);
      expect(await concurrency.onSuccess(50)).toBe(3);
      // Business hours end: the cap is raised, and reached a window of successes at a time.
      windowNow = 10;
      expect(await concurrency.init()).toBe(3);
      expect(await concurrency.onSuccess(3)).toBe(4);
      expect(await concurrency.onSuccess(4)).toBe(5);
      expect(await bullmqLimit()).toBe(5);
      // The queue's own limit takes its cap from the configured timetable (*=4), as a worker's timer applies it.
      expect(await uploadQueue.rateControl.concurrency.init()).toBe(4);
      expect(await bullmqLimit()).toBe(4);
    });
    const status = await runCli(['status'], world.env, world.dir);
    expect(status.stdout).toContain('run window: *=4 (ZOHO_ATTACH_WINDOWS): at most 4 uploads in flight now');
  });

  it('lends slots to check and undo: the workers get the limit minus what is borrowed, back when returned or expired', async () => {
    world = await createPipelineWorld({ env: { ZOHO_CONCURRENCY: '10' } });
    const keys = keyNames(world.queueName);
    await withQueue(world, async (uploadQueue) => {
      let now = 1_000_000;
      const concurrency = new AdaptiveConcurrency(uploadQueue.redis, keys, 10, {}, () => now);
      const workersLimit = async () => Number(await uploadQueue.redis.hget(keys.queueMeta, 'concurrency'));
      await concurrency.init();
      await concurrency.borrow('undo:a', 2, 30_000);
      expect(await workersLimit()).toBe(8);
      await concurrency.borrow('check:b', 3, 10_000);
      expect(await workersLimit()).toBe(5);
      // The shared limit itself is unchanged (status shows it); successes do not give the slots away.
      expect((await concurrency.current()).limit).toBe(10);
      await concurrency.onSuccess(20);
      expect(await workersLimit()).toBe(5);
      await concurrency.giveBack('undo:a');
      expect(await workersLimit()).toBe(7);
      // A holder that died: its slots come back once its lease runs out.
      now += 10_001;
      await concurrency.init();
      expect(await workersLimit()).toBe(10);
      expect(await uploadQueue.redis.hlen(keys.borrowedConcurrency)).toBe(0);
      // Never below one slot for the workers.
      await concurrency.borrow('undo:big', 25);
      expect(await workersLimit()).toBe(1);
      await concurrency.whileBorrowing('check:c', 4, async () => expect(await workersLimit()).toBe(1));
      await concurrency.giveBack('undo:big');
      expect(await workersLimit()).toBe(10);
    });
  });
});
