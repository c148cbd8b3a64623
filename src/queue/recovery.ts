/**
 * Finishing what a crash left half done. Two steps span Redis and BullMQ and so cannot be
 * one script:
 * - a requeue (`enqueue --force`, a purged row enqueued again, `dlq retry`): the ledger marks
 *   the row pending with a requeue intent, then the old job is replaced. Killed in between,
 *   the row would stay pending for ever behind its old failed job.
 * - a verification: the ledger puts the row on the due list, then the verify job is added.
 * Every worker runs this pass at start and now and then while it runs; `enqueue` finishes
 * its own intents as it goes. Each step is idempotent, so two workers running it at once
 * do no harm.
 */
import type { Logger } from '../shared/logger.js';
import { UPLOAD_JOB_NAME, jobDataFromStoredRow, verifyJobId, type UploadJobData } from './upload-job.js';
import type { UploadQueue } from './upload-queue.js';

/** Options of {@link recoverUnfinishedWork}. */
export interface RecoveryOptions {
  /** Leave intents younger than this alone: an enqueue that is running finishes them itself. @defaultValue 10000 */
  graceMs?: number;
  logger?: Logger;
  now?: () => number;
}

/** What a recovery pass did. */
export interface RecoveryResult {
  /** Requeues finished (the row's job replaced or added). */
  requeued: number;
  /** Verify jobs added again. */
  verifications: number;
}

/** Finishes interrupted requeues and re-adds lost verify jobs. */
export async function recoverUnfinishedWork(
  uploadQueue: UploadQueue,
  options: RecoveryOptions = {},
): Promise<RecoveryResult> {
  const now = options.now ?? Date.now;
  const graceMs = options.graceMs ?? 10_000;
  const { ledger, queue } = uploadQueue;
  const result: RecoveryResult = { requeued: 0, verifications: 0 };

  for (const intent of await ledger.requeueIntents()) {
    if (now() - intent.at < graceMs) continue;
    const [item] = await ledger.getItems([intent.jobId]);
    const old = item?.status === 'pending' ? await uploadQueue.removeFinishedJob(intent.jobId) : { live: true };
    if (!old.live) {
      const data = old.data ?? (await storedJobData(uploadQueue, intent.batch, intent.line));
      if (data) {
        await queue.add(UPLOAD_JOB_NAME, data, { ...uploadQueue.jobOptions, jobId: intent.jobId });
        result.requeued++;
      } else {
        options.logger?.error(
          { jobId: intent.jobId, batch: intent.batch, line: intent.line },
          'a requeued row has no stored row to rebuild its job from: enqueue its manifest again',
        );
      }
    }
    await ledger.clearRequeueIntents([intent.jobId]);
  }

  for (const due of await ledger.dueVerifications()) {
    if (await queue.getJob(verifyJobId(due.jobId))) continue;
    if (!due.row) {
      // The item is gone (its batch was removed): nothing left to verify.
      await ledger.finishVerification(due.jobId, { removed: 0 });
      continue;
    }
    await uploadQueue.scheduleVerification(due.row as UploadJobData, due.jobId, due.dueAt);
    result.verifications++;
  }
  if (result.requeued + result.verifications > 0)
    options.logger?.warn(result, 'finished work that an interrupted run left undone');
  return result;
}

async function storedJobData(
  uploadQueue: UploadQueue,
  batch: string,
  line: number,
): Promise<UploadJobData | undefined> {
  const row = await uploadQueue.ledger.getRow(batch, line);
  return row ? jobDataFromStoredRow(batch, line, row) : undefined;
}
