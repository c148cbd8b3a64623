/**
 * The ledger: what happened to every row, kept in Redis apart from BullMQ's jobs so that
 * finished jobs can be removed (bounded memory for millions of rows) while every row's
 * outcome and attachment id stays.
 *
 * Two levels:
 * - an **item** per row identity (the upload job id): status, attachment id, attempts, last
 *   error, sha256. Items are shared: the same row enqueued by two batches is one item.
 * - per **batch**: the rows by manifest line (pointing at items), the rejected lines, and
 *   counters. A batch "owns" the items it created; its counters count owned items, so
 *   `pending = owned - uploaded - dead` holds for every batch.
 *
 * Status changes go through Lua scripts so that an item and its batch counters move together.
 */
import type { Redis } from 'ioredis';
import type { KeyNames } from '../shared/key-names.js';

/** Where a row stands. */
export type ItemStatus = 'pending' | 'uploaded' | 'dead';

/** One row identity's outcome. */
export interface LedgerItem {
  status: ItemStatus;
  /** The batch that owns the item (counts it). */
  batch: string;
  attachmentId?: string;
  /** Attempts started so far. */
  attempts: number;
  sha256?: string;
  bytes?: number;
  /** `uploaded`: posted by us; `adopted`: found already stored after an ambiguous failure. */
  how?: 'uploaded' | 'adopted';
  errorCode?: string;
  errorMessage?: string;
  errorHttpStatus?: number;
  errorDetails?: Record<string, unknown>;
  /** Set when an attempt started and has not ended with a definite "not stored": the next attempt must look first. */
  pendingSince?: number;
  /** The run holding the posting lease, and its last beat (epoch ms). */
  postingBy?: string;
  postingAt?: number;
  createdAt?: number;
  updatedAt?: number;
  uploadedAt?: number;
}

/** The last error of a row, as the ledger keeps it. */
export interface LedgerError {
  /** The attempt that ended with this error. */
  attempt: number;
  code: string;
  message: string;
  httpStatus?: number | undefined;
  details?: Record<string, unknown> | undefined;
}

/** What {@link Ledger.startAttempt} found: go ahead, already done, or another run's post to wait for. */
export type AttemptVerdict = 'go' | 'uploaded' | 'busy' | 'stale';

/** A batch's summary. */
export interface BatchMeta {
  name: string;
  createdAt: number;
  /** The manifest it came from, when there was one. */
  source?: string;
  /** Highest manifest line recorded. */
  maxLine: number;
  /** Manifest lines with a valid row. */
  accepted: number;
  /** Manifest lines rejected at enqueue. */
  rejected: number;
  /**
   * Items this batch owns (created or re-queued by it). Rows that were already uploaded, or
   * already queued by another batch, are accepted but not owned.
   */
  owned: number;
  uploaded: number;
  dead: number;
  /** owned − uploaded − dead. */
  pending: number;
  /** Bytes sent in successful uploads. */
  bytes: number;
  /** Attempts that failed and were retried. */
  retries: number;
  /** 429 answers received. */
  rateLimited: number;
}

/** What {@link Ledger.claim} did with a row at enqueue. */
export type ClaimOutcome =
  /** A new item, owned by this batch: enqueue it. */
  | 'created'
  /** Already pending (maybe in another batch): nothing new; enqueue is harmless. */
  | 'queued'
  /** Already uploaded: skip it. */
  | 'uploaded'
  /** A dead letter: left alone (`dlq retry` or `--force` queue it again). */
  | 'dead'
  /** Was dead or uploaded, and forced: now pending again, owned by this batch. Its old job must be removed first. */
  | 'requeued';

/** A row as stored per batch (what the report needs besides the item). */
export interface StoredRow {
  jobId: string;
  module: string;
  record_id: string;
  file: string;
  link_url: string;
  title: string;
  extra: Record<string, string>;
}

/** A rejected row as stored per batch. */
export interface StoredRejection {
  field?: string | undefined;
  reason: string;
  /** The row's raw fields, as far as they could be read. */
  raw?: Record<string, string> | undefined;
}

// KEYS: the items of one chunk. ARGV: batch, force (0|1), now, metaPrefix, metaSuffix. Returns one outcome per item.
// One call per chunk, not one per row: a million-row enqueue makes a thousand script calls, not a million.
const CLAIM_LUA = `
local batch, force, now, metaPrefix, metaSuffix = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local outcomes = {}
local owned = 0
for i, item in ipairs(KEYS) do
  local status = redis.call('HGET', item, 'status')
  if not status then
    redis.call('HSET', item, 'status', 'pending', 'batch', batch, 'attempts', 0, 'createdAt', now, 'updatedAt', now)
    owned = owned + 1
    outcomes[i] = 'created'
  elseif status == 'pending' then
    outcomes[i] = 'queued'
  elseif force ~= '1' then
    outcomes[i] = status
  else
    local oldMeta = metaPrefix .. redis.call('HGET', item, 'batch') .. metaSuffix
    redis.call('HINCRBY', oldMeta, 'owned', -1)
    redis.call('HINCRBY', oldMeta, status, -1)
    redis.call('HDEL', item, 'errorCode', 'errorMessage', 'errorHttpStatus', 'errorDetails', 'pendingSince', 'postingBy', 'postingAt', 'attachmentId', 'how', 'uploadedAt')
    redis.call('HSET', item, 'status', 'pending', 'batch', batch, 'attempts', 0, 'updatedAt', now)
    owned = owned + 1
    outcomes[i] = 'requeued'
  end
end
if owned > 0 then redis.call('HINCRBY', metaPrefix .. batch .. metaSuffix, 'owned', owned) end
return outcomes
`;

// KEYS[1] item. ARGV: attempt, now, postingToken, staleMs, takeOverAt ('' or the postingAt a caller saw stale).
// Returns the item as it was (HGETALL's flat list), whether this call set pendingSince (1|0), and a verdict:
// 'uploaded' (only read), 'busy' (another run's post is alive: nothing changed), 'stale' (another run's post
// has not beaten for staleMs and the caller has not yet re-checked it: nothing changed), or 'go' (the
// attempt is noted, pendingSince set unless an earlier attempt left it, and the posting lease is ours).
const START_ATTEMPT_LUA = `
local fields = redis.call('HGETALL', KEYS[1])
local status, attachmentId, postingBy, postingAt
for i = 1, #fields, 2 do
  local f, v = fields[i], fields[i + 1]
  if f == 'status' then status = v elseif f == 'attachmentId' then attachmentId = v
  elseif f == 'postingBy' then postingBy = v elseif f == 'postingAt' then postingAt = v end
end
if status == 'uploaded' and attachmentId and attachmentId ~= '' then return { fields, 0, 'uploaded' } end
local now, token, staleMs, takeOverAt = tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4]), ARGV[5]
if postingBy and postingBy ~= token then
  if now - tonumber(postingAt) < staleMs then return { fields, 0, 'busy' } end
  -- Stale: take over only if the caller already saw this very beat stale once, a while ago.
  if takeOverAt ~= postingAt then return { fields, 0, 'stale' } end
end
local started = redis.call('HSETNX', KEYS[1], 'pendingSince', ARGV[2])
redis.call('HSET', KEYS[1], 'attempts', ARGV[1], 'updatedAt', ARGV[2], 'postingBy', token, 'postingAt', ARGV[2])
return { fields, started, 'go' }
`;

// KEYS[1] item. ARGV: postingToken, now. Renews the posting lease if it is still ours.
const BEAT_POSTING_LUA = `
if redis.call('HGET', KEYS[1], 'postingBy') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'postingAt', ARGV[2])
return 1
`;

// KEYS[1] item. ARGV: postingToken, clearPending (0|1). Ends our posting lease (and pendingSince when nothing was stored).
const END_POSTING_LUA = `
if redis.call('HGET', KEYS[1], 'postingBy') == ARGV[1] then redis.call('HDEL', KEYS[1], 'postingBy', 'postingAt') end
if ARGV[2] == '1' then redis.call('HDEL', KEYS[1], 'pendingSince') end
return 0
`;

// KEYS[1] item, KEYS[2] owners. ARGV: attachmentId, sha256, bytes, how, now, metaPrefix, metaSuffix, jobId, attempts
const MARK_UPLOADED_LUA = `
local item, owners = KEYS[1], KEYS[2]
local attachmentId, sha, bytes, how, now, metaPrefix, metaSuffix, jobId, attempts = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9]
local status = redis.call('HGET', item, 'status')
if status == 'uploaded' then return 0 end
local batch = redis.call('HGET', item, 'batch')
if not batch then return -1 end
local meta = metaPrefix .. batch .. metaSuffix
if status == 'dead' then redis.call('HINCRBY', meta, 'dead', -1) end
redis.call('HINCRBY', meta, 'uploaded', 1)
if bytes ~= '' then redis.call('HINCRBY', meta, 'bytes', bytes) end
redis.call('HDEL', item, 'pendingSince', 'postingBy', 'postingAt', 'errorCode', 'errorMessage', 'errorHttpStatus', 'errorDetails')
redis.call('HSET', item, 'status', 'uploaded', 'attachmentId', attachmentId, 'how', how, 'attempts', attempts, 'uploadedAt', now, 'updatedAt', now)
if sha ~= '' then redis.call('HSET', item, 'sha256', sha) end
if bytes ~= '' then redis.call('HSET', item, 'bytes', bytes) end
redis.call('HSET', owners, attachmentId, jobId)
return 1
`;

// KEYS[1] item. ARGV: code, message, httpStatus, detailsJson, attempts, now, metaPrefix, metaSuffix
const MARK_DEAD_LUA = `
local item = KEYS[1]
local status = redis.call('HGET', item, 'status')
if status == 'uploaded' or not status then return 0 end
redis.call('HSET', item, 'errorCode', ARGV[1], 'errorMessage', ARGV[2], 'errorHttpStatus', ARGV[3], 'errorDetails', ARGV[4], 'attempts', ARGV[5], 'updatedAt', ARGV[6])
if status == 'dead' then return 0 end
redis.call('HSET', item, 'status', 'dead')
redis.call('HINCRBY', ARGV[7] .. redis.call('HGET', item, 'batch') .. ARGV[8], 'dead', 1)
return 1
`;

// KEYS[1] item. ARGV: now, metaPrefix, metaSuffix
const REVIVE_DEAD_LUA = `
local item = KEYS[1]
if redis.call('HGET', item, 'status') ~= 'dead' then return 0 end
redis.call('HSET', item, 'status', 'pending', 'attempts', 0, 'updatedAt', ARGV[1])
redis.call('HDEL', item, 'pendingSince', 'postingBy', 'postingAt')
redis.call('HINCRBY', ARGV[2] .. redis.call('HGET', item, 'batch') .. ARGV[3], 'dead', -1)
return 1
`;

const RAISE_MAX_LINE_LUA = `
if tonumber(ARGV[1]) > tonumber(redis.call('HGET', KEYS[1], 'maxLine') or '0') then
  redis.call('HSET', KEYS[1], 'maxLine', ARGV[1])
end
return 0
`;

type LedgerRedis = Redis & {
  ledgerRaiseMaxLine(meta: string, line: number): Promise<number>;
  ledgerClaim(itemCount: number, ...itemsThenArgs: (string | number)[]): Promise<ClaimOutcome[]>;
  ledgerStartAttempt(item: string, attempt: number, now: number, token: string, staleMs: number, takeOverAt: string): Promise<[string[], number, AttemptVerdict]>;
  ledgerBeatPosting(item: string, token: string, now: number): Promise<number>;
  ledgerEndPosting(item: string, token: string, clearPending: string): Promise<number>;
  ledgerMarkUploaded(item: string, owners: string, ...args: (string | number)[]): Promise<number>;
  ledgerMarkDead(item: string, ...args: (string | number)[]): Promise<number>;
  ledgerReviveDead(item: string, ...args: (string | number)[]): Promise<number>;
};

/** Reads and writes the ledger. One instance per Redis connection. */
export class Ledger {
  private readonly redis: LedgerRedis;
  private readonly metaPrefix: string;
  private readonly metaSuffix: string;

  /**
   * @param redis a connection the ledger may define its scripts on
   * @param keys the deployment's key names
   * @param now the clock (tests replace it)
   */
  constructor(
    redis: Redis,
    private readonly keys: KeyNames,
    private readonly now: () => number = Date.now,
  ) {
    // Scripts are defined per connection; defining twice is harmless.
    // No numberOfKeys: a chunk's item count comes first in each call.
    redis.defineCommand('ledgerClaim', { lua: CLAIM_LUA });
    redis.defineCommand('ledgerStartAttempt', { lua: START_ATTEMPT_LUA, numberOfKeys: 1 });
    redis.defineCommand('ledgerBeatPosting', { lua: BEAT_POSTING_LUA, numberOfKeys: 1 });
    redis.defineCommand('ledgerEndPosting', { lua: END_POSTING_LUA, numberOfKeys: 1 });
    redis.defineCommand('ledgerMarkUploaded', { lua: MARK_UPLOADED_LUA, numberOfKeys: 2 });
    redis.defineCommand('ledgerMarkDead', { lua: MARK_DEAD_LUA, numberOfKeys: 1 });
    redis.defineCommand('ledgerReviveDead', { lua: REVIVE_DEAD_LUA, numberOfKeys: 1 });
    redis.defineCommand('ledgerRaiseMaxLine', { lua: RAISE_MAX_LINE_LUA, numberOfKeys: 1 });
    this.redis = redis as LedgerRedis;
    const sample = keys.batchMeta('\u0000');
    [this.metaPrefix, this.metaSuffix] = sample.split('\u0000') as [string, string];
  }

  /** Records a batch (idempotent) and the manifest it came from. */
  async ensureBatch(batch: string, source?: string): Promise<void> {
    const now = this.now();
    await this.redis
      .multi()
      .zadd(this.keys.batches, 'NX', now, batch)
      .hsetnx(this.keys.batchMeta(batch), 'createdAt', now)
      .hset(this.keys.batchMeta(batch), ...(source ? ['source', source] : ['touchedAt', String(now)]))
      .exec();
  }

  /** Decides, for each row identity, whether it must be enqueued (see {@link ClaimOutcome}). One round trip. */
  async claim(batch: string, jobIds: string[], force: boolean): Promise<ClaimOutcome[]> {
    if (jobIds.length === 0) return [];
    const items = jobIds.map((jobId) => this.keys.ledgerItem(jobId));
    return this.redis.ledgerClaim(items.length, ...items, batch, force ? '1' : '0', this.now(), this.metaPrefix, this.metaSuffix);
  }

  /** Stores accepted rows of a batch by line (a line enqueued again is replaced). */
  async recordRows(batch: string, rows: Array<{ line: number; row: StoredRow }>): Promise<void> {
    if (rows.length === 0) return;
    const fields: string[] = [];
    const columns = new Set<string>();
    let maxLine = 0;
    for (const { line, row } of rows) {
      fields.push(String(line), JSON.stringify(row));
      for (const column of Object.keys(row.extra)) columns.add(column);
      maxLine = Math.max(maxLine, line);
    }
    const multi = this.redis.multi() as unknown as LedgerRedis;
    if (columns.size > 0) multi.sadd(this.keys.batchColumns(batch), ...columns);
    multi.hset(this.keys.batchRows(batch), ...fields);
    // A script, because two enqueues of one batch may race and maxLine must only grow.
    multi.ledgerRaiseMaxLine(this.keys.batchMeta(batch), maxLine);
    await execOrThrow(multi);
  }

  /** Stores rejected rows of a batch by line. */
  async recordRejections(batch: string, rejections: Array<{ line: number; rejection: StoredRejection }>): Promise<void> {
    if (rejections.length === 0) return;
    const fields: string[] = [];
    let maxLine = 0;
    for (const { line, rejection } of rejections) {
      fields.push(String(line), JSON.stringify(rejection));
      maxLine = Math.max(maxLine, line);
    }
    const multi = this.redis.multi() as unknown as LedgerRedis;
    multi.hset(this.keys.batchRejected(batch), ...fields);
    multi.ledgerRaiseMaxLine(this.keys.batchMeta(batch), maxLine);
    await execOrThrow(multi);
  }

  /** Reads one item, or undefined if the row identity was never enqueued. */
  async getItem(jobId: string): Promise<LedgerItem | undefined> {
    const [item] = await this.getItems([jobId]);
    return item;
  }

  /** Reads several items in one round trip. */
  async getItems(jobIds: string[]): Promise<Array<LedgerItem | undefined>> {
    if (jobIds.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const jobId of jobIds) pipeline.hgetall(this.keys.ledgerItem(jobId));
    const results = (await pipeline.exec()) ?? [];
    return results.map(([error, value]) => {
      if (error) throw error;
      return parseItem(value as Record<string, string>);
    });
  }

  /**
   * Reads a row's item and, unless it is uploaded already or another run is posting it, notes
   * that this attempt is about to post and takes the row's **posting lease** — in one round trip.
   * `pendingSince` keeps the earliest start, so that an adoption check after several ambiguous
   * attempts looks back far enough. The lease (`postingBy`, renewed by {@link beatPosting})
   * lets a job recovered as stalled — its first run may still be sending, cut off from Redis —
   * wait for that post to end instead of posting a second copy.
   * @param lease `token` names this run; `staleMs` is how old a beat may be before its run
   *   counts as dead; `takeOverAt` is the stale beat this caller saw on an earlier call
   * @returns the item as it was before this call (undefined if the row identity was never
   *   enqueued), `startedPending` (this call set `pendingSince`), and the {@link AttemptVerdict}
   */
  async startAttempt(
    jobId: string,
    attempt: number,
    lease: { token: string; staleMs: number; takeOverAt?: number | undefined },
  ): Promise<{ item: LedgerItem | undefined; startedPending: boolean; verdict: AttemptVerdict }> {
    const [fields, started, verdict] = await this.redis.ledgerStartAttempt(
      this.keys.ledgerItem(jobId),
      attempt,
      this.now(),
      lease.token,
      lease.staleMs,
      lease.takeOverAt === undefined ? '' : String(lease.takeOverAt),
    );
    const raw: Record<string, string> = {};
    for (let i = 0; i + 1 < fields.length; i += 2) raw[fields[i] as string] = fields[i + 1] as string;
    return { item: parseItem(raw), startedPending: started === 1, verdict };
  }

  /** Renews this run's posting lease; false when it is no longer ours. */
  async beatPosting(jobId: string, token: string): Promise<boolean> {
    return (await this.redis.ledgerBeatPosting(this.keys.ledgerItem(jobId), token, this.now())) === 1;
  }

  /**
   * Ends this run's posting lease. With `notStored`, also forgets `pendingSince`: the post
   * certainly stored nothing, so the next attempt need not look first.
   */
  async endPosting(jobId: string, token: string, notStored: boolean): Promise<void> {
    await this.redis.ledgerEndPosting(this.keys.ledgerItem(jobId), token, notStored ? '1' : '0');
  }

  /** Notes a failed attempt's error (the row stays pending). */
  async recordError(jobId: string, error: LedgerError): Promise<void> {
    await this.redis.hset(this.keys.ledgerItem(jobId), errorFields(error, this.now()));
  }

  /** Marks a row uploaded; returns false when it already was (a second marking changes nothing). */
  async markUploaded(
    jobId: string,
    result: { attachmentId: string; attempt: number; sha256?: string | undefined; bytes?: number | undefined; how: 'uploaded' | 'adopted' },
  ): Promise<boolean> {
    const changed = await this.redis.ledgerMarkUploaded(
      this.keys.ledgerItem(jobId),
      this.keys.attachmentOwners,
      result.attachmentId,
      result.sha256 ?? '',
      result.bytes === undefined ? '' : String(result.bytes),
      result.how,
      this.now(),
      this.metaPrefix,
      this.metaSuffix,
      jobId,
      result.attempt,
    );
    return changed === 1;
  }

  /** Marks a row dead with its error; an uploaded row is never marked dead. */
  async markDead(jobId: string, error: LedgerError): Promise<boolean> {
    const fields = errorFields(error, this.now());
    const changed = await this.redis.ledgerMarkDead(
      this.keys.ledgerItem(jobId),
      fields.errorCode,
      fields.errorMessage,
      fields.errorHttpStatus,
      fields.errorDetails,
      fields.attempts,
      this.now(),
      this.metaPrefix,
      this.metaSuffix,
    );
    return changed === 1;
  }

  /** Moves a dead row back to pending (for `dlq retry`). */
  async reviveDead(jobId: string): Promise<boolean> {
    return (await this.redis.ledgerReviveDead(this.keys.ledgerItem(jobId), this.now(), this.metaPrefix, this.metaSuffix)) === 1;
  }

  /** Adds to a batch's live counters (`bytes`, `retries`, `rateLimited`). */
  async count(batch: string, counter: 'retries' | 'rateLimited', by = 1): Promise<void> {
    await this.redis.hincrby(this.keys.batchMeta(batch), counter, by);
  }

  /** The job ids that own each attachment id (undefined where none does). */
  async ownersOf(attachmentIds: string[]): Promise<Array<string | undefined>> {
    if (attachmentIds.length === 0) return [];
    const owners = await this.redis.hmget(this.keys.attachmentOwners, ...attachmentIds);
    return owners.map((o) => o ?? undefined);
  }

  /** Every batch name, oldest first. */
  async listBatches(): Promise<string[]> {
    return this.redis.zrange(this.keys.batches, 0, -1);
  }

  /** A batch's summary, or undefined when there is no such batch. */
  async getBatch(batch: string): Promise<BatchMeta | undefined> {
    const [raw, accepted, rejected] = await Promise.all([
      this.redis.hgetall(this.keys.batchMeta(batch)),
      this.redis.hlen(this.keys.batchRows(batch)),
      this.redis.hlen(this.keys.batchRejected(batch)),
    ]);
    if (!raw.createdAt) return undefined;
    const n = (field: string) => Number(raw[field] ?? 0);
    return {
      name: batch,
      createdAt: n('createdAt'),
      ...(raw.source ? { source: raw.source } : {}),
      maxLine: n('maxLine'),
      accepted,
      rejected,
      owned: n('owned'),
      uploaded: n('uploaded'),
      dead: n('dead'),
      pending: n('owned') - n('uploaded') - n('dead'),
      bytes: n('bytes'),
      retries: n('retries'),
      rateLimited: n('rateLimited'),
    };
  }

  /**
   * A batch's rows in manifest order, each with its item (accepted rows) or its rejection.
   * Reads `chunkSize` lines at a time, so a million-row batch streams.
   */
  async *readRows(
    batch: string,
    chunkSize = 1000,
  ): AsyncGenerator<
    { line: number; row: StoredRow; item: LedgerItem | undefined } | { line: number; rejection: StoredRejection }
  > {
    const meta = await this.getBatch(batch);
    if (!meta) return;
    for (let start = 1; start <= meta.maxLine; start += chunkSize) {
      const lines: string[] = [];
      for (let line = start; line < start + chunkSize && line <= meta.maxLine; line++) lines.push(String(line));
      const [rows, rejections] = await Promise.all([
        this.redis.hmget(this.keys.batchRows(batch), ...lines),
        this.redis.hmget(this.keys.batchRejected(batch), ...lines),
      ]);
      const parsedRows = rows.map((r) => (r ? (JSON.parse(r) as StoredRow) : undefined));
      const items = await this.getItems(parsedRows.filter((r): r is StoredRow => r !== undefined).map((r) => r.jobId));
      let itemIndex = 0;
      for (let i = 0; i < lines.length; i++) {
        const line = Number(lines[i]);
        const row = parsedRows[i];
        const rejection = rejections[i];
        if (row) yield { line, row, item: items[itemIndex++] };
        else if (rejection) yield { line, rejection: JSON.parse(rejection) as StoredRejection };
      }
    }
  }

  /** The pass-through column names of a batch, sorted. */
  async extraColumns(batch: string): Promise<string[]> {
    return (await this.redis.smembers(this.keys.batchColumns(batch))).sort();
  }

  /** Reads one stored row of a batch. */
  async getRow(batch: string, line: number): Promise<StoredRow | undefined> {
    const raw = await this.redis.hget(this.keys.batchRows(batch), String(line));
    return raw ? (JSON.parse(raw) as StoredRow) : undefined;
  }
}

/** Runs a MULTI and throws the first error of any of its commands. */
async function execOrThrow(multi: LedgerRedis): Promise<void> {
  const results = await (multi as unknown as ReturnType<Redis['multi']>).exec();
  for (const [error] of results ?? []) if (error) throw error;
}

function errorFields(error: LedgerError, now: number) {
  return {
    errorCode: error.code,
    errorMessage: error.message,
    errorHttpStatus: error.httpStatus === undefined ? '' : String(error.httpStatus),
    errorDetails: error.details === undefined ? '' : JSON.stringify(error.details),
    attempts: String(error.attempt),
    updatedAt: String(now),
  };
}

function parseItem(raw: Record<string, string>): LedgerItem | undefined {
  if (!raw.status) return undefined;
  const num = (v: string | undefined) => (v === undefined || v === '' ? undefined : Number(v));
  const item: LedgerItem = { status: raw.status as ItemStatus, batch: raw.batch ?? '', attempts: num(raw.attempts) ?? 0 };
  if (raw.attachmentId) item.attachmentId = raw.attachmentId;
  if (raw.sha256) item.sha256 = raw.sha256;
  if (raw.bytes) item.bytes = Number(raw.bytes);
  if (raw.how === 'uploaded' || raw.how === 'adopted') item.how = raw.how;
  if (raw.errorCode) item.errorCode = raw.errorCode;
  if (raw.errorMessage) item.errorMessage = raw.errorMessage;
  if (raw.errorHttpStatus) item.errorHttpStatus = Number(raw.errorHttpStatus);
  if (raw.errorDetails) item.errorDetails = JSON.parse(raw.errorDetails) as Record<string, unknown>;
  const pendingSince = num(raw.pendingSince);
  if (pendingSince !== undefined) item.pendingSince = pendingSince;
  if (raw.postingBy) item.postingBy = raw.postingBy;
  const postingAt = num(raw.postingAt);
  if (postingAt !== undefined) item.postingAt = postingAt;
  const createdAt = num(raw.createdAt);
  if (createdAt !== undefined) item.createdAt = createdAt;
  const updatedAt = num(raw.updatedAt);
  if (updatedAt !== undefined) item.updatedAt = updatedAt;
  const uploadedAt = num(raw.uploadedAt);
  if (uploadedAt !== undefined) item.uploadedAt = uploadedAt;
  return item;
}
