/**
 * How hard to slow down when Zoho pushes back. Every worker shares the answer through
 * Redis. A 429 for too many calls in flight lowers the shared concurrency limit (see
 * adaptive-concurrency.ts) instead of pausing everyone; a pause (applied with
 * `queue.rateLimit(ms)` by the caller) is left for when the limit cannot go lower, for
 * exhausted credits, and for spacing uploads out when credits run low.
 */
import type { Redis } from 'ioredis';
import type { KeyNames } from '../shared/key-names.js';
import { ADAPT_LUA, AdaptiveConcurrency, type AdaptiveConcurrencyOptions } from './adaptive-concurrency.js';

/** Tuning for {@link RateControl}. */
export interface RateControlOptions {
  /**
   * `ZOHO_CONCURRENCY`, or a function giving what the run window allows now: the most uploads in
   * flight the adaptive limit allows. @defaultValue 10
   */
  maxConcurrency?: number | (() => number);
  /** Tuning of the adaptive concurrency limit. */
  adaptive?: AdaptiveConcurrencyOptions;
  /**
   * Pause after a 429 that the concurrency limit cannot answer (it is at its lowest already);
   * doubles with each further round. @defaultValue 1000
   */
  firstPauseMs?: number;
  /** The longest pause for a run of 429s. @defaultValue 60000 */
  maxPauseMs?: number;
  /**
   * Below this many `X-API-CREDITS-REMAINING`, uploads are spaced out so the org keeps
   * credits for its other integrations. @defaultValue 1000
   */
  creditsReserve?: number;
  /** The spacing at zero credits left; it grows linearly as credits fall below the reserve. @defaultValue 60000 */
  lowCreditsMaxPauseMs?: number;
  /** Pause when a 429 comes with credits at or near zero: the daily window will not free up soon. @defaultValue 900000 */
  creditsExhaustedPauseMs?: number;
  /**
   * Successes are counted locally and written to Redis together at most this often (0: each at
   * once). Each success used to cost a script call and two commands; at 20 uploads a second
   * this writes 10 times a second instead, one script call each. A success only grows the limit
   * or ends a 429 streak, so writing it up to this late changes nothing that matters.
   * @defaultValue 100
   */
  successFlushMs?: number;
}

const DEFAULTS: Required<Omit<RateControlOptions, 'adaptive'>> = {
  maxConcurrency: 10,
  firstPauseMs: 1_000,
  maxPauseMs: 60_000,
  creditsReserve: 1_000,
  lowCreditsMaxPauseMs: 60_000,
  creditsExhaustedPauseMs: 900_000,
  successFlushMs: 100,
};

/** Credits at or below which a 429 is read as "the day's credits are gone", not "too many in flight". */
const EXHAUSTED_CREDITS = 10;

/**
 * One step of the shared back-off, atomically. The streak key is a hash: `streak` (rounds of
 * 429s in a row) and `until` (when the current pause ends). A 429 that arrives before `until`
 * answers a call that was already in flight when the pause began — the same round, so it does
 * not double the pause again; it gets the time left. Otherwise a new round: streak + 1.
 * KEYS[1] streak. ARGV: now, firstPauseMs, maxPauseMs, ttlMs. Returns the pause in ms.
 */
const RATE_LIMITED_LUA = `
local now, first, max, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
-- A streak left by an older version (a plain counter) is forgotten rather than failed on.
if redis.call('TYPE', KEYS[1]).ok ~= 'hash' then redis.call('DEL', KEYS[1]) end
local pauseUntil = tonumber(redis.call('HGET', KEYS[1], 'until') or '0')
if now < pauseUntil then return pauseUntil - now end
local streak = redis.call('HINCRBY', KEYS[1], 'streak', 1)
local pause = math.min(first * 2 ^ math.min(streak - 1, 30), max)
redis.call('HSET', KEYS[1], 'until', now + pause)
redis.call('PEXPIRE', KEYS[1], ttl)
return pause
`;

/**
 * A flush of successes, in one call: a success ends a 429 streak and brings Zoho's last credits
 * figure, then the shared limit takes the successes (adaptive-concurrency.ts's script, whose keys
 * and arguments come first). KEYS[4] streak, KEYS[5] credits; ARGV[8] the credits figure ('' when
 * Zoho sent none). Returns what that script returns.
 */
const SUCCESSES_LUA = `
redis.call('DEL', KEYS[4])
if ARGV[8] ~= '' then redis.call('HSET', KEYS[5], 'remaining', ARGV[8], 'at', ARGV[3]) end
${ADAPT_LUA}`;

type RateControlRedis = Redis & {
  rateControlSuccesses(...keysThenArgs: (string | number)[]): Promise<[number, number]>;
  rateControlOnRateLimited(
    streakKey: string,
    now: number,
    firstPauseMs: number,
    maxPauseMs: number,
    ttlMs: number,
  ): Promise<number>;
};

/** Shared state for slowing down on 429s and low credits. */
export class RateControl {
  private readonly options: Required<Omit<RateControlOptions, 'adaptive'>>;
  private readonly redis: RateControlRedis;
  /** The concurrency limit every worker shares. */
  readonly concurrency: AdaptiveConcurrency;
  /** Successes not yet written (see {@link RateControlOptions.successFlushMs}), and the last credits figure among them. */
  private pending: { successes: number; credits: number | undefined } = { successes: 0, credits: undefined };
  private flushTimer: NodeJS.Timeout | undefined;

  constructor(
    redis: Redis,
    private readonly keys: KeyNames,
    options: RateControlOptions = {},
    private readonly now: () => number = Date.now,
  ) {
    const { adaptive, ...rest } = options;
    this.options = { ...DEFAULTS, ...rest };
    // Scripts are defined per connection; defining twice is harmless.
    redis.defineCommand('rateControlOnRateLimited', { lua: RATE_LIMITED_LUA, numberOfKeys: 1 });
    redis.defineCommand('rateControlSuccesses', { lua: SUCCESSES_LUA, numberOfKeys: 5 });
    this.redis = redis as RateControlRedis;
    this.concurrency = new AdaptiveConcurrency(redis, keys, this.options.maxConcurrency, adaptive, now);
  }

  /**
   * Records a 429 and returns how long every worker should pause (0: none). Credits at or near
   * zero mean the day's budget is spent: a long pause. Otherwise the 429 is "too many in flight":
   * the shared concurrency limit comes down, and nobody pauses — unless the limit is 1 already,
   * when the pause doubles with each round of 429s (a round: the answers to calls
   * that were in flight together, not each answer; with N in flight, doubling per answer would
   * turn one burst into a 2^(N-1) s stall).
   */
  async onRateLimited(creditsRemaining: number | undefined): Promise<number> {
    await this.recordCredits(creditsRemaining);
    if (creditsRemaining !== undefined && creditsRemaining <= EXHAUSTED_CREDITS)
      return this.options.creditsExhaustedPauseMs;
    const { stuck } = await this.concurrency.onRateLimited();
    if (!stuck) return 0;
    const { firstPauseMs, maxPauseMs } = this.options;
    return this.redis.rateControlOnRateLimited(
      this.keys.rateLimitStreak,
      this.now(),
      firstPauseMs,
      maxPauseMs,
      maxPauseMs * 2,
    );
  }

  /**
   * Records a success (the limit may grow, a 429 streak ends), written with the others of the
   * next `successFlushMs`; returns a pause (ms) when credits run low, else 0.
   */
  async onSuccess(creditsRemaining: number | undefined): Promise<number> {
    this.pending.successes++;
    if (creditsRemaining !== undefined) this.pending.credits = creditsRemaining;
    if (this.options.successFlushMs === 0) await this.flush();
    else if (this.flushTimer === undefined) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = undefined;
        // Redis away: these successes are not counted. They only grow the limit, which the next ones do too.
        this.flush().catch(() => undefined);
      }, this.options.successFlushMs);
      this.flushTimer.unref();
    }
    return this.lowCreditsPause(creditsRemaining);
  }

  /** Writes the successes counted since the last write: one script call, whatever their number. */
  async flush(): Promise<void> {
    const { successes, credits } = this.pending;
    this.pending = { successes: 0, credits: undefined };
    if (successes === 0) return;
    const { keys, args } = this.concurrency.adaptArguments('success', successes);
    await this.redis.rateControlSuccesses(
      ...keys,
      this.keys.rateLimitStreak,
      this.keys.credits,
      ...args,
      credits === undefined ? '' : credits,
    );
  }

  /** The spacing for a given number of credits left (0 when above the reserve or unknown). */
  lowCreditsPause(creditsRemaining: number | undefined): number {
    const { creditsReserve, lowCreditsMaxPauseMs } = this.options;
    if (creditsRemaining === undefined || creditsRemaining >= creditsReserve) return 0;
    return Math.ceil((lowCreditsMaxPauseMs * (creditsReserve - Math.max(creditsRemaining, 0))) / creditsReserve);
  }

  /** The last credits figure Zoho sent, and when (for status and the dashboard). */
  async lastCredits(): Promise<{ remaining: number; at: number } | undefined> {
    const raw = await this.redis.hgetall(this.keys.credits);
    if (raw.remaining === undefined) return undefined;
    return { remaining: Number(raw.remaining), at: Number(raw.at) };
  }

  private async recordCredits(creditsRemaining: number | undefined): Promise<void> {
    if (creditsRemaining === undefined) return;
    await this.redis.hset(this.keys.credits, 'remaining', creditsRemaining, 'at', this.now());
  }
}
