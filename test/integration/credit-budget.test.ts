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
import { enqueueManifest, silentLogger, withQueue } from '../helpers/queue-runs.js';
import { testRedis } from '../helpers/redis.js';

let world: PipelineWorld | undefined;
afterEach(async () => {
  await world?.cleanup();
  world = undefined;
});

const HOUR = 3_600_000;

describe('the credit budget', () => {
  it('counts by hour, forgets what left the 24 hours, and says when the oldest hour leaves', async () => {
    world = await createPipelineWorld();
    const redis = testRedis();
    try {
      let now = 100 * 24 * HOUR + 30 * 60_000;
      const meter = new CreditMeter(redis, keyNames(world.queueName), () => now);
      for (let i = 0; i < 3; i++) meter.count();
      await meter.flush();
      now += 5 * HOUR;
      meter.count();
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

  it('pauses the queue once the budget is spent, says so in status, and resumes by itself when the window frees', async () => {
    world = await createPipelineWorld({
      fake: { latencyMs: 30 },
      env: { ZOHO_ATTACH_CREDIT_BUDGET: '5', ZOHO_CONCURRENCY: '1' },
    });
    const lines = ['module,record_id,link_url'];
    for (let i = 1; i <= 12; i++) lines.push(`Leads,${500 + i},https://example.com/doc/${i}`);
    await enqueueManifest(world, await world.writeFile('m.csv', `${lines.join('\n')}\n`), 'budgeted');
    const worker = await startUploadWorker({ config: world.config, logger: silentLogger, creditCheckMs: 100 });
    try {
      const w = world;
      await withQueue(w, async (uploadQueue) => {
        await expect
          .poll(async () => (await uploadQueue.pauseControl.status()).reason?.code, { timeout: 15_000 })
          .toBe('CREDIT_BUDGET_SPENT');
        const { reason } = await uploadQueue.pauseControl.status();
        expect(reason?.message).toMatch(/^\d+ API credits spent in the last 24 hours; ZOHO_ATTACH_CREDIT_BUDGET is 5$/);
        expect(reason?.hint).toMatch(/resume by themselves when the oldest hour leaves the 24-hour window/);
        // The calls in flight when it tripped finish; then nothing more is sent.
        await expect.poll(() => worker.inFlight()).toBe(0);
        const stored = w.fake.inspect().attachments.length;
        expect(stored).toBeGreaterThanOrEqual(4);
        expect(stored).toBeLessThan(12);
        const status = await runCli(['status'], w.env, w.dir);
        expect(status.stdout).toMatch(/API credits spent in the last 24 hours: \d+ of a budget of 5/);
        // Every request the fake received was counted, for the deployment and for the batch.
        await expect
          .poll(async () => (await uploadQueue.ledger.getBatch('budgeted'))?.credits)
          .toBe(Object.values(w.fake.inspect().calls).reduce((sum, n) => sum + n, 0) + w.fake.inspect().coqlCalls);
        expect(status.stdout).toMatch(/batch budgeted: .* \d+ API credits/);
        expect(status.stdout).toContain('PAUSED');

        // A day later (the hour slots moved back 25 hours): the worker resumes by itself.
        const redis = testRedis();
        try {
          const key = keyNames(w.queueName).creditsSpent;
          const slots = await redis.hgetall(key);
          await redis.del(key);
          for (const [slot, count] of Object.entries(slots)) await redis.hset(key, String(Number(slot) - 25), count);
        } finally {
          redis.disconnect();
        }
        await expect
          .poll(async () => (await uploadQueue.pauseControl.status()).paused, { timeout: 10_000 })
          .toBe(false);
        await expect.poll(() => w.fake.inspect().attachments.length, { timeout: 10_000 }).toBeGreaterThan(stored);
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
