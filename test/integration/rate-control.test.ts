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

describe('RateControl: adaptive concurrency', () => {
  const meta = () => redis.hget(keyNames(name).queueMeta, 'concurrency');

  it('a round of 429s lowers the shared limit by one per refusal, at most to half, without pausing anyone', async () => {
    let now = 1_000_000;
    const control = new RateControl(redis, keyNames(name), { maxConcurrency: 20 }, () => now);
    expect(await control.concurrency.init()).toBe(20);
    expect(await meta()).toBe('20');
    // Zoho allows 10: ten calls of the twenty in flight are refused, together.
    for (let i = 0; i < 10; i++) {
      now += 5;
      expect(await control.onRateLimited(undefined)).toBe(0);
    }
    expect(await control.concurrency.current()).toMatchObject({ limit: 10, max: 20, ceiling: 11 });
    expect(await meta()).toBe('10');
    // More refusals in the same round cannot take it below half: answers to calls already sent.
    expect(await control.onRateLimited(undefined)).toBe(0);
    expect((await control.concurrency.current()).limit).toBe(10);
  });

  it('grows by one per window of successes, probes above the level that drew a 429 after windows that double, never above the maximum', async () => {
    let now = 1_000_000;
    const control = new RateControl(
      redis,
      keyNames(name),
      { maxConcurrency: 12, adaptive: { firstProbeWindows: 2 }, successFlushMs: 0 },
      () => now,
    );
    await control.concurrency.init();
    for (let i = 0; i < 3; i++) await control.onRateLimited(undefined); // 12 → 9, ceiling 10
    expect(await control.concurrency.current()).toMatchObject({ limit: 9, ceiling: 10 });
    const successes = async (n: number) => {
      for (let i = 0; i < n; i++) await control.onSuccess(undefined);
      return (await control.concurrency.current()).limit;
    };
    expect(await successes(9)).toBe(9); // one window at 9: the next step (10) is the refused level, so it waits
    expect(await successes(9)).toBe(10); // two windows (firstProbeWindows): probe at 10
    now += 10_000;
    await control.onRateLimited(undefined); // refused again at 10: back to 9, and the next probe waits twice as long
    expect(await control.concurrency.current()).toMatchObject({ limit: 9, ceiling: 10 });
    expect(await successes(27)).toBe(9);
    expect(await successes(9)).toBe(10); // four windows
    expect(await successes(10)).toBe(11); // a whole window at 10 without a 429: the level is good, growth goes on
    expect(await successes(11)).toBe(12);
    expect(await successes(100)).toBe(12); // never above ZOHO_CONCURRENCY
    expect(await meta()).toBe('12');
  });

  it('writes successes together: many in a flush window are one step, counted in full', async () => {
    let now = 1_000_000;
    const control = new RateControl(redis, keyNames(name), { maxConcurrency: 12, successFlushMs: 60_000 }, () => now);
    await control.concurrency.init();
    for (let i = 0; i < 3; i++) await control.onRateLimited(undefined); // 12 → 9
    for (let i = 0; i < 8; i++) await control.onSuccess(undefined);
    // Nothing written yet: the window is a minute long here.
    expect(await redis.hget(keyNames(name).adaptiveConcurrency, 'successes')).toBe('0');
    await control.flush();
    expect(await redis.hget(keyNames(name).adaptiveConcurrency, 'successes')).toBe('8');
    await control.onSuccess(undefined);
    await control.flush();
    expect(await redis.hget(keyNames(name).adaptiveConcurrency, 'successes')).toBe('9');
    // A flush with nothing counted writes nothing.
    now += 1;
    await control.flush();
    expect(await redis.hget(keyNames(name).adaptiveConcurrency, 'successes')).toBe('9');
  });

  it("writes a flush in one command: the successes, the streak's end and the credits figure", async () => {
    const keys = keyNames(name);
    const control = new RateControl(redis, keys, { maxConcurrency: 12, successFlushMs: 60_000 });
    await control.concurrency.init();
    await redis.hset(keys.rateLimitStreak, 'streak', 3, 'until', 0);
    // The first call of a script may load it (EVALSHA, then EVAL): warm it up.
    await control.onSuccess(900);
    await control.flush();

    const sent = await commandsSentWhile(name, async () => {
      await control.onSuccess(800);
      await control.onSuccess(700);
      await control.flush();
    });
    expect(sent).toHaveLength(1);
    expect(sent[0]?.[0]).toMatch(/^eval/);
    expect(await redis.hget(keys.adaptiveConcurrency, 'successes')).toBe('3');
    expect(await redis.exists(keys.rateLimitStreak)).toBe(0);
    expect(await control.lastCredits()).toMatchObject({ remaining: 700 });
  });

  it('is shared by every worker, and a worker starting does not reset it', async () => {
    let now = 1_000_000;
    const first = new RateControl(redis, keyNames(name), { maxConcurrency: 20 }, () => now);
    await first.concurrency.init();
    for (let i = 0; i < 6; i++) {
      now += 1;
      await first.onRateLimited(undefined);
    }
    const second = new RateControl(redis, keyNames(name), { maxConcurrency: 20 }, () => now);
    expect(await second.concurrency.init()).toBe(14);
    await second.onRateLimited(undefined);
    expect((await first.concurrency.current()).limit).toBe(13);
    // A lower ZOHO_CONCURRENCY is obeyed at once.
    const lowered = new RateControl(redis, keyNames(name), { maxConcurrency: 5 }, () => now);
    expect(await lowered.concurrency.init()).toBe(5);
    expect(await meta()).toBe('5');
  });
});

describe('RateControl: back-off when the limit cannot go lower', () => {
  it('doubles the shared pause with each round of 429s, caps it, and a success resets it', async () => {
    let now = 1_000_000;
    const clock = () => now;
    // At a limit of 1 a 429 cannot lower it: the callers back off.
    const control = new RateControl(
      redis,
      keyNames(name),
      { maxConcurrency: 1, firstPauseMs: 100, maxPauseMs: 1_000, successFlushMs: 0 },
      clock,
    );
    // A second instance stands for another worker process: the streak is shared.
    const other = new RateControl(
      redis,
      keyNames(name),
      { maxConcurrency: 1, firstPauseMs: 100, maxPauseMs: 1_000 },
      clock,
    );
    // Each 429 comes after the previous pause ended: a new round, so the pause doubles.
    for (const [instance, expected] of [
      [control, 100],
      [other, 200],
      [control, 400],
      [other, 800],
      [control, 1_000],
    ] as const) {
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
    const control = new RateControl(
      redis,
      keyNames(name),
      { maxConcurrency: 1, firstPauseMs: 1_000, maxPauseMs: 60_000 },
      clock,
    );
    const other = new RateControl(
      redis,
      keyNames(name),
      { maxConcurrency: 1, firstPauseMs: 1_000, maxPauseMs: 60_000 },
      clock,
    );
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
    const control = new RateControl(redis, keyNames(name), { maxConcurrency: 1, firstPauseMs: 100 });
    expect(await control.onRateLimited(undefined)).toBe(100);
  });
});

describe('RateControl: credits', () => {
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
    // Written with the next flush of successes: the last figure of the window.
    await control.flush();
    expect(await control.lastCredits()).toMatchObject({ remaining: 0 });
  });
});

/** The commands clients sent (not those scripts ran) that name a key holding `keyPart`, while `run` ran. */
async function commandsSentWhile(keyPart: string, run: () => Promise<void>): Promise<string[][]> {
  const client = testRedis();
  const monitor = await client.monitor();
  const sent: string[][] = [];
  const endMark = `${keyPart}:end-of-run`;
  let ended!: () => void;
  const endSeen = new Promise<void>((resolve) => (ended = resolve));
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    if (args.includes(endMark)) ended();
    else if (source !== 'lua' && args.some((arg) => arg.includes(keyPart))) sent.push(args);
  });
  try {
    await run();
    await redis.get(endMark);
    await endSeen;
    return sent;
  } finally {
    monitor.disconnect();
    client.disconnect();
  }
}

afterAll(() => redis.disconnect());
