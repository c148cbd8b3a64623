/**
 * What the dashboard shows, as plain data: the overview's and health page's content, and the
 * body of `GET /api/status`. Pages render it; tests and scripts read it as JSON.
 */
import type { LastCheck, ProgressSample } from '../ledger/ledger.js';
import { batchProgress, rateHistory, type BatchProgress, type RatePoint } from '../queue/progress.js';
import { OPERATOR_PAUSE_CODE, type PauseReason } from '../queue/pause-control.js';
import { CREDIT_BUDGET_PAUSE_CODE, type HeldBatch } from '../queue/credit-budget.js';
import type { StatusSnapshot } from '../queue/status.js';

/** One batch: its progress and what its enqueue rejected. */
export interface BatchView extends BatchProgress {
  /** Manifest rows rejected at enqueue (never queued). */
  rejected: number;
  /** The manifest it came from, when known. */
  source?: string;
  createdAt: number;
  /** API credits spent for the batch. */
  credits: number;
  /** Set while the batch waits because it spent its credit budget. */
  held?: HeldBatch;
  /** The last `zoho-attach check` against Zoho, when there was one. */
  lastCheck?: LastCheck;
}

/** How Zoho and the queue are doing. */
export interface ZohoHealth {
  /** Uploads in flight (active jobs). */
  inFlight: number;
  /** The cap on uploads in flight across every worker (`ZOHO_CONCURRENCY`). */
  concurrencyLimit: number;
  /** 429 answers received, all batches together. */
  rateLimited: number;
  /** The last `X-API-CREDITS-REMAINING` Zoho sent, when it sent one. */
  credits?: { remaining: number; at: number };
  /** Below this many credits, uploads are spaced out. */
  creditsReserve: number;
  paused: boolean;
  pauseReason?: PauseReason;
  /** True when a worker paused the queue because every job would fail the same way (bad credentials, a missing scope). */
  systemicPause: boolean;
}

/** Everything the overview and health pages show. */
export interface DashboardView {
  queueName: string;
  sampledAt: number;
  /** Jobs per state; `failed` are the dead letters. */
  queue: StatusSnapshot['queue'];
  /** API credits the deployment spent in the last 24 hours, and its budget. */
  creditsSpent: StatusSnapshot['creditsSpent'];
  health: ZohoHealth;
  /** Newest batch first. */
  batches: BatchView[];
  /** The rate of the charted batches over their whole life, oldest first. */
  rateHistory: readonly RatePoint[];
  /** The batches the rate chart covers: those with rows pending, else the newest one. */
  chartedBatches: string[];
}

/**
 * Builds the view from a status snapshot and the batches' stored progress samples: every one of
 * the `charted` batches (so the chart shows the whole batch however late the page is opened), and
 * of the others those read since `rateSamplesSince` (enough for their rates).
 */
export function buildDashboardView(
  snapshot: StatusSnapshot,
  samples: ReadonlyMap<string, readonly ProgressSample[]>,
  charted: string[],
  limits: { concurrency: number; creditsReserve: number },
  sampledAt: number,
): DashboardView {
  const batches = snapshot.batches
    .map((meta): BatchView => ({
      ...batchProgress(meta, samples.get(meta.name) ?? [], sampledAt),
      rejected: meta.rejected,
      ...(meta.source === undefined ? {} : { source: meta.source }),
      createdAt: meta.createdAt,
      credits: meta.credits,
      ...(snapshot.heldBatches[meta.name] === undefined ? {} : { held: snapshot.heldBatches[meta.name] }),
      ...(meta.lastCheck === undefined ? {} : { lastCheck: meta.lastCheck }),
    }))
    .reverse();
  return {
    queueName: snapshot.queueName,
    sampledAt,
    queue: snapshot.queue,
    creditsSpent: snapshot.creditsSpent,
    health: {
      inFlight: snapshot.queue.active,
      concurrencyLimit: limits.concurrency,
      rateLimited: snapshot.batches.reduce((sum, b) => sum + b.rateLimited, 0),
      ...(snapshot.credits ? { credits: snapshot.credits } : {}),
      creditsReserve: limits.creditsReserve,
      paused: snapshot.paused,
      ...(snapshot.pauseReason ? { pauseReason: snapshot.pauseReason } : {}),
      systemicPause:
        snapshot.paused &&
        snapshot.pauseReason !== undefined &&
        snapshot.pauseReason.code !== OPERATOR_PAUSE_CODE &&
        snapshot.pauseReason.code !== CREDIT_BUDGET_PAUSE_CODE,
    },
    batches,
    rateHistory: rateHistory(new Map(charted.map((name) => [name, samples.get(name) ?? []])), sampledAt),
    chartedBatches: charted,
  };
}

/** The batches the rate chart covers: those still at work; when none is, the newest (the one just finished, most likely). */
export function chartedBatches(snapshot: StatusSnapshot): string[] {
  const working = snapshot.batches.filter((b) => b.pending > 0).map((b) => b.name);
  if (working.length > 0) return working;
  const newest = snapshot.batches.reduce<StatusSnapshot['batches'][number] | undefined>(
    (a, b) => (a === undefined || b.createdAt > a.createdAt ? b : a),
    undefined,
  );
  return newest ? [newest.name] : [];
}
