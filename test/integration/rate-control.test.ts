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
  it('doubles the shared pause with each round of 429s, caps it, and a success resets it', async () => {
    let now = 1_000_000;
    const clock = () => now;
    const control = new RateControl(redis, keyNames(name), { firstPauseMs: 100, maxPauseMs: 1_000 }, clock);
    // A second instance stands for another worker process: the streak is shared.
    const other = new RateControl(redis, keyNames(name), { firstPauseMs: 100, maxPauseMs: 1_000 }, clock);
    // Each 429 comes after the previous pause ended: a new round, so the pause doubles.
    for (const [instance, expected] of [[control, 100], [other, 200], [control, 400], [other, 800], [control, 1_000]] as const) {
      expect(await instance.onRateLimited(undefined)).toBe(expected);
      now += expected;
    }
    expect(await control.onSuccess(undefined)).toBe(0);
    expect(await other.onRateLimited(undefined)).toBe(100);
  });

  it('does not lengthen the pause for 429s of calls that were in flight when it began', async () => {
    // Regression (chaos run): with N uploads in flight, one burst of 429s is N answers at once;
    // doubling per answer paused every worker for 2^(N-1) s (a minute for N >= 7) after a burst
    // of a few milliseconds.
    let now = 1_000_000;
    const clock = () => now;
    const control = new RateControl(redis, keyNames(name), { firstPauseMs: 1_000, maxPauseMs: 60_000 }, clock);
    const other = new RateControl(redis, keyNames(name), { firstPauseMs: 1_000, maxPauseMs: 60_000 }, clock);
    expect(await control.onRateLimited(undefined)).toBe(1_000);
    for (let i = 0; i < 9; i++) {
      now += 10;
      // The rest of the burst: the time left of the same pause, never more.
      expect(await (i % 2 ? control : other).onRateLimited(undefined)).toBe(1_000 - 10 * (i + 1));
    }
    // Still refused once the pause is over: the next round doubles.
    now = 1_000_000 + 1_000;
    expect(await other.onRateLimited(undefined)).toBe(2_000);
  });

  it('forgets a streak counter left by an older version instead of failing on it', async () => {
    await redis.set(keyNames(name).rateLimitStreak, '7');
    const control = new RateControl(redis, keyNames(name), { firstPauseMs: 100 });
    expect(await control.onRateLimited(undefined)).toBe(100);
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
