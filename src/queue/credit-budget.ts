/**
 * The credit budget (`ZOHO_ATTACH_CREDIT_BUDGET`): at most so many Zoho API credits spent by this
 * deployment in any 24 hours, so that the org's live integrations keep theirs.
 *
 * Every request the tool sends to the API costs a credit (uploads, listings, downloads, deletes,
 * look-ups; contract §5). Each process counts its own and adds them, once a second, to the hour's
 * slot of a Redis hash; the last 24 hours are the sum of the last 24 slots (the oldest whole, so
 * the count errs high, never low). When the sum reaches the budget, a worker pauses the queue with
 * the reason `CREDIT_BUDGET_SPENT` and when it frees; once the oldest slot has left the window, a
 * worker resumes it by itself. Zoho's own `X-API-CREDITS-REMAINING`, when it sends one, counts too:
 * at or below `ZOHO_ATTACH_CREDITS_RESERVE` the queue pauses the same way, whatever this deployment
 * spent, until the figure is old. A pause for any other reason is never lifted here.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Redis } from 'ioredis';
import type { KeyNames } from '../shared/key-names.js';
import type { PauseControl } from './pause-control.js';

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** The pause reason of a spent budget. */
export const CREDIT_BUDGET_PAUSE_CODE = 'CREDIT_BUDGET_SPENT';

/**
 * The batch on whose behalf the code running now calls Zoho (a worker's job, a check, an undo, an
 * enqueue's look-ups), so that each request is counted against its batch too.
 */
export const creditAttribution = new AsyncLocalStorage<string>();

/** Counts the API requests of one process into the deployment's rolling 24 hours, and per batch. */
export class CreditMeter {
  private unwritten = 0;
  private readonly unwrittenByBatch = new Map<string, number>();

  constructor(
    private readonly redis: Redis,
    private readonly keys: KeyNames,
    private readonly now: () => number = Date.now,
  ) {}

  /** One request was sent, for the batch of the code running now (see {@link creditAttribution}). */
  count(): void {
    this.unwritten++;
    const batch = creditAttribution.getStore();
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
      const multi = this.redis
        .multi()
        .hincrby(this.keys.creditsSpent, String(Math.floor(this.now() / HOUR_MS)), count)
        .pexpire(this.keys.creditsSpent, DAY_MS + 2 * HOUR_MS);
      // A batch's own total, for status and the dashboard (only for batches that exist).
      for (const [batch, spent] of byBatch) multi.hincrby(this.keys.batchMeta(batch), 'credits', spent);
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
   * Credits spent in the last 24 hours (by slot: the oldest counts whole), and when the oldest
   * counted slot leaves the window (undefined when nothing was spent).
   */
  async spent(): Promise<{ credits: number; oldestLeavesAt: number | undefined }> {
    const slots = await this.redis.hgetall(this.keys.creditsSpent);
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
    if (stale.length > 0) await this.redis.hdel(this.keys.creditsSpent, ...stale);
    return { credits, oldestLeavesAt: oldest === undefined ? undefined : (oldest + 1) * HOUR_MS + DAY_MS };
  }
}

/** How long Zoho's last `X-API-CREDITS-REMAINING` is trusted: after that the org may have more again. */
export const CREDITS_REPORT_FRESH_MS = 10 * 60_000;

/**
 * Pauses the queue when the budget is spent, or when Zoho's own figure says the org is down to
 * `reserve` credits (the org's other users spend them too), and resumes it when neither holds any
 * more (see the module's comment). Returns what it found.
 */
export async function enforceCreditBudget(
  meter: CreditMeter,
  pauseControl: PauseControl,
  limits: {
    budget: number;
    /** `ZOHO_ATTACH_CREDITS_RESERVE`. */
    reserve: number;
    /** Zoho's last `X-API-CREDITS-REMAINING`, and when it came. */
    lastReported: { remaining: number; at: number } | undefined;
    now?: number;
  },
): Promise<{ credits: number; paused: boolean; action?: 'paused' | 'resumed' }> {
  await meter.flush();
  const { credits, oldestLeavesAt } = await meter.spent();
  const now = limits.now ?? Date.now();
  const report = limits.lastReported;
  const orgLow =
    report !== undefined && now - report.at < CREDITS_REPORT_FRESH_MS && report.remaining <= limits.reserve;
  const status = await pauseControl.status();
  const pausedForBudget = status.paused && status.reason?.code === CREDIT_BUDGET_PAUSE_CODE;
  if ((credits >= limits.budget || orgLow) && !status.paused) {
    const freesAt = oldestLeavesAt === undefined ? 'soon' : new Date(oldestLeavesAt).toISOString();
    await pauseControl.pause(
      credits >= limits.budget
        ? {
            code: CREDIT_BUDGET_PAUSE_CODE,
            message: `${credits} API credits spent in the last 24 hours; ZOHO_ATTACH_CREDIT_BUDGET is ${limits.budget}`,
            hint: `nothing to fix: the workers resume by themselves when the oldest hour leaves the 24-hour window (about ${freesAt}); raise ZOHO_ATTACH_CREDIT_BUDGET to go on sooner`,
          }
        : {
            code: CREDIT_BUDGET_PAUSE_CODE,
            message: `Zoho says the org has ${report?.remaining} API credits left (X-API-CREDITS-REMAINING), at or below ZOHO_ATTACH_CREDITS_RESERVE (${limits.reserve}); this deployment spent ${credits} of its ${limits.budget} in the last 24 hours`,
            hint: `nothing to fix: the workers try again in ${CREDITS_REPORT_FRESH_MS / 60_000} minutes, when Zoho's figure is old enough to have changed`,
          },
    );
    return { credits, paused: true, action: 'paused' };
  }
  if (credits < limits.budget && !orgLow && pausedForBudget) {
    await pauseControl.resume();
    return { credits, paused: false, action: 'resumed' };
  }
  return { credits, paused: status.paused };
}
