/**
 * The queue's state as gauges, read from Redis when Prometheus scrapes. They describe the
 * whole deployment, not one process: every worker (and the dashboard) serving them shows the
 * same numbers, so aggregate them with `max`, not `sum`.
 */
import { Gauge, type Registry } from 'prom-client';
import type { UploadQueue } from '../queue/upload-queue.js';

/** The BullMQ states `zoho_attach_queue_jobs` reports. */
const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;

interface QueueSnapshot {
  counts: Record<(typeof QUEUE_STATES)[number], number>;
  backlog: number;
  paused: boolean;
}

/**
 * Registers the queue gauges on `registry`, each collected on scrape:
 * - `zoho_attach_queue_jobs{state}`: jobs per state (waiting, active, delayed, failed = dead letters)
 * - `zoho_attach_backlog_rows`: rows enqueued and not yet fed to the queue as jobs
 * - `zoho_attach_uploads_in_flight`: uploads in flight across all workers (BullMQ's active
 *   jobs; at most `ZOHO_CONCURRENCY`)
 * - `zoho_attach_queue_paused`: 1 while the queue is paused (by an operator or a systemic error)
 * - `zoho_attach_redis_up`: 1 when the scrape could read the queue from Redis
 *
 * The worker serves these next to its own counters; the dashboard can serve them alone.
 * @param uploadQueue an open queue; the caller keeps owning (and closes) it
 */
export function createQueueMetrics(uploadQueue: UploadQueue, registry: Registry): void {
  const registers = [registry];
  // Prometheus collects every metric of a scrape at once: the gauges share one read of Redis.
  const readOncePerScrape = sharedWhilePending(async (): Promise<QueueSnapshot | undefined> => {
    try {
      const [counts, backlog, paused] = await Promise.all([
        uploadQueue.queue.getJobCounts(...QUEUE_STATES),
        uploadQueue.ledger.backlogCount(),
        uploadQueue.queue.isPaused(),
      ]);
      return { counts: counts as QueueSnapshot['counts'], backlog, paused };
    } catch {
      return undefined;
    }
  });

  new Gauge({
    name: 'zoho_attach_queue_jobs',
    help: 'Upload jobs per state across all workers (failed = dead letters); not current while zoho_attach_redis_up is 0',
    labelNames: ['state'],
    registers,
    async collect() {
      const snapshot = await readOncePerScrape();
      if (snapshot) for (const state of QUEUE_STATES) this.labels(state).set(snapshot.counts[state] ?? 0);
    },
  });
  new Gauge({
    name: 'zoho_attach_backlog_rows',
    help: 'Rows enqueued and not yet fed to the queue as jobs (the feeders keep ZOHO_ATTACH_FEED_WINDOW jobs waiting or running); not current while zoho_attach_redis_up is 0',
    registers,
    async collect() {
      const snapshot = await readOncePerScrape();
      if (snapshot) this.set(snapshot.backlog);
    },
  });
  new Gauge({
    name: 'zoho_attach_uploads_in_flight',
    help: 'Uploads in flight across all workers (active jobs; at most ZOHO_CONCURRENCY); not current while zoho_attach_redis_up is 0',
    registers,
    async collect() {
      const snapshot = await readOncePerScrape();
      if (snapshot) this.set(snapshot.counts.active ?? 0);
    },
  });
  new Gauge({
    name: 'zoho_attach_queue_paused',
    help: 'Whether the queue is paused (1) by an operator or a systemic error such as a revoked token; `zoho-attach status` says why',
    registers,
    async collect() {
      const snapshot = await readOncePerScrape();
      if (snapshot) this.set(snapshot.paused ? 1 : 0);
    },
  });
  new Gauge({
    name: 'zoho_attach_redis_up',
    help: 'Whether this scrape could read the queue from Redis (1); at 0 the queue gauges keep their last values',
    registers,
    async collect() {
      this.set((await readOncePerScrape()) ? 1 : 0);
    },
  });
}

/** Calls made while one `read` is pending share its promise; the next call after it settles reads again. */
function sharedWhilePending<T>(read: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= read().finally(() => {
      pending = undefined;
    });
    return pending;
  };
}
