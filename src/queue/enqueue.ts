/**
 * Turning validated rows into upload jobs, in chunks, without duplicates: each row's job
 * id is derived from what it uploads, and the ledger decides whether it still needs doing.
 */
import type { ClaimMode, StoredRejection, StoredRow } from '../ledger/ledger.js';
import {
  assertBatchName,
  resolveColumns,
  type ManifestRow,
  type ManifestRowResult,
  type RowRejection,
} from '../manifest/index.js';
import type { UploadJobData, UploadTarget } from './upload-job.js';
import { UPLOAD_JOB_NAME, targetOfFields, uploadJobId } from './upload-job.js';
import type { UploadQueue } from './upload-queue.js';
import { sourceLimitsOf } from '../sources/index.js';
import { checkRows, type RowCheckOptions } from './row-checks.js';
import { resolveLookups, type LookupCounts, type RecordFinder } from './record-lookup.js';

/** Rows per `addBulk` call and ledger round trip. */
const DEFAULT_CHUNK_SIZE = 1_000;

/** Rejections kept in the returned summary; the ledger keeps them all. */
const REJECTIONS_IN_SUMMARY = 1_000;

/** A manifest entry as the manifest reader yields it. */
export type ManifestEntry = ManifestRowResult;

/** Options for {@link enqueueRows}. */
export interface EnqueueOptions {
  /** The batch (run) the rows belong to. */
  batch: string;
  /**
   * Which rows that the ledger knows already are queued again: `normal` (none but dead letters
   * an operator purged), `force` (dead letters too, e.g. after fixing the manifest) or
   * `reupload` (uploaded rows too: each gets a second copy in Zoho, and costs its credits again).
   * @defaultValue 'normal'
   */
  mode?: ClaimMode;
  /** The manifest the rows came from, recorded with the batch. */
  source?: string;
  /** Rows per chunk. @defaultValue 1000 */
  chunkSize?: number;
  /** Called after each chunk with the running totals (for a progress bar). */
  onProgress?: (summary: EnqueueSummary) => void;
  /**
   * Stops reading the manifest: the rows read so far are written (the chunk in flight
   * finishes) and the summary says `interrupted`. Enqueueing the same manifest again goes on
   * where it stopped: rows already queued are recognised, none is queued twice.
   */
  signal?: AbortSignal;
  /**
   * The checks each row goes through besides the manifest's own; the dry run runs the same.
   * @defaultValue the sources checked within the queue's configured limits, empty files refused
   */
  checks?: RowCheckOptions;
  /**
   * Rows archived batches show uploaded (job id → attachment id, from `archivedUploads`): they left
   * Redis with their batch, so only this tells enqueue they need no second upload.
   */
  archived?: ReadonlyMap<string, string>;
  /**
   * Finds the records of rows that name theirs by a field (`lookup_field`, `lookup_value`): the
   * Zoho client. Without it such rows are rejected (`LOOKUP_FAILED`).
   */
  lookup?: RecordFinder;
}

/** What an enqueue did. */
export interface EnqueueSummary {
  batch: string;
  /** Rows read (valid and rejected). */
  rows: number;
  /** New jobs, and dead, purged or re-uploaded rows queued again. */
  enqueued: number;
  /** Of `enqueued`: rows the ledger knew that were queued again (purged or forced dead letters, re-uploads). */
  requeued: number;
  /** Rows already uploaded (per the ledger, or an archive), skipped. */
  skipped: number;
  /** Of `skipped`: rows an archive given with `archived` shows uploaded. */
  skippedArchived: number;
  /** Rows that are dead letters already: left alone (`dlq retry`, or `enqueue --force` after a fix, queue them again). */
  deadLetters: number;
  /** Rows identical to one already waiting (in this or another batch): no second job. */
  alreadyQueued: number;
  /** Invalid rows, not enqueued. */
  rejected: number;
  /** The first rejections, with line numbers and reasons. */
  rejections: RowRejection[];
  /** True when `signal` stopped the enqueue before the end of the manifest. */
  interrupted?: boolean;
  /** Columns that look like misspelt fields ("did you mean title?"). */
  warnings: string[];
  /**
   * True when no row was new: every one was already queued, uploaded or a dead letter
   * (perhaps under another batch). A batch this run would have created is then not kept.
   */
  nothingNew: boolean;
  /** True when the batch was new and, holding nothing new, was not kept. */
  batchDropped: boolean;
  /** Rows that named their record by a field, and what finding them cost. */
  lookups: LookupCounts;
}

/** Where a row's bytes come from. */
export function targetOf(row: ManifestRow): UploadTarget {
  return targetOfFields(row.file, row.linkUrl);
}

/**
 * Enqueues validated rows (streamed: memory holds two chunks) and records them and the
 * rejected ones in the batch's ledger. One chunk's Redis work runs while the next chunk is
 * read and validated, so neither Redis nor this process waits on the other.
 */
export async function enqueueRows(
  uploadQueue: UploadQueue,
  entries: AsyncIterable<ManifestEntry> | Iterable<ManifestEntry>,
  options: EnqueueOptions,
): Promise<EnqueueSummary> {
  assertBatchName(options.batch);
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const summary: EnqueueSummary = {
    batch: options.batch,
    rows: 0,
    enqueued: 0,
    requeued: 0,
    skipped: 0,
    skippedArchived: 0,
    deadLetters: 0,
    alreadyQueued: 0,
    rejected: 0,
    rejections: [],
    warnings: [],
    nothingNew: false,
    batchDropped: false,
    lookups: { rows: 0, resolved: 0, queries: 0, cached: 0 },
  };
  const created = await uploadQueue.ledger.ensureBatch(options.batch, options.source);
  const checks = options.checks ?? { sources: { limits: sourceLimitsOf(uploadQueue.config.sources) } };

  let rows: ManifestRow[] = [];
  let rejections: RowRejection[] = [];
  // The previous chunk's Redis work; chunks are written one after the other, in order.
  let previous: Promise<void> = Promise.resolve();
  const flush = async () => {
    const chunk = { rows, rejections };
    rows = [];
    rejections = [];
    await previous;
    previous = enqueueChunk(uploadQueue, chunk.rows, chunk.rejections, options, summary).then(() =>
      options.onProgress?.(summary),
    );
    // Awaited by the next flush or at the end; until then a failure must not count as unhandled.
    previous.catch(() => undefined);
  };

  for await (const entry of checkRows(entries, checks, summary.warnings)) {
    if (options.signal?.aborted) {
      summary.interrupted = true;
      break;
    }
    summary.rows++;
    if (entry.ok) rows.push(entry.row);
    else rejections.push(entry.rejection);
    if (rows.length + rejections.length >= chunkSize) await flush();
  }
  if (rows.length + rejections.length > 0 || summary.rows === 0) await flush();
  await previous;
  summary.nothingNew = !summary.interrupted && summary.enqueued === 0 && summary.rejected === 0;
  // A re-run under a new name (the manifest's, when the first run had --batch) must not leave
  // an empty "0 of 0" batch behind: its rows belong to the batches that queued them.
  if (summary.nothingNew && created) {
    await uploadQueue.ledger.dropBatch(options.batch);
    summary.batchDropped = true;
  }
  return summary;
}

async function enqueueChunk(
  uploadQueue: UploadQueue,
  rows: ManifestRow[],
  rejections: RowRejection[],
  options: EnqueueOptions,
  summary: EnqueueSummary,
): Promise<void> {
  const { ledger, queue, jobOptions } = uploadQueue;
  const { batch } = options;
  // First, since a row's identity includes its record id: rows that name their record by a field.
  const looked = await resolveLookups(
    { redis: uploadQueue.redis, keys: uploadQueue.keys, finder: options.lookup },
    batch,
    rows,
    summary.lookups,
  );
  rows = looked.rows;
  rejections = [...rejections, ...looked.rejections].sort((a, b) => a.line - b.line);

  if (rejections.length > 0) {
    await ledger.recordRejections(
      batch,
      rejections.map((r) => ({ line: r.line, rejection: storedRejection(r) })),
    );
    summary.rejected += rejections.length;
    for (const r of rejections) if (summary.rejections.length < REJECTIONS_IN_SUMMARY) summary.rejections.push(r);
  }
  if (rows.length === 0) return;

  const identified = rows.map((row) => {
    const target = targetOf(row);
    const data: UploadJobData = {
      batch,
      line: row.line,
      module: row.module,
      recordId: row.recordId,
      target,
      ...(row.title ? { title: row.title } : {}),
    };
    return { jobId: uploadJobId(data), data, row };
  });
  // An archived batch's rows are no longer in Redis: its archive is what says they are uploaded.
  const jobs =
    options.archived === undefined ? identified : identified.filter((job) => !options.archived?.has(job.jobId));
  summary.skipped += identified.length - jobs.length;
  summary.skippedArchived += identified.length - jobs.length;
  if (jobs.length === 0) return;

  // The rows are recorded and claimed in one step (a feeder builds each job from its stored row).
  const outcomes = await ledger.claim(
    batch,
    jobs.map((j) => ({ jobId: j.jobId, line: j.row.line, row: storedRow(j.jobId, j.row) })),
    options.mode ?? 'normal',
  );
  const requeued: typeof jobs = [];
  for (const [i, job] of jobs.entries()) {
    const outcome = outcomes[i];
    if (outcome === 'uploaded') summary.skipped++;
    else if (outcome === 'dead') summary.deadLetters++;
    else if (outcome === 'queued') summary.alreadyQueued++;
    else summary.enqueued++;
    if (outcome === 'requeued') {
      requeued.push(job);
      summary.requeued++;
    }
  }
  // Created rows wait in the backlog. A requeued row replaces its old job (failed or completed) at
  // once: the id is taken until the old job is gone.
  for (const job of requeued) await uploadQueue.removeFinishedJob(job.jobId);
  if (requeued.length > 0)
    await queue.addBulk(
      requeued.map((j) => ({ name: UPLOAD_JOB_NAME, data: j.data, opts: { ...jobOptions, jobId: j.jobId } })),
    );
  // Only now is each requeue finished: killed before this line, the intent stays and the next enqueue or worker finishes it.
  await ledger.clearRequeueIntents(requeued.map((j) => j.jobId));
}

function storedRow(jobId: string, row: ManifestRow): StoredRow {
  return {
    jobId,
    module: row.module,
    record_id: row.recordId,
    file: row.file ?? '',
    link_url: row.linkUrl ?? '',
    title: row.title ?? '',
    extra: row.extra,
  };
}

/** A rejection as the ledger keeps it: the row's fields split into manifest fields and pass-through columns. */
function storedRejection(rejection: RowRejection): StoredRejection {
  const stored: StoredRejection = { field: rejection.field, reason: rejection.reason, code: rejection.code };
  if (rejection.raw === undefined) return stored;
  const names = Object.keys(rejection.raw);
  const { columns } = resolveColumns(names);
  stored.fields = {};
  stored.extra = {};
  columns.forEach((column, i) => {
    const value = (rejection.raw as Record<string, string>)[names[i] as string] as string;
    if (column.field === undefined) (stored.extra as Record<string, string>)[column.name] = value;
    else (stored.fields as Record<string, string>)[column.field] = value;
  });
  return stored;
}
