/** A snapshot of the queue and its batches, for `status`, the dashboard and the library API. */
import type { BatchMeta } from '../ledger/ledger.js';
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
  /** Uploads in flight allowed now (adapted to Zoho's 429s), and `ZOHO_CONCURRENCY`. */
  concurrency: { limit: number; max: number };
  batches: BatchMeta[];
}

/** Reads the status of the queue and of one batch (or all). */
export async function readStatus(uploadQueue: UploadQueue, batch?: string): Promise<StatusSnapshot> {
  const names = batch === undefined ? await uploadQueue.ledger.listBatches() : [batch];
  const [counts, backlog, pause, credits, concurrency, metas] = await Promise.all([
    uploadQueue.jobCounts(),
    uploadQueue.ledger.backlogCount(),
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
    batches: metas.filter((m): m is BatchMeta => m !== undefined),
  };
}
