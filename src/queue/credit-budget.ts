/**
 * The credit budget (`ZOHO_ATTACH_CREDIT_BUDGET`): at most so many Zoho API credits spent for a
 * batch in any 24 hours, so that the org's live integrations keep theirs.
 *
 * Every request the tool sends to the API costs a credit (uploads, listings, downloads, deletes,
 * look-ups; contract §5) and is counted for the batch it is made for: a worker's job, a check, an
 * undo and an enqueue's look-ups call Zoho through a client attributed to their batch
 * (`ZohoClient.attributedTo`).
 * Each process adds its counts, every few seconds, to the hour's slot of Redis hashes: one for the
 * deployment, one per batch; the last 24 hours are the sum of the last 24 slots (the oldest whole,
 * so the count errs high, never low). When a batch's last 24 hours hold the budget, the batch is
 * **held**: its jobs wait (delayed, not failed) and the feeders leave its rows in the backlog, while
 * other batches go on. Once its oldest hour has left the window, a worker releases it.
 *
 * Zoho's own `X-API-CREDITS-REMAINING`, when it sends one, counts too: at or below
 * `ZOHO_ATTACH_CREDITS_RESERVE` the whole queue pauses (the org's credits are one pool), until the
 * figure is old. A pause for any other reason is never lifted here.
 */
import type { Redis } from 'ioredis';
import type { KeyNames } from '../shared/key-names.js';
import type { PauseControl } from './pause-control.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** The code of a held batch's waiting jobs, and of the pause when the org's credits are low. */
export const CREDIT_BUDGET_PAUSE_CODE = 'CREDIT_BUDGET_SPENT';

/** Counts the API requests of one process into the deployment's rolling 24 hours, and per batch. */
export class CreditMeter {
  private unwritten = 0;
  private readonly unwrittenByBatch = new Map<string, number>();

  constructor(
    private readonly redis: Redis,
    private readonly keys: KeyNames,
    private readonly now: () => number = Date.now,
  ) {}

  /** One request was sent, for `batch` if it was made for one. */
  count(batch: string | undefined): void {
    this.unwritten++;
    if (batch !== undefined) this.unwrittenByBatch.set(batch, (this.unwrittenByBatch.get(batch) ?? 0) + 1);
  }

  /** Adds what this process counted since the last flush to the hour's slot. */
  async flush(): Promise<void> {
    if (this.unwritten === 0) return;
    const count = this.unwritten;
    const byBatch = [...this.unwrittenByBatch];
    this.unwritten = 0;
    this.unwrittenByBatch.clear();
    try {
      const slot = String(Math.floor(this.now() / HOUR_MS));
      const multi = this.redis
        .multi()
        .hincrby(this.keys.creditsSpent, slot, count)
        .pexpire(this.keys.creditsSpent, DAY_MS + 2 * HOUR_MS);
      // A batch's own total, for status and the dashboard (only for batches that exist).
      for (const [batch, spent] of byBatch) {
        multi.hincrby(this.keys.batchMeta(batch), 'credits', spent);
        multi.zadd(this.keys.creditBatches, this.now(), batch);
        multi
          .hincrby(this.keys.batchCreditSlots(batch), slot, spent)
          .pexpire(this.keys.batchCreditSlots(batch), DAY_MS + 2 * HOUR_MS);
      }
      await multi.exec();
    } catch (error) {
      // Counted again at the next flush: a Redis blip must not make the budget forget requests.
      this.unwritten += count;
      for (const [batch, spent] of byBatch)
        this.unwrittenByBatch.set(batch, (this.unwrittenByBatch.get(batch) ?? 0) + spent);
      throw error;
    }
  }

  /**
   * Credits spent in the last 24 hours, by the deployment or for `batch` (by slot: the oldest counts whole), and when the oldest
   * counted slot leaves the window (undefined when nothing was spent).
   */
  async spent(batch?: string): Promise<{ credits: number; oldestLeavesAt: number | undefined }> {
    const key = batch === undefined ? this.keys.creditsSpent : this.keys.batchCreditSlots(batch);
    const slots = await this.redis.hgetall(key);
    const firstSlot = Math.floor((this.now() - DAY_MS) / HOUR_MS) + 1;
    let credits = 0;
    let oldest: number | undefined;
    const stale: string[] = [];
    for (const [slot, value] of Object.entries(slots)) {
      if (Number(slot) < firstSlot) {
        stale.push(slot);
        continue;
      }
      credits += Number(value);
      oldest = oldest === undefined ? Number(slot) : Math.min(oldest, Number(slot));
    }
    if (stale.length > 0) await this.redis.hdel(key, ...stale);
    return { credits, oldestLeavesAt: oldest === undefined ? undefined : (oldest + 1) * HOUR_MS + DAY_MS };
  }
}

/** How long Zoho's last `X-API-CREDITS-REMAINING` is trusted: after that the org may have more again. */
export const CREDITS_REPORT_FRESH_MS = 10 * 60_000;

/** Why a batch is held, and until when (about). */
export interface HeldBatch {
  credits: number;
  budget: number;
  /** When its oldest counted hour leaves the 24-hour window (epoch ms). */
  freesAt: number;
}

/** The batches held now (batch → why). */
export async function heldBatches(redis: Redis, keys: KeyNames): Promise<Map<string, HeldBatch>> {
  const raw = await redis.hgetall(keys.heldBatches);
  return new Map(Object.entries(raw).map(([batch, why]) => [batch, JSON.parse(why) as HeldBatch]));
}

/**
 * Holds the batches whose budget is spent and releases those whose window freed; pauses the queue
 * when Zoho's own figure says the org is down to `reserve` credits, and resumes it once that figure
 * is old (see the module's comment). Returns what it found.
 */
export async function enforceCreditBudget(
  deps: { meter: CreditMeter; pauseControl: PauseControl; redis: Redis; keys: KeyNames },
  limits: {
    budget: number;
    /** `ZOHO_ATTACH_CREDITS_RESERVE`. */
    reserve: number;
    /** Zoho's last `X-API-CREDITS-REMAINING`, and when it came. */
    lastReported: { remaining: number; at: number } | undefined;
    now?: number;
  },
): Promise<{ held: Map<string, HeldBatch>; changed: string[]; paused?: 'paused' | 'resumed' }> {
  const { meter, pauseControl, redis, keys } = deps;
  const now = limits.now ?? Date.now();
  await meter.flush();
  const before = await heldBatches(redis, keys);
  // Only batches that spent credits in the last 24 hours can be over their budget.
  await redis.zremrangebyscore(keys.creditBatches, '-inf', now - DAY_MS);
  const spenders = await redis.zrange(keys.creditBatches, 0, -1);
  const changed: string[] = [];
  const held = new Map<string, HeldBatch>();
  for (const batch of new Set([...spenders, ...before.keys()])) {
    const { credits, oldestLeavesAt } = await meter.spent(batch);
    if (credits >= limits.budget) {
      const why: HeldBatch = { credits, budget: limits.budget, freesAt: oldestLeavesAt ?? 0 };
      held.set(batch, why);
      await redis.hset(keys.heldBatches, batch, JSON.stringify(why));
      if (!before.has(batch)) changed.push(batch);
    } else if (before.has(batch)) {
      await redis.hdel(keys.heldBatches, batch);
      changed.push(batch);
    }
  }

  const report = limits.lastReported;
  const orgLow =
    report !== undefined && now - report.at < CREDITS_REPORT_FRESH_MS && report.remaining <= limits.reserve;
  const status = await pauseControl.status();
  if (orgLow && !status.paused) {
    await pauseControl.pause({
      code: CREDIT_BUDGET_PAUSE_CODE,
      message: `Zoho says the org has ${report?.remaining} API credits left (X-API-CREDITS-REMAINING), at or below ZOHO_ATTACH_CREDITS_RESERVE (${limits.reserve})`,
      hint: `nothing to fix: the workers try again in ${CREDITS_REPORT_FRESH_MS / 60_000} minutes, when Zoho's figure is old enough to have changed`,
    });
    return { held, changed, paused: 'paused' };
  }
  if (!orgLow && status.paused && status.reason?.code === CREDIT_BUDGET_PAUSE_CODE) {
    await pauseControl.resume();
    return { held, changed, paused: 'resumed' };
  }
  return { held, changed };
}
