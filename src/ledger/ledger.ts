/**
 * The ledger: what happened to every row, kept in Redis apart from BullMQ's jobs so that
 * finished jobs can be removed (bounded memory for millions of rows) while every row's
 * outcome and attachment id stays.
 *
 * Two levels:
 * - an **item** per row identity (the upload job id): status, attachment id, attempts, last
 *   error, sha256, the "may already be stored" mark. Items are shared: the same row enqueued
 *   by two batches is one item.
 * - per **batch**: the rows by manifest line (pointing at items), the rejected lines, and
 *   counters. A batch "owns" the items it created; its counters count owned items, so
 *   `pending = owned - uploaded - dead` holds for every batch.
 *
 * Status changes go through Lua scripts, one file each beside this one, so that an item and
 * its batch counters move together. Every key comes from `shared/key-names.ts`. Items are
 * packed many to a hash (item-store.ts) and a batch's rows many to a string (row-pages.ts):
 * a row costs its bytes, not a Redis key or hash entry of its own.
 */
import type { ChainableCommander, Redis } from 'ioredis';
import { ClassifiedError } from '../shared/errors.js';
import type { KeyNames } from '../shared/key-names.js';
import { backlogCount, finishFeeding, takeFromBacklog, type BacklogTake, type TakenRow } from './backlog.js';
import { CLAIM_ROWS_SCRIPT, claimRows } from './claim-rows.js';
import { decodeStoredRow, storedRowColumns } from './stored-row.js';
import { errorFields, markDead } from './mark-dead.js';
import { markUndone, type MarkUndoneResult } from './mark-undone.js';
import { markUploaded, type MarkUploadedResult, type UploadedRow } from './mark-uploaded.js';
import { beatPosting, endPosting, startAttempt, type SentContent, type StartedAttempt } from './posting-lease.js';
import { forgetItems } from './forget-batch.js';
import { NOTE_LAYOUT_SCRIPT, noteLayout, readItems, readOwners, setItemFields } from './item-store.js';
import { connectionWriting } from './replicas.js';
import { readRowPages, RECORD_ROWS_SCRIPT, recordRowPages, rowPageKeys } from './row-pages.js';
import { readProgressSamples, type ProgressSample } from './progress-samples.js';
import { defineScript, runScript, type LedgerScript } from './redis-script.js';
import { clearRequeueIntents, listRequeueIntents, markPurged, reviveDead } from './requeue.js';
import {
  parseItem,
  type BatchMeta,
  type ClaimMode,
  type ClaimOutcome,
  type LedgerError,
  type LastCheck,
  type LedgerItem,
  type RequeueIntent,
  type StoredRejection,
  type StoredRow,
} from './types.js';
import {
  countDueVerifications,
  countRemovedCopies,
  finishVerification,
  listDueVerifications,
  type DueVerification,
  type VerificationResult,
} from './verification.js';

export type * from './types.js';
export type { MarkUploadedResult, UploadedRow } from './mark-uploaded.js';
export type { MarkUndoneResult } from './mark-undone.js';
export type { SentContent, StartedAttempt } from './posting-lease.js';
export type { DueVerification, VerificationResult } from './verification.js';
export type { ProgressSample } from './progress-samples.js';
export type { BacklogTake, TakenRow } from './backlog.js';

// KEYS[1] batch meta. ARGV: line. Two enqueues of one batch may race, and maxLine must only grow.
const RAISE_MAX_LINE_SCRIPT: LedgerScript = {
  name: 'zohoAttachRaiseMaxLine',
  lua: `
if tonumber(ARGV[1]) > tonumber(redis.call('HGET', KEYS[1], 'maxLine') or '0') then
  redis.call('HSET', KEYS[1], 'maxLine', ARGV[1])
end
return 0
`,
};

/** Reads and writes the ledger. One instance per Redis connection. */
/** One manifest line of a batch as the ledger holds it: an accepted row and its item, or a rejection. */
export type LedgerRowEntry =
  { line: number; row: StoredRow; item: LedgerItem | undefined } | { line: number; rejection: StoredRejection };

/** How long a posting lease may take to reach the replicas (see {@link Ledger.startAttempt}). */
const REPLICA_WAIT_MS = 2_000;

export class Ledger {
  /**
   * @param redis a connection the ledger may define its scripts on
   * @param keys the deployment's key names
   * @param now the clock (tests replace it)
   */
  constructor(
    private readonly redis: Redis,
    private readonly keys: KeyNames,
    private readonly now: () => number = Date.now,
    /** Replicas that must hold a posting lease before {@link startAttempt} returns (Redis `WAIT`); 0: none. */
    private readonly waitReplicas = 0,
  ) {
    // MULTIs run these scripts, and only a connection can define them for them.
    for (const script of [RAISE_MAX_LINE_SCRIPT, RECORD_ROWS_SCRIPT, NOTE_LAYOUT_SCRIPT, CLAIM_ROWS_SCRIPT])
      defineScript(redis, script);
  }

  /** Records a batch (idempotent) and the manifest it came from. */
  async ensureBatch(batch: string, source?: string): Promise<boolean> {
    const now = this.now();
    const multi = this.redis.multi();
    void noteLayout(multi, this.keys);
    const results = await multi
      .zadd(this.keys.batches, 'NX', now, batch)
      .hsetnx(this.keys.batchMeta(batch), 'createdAt', now)
      .hset(this.keys.batchMeta(batch), ...(source ? ['source', source] : ['touchedAt', String(now)]))
      .exec();
    return results?.[1]?.[1] === 1;
  }

  /**
   * Forgets a batch: its meta, rows, rejections and columns. The rows' outcomes are kept (they
   * belong to the row identities, which other batches may share). For a batch that turned out
   * to hold nothing new.
   */
  async dropBatch(batch: string): Promise<void> {
    const { keys } = this;
    const maxLine = Number((await this.redis.hget(keys.batchMeta(batch), 'maxLine')) ?? 0);
    await this.redis
      .multi()
      .zrem(keys.batches, batch)
      .zrem(keys.backlogBatches, batch)
      .hdel(keys.heldBatches, batch)
      .zrem(keys.creditBatches, batch)
      .del(
        keys.batchMeta(batch),
        keys.batchBacklog(batch),
        keys.batchLookups(batch),
        keys.batchCreditSlots(batch),
        keys.batchRows(batch),
        ...rowPageKeys(keys, batch, maxLine),
        keys.batchRejected(batch),
        keys.batchColumnOrder(batch),
        keys.batchColumns(batch),
        keys.batchProgress(batch),
      )
      .exec();
  }

  /**
   * Decides, for each row identity, whether it must be enqueued (see {@link ClaimOutcome}), and
   * puts created rows in the batch's backlog. One round trip per chunk. A feeder builds each job
   * from its batch row: rows given with their `row` are recorded first in the same step (as
   * {@link recordRows} would); rows given without must have been recorded before.
   */
  async claim(
    batch: string,
    rows: ReadonlyArray<{ jobId: string; line: number; row?: StoredRow }>,
    mode: ClaimMode,
  ): Promise<ClaimOutcome[]> {
    if (rows.length === 0) return [];
    const claimed = rows.map((r) => ({ jobId: r.jobId, line: r.line, columns: r.row && storedRowColumns(r.row) }));
    if (rows.some((r) => r.row === undefined))
      return claimRows(this.redis, this.keys, batch, claimed, mode, this.now());
    const multi = this.redis.multi();
    this.writeColumnOrder(multi, batch, rows as ReadonlyArray<{ line: number; row: StoredRow }>);
    void claimRows(multi, this.keys, batch, claimed, mode, this.now());
    const results = await execOrThrow(multi);
    return results[results.length - 1] as ClaimOutcome[];
  }

  /** Stores accepted rows of a batch by line (a line enqueued again is replaced). */
  async recordRows(batch: string, rows: Array<{ line: number; row: StoredRow }>): Promise<void> {
    if (rows.length === 0) return;
    const multi = this.redis.multi();
    this.writeColumnOrder(multi, batch, rows);
    void recordRowPages(
      multi,
      this.keys,
      batch,
      rows.map(({ line, row }) => ({ line, columns: storedRowColumns(row) })),
    );
    await execOrThrow(multi);
  }

  /** Notes, on `multi`, where each pass-through column of `rows` was first seen (see {@link ColumnOrder}). */
  private writeColumnOrder(
    multi: ChainableCommander,
    batch: string,
    rows: ReadonlyArray<{ line: number; row: StoredRow }>,
  ): void {
    const columns = new ColumnOrder();
    for (const { line, row } of rows) columns.see(line, Object.keys(row.extra));
    columns.write(multi, this.keys.batchColumnOrder(batch));
  }

  /** Stores rejected rows of a batch by line. */
  async recordRejections(
    batch: string,
    rejections: Array<{ line: number; rejection: StoredRejection }>,
  ): Promise<void> {
    if (rejections.length === 0) return;
    const fields: string[] = [];
    const columns = new ColumnOrder();
    let maxLine = 0;
    for (const { line, rejection } of rejections) {
      fields.push(String(line), JSON.stringify(rejection));
      // A rejected row's own columns show in the report too; the manifest's fields are columns already.
      columns.see(line, Object.keys(rejection.extra ?? {}));
      maxLine = Math.max(maxLine, line);
    }
    const multi = this.redis.multi();
    columns.write(multi, this.keys.batchColumnOrder(batch));
    multi.hset(this.keys.batchRejected(batch), ...fields);
    void runScript(multi, RAISE_MAX_LINE_SCRIPT, [this.keys.batchMeta(batch)], [maxLine]);
    await execOrThrow(multi);
  }

  /** Takes rows from the backlogs for a feeder to turn into jobs (see backlog.ts). */
  takeFromBacklog(options: { window: number; staleMs: number }): Promise<BacklogTake> {
    return takeFromBacklog(this.redis, this.keys, options, this.now());
  }

  /** Notes that the jobs of rows taken from the backlog are added. */
  finishFeeding(rows: readonly TakenRow[]): Promise<void> {
    return finishFeeding(this.redis, this.keys, rows);
  }

  /** Rows of every batch that wait for a job (in backlogs, or being fed). */
  backlogCount(): Promise<number> {
    return backlogCount(this.redis, this.keys);
  }

  /** Reads several items in one round trip. */
  async getItems(jobIds: string[]): Promise<Array<LedgerItem | undefined>> {
    return (await readItems(this.redis, this.keys, jobIds)).map(parseItem);
  }

  /** See {@link startAttempt}: notes an attempt and takes the posting lease, in one round trip. */
  async startAttempt(
    jobId: string,
    attempt: number,
    lease: { token: string; staleMs: number; takeOverAt?: number | undefined },
  ): Promise<StartedAttempt> {
    const started = await startAttempt(this.redis, this.keys, jobId, attempt, lease, this.now());
    if (this.waitReplicas > 0 && started.verdict === 'go' && !(await this.replicated())) {
      // Give the lease back (keeping the "may already be stored" mark): the retry should not wait for it to go stale.
      await endPosting(this.redis, this.keys, jobId, lease.token, { notStored: false });
      throw new ClassifiedError({
        code: 'REDIS_NOT_REPLICATED',
        classification: 'transient',
        message: `the posting lease did not reach ${this.waitReplicas} replica(s) within ${REPLICA_WAIT_MS} ms (REDIS_WAIT_REPLICAS): not posting until it does`,
      });
    }
    return started;
  }

  /**
   * Whether `waitReplicas` replicas hold every write this connection made (Redis `WAIT`). A
   * primary that fails over loses what it had not yet passed on: a posting lease it lost would
   * let the row be posted again without looking first, so without the replicas' word nothing is posted.
   */
  private async replicated(): Promise<boolean> {
    const writer = await connectionWriting(this.redis, this.keys.queueMeta);
    return writer !== undefined && (await writer.wait(this.waitReplicas, REPLICA_WAIT_MS)) >= this.waitReplicas;
  }

  /** Renews this run's posting lease; false when it is no longer ours. */
  beatPosting(jobId: string, token: string): Promise<boolean> {
    return beatPosting(this.redis, this.keys, jobId, token, this.now());
  }

  /**
   * Ends this run's posting lease. With `notStored`, also forgets the "may already be stored"
   * mark; with `sent`, remembers what an ambiguous attempt sent.
   */
  endPosting(
    jobId: string,
    token: string,
    outcome: { notStored: boolean; sent?: SentContent | undefined },
  ): Promise<void> {
    return endPosting(this.redis, this.keys, jobId, token, outcome);
  }

  /** Notes a failed attempt's error (the row stays pending). */
  async recordError(jobId: string, error: LedgerError): Promise<void> {
    await setItemFields(this.redis, this.keys, jobId, errorFields(error, this.now()));
  }

  /** Marks a row uploaded and claims its attachment, in one step (see {@link MarkUploadedResult}). */
  markUploaded(jobId: string, row: UploadedRow): Promise<MarkUploadedResult> {
    return markUploaded(this.redis, this.keys, jobId, row, this.now());
  }

  /** Marks a row dead with its error; an uploaded row is never marked dead. */
  markDead(jobId: string, error: LedgerError): Promise<boolean> {
    return markDead(this.redis, this.keys, jobId, error, this.now());
  }

  /** Moves a dead row back to pending, keeping its "may already be stored" mark, with a requeue intent (`dlq retry`). */
  reviveDead(jobId: string, row: { batch: string; line: number }): Promise<boolean> {
    return reviveDead(this.redis, this.keys, jobId, row, this.now());
  }

  /** Notes that a dead letter was purged: a plain enqueue may queue the row again. */
  markPurged(jobId: string): Promise<boolean> {
    return markPurged(this.redis, this.keys, jobId, this.now());
  }

  /** Requeues that were started but may not have replaced their job yet. */
  requeueIntents(): Promise<RequeueIntent[]> {
    return listRequeueIntents(this.redis, this.keys);
  }

  /** Forgets requeue intents whose job is in place. */
  clearRequeueIntents(jobIds: string[]): Promise<void> {
    return clearRequeueIntents(this.redis, this.keys, jobIds);
  }

  /** Records a settle-and-verify result and takes the row off the due list. */
  finishVerification(jobId: string, result: VerificationResult): Promise<void> {
    return finishVerification(this.redis, this.keys, jobId, result, this.now());
  }

  /** Counts extra copies of a row deleted outside a verification. */
  countRemovedCopies(jobId: string, count: number): Promise<void> {
    return countRemovedCopies(this.redis, this.keys, jobId, count);
  }

  /** Rows whose settle-and-verify listing is due or running, with when it is due. */
  dueVerifications(): Promise<DueVerification[]> {
    return listDueVerifications(this.redis, this.keys);
  }

  /** How many settle-and-verify listings are due or running. */
  countDueVerifications(): Promise<number> {
    return countDueVerifications(this.redis, this.keys);
  }

  /** Marks a row undone: `undo` deleted its attachment (see mark-undone.ts). */
  markUndone(row: { jobId: string; batch: string; attachmentId: string }): Promise<MarkUndoneResult> {
    return markUndone(this.redis, this.keys, row, this.now());
  }

  /** Keeps the summary of the batch's last check against Zoho with the batch (the dashboard shows it). */
  async recordCheck(batch: string, check: LastCheck): Promise<void> {
    const { at, deep, passed, counts, apiCalls } = check;
    await this.redis.hset(
      this.keys.batchMeta(batch),
      'lastCheck',
      JSON.stringify({ at, deep, passed, counts, apiCalls } satisfies LastCheck),
    );
  }

  /** Adds to a batch's live counters (`bytes`, `retries`, `rateLimited`). */
  async count(batch: string, counter: 'retries' | 'rateLimited', by = 1): Promise<void> {
    await this.redis.hincrby(this.keys.batchMeta(batch), counter, by);
  }

  /** The job ids that own each attachment id (undefined where none does). */
  async ownersOf(attachmentIds: string[]): Promise<Array<string | undefined>> {
    return readOwners(this.redis, this.keys, attachmentIds);
  }

  /** Every batch name, oldest first. */
  async listBatches(): Promise<string[]> {
    return this.redis.zrange(this.keys.batches, 0, -1);
  }

  /** A batch's summary, or undefined when there is no such batch. */
  async getBatch(batch: string): Promise<BatchMeta | undefined> {
    const [raw, legacyRows, rejected, backlog] = await Promise.all([
      this.redis.hgetall(this.keys.batchMeta(batch)),
      // Rows a version before row pages stored, and enqueue has not moved.
      this.redis.hlen(this.keys.batchRows(batch)),
      this.redis.hlen(this.keys.batchRejected(batch)),
      this.redis.llen(this.keys.batchBacklog(batch)),
    ]);
    if (!raw.createdAt) return undefined;
    const n = (field: string) => Number(raw[field] ?? 0);
    return {
      name: batch,
      createdAt: n('createdAt'),
      ...(raw.source ? { source: raw.source } : {}),
      maxLine: n('maxLine'),
      accepted: n('accepted') + legacyRows,
      rejected,
      owned: n('owned'),
      uploaded: n('uploaded'),
      dead: n('dead'),
      undone: n('undone'),
      pending: n('owned') - n('uploaded') - n('dead') - n('undone'),
      backlog,
      bytes: n('bytes'),
      retries: n('retries'),
      rateLimited: n('rateLimited'),
      credits: n('credits'),
      verifying: n('verifying'),
      copiesRemoved: n('copiesRemoved'),
      ...(raw.lastCheck ? { lastCheck: JSON.parse(raw.lastCheck) as LastCheck } : {}),
    };
  }

  /**
   * A batch's rows in manifest order, each with its item (accepted rows) or its rejection.
   * Reads `chunkSize` lines at a time, so a million-row batch streams.
   */
  async *readRows(batch: string, chunkSize = 1000): AsyncGenerator<LedgerRowEntry> {
    const meta = await this.getBatch(batch);
    if (!meta) return;
    for (let start = 1; start <= meta.maxLine; start += chunkSize) {
      const lines: number[] = [];
      for (let line = start; line < start + chunkSize && line <= meta.maxLine; line++) lines.push(line);
      const [rows, rejections] = await Promise.all([
        readRowPages(this.redis, this.keys, batch, lines),
        this.redis.hmget(this.keys.batchRejected(batch), ...lines.map(String)),
      ]);
      const parsedRows = rows.map((r) => (r ? decodeStoredRow(r) : undefined));
      const items = await this.getItems(parsedRows.filter((r): r is StoredRow => r !== undefined).map((r) => r.jobId));
      let itemIndex = 0;
      for (let i = 0; i < lines.length; i++) {
        const line = lines[i] as number;
        const row = parsedRows[i];
        const rejection = rejections[i];
        if (row) yield { line, row, item: items[itemIndex++] };
        else if (rejection) yield { line, rejection: JSON.parse(rejection) as StoredRejection };
      }
    }
  }

  /** The pass-through column names of a batch, sorted. */
  async extraColumns(batch: string): Promise<string[]> {
    const [ordered, legacy] = await Promise.all([
      this.redis.zrange(this.keys.batchColumnOrder(batch), 0, -1),
      this.redis.smembers(this.keys.batchColumns(batch)),
    ]);
    const known = new Set(ordered);
    return [...ordered, ...legacy.filter((name) => !known.has(name)).sort()];
  }

  /** Forgets the rows of an archived batch that it owns (see forget-batch.ts); returns how many. */
  forgetItems(batch: string, jobIds: readonly string[]): Promise<number> {
    return forgetItems(this.redis, this.keys, batch, jobIds);
  }

  /** Each batch's progress over time (see progress-samples.ts), oldest first. */
  progressSamples(batches: readonly string[], since?: number): Promise<Map<string, ProgressSample[]>> {
    return readProgressSamples(this.redis, this.keys, batches, since);
  }

  /** Reads one stored row of a batch. */
  async getRow(batch: string, line: number): Promise<StoredRow | undefined> {
    const [raw] = await readRowPages(this.redis, this.keys, batch, [line]);
    return raw ? decodeStoredRow(raw) : undefined;
  }
}

/**
 * Where pass-through columns were first seen: the score is line × 1024 + the column's place in
 * its row (a row has at most a few hundred columns), and `ZADD LT` keeps the earliest, so the
 * report's columns come in manifest order however the chunks and re-runs arrive.
 */
class ColumnOrder {
  private readonly scores = new Map<string, number>();

  see(line: number, names: readonly string[]): void {
    names.forEach((name, index) => {
      const score = line * 1024 + index;
      const seen = this.scores.get(name);
      if (seen === undefined || score < seen) this.scores.set(name, score);
    });
  }

  write(multi: ReturnType<Redis['multi']>, key: string): void {
    const pairs = [...this.scores].flatMap(([name, score]) => [score, name]);
    // In slices: one ZADD with a spread of 100,000 names would overflow the call stack.
    for (let i = 0; i < pairs.length; i += 2_000) multi.zadd(key, 'LT', ...pairs.slice(i, i + 2_000));
  }
}

/** Runs a MULTI; throws its first error, else returns each command's result. */
async function execOrThrow(multi: ReturnType<Redis['multi']>): Promise<unknown[]> {
  const results = (await multi.exec()) ?? [];
  for (const [error] of results) if (error) throw error;
  return results.map(([, result]) => result);
}
