/**
 * The credit budget (ZOHO_ATTACH_CREDIT_BUDGET): the requests a deployment sends are counted in
 * Redis by hour; once the last 24 hours hold the budget, a worker pauses the queue with the reason,
 * and resumes it by itself when the window frees. Real Redis, the fake Zoho over HTTP.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CreditMeter } from '../../src/queue/credit-budget.js';
import { startUploadWorker } from '../../src/queue/upload-worker.js';
import { keyNames } from '../../src/shared/key-names.js';
import { createPipelineWorld, runCli, type PipelineWorld } from '../helpers/pipeline.js';
import { enqueueManifest, runWorkersUntilIdle, silentLogger, withQueue } from '../helpers/queue-runs.js';
import { testRedis } from '../helpers/redis.js';

let world: PipelineWorld | undefined;
afterEach(async () => {
  await world?.cleanup();
  world = undefined;
});

const HOUR = 3_600_000;

describe('the credit budget', () => {
  it("counts each request against the batch it is made for: an enqueue's look-ups, the uploads, a check and an undo", async () => {
    const w = await createPipelineWorld();
    world = w;
    for (let i = 1; i <= 3; i++) w.fake.records.add({ module: 'Leads', fields: { Legacy_Id: `L-${i}` } });
    const lines = ['module,lookup_field,lookup_value,link_url'];
    for (let i = 1; i <= 3; i++) lines.push(`Leads,Legacy_Id,L-${i},https://example.com/doc/${i}`);
    const manifest = await w.writeFile('mapped.csv', `${lines.join('\n')}\n`);
    // Another batch's uploads, at the same time as the check's listings: none of them may count for "mapped".
    const other = await w.writeFile('other.csv', 'module,record_id,link_url\nLeads,900,https://example.com/other\n');

    /** Requests the fake has answered so far, COQL queries included. */
    const requests = () => {
      const seen = w.fake.inspect();
      return Object.values(seen.calls).reduce((sum, n) => sum + n, 0) + seen.coqlCalls;
    };
    const credits = (batch: string) => withQueue(w, async (q) => (await q.ledger.getBatch(batch))?.credits ?? 0);

    expect((await runCli(['enqueue', manifest, '--batch', 'mapped'], w.env, w.dir)).code).toBe(0);
    expect(await credits('mapped')).toBe(1); // one COQL query for the three values
    await runWorkersUntilIdle(w);
    expect(await credits('mapped')).toBe(4); // and three uploads
    await enqueueManifest(w, other, 'other');
    const [check] = await Promise.all([runCli(['check', '--batch', 'mapped'], w.env, w.dir), runWorkersUntilIdle(w)]);
    expect(check.code).toBe(0);
    expect(await credits('mapped')).toBe(7); // and three listings
    expect((await runCli(['undo', '--batch', 'mapped', '--yes'], w.env, w.dir)).code).toBe(0);
    expect(await credits('mapped')).toBe(10); // and three deletions
    expect(await credits('other')).toBe(1);
    expect(requests()).toBe(11);
  });

  it('counts by hour, forgets what left the 24 hours, and says when the oldest hour leaves', async () => {
    world = await createPipelineWorld();
    const redis = testRedis();
    try {
      let now = 100 * 24 * HOUR + 30 * 60_000;
      const meter = new CreditMeter(redis, keyNames(world.queueName), () => now);
      for (let i = 0; i < 3; i++) meter.count(undefined);
      await meter.flush();
      now += 5 * HOUR;
      meter.count(undefined);
      await meter.flush();
      expect(await meter.spent()).toEqual({ credits: 4, oldestLeavesAt: 100 * 24 * HOUR + HOUR + 24 * HOUR });
      now += 20 * HOUR;
      // 25 hours after the first hour: only the later one counts.
      expect(await meter.spent()).toMatchObject({ credits: 1 });
      expect(await redis.hlen(keyNames(world.queueName).creditsSpent)).toBe(1);
    } finally {
      redis.disconnect();
    }
  });

  it('holds a batch once it spent its budget while another batch goes on, says so in status, and releases it when its window frees', async () => {
    world = await createPipelineWorld({
      fake: { latencyMs: 30 },
      env: { ZOHO_ATTACH_CREDIT_BUDGET: '5', ZOHO_CONCURRENCY: '1', ZOHO_ATTACH_FEED_WINDOW: '4' },
    });
    const manifest = async (name: string, first: number, rows: number) => {
      const lines = ['module,record_id,link_url'];
      for (let i = 0; i < rows; i++) lines.push(`Leads,${first + i},https://example.com/${name}/${i}`);
      return world!.writeFile(`${name}.csv`, `${lines.join('\n')}\n`);
    };
    await enqueueManifest(world, await manifest('big', 500, 12), 'big');
    const worker = await startUploadWorker({ config: world.config, logger: silentLogger, creditCheckMs: 100 });
    try {
      const w = world;
      const onRecords = (from: number, to: number) =>
        w.fake.inspect().attachments.filter((a) => Number(a.recordId) >= from && Number(a.recordId) < to).length;
      await withQueue(w, async (uploadQueue) => {
        const redis = uploadQueue.redis;
        const held = () => redis.hget(keyNames(w.queueName).heldBatches, 'big');
        await expect.poll(held, { timeout: 15_000 }).not.toBeNull();
        expect(JSON.parse((await held())!)).toMatchObject({ budget: 5 });
        // Its calls in flight finish; then it sends nothing more, while the queue is not paused.
        await expect.poll(() => worker.inFlight()).toBe(0);
        const stored = onRecords(500, 512);
        expect(stored).toBeGreaterThanOrEqual(4);
        expect(stored).toBeLessThan(12);
        expect((await uploadQueue.pauseControl.status()).paused).toBe(false);

        // Another batch, enqueued now, is uploaded whole meanwhile.
        await enqueueManifest(w, await manifest('small', 700, 3), 'small');
        await expect.poll(() => onRecords(700, 703), { timeout: 15_000 }).toBe(3);
        expect(onRecords(500, 512)).toBe(stored);
        const status = await runCli(['status'], w.env, w.dir);
        expect(status.stdout).toMatch(
          /batch big: .*\n {2}HELD: \d+ API credits spent for it in the last 24 hours, ZOHO_ATTACH_CREDIT_BUDGET is 5; it goes on by itself/,
        );
        expect(status.stdout).toMatch(/API credits spent in the last 24 hours: \d+ of a budget of 5/);

        // Every request the fake received was counted, for the deployment and for each batch.
        const total = Object.values(w.fake.inspect().calls).reduce((sum, n) => sum + n, 0);
        await expect
          .poll(
            async () =>
              ((await uploadQueue.ledger.getBatch('big'))?.credits ?? 0) +
              ((await uploadQueue.ledger.getBatch('small'))?.credits ?? 0),
          )
          .toBe(total);

        // A day later (the batch's hour slots moved back 25 hours): the worker releases it by itself.
        const key = keyNames(w.queueName).batchCreditSlots('big');
        const slots = await redis.hgetall(key);
        await redis.del(key);
        for (const [slot, count] of Object.entries(slots)) await redis.hset(key, String(Number(slot) - 25), count);
        await expect.poll(held, { timeout: 10_000 }).toBeNull();
        await expect.poll(() => onRecords(500, 512), { timeout: 60_000 }).toBeGreaterThan(stored);
      });
    } finally {
      await worker.close();
    }
  });

  it("also pauses when Zoho's X-API-CREDITS-REMAINING says the org is down to the reserve", async () => {
    // The org's day has 30 credits; Zoho reports what is left once half are spent.
    world = await createPipelineWorld({
      fake: { latencyMs: 20, dailyCredits: 30 },
      env: { ZOHO_ATTACH_CREDIT_BUDGET: '1000', ZOHO_ATTACH_CREDITS_RESERVE: '10', ZOHO_CONCURRENCY: '1' },
    });
    const lines = ['module,record_id,link_url'];
    for (let i = 1; i <= 28; i++) lines.push(`Leads,${600 + i},https://example.com/doc/${i}`);
    await enqueueManifest(world, await world.writeFile('m.csv', `${lines.join('\n')}\n`), 'org-low');
    const worker = await startUploadWorker({ config: world.config, logger: silentLogger, creditCheckMs: 100 });
    try {
      await withQueue(world, async (uploadQueue) => {
        await expect
          .poll(async () => (await uploadQueue.pauseControl.status()).reason?.message ?? '', { timeout: 15_000 })
          .toMatch(
            /^Zoho says the org has \d+ API credits left \(X-API-CREDITS-REMAINING\), at or below ZOHO_ATTACH_CREDITS_RESERVE \(10\)/,
          );
      });
      await expect.poll(() => worker.inFlight()).toBe(0);
      // Paused before the org's credits ran out: nothing was refused for lack of them.
      expect(world.fake.inspect().attachments.length).toBeLessThan(28);
      expect(world.fake.inspect().counters['429 TOO_MANY_REQUESTS'] ?? 0).toBe(0);
    } finally {
      await worker.close();
    }
  });
});
