/**
 * What the dashboard shows, as plain data: the overview's and health page's content, and the
 * body of `GET /api/status`. Pages render it; tests and scripts read it as JSON.
 */
import type { BatchProgress } from '../queue/progress.js';
import { OPERATOR_PAUSE_CODE, type PauseReason } from '../queue/pause-control.js';
import type { StatusSnapshot } from '../queue/status.js';
import type { ProgressSampler, RatePoint } from './progress-sampler.js';

/** One batch: its progress and what its enqueue rejected. */
export interface BatchView extends BatchProgress {
  /** Manifest rows rejected at enqueue (never queued). */
  rejected: number;
  /** The manifest it came from, when known. */
  source?: string;
  createdAt: number;
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
  health: ZohoHealth;
  /** Newest batch first. */
  batches: BatchView[];
  /** The overall upload rate since the dashboard started, oldest first. */
  rateHistory: readonly RatePoint[];
}

/**
 * Builds the view.
 * @param snapshot the snapshot `sampler.sample()` just returned (so the sampler's rates cover its batches)
 */
export function buildDashboardView(
  snapshot: StatusSnapshot,
  sampler: ProgressSampler,
  limits: { concurrency: number; creditsReserve: number },
  sampledAt: number,
): DashboardView {
  const metas = new Map(snapshot.batches.map((meta) => [meta.name, meta]));
  const batches = sampler
    .progress()
    .flatMap((progress): BatchView[] => {
      const meta = metas.get(progress.name);
      if (!meta) return [];
      return [{ ...progress, rejected: meta.rejected, ...(meta.source === undefined ? {} : { source: meta.source }), createdAt: meta.createdAt }];
    })
    .reverse();
  return {
    queueName: snapshot.queueName,
    sampledAt,
    queue: snapshot.queue,
    health: {
      inFlight: snapshot.queue.active,
      concurrencyLimit: limits.concurrency,
      rateLimited: snapshot.batches.reduce((sum, b) => sum + b.rateLimited, 0),
      ...(snapshot.credits ? { credits: snapshot.credits } : {}),
      creditsReserve: limits.creditsReserve,
      paused: snapshot.paused,
      ...(snapshot.pauseReason ? { pauseReason: snapshot.pauseReason } : {}),
      systemicPause: snapshot.paused && snapshot.pauseReason !== undefined && snapshot.pauseReason.code !== OPERATOR_PAUSE_CODE,
    },
    batches,
    rateHistory: sampler.rateHistory(),
  };
}
