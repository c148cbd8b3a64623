/**
 * `zoho-attach undo`: deletes exactly the attachments a batch created, and nothing else. The
 * ledger knows each of them by id: the attachment of every row the batch owns and uploaded (or
 * adopted: a copy its own earlier attempt stored). An attachment on the record before the batch,
 * one another batch uploaded (a row it shares is owned by whichever batch queued it first), and
 * one a person added are never among them.
 *
 * Each deletion is then marked `undone` in the ledger, so an interrupted undo goes on where it
 * stopped. An attachment already gone (deleted by hand, or by an undo killed before its mark) is
 * confirmed by listing the record, and marked too.
 */
import { randomUUID } from 'node:crypto';
import type { UploadQueue } from '../queue/upload-queue.js';
import { ZohoAttachError } from '../shared/errors.js';
import { safeErrorMessage } from '../shared/redact.js';
import type { ZohoClient } from '../zoho/index.js';
import { isZohoError } from '../zoho/index.js';
import { retryZohoCall } from '../zoho/retry-call.js';

/** One attachment the batch created, to delete. */
export interface UndoTarget {
  line: number;
  jobId: string;
  module: string;
  recordId: string;
  attachmentId: string;
  /** The file path or link URL, as in the manifest. */
  source: string;
}

/** What an undo will do, known before it deletes anything. */
export interface UndoPlan {
  batch: string;
  /** The attachments to delete: one API call each. */
  targets: UndoTarget[];
  /** Rows an earlier undo already deleted. */
  alreadyUndone: number;
  /** The batch's uploaded rows that another batch owns: their attachments are that batch's, and stay. */
  ownedElsewhere: number;
}

/** What an undo did. */
export interface UndoResult {
  batch: string;
  /** Attachments deleted now. */
  deleted: number;
  /** Attachments that were gone already (confirmed by a listing), marked undone. */
  alreadyGone: number;
  /** Rows an earlier undo had done. */
  alreadyUndone: number;
  /** Rows that changed meanwhile (uploaded again, taken by another batch): left alone. */
  changed: number;
  /** Attachments that could not be deleted, with why: run undo again to retry them. */
  failed: Array<UndoTarget & { reason: string }>;
}

/**
 * Reads what undoing `batch` would delete. The batch must be finished: a row still pending could be
 * posting at this moment, and its attachment would escape the undo.
 */
export async function planUndo(uploadQueue: UploadQueue, batch: string): Promise<UndoPlan> {
  const meta = await uploadQueue.ledger.getBatch(batch);
  if (!meta) throw new ZohoAttachError('NO_SUCH_BATCH', `no batch named "${batch}"`);
  if (meta.pending > 0 || meta.verifying > 0)
    throw new ZohoAttachError(
      'BATCH_NOT_FINISHED',
      `batch ${batch} has ${meta.pending} pending rows and ${meta.verifying} settle-and-verify listings due: undo it once it is finished (\`zoho-attach status --batch ${batch}\`), or \`zoho-attach pause\` and wait`,
    );
  const targets: UndoTarget[] = [];
  const seen = new Set<string>();
  let alreadyUndone = 0;
  let ownedElsewhere = 0;
  for await (const entry of uploadQueue.ledger.readRows(batch)) {
    if (!('row' in entry) || !entry.item || seen.has(entry.row.jobId)) continue;
    // Two lines with the same row are one attachment.
    seen.add(entry.row.jobId);
    const { item, row } = entry;
    if (item.status === 'undone' && item.batch === batch) alreadyUndone++;
    if (item.status !== 'uploaded' || item.attachmentId === undefined) continue;
    if (item.batch !== batch) {
      ownedElsewhere++;
      continue;
    }
    targets.push({
      line: entry.line,
      jobId: row.jobId,
      module: row.module,
      recordId: row.record_id,
      attachmentId: item.attachmentId,
      source: row.link_url || row.file,
    });
  }
  return { batch, targets, alreadyUndone, ownedElsewhere };
}

/** Options of {@link undoBatch}. */
export interface UndoOptions {
  /** Deletions at once; the slots are taken from the workers' shared limit while undo runs. @defaultValue 2 */
  concurrency?: number;
  /** Told after each attachment. */
  onProgress?: (progress: { done: number; of: number }) => void;
}

/** Deletes the attachments of `plan` (from {@link planUndo}) and marks each row undone. */
export async function undoBatch(
  uploadQueue: UploadQueue,
  client: Pick<ZohoClient, 'attributedTo'>,
  plan: UndoPlan,
  options: UndoOptions = {},
): Promise<UndoResult> {
  // Its deletions and listings count against the batch's credits.
  const batchClient = client.attributedTo(plan.batch);
  const result: UndoResult = {
    batch: plan.batch,
    deleted: 0,
    alreadyGone: 0,
    alreadyUndone: plan.alreadyUndone,
    changed: 0,
    failed: [],
  };
  const mark = async (target: UndoTarget) => {
    const marked = await uploadQueue.ledger.markUndone({
      jobId: target.jobId,
      batch: plan.batch,
      attachmentId: target.attachmentId,
    });
    if (marked === 'changed') result.changed++;
    return marked;
  };
  const undoOne = async (target: UndoTarget) => {
    try {
      await retryZohoCall(() => batchClient.deleteAttachments(target.module, target.recordId, [target.attachmentId]));
      if ((await mark(target)) !== 'changed') result.deleted++;
    } catch (error) {
      // Refused as unknown: deleted already, or never there? Only a listing can tell.
      if (isZohoError(error) && error.classification === 'permanent') {
        const listed = await retryZohoCall(() => batchClient.listAllAttachments(target.module, target.recordId)).catch(
          () => undefined,
        );
        if (listed !== undefined && !listed.some((a) => a.id === target.attachmentId)) {
          if ((await mark(target)) !== 'changed') result.alreadyGone++;
          return;
        }
      }
      result.failed.push({ ...target, reason: safeErrorMessage(error) });
    }
  };

  let next = 0;
  let done = 0;
  const { targets } = plan;
  const laneCount = Math.max(1, Math.min(options.concurrency ?? 2, targets.length));
  const runLane = async () => {
    while (next < targets.length) {
      await undoOne(targets[next++] as UndoTarget);
      options.onProgress?.({ done: ++done, of: targets.length });
    }
  };
  // The deletions share Zoho's cap with the workers: their slots come out of the workers' limit.
  await uploadQueue.rateControl.concurrency.whileBorrowing(`undo:${plan.batch}:${randomUUID()}`, laneCount, () =>
    Promise.all(Array.from({ length: laneCount }, runLane)),
  );
  result.failed.sort((a, b) => a.line - b.line);
  return result;
}
