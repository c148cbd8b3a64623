/**
 * Adaptive concurrency: how many uploads every worker together keeps in flight, found from
 * Zoho's answers and shared through Redis. `ZOHO_CONCURRENCY` is the most it ever uses; when
 * Zoho allows fewer (a lower edition, live integrations using their share), its 429s bring the
 * limit down, and it stays at the highest level that drew none.
 *
 * - **Multiplicative decrease.** A 429 for too many calls in flight takes the limit down by one
 *   per refused call of a round (a burst of answers to calls that were all in flight at once),
 *   but never below half of what it was when the round began: the excess is shed in one round,
 *   and one round can at most halve the limit. The level that drew the 429 is remembered.
 * - **Additive increase.** After a window of successes (as many as the limit) without a 429,
 *   the limit grows by one, up to `ZOHO_CONCURRENCY`. Above the remembered level it probes only
 *   after a number of windows that doubles with every probe Zoho refuses, so a limit Zoho keeps
 *   costs a handful of 429s per run, not one per window. A whole window at or above that level
 *   without a 429 forgets it (the refusal was a passing one) and probing returns to its first pace.
 *
 * The limit is BullMQ's global concurrency (the `concurrency` field of the queue's meta hash),
 * which every worker's `moveToActive` obeys; the one Lua script below updates both atomically.
 */
import type { Redis } from 'ioredis';
import type { KeyNames } from '../shared/key-names.js';

/** Tuning of {@link AdaptiveConcurrency}. */
export interface AdaptiveConcurrencyOptions {
  /** 429s within this long of a round's first one belong to that round (about one call's latency). @defaultValue 1000 */
  roundMs?: number;
  /** Windows of successes before the first probe above a level that drew a 429. @defaultValue 4 */
  firstProbeWindows?: number;
  /** The most windows between two probes. @defaultValue 64 */
  maxProbeWindows?: number;
}

const DEFAULTS: Required<AdaptiveConcurrencyOptions> = { roundMs: 1_000, firstProbeWindows: 4, maxProbeWindows: 64 };

// KEYS: state hash, BullMQ's queue meta hash, borrowed slots (holder → "count:expiresAt"). ARGV: event ('init' | 'success' | 'limited'), max, now, roundMs,
// firstProbeWindows, maxProbeWindows, count (successes this event stands for; 1 when absent). State: limit, max, ceiling (0: none), successes, roundAt, roundStart, probeWindows.
// Returns the limit after the event (and writes it to BullMQ's meta when it changed), and 1 when a 429 could not
// lower it (already at 1: the caller backs off instead). Another script may run it after lines of its own, with
// these keys and arguments first (see {@link AdaptiveConcurrency.adaptArguments}): rate-control.ts writes a
// flush of successes that way, in one call.
export const ADAPT_LUA = `
local state, meta, borrowed = KEYS[1], KEYS[2], KEYS[3]
local event, max, now, roundMs = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local firstProbe, maxProbe = tonumber(ARGV[5]), tonumber(ARGV[6])
local s = redis.call('HMGET', state, 'limit', 'max', 'ceiling', 'successes', 'roundAt', 'roundStart', 'probeWindows')
local limit, oldMax = tonumber(s[1]), tonumber(s[2])
local ceiling, successes = tonumber(s[3] or '0'), tonumber(s[4] or '0')
local roundAt, roundStart, probeWindows = tonumber(s[5] or '0'), tonumber(s[6] or '0'), tonumber(s[7] or firstProbe)
local before = limit
if not limit then
  limit = max
elseif oldMax ~= max then
  -- ZOHO_CONCURRENCY changed: never above the new value; a raised one is reached by probing.
  limit = math.min(limit, max)
  if ceiling > max then ceiling = 0 end
end
local stuck = 0
if event == 'limited' then
  successes = 0
  if now - roundAt > roundMs then
    roundAt = now
    roundStart = limit
  end
  -- The level that drew the 429: probing above it waits longer each time it is refused again.
  if ceiling > 0 and limit >= ceiling then probeWindows = math.min(probeWindows * 2, maxProbe) end
  if ceiling == 0 or limit < ceiling then ceiling = limit end
  local floor = math.max(1, math.floor(roundStart / 2))
  if limit > floor then limit = limit - 1 elseif limit == 1 then stuck = 1 end
elseif event == 'success' then
  successes = successes + (tonumber(ARGV[7]) or 1)
  if successes >= limit then
    -- A whole window at this level without a 429: the level is good, even if it drew one before,
    -- and the refusal was a passing one: probing goes back to its first pace.
    if ceiling > 0 and limit >= ceiling then
      ceiling = 0
      probeWindows = firstProbe
    end
    if limit < max and (ceiling == 0 or limit + 1 < ceiling or successes / limit >= probeWindows) then
      limit = limit + 1
      successes = 0
    end
  end
end
redis.call('HSET', state, 'limit', limit, 'max', max, 'ceiling', ceiling, 'successes', successes, 'roundAt', roundAt, 'roundStart', roundStart, 'probeWindows', probeWindows)
-- Slots borrowed by check or undo (their calls share Zoho's cap) are not the workers' to use.
local lent = 0
local held = redis.call('HGETALL', borrowed)
for i = 1, #held, 2 do
  local count, expires = string.match(held[i + 1], '^(%d+):(%d+)$')
  if count and tonumber(expires) > now then lent = lent + tonumber(count) else redis.call('HDEL', borrowed, held[i]) end
end
local workers = math.max(1, limit - lent)
if limit ~= before or redis.call('HGET', meta, 'concurrency') ~= tostring(workers) then redis.call('HSET', meta, 'concurrency', workers) end
return { limit, stuck }
`;

type AdaptRedis = Redis & {
  zohoAttachAdaptConcurrency(
    state: string,
    meta: string,
    borrowed: string,
    event: string,
    max: number,
    now: number,
    roundMs: number,
    firstProbe: number,
    maxProbe: number,
    count: number,
  ): Promise<[number, number]>;
};

/** The shared concurrency limit (see the file comment). */
export class AdaptiveConcurrency {
  private readonly redis: AdaptRedis;
  private readonly plainRedis: Redis;
  private readonly options: Required<AdaptiveConcurrencyOptions>;

  /**
   * @param max `ZOHO_CONCURRENCY`, or what the run window allows now: the limit never goes above it.
   *   A lower one takes effect at the next event (a worker sends `init` now and then for that);
   *   a higher one is reached by probing, as after a 429.
   */
  constructor(
    redis: Redis,
    private readonly keys: KeyNames,
    private readonly max: number | (() => number),
    options: AdaptiveConcurrencyOptions = {},
    private readonly now: () => number = Date.now,
  ) {
    this.options = { ...DEFAULTS, ...options };
    redis.defineCommand('zohoAttachAdaptConcurrency', { lua: ADAPT_LUA, numberOfKeys: 3 });
    this.plainRedis = redis;
    this.redis = redis as AdaptRedis;
  }

  /** Sets BullMQ's global concurrency to the shared limit, creating it at `max`: a worker starting never resets it. */
  async init(): Promise<number> {
    return (await this.adapt('init'))[0];
  }

  /** `count` calls succeeded: after a window of them, the limit may grow (by one at most per call). Returns the limit. */
  async onSuccess(count = 1): Promise<number> {
    return (await this.adapt('success', count))[0];
  }

  /**
   * Zoho answered 429 for too many calls in flight. Returns the new limit, and `stuck` when it
   * is 1 already and cannot go lower: the caller backs off. (Below half of the round's start it
   * stops going down for that round, without backing off: those are answers to calls already sent.)
   */
  async onRateLimited(): Promise<{ limit: number; stuck: boolean }> {
    const [limit, stuck] = await this.adapt('limited');
    return { limit, stuck: stuck === 1 };
  }

  /**
   * Takes `count` of the workers' slots for calls made outside the queue (check, undo), so that
   * they share Zoho's cap instead of adding to it: the workers' BullMQ limit is the shared limit
   * minus every slot borrowed (at least 1). A holder that dies gives them back after `ttlMs`;
   * borrow again within that to keep them.
   */
  async borrow(holder: string, count: number, ttlMs = 30_000): Promise<void> {
    await this.plainRedis.hset(this.keys.borrowedConcurrency, holder, `${count}:${this.now() + ttlMs}`);
    await this.init();
  }

  /**
   * Runs `use` with `count` slots borrowed (renewed every ttl/3 while it runs) and gives them back
   * afterwards, whatever happens.
   */
  async whileBorrowing<T>(holder: string, count: number, use: () => Promise<T>, ttlMs = 30_000): Promise<T> {
    await this.borrow(holder, count, ttlMs);
    const renew = setInterval(() => void this.borrow(holder, count, ttlMs).catch(() => undefined), ttlMs / 3);
    renew.unref();
    try {
      return await use();
    } finally {
      clearInterval(renew);
      await this.giveBack(holder).catch(() => undefined);
    }
  }

  /** Gives borrowed slots back to the workers. */
  async giveBack(holder: string): Promise<void> {
    await this.plainRedis.hdel(this.keys.borrowedConcurrency, holder);
    await this.init();
  }

  /** The shared limit now, and the level that last drew a 429 (for status and metrics). */
  async current(): Promise<{ limit: number; max: number; ceiling?: number }> {
    const [limit, max, ceiling] = await this.redis.hmget(this.keys.adaptiveConcurrency, 'limit', 'max', 'ceiling');
    const c = Number(ceiling ?? 0);
    return {
      limit: Number(limit ?? this.maxNow()),
      max: Number(max ?? this.maxNow()),
      ...(c > 0 ? { ceiling: c } : {}),
    };
  }

  private maxNow(): number {
    return typeof this.max === 'number' ? this.max : this.max();
  }

  /** The keys and arguments of {@link ADAPT_LUA} for one event, for a script that runs it after its own lines. */
  adaptArguments(
    event: 'init' | 'success' | 'limited',
    count = 1,
  ): { keys: [string, string, string]; args: [string, number, number, number, number, number, number] } {
    const { roundMs, firstProbeWindows, maxProbeWindows } = this.options;
    return {
      keys: [this.keys.adaptiveConcurrency, this.keys.queueMeta, this.keys.borrowedConcurrency],
      args: [event, this.maxNow(), this.now(), roundMs, firstProbeWindows, maxProbeWindows, count],
    };
  }

  private adapt(event: 'init' | 'success' | 'limited', count = 1): Promise<[number, number]> {
    const { keys, args } = this.adaptArguments(event, count);
    return this.redis.zohoAttachAdaptConcurrency(...keys, ...args);
  }
}
