/**
 * `zoho-attach check`: proves a batch against what Zoho holds, record by record. Every record
 * with an uploaded row is listed (every page, 200 attachments a page), and each row is judged:
 * - `ok`: its attachment is there (and, with `deep`, its bytes hash to what was sent);
 * - `missing`: the ledger says uploaded, but Zoho no longer lists the attachment;
 * - `extra`: there, but so are more copies of the row's file or link, made since the row's first
 *   attempt and owned by no row (a duplicate). They are reported, never deleted;
 * - `mismatch` (`deep` only): there, but its bytes are not what was sent;
 * - `unchecked`: the record could not be listed (the reason says why);
 * - `dead`, `pending`, `undone` (its attachment deleted by `undo`): the ledger's own word; nothing to compare.
 * With `repair`, the missing rows are queued again (a fresh upload each).
 */
import { createHash, randomUUID } from 'node:crypto';
import type { LastCheck, LedgerItem, StoredRow } from '../ledger/ledger.js';
import { ZohoAttachError } from '../shared/errors.js';
import { hasIdentity, type CopyIdentity } from '../upload/own-copies.js';
import type { AttachmentInfo, ZohoClient } from '../zoho/index.js';
import { retryZohoCall } from '../zoho/retry-call.js';
import { enqueueRows, type EnqueueSummary } from '../queue/enqueue.js';
import type { UploadQueue } from '../queue/upload-queue.js';
import { safeErrorMessage } from '../shared/redact.js';

/** What check found for one row. */
export type CheckStatus = 'ok' | 'missing' | 'extra' | 'mismatch' | 'unchecked' | 'dead' | 'pending' | 'undone';

/** The statuses that fail a check. */
export const FAILING_CHECK_STATUSES: readonly CheckStatus[] = ['missing', 'extra', 'mismatch', 'unchecked'];

/** One row of a batch, judged. */
export interface CheckedRow {
  line: number;
  module: string;
  recordId: string;
  /** The file path or link URL, as in the manifest. */
  source: string;
  status: CheckStatus;
  attachmentId?: string;
  /** For `extra`: the ids of the copies no row owns. */
  extraCopies?: string[];
  /** Why, for every status but `ok`, `dead` and `pending`. */
  detail?: string;
}

/** What a check will cost, known before it starts. */
export interface CheckPlan {
  batch: string;
  rows: number;
  /** Rows the ledger has uploaded: the ones compared with Zoho. */
  uploadedRows: number;
  /** Records they are on: one listing each, one more per 200 attachments beyond the first 200. */
  records: number;
  /** API calls at least: the listings' first pages, and one download per uploaded file row with `deep`. */
  apiCallsAtLeast: number;
  downloads: number;
}

/** The counts of a finished check; the ledger keeps the last one with the batch (the dashboard shows it). */
export interface CheckSummary extends LastCheck {
  batch: string;
  counts: Record<CheckStatus, number>;
}

/** What {@link checkBatch} returns. */
export interface CheckResult extends CheckSummary {
  /** Every row that is not `ok`, `dead` or `pending`, in manifest order. */
  differing: CheckedRow[];
  /** With `repair`: what queueing the missing rows again did. */
  repair?: EnqueueSummary;
}

/** Options of {@link checkBatch}. */
export interface CheckOptions {
  batch: string;
  /** Download every uploaded file and compare its sha256 with what was sent. @defaultValue false */
  deep?: boolean;
  /** Queue the missing rows again. @defaultValue false */
  repair?: boolean;
  /** Records listed at once; the slots are taken from the workers' shared limit while check runs. @defaultValue 2 */
  concurrency?: number;
  /** Told the cost before the first call. */
  onPlan?: (plan: CheckPlan) => void;
  /** Told after each record. */
  onProgress?: (progress: { records: number; of: number; apiCalls: number }) => void;
}

/** An uploaded row, as check needs it. */
interface UploadedRow {
  line: number;
  row: StoredRow;
  item: LedgerItem;
}

/** Checks a batch against Zoho (see the module's comment). */
export async function checkBatch(
  uploadQueue: UploadQueue,
  client: Pick<ZohoClient, 'attributedTo'>,
  options: CheckOptions,
): Promise<CheckResult> {
  const { ledger } = uploadQueue;
  const { batch } = options;
  const deep = options.deep ?? false;
  // Its listings and downloads count against the batch's credits.
  const batchClient = client.attributedTo(batch);
  if (!(await ledger.getBatch(batch))) throw new ZohoAttachError('NO_SUCH_BATCH', `no batch named "${batch}"`);

  const counts: Record<CheckStatus, number> = {
    ok: 0,
    missing: 0,
    extra: 0,
    mismatch: 0,
    unchecked: 0,
    dead: 0,
    pending: 0,
    undone: 0,
  };
  const differing: CheckedRow[] = [];
  // Uploaded rows by record: each record is listed once for all its rows.
  const byRecord = new Map<string, UploadedRow[]>();
  let rows = 0;
  for await (const entry of ledger.readRows(batch)) {
    if (!('row' in entry)) continue;
    rows++;
    const status = entry.item?.status;
    if (status === 'uploaded' && entry.item?.attachmentId) {
      const key = `${entry.row.module}\n${entry.row.record_id}`;
      const list = byRecord.get(key) ?? [];
      list.push({ line: entry.line, row: entry.row, item: entry.item });
      byRecord.set(key, list);
    } else if (status === 'dead') counts.dead++;
    else if (status === 'undone') counts.undone++;
    else counts.pending++;
  }
  const uploaded = [...byRecord.values()].flat();
  const downloads = deep ? uploaded.filter((u) => u.row.link_url === '').length : 0;
  options.onPlan?.({
    batch,
    rows,
    uploadedRows: uploaded.length,
    records: byRecord.size,
    apiCallsAtLeast: byRecord.size + downloads,
    downloads,
  });

  const apiCalls = { listings: 0, downloads: 0 };
  const records = [...byRecord.values()];
  let done = 0;
  const checkRecord = async (recordRows: UploadedRow[]) => {
    const { module, record_id: recordId } = (recordRows[0] as UploadedRow).row;
    let listed: AttachmentInfo[];
    try {
      listed = await retryZohoCall(async () => {
        const pages: AttachmentInfo[] = await batchClient.listAllAttachments(module, recordId);
        apiCalls.listings += Math.max(1, Math.ceil(pages.length / 200));
        return pages;
      });
    } catch (error) {
      for (const u of recordRows) {
        counts.unchecked++;
        differing.push(
          judged(u, 'unchecked', { detail: `the record could not be listed: ${safeErrorMessage(error)}` }),
        );
      }
      return;
    }
    const owners = await ledger.ownersOf(listed.map((a) => a.id));
    const unowned = listed.filter((_, i) => owners[i] === undefined);
    for (const u of recordRows) {
      const verdict = judgeRow(u, listed, unowned, uploadQueue.config.queue.clockSkewMs);
      if (verdict.status === 'ok' && deep && u.row.link_url === '') {
        const attachmentId = u.item.attachmentId as string;
        try {
          const sha256 = await retryZohoCall(async () => {
            const download = await batchClient.downloadAttachment(module, recordId, attachmentId);
            apiCalls.downloads++;
            const hash = createHash('sha256');
            for await (const chunk of download.stream) hash.update(chunk as Buffer);
            return hash.digest('hex');
          });
          if (u.item.sha256 !== undefined && sha256 !== u.item.sha256)
            Object.assign(verdict, {
              status: 'mismatch',
              detail: `Zoho's copy hashes to ${sha256}, the ledger sent ${u.item.sha256}`,
            });
        } catch (error) {
          Object.assign(verdict, {
            status: 'unchecked',
            detail: `the attachment could not be downloaded: ${safeErrorMessage(error)}`,
          });
        }
      }
      counts[verdict.status]++;
      if (verdict.status !== 'ok') differing.push(verdict);
    }
  };
  let next = 0;
  const laneCount = Math.max(1, Math.min(options.concurrency ?? 2, records.length));
  const runLane = async () => {
    while (next < records.length) {
      await checkRecord(records[next++] as UploadedRow[]);
      done++;
      options.onProgress?.({ records: done, of: records.length, apiCalls: apiCalls.listings + apiCalls.downloads });
    }
  };
  // The listings share Zoho's cap with the workers: their slots come out of the workers' limit.
  await uploadQueue.rateControl.concurrency.whileBorrowing(`check:${batch}:${randomUUID()}`, laneCount, () =>
    Promise.all(Array.from({ length: laneCount }, runLane)),
  );

  differing.sort((a, b) => a.line - b.line);
  const summary: CheckSummary = {
    batch,
    at: Date.now(),
    deep,
    counts,
    apiCalls,
    passed: FAILING_CHECK_STATUSES.every((status) => counts[status] === 0),
  };
  await ledger.recordCheck(batch, summary);
  const result: CheckResult = { ...summary, differing };
  if (options.repair && counts.missing > 0) {
    const missing = differing.filter((d) => d.status === 'missing').map((d) => d.line);
    result.repair = await requeueMissing(uploadQueue, batch, missing);
  }
  return result;
}

/** A row's verdict from its record's listing. */
function judgeRow(
  u: UploadedRow,
  listed: readonly AttachmentInfo[],
  unowned: readonly AttachmentInfo[],
  clockSkewMs: number,
): CheckedRow {
  const attachmentId = u.item.attachmentId as string;
  const own = listed.find((a) => a.id === attachmentId);
  if (!own) return judged(u, 'missing', { detail: `attachment ${attachmentId} is no longer on the record` });
  const identity: CopyIdentity =
    u.row.link_url !== ''
      ? { kind: 'link', url: u.row.link_url }
      : { kind: 'file', fileName: own.fileName, size: own.size ?? -1, sha256s: () => Promise.resolve([]) };
  // Copies made before the row's first attempt were on the record already: not this batch's doing.
  const since = (u.item.firstAttemptAt ?? u.item.createdAt ?? 0) - clockSkewMs;
  const extra = unowned.filter(
    (a) => a.id !== attachmentId && hasIdentity(a, identity) && Date.parse(a.createdTime) + 999 >= since,
  );
  if (extra.length > 0)
    return judged(u, 'extra', {
      extraCopies: extra.map((a) => a.id),
      detail: `${extra.length} more cop${extra.length === 1 ? 'y' : 'ies'} of the row's ${identity.kind} no row owns: ${extra.map((a) => a.id).join(', ')}`,
    });
  return judged(u, 'ok', {});
}

function judged(u: UploadedRow, status: CheckStatus, more: Partial<CheckedRow>): CheckedRow {
  return {
    line: u.line,
    module: u.row.module,
    recordId: u.row.record_id,
    source: u.row.link_url || u.row.file,
    status,
    attachmentId: u.item.attachmentId,
    ...more,
  };
}

/** Queues the rows at `lines` again, each as a fresh upload (their attachment is gone). */
async function requeueMissing(uploadQueue: UploadQueue, batch: string, lines: number[]): Promise<EnqueueSummary> {
  const wanted = new Set(lines);
  const entries = [];
  for await (const entry of uploadQueue.ledger.readRows(batch)) {
    if (!('row' in entry) || !wanted.has(entry.line)) continue;
    const { row } = entry;
    entries.push({
      ok: true as const,
      row: {
        line: entry.line,
        module: row.module,
        recordId: row.record_id,
        ...(row.link_url !== '' ? { linkUrl: row.link_url } : { file: row.file }),
        ...(row.title !== '' ? { title: row.title } : {}),
        extra: row.extra,
      },
    });
  }
  // `reupload`: the ledger has these rows uploaded; a missing attachment needs a new one.
  return enqueueRows(uploadQueue, entries, { batch, mode: 'reupload' });
}
