/** A snapshot of the queue and its batches, for `status`, the dashboard and the library API. */
import { concurrencyAt } from '../config/run-windows.js';
import type { BatchMeta } from '../ledger/ledger.js';
import { heldBatches, type HeldBatch } from './credit-budget.js';
import type { PauseReason } from './pause-control.js';
import type { UploadQueue } from './upload-queue.js';

/** The queue and its batches at one moment. */
export interface StatusSnapshot {
  queueName: string;
  /**
   * `backlog`: rows not yet fed to the queue (all batches); `waiting` includes jobs held by a
   * pause; `failed` are the dead letters.
   */
  queue: { backlog: number; waiting: number; active: number; delayed: number; failed: number; completed: number };
  paused: boolean;
  pauseReason?: PauseReason;
  credits?: { remaining: number; at: number };
  /** Uploads in flight allowed now (adapted to Zoho's 429s), and `ZOHO_CONCURRENCY` (or the run window's number). */
  concurrency: { limit: number; max: number };
  /** With `ZOHO_ATTACH_WINDOWS`: the rule that covers this moment (none: `ZOHO_CONCURRENCY` applies), and its cap. */
  runWindow?: { rule: string | null; concurrency: number };
  /** API credits this deployment spent in the last 24 hours (requests it sent), and `ZOHO_ATTACH_CREDIT_BUDGET`. */
  creditsSpent: { last24h: number; budget?: number };
  /** Batches held because they spent their credit budget: batch → credits, budget, and when it frees. */
  heldBatches: Record<string, HeldBatch>;
  batches: BatchMeta[];
}

/** Reads the status of the queue and of one batch (or all). */
export async function readStatus(uploadQueue: UploadQueue, batch?: string): Promise<StatusSnapshot> {
  const names = batch === undefined ? await uploadQueue.ledger.listBatches() : [batch];
  const [counts, backlog, spent, held, pause, credits, concurrency, metas] = await Promise.all([
    uploadQueue.jobCounts(),
    uploadQueue.ledger.backlogCount(),
    uploadQueue.creditMeter.spent(),
    heldBatches(uploadQueue.redis, uploadQueue.keys),
    uploadQueue.pauseControl.status(),
    uploadQueue.rateControl.lastCredits(),
    uploadQueue.rateControl.concurrency.current(),
    Promise.all(names.map((name) => uploadQueue.ledger.getBatch(name))),
  ]);
  const n = (state: string) => counts[state] ?? 0;
  return {
    queueName: uploadQueue.config.queue.name,
    queue: {
      backlog,
      waiting: n('waiting') + n('prioritized'),
      active: n('active'),
      delayed: n('delayed'),
      failed: n('failed'),
      completed: n('completed'),
    },
    paused: pause.paused,
    ...(pause.reason ? { pauseReason: pause.reason } : {}),
    ...(credits ? { credits } : {}),
    concurrency: { limit: concurrency.limit, max: concurrency.max },
    heldBatches: Object.fromEntries(held),
    creditsSpent: {
      last24h: spent.credits,
      ...(uploadQueue.config.queue.creditBudget === undefined ? {} : { budget: uploadQueue.config.queue.creditBudget }),
    },
    ...(uploadQueue.config.queue.windows === undefined ? {} : { runWindow: runWindowNow(uploadQueue) }),
    batches: metas.filter((m): m is BatchMeta => m !== undefined),
  };
}

function runWindowNow(uploadQueue: UploadQueue): { rule: string | null; concurrency: number } {
  const now = concurrencyAt(uploadQueue.config.queue, new Date());
  return { rule: now.window?.text ?? null, concurrency: now.concurrency };
}
