/** The shared 429 back-off and low-credit slowdown, on a real Redis. */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RateControl } from '../../src/queue/rate-control.js';
import { keyNames } from '../../src/shared/key-names.js';
import { deleteKeysContaining, testRedis, uniqueName } from '../helpers/redis.js';

const redis = testRedis();
let name: string;
beforeEach(() => {
  name = uniqueName('rate');
});
afterEach(async () => {
  await deleteKeysContaining(redis, name);
});

describe('RateControl', () => {
  it('doubles the shared pause while 429s keep coming, caps it, and a success resets it', async () => {
    const control = new RateControl(redis, keyNames(name), { firstPauseMs: 100, maxPauseMs: 1_000 });
    // A second instance stands for another worker process: the streak is shared.
    const other = new RateControl(redis, keyNames(name), { firstPauseMs: 100, maxPauseMs: 1_000 });
    expect(await control.onRateLimited(undefined)).toBe(100);
    expect(await other.onRateLimited(undefined)).toBe(200);
    expect(await control.onRateLimited(undefined)).toBe(400);
    expect(await other.onRateLimited(undefined)).toBe(800);
    expect(await control.onRateLimited(undefined)).toBe(1_000);
    expect(await control.onSuccess(undefined)).toBe(0);
    expect(await other.onRateLimited(undefined)).toBe(100);
  });

  it('reads a 429 with credits near zero as "the day is spent" and pauses long', async () => {
    const control = new RateControl(redis, keyNames(name), { creditsExhaustedPauseMs: 900_000 });
    expect(await control.onRateLimited(3)).toBe(900_000);
    expect(await control.lastCredits()).toMatchObject({ remaining: 3 });
  });

  it('spaces uploads out as credits fall below the reserve', async () => {
    const control = new RateControl(redis, keyNames(name), { creditsReserve: 1_000, lowCreditsMaxPauseMs: 60_000 });
    expect(await control.onSuccess(5_000)).toBe(0);
    expect(await control.onSuccess(1_000)).toBe(0);
    expect(await control.onSuccess(500)).toBe(30_000);
    expect(await control.onSuccess(0)).toBe(60_000);
    expect(await control.lastCredits()).toMatchObject({ remaining: 0 });
  });
});

afterAll(() => redis.disconnect());
