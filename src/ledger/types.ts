/**
 * What the ledger stores, as the rest of the tool reads it. The Redis layout (items packed in
 * bucket hashes, rows in pages, per-batch hashes and counters) is private to `src/ledger/`.
 */

/** Where a row stands. */
export type ItemStatus = 'pending' | 'uploaded' | 'dead' | 'undone';

/** How a row's attachment came to be: posted by us, or found already stored after an ambiguous failure. */
export type UploadHow = 'uploaded' | 'adopted';

/** One row identity's outcome. */
export interface LedgerItem {
  status: ItemStatus;
  /** The batch that owns the item (counts it). */
  batch: string;
  attachmentId?: string;
  /** Attempts started so far (since the row was last queued). */
  attempts: number;
  /** sha256 of the bytes of the kept attachment, as sent. */
  sha256?: string;
  bytes?: number;
  how?: UploadHow;
  errorCode?: string;
  errorMessage?: string;
  errorHttpStatus?: number;
  errorDetails?: Record<string, unknown>;
  /**
   * The "may already be stored" mark: the start of the earliest attempt whose outcome is unknown
   * (a timeout, a reset, a 5xx, a crash). While it is set, an attempt lists the record before it
   * posts. Only an attempt's success clears it; reviving a dead row keeps it.
   */
  pendingSince?: number;
  /** When the row's first attempt started: the start of its attempt window (kept across revivals). */
  firstAttemptAt?: number;
  /** File name, byte count and sha256s of what ambiguous attempts sent (for adoption and verification). */
  sentName?: string;
  sentBytes?: number;
  sentSha256s?: string[];
  /** When a feeder last turned the row into a job (see ledger/backlog.ts). */
  fedAt?: number;
  /** The run holding the posting lease, and its last beat (epoch ms). */
  postingBy?: string;
  postingAt?: number;
  /** Set when an operator purged the dead letter: the row may be enqueued again normally. */
  purgedAt?: number;
  /** When the settle-and-verify listing of this row is due (set while one is pending). */
  verifyAt?: number;
  /** Extra copies this row's own attempts created that verification deleted. */
  copiesRemoved?: number;
  /** Why the last verification could not finish, when it could not. */
  verifyError?: string;
  createdAt?: number;
  updatedAt?: number;
  uploadedAt?: number;
  /** For an `undone` row: the attachment `undo` deleted, and when. */
  undoneAttachmentId?: string;
  undoneAt?: number;
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
  /** Rows whose attachment `undo` deleted. */
  undone: number;
  /** owned − uploaded − dead − undone. */
  pending: number;
  /** Of `pending`: rows still in the batch's backlog, not yet fed to the queue as jobs. */
  backlog: number;
  /** Bytes sent in successful uploads. */
  bytes: number;
  /** Attempts that failed and were retried. */
  retries: number;
  /** 429 answers received. */
  rateLimited: number;
  /** API credits spent for the batch: every request sent for it (uploads, listings, look-ups, check, undo). */
  credits: number;
  /** Uploaded rows whose settle-and-verify listing is still due. */
  verifying: number;
  /** Extra copies (created by the batch's own ambiguous attempts) that verification deleted. */
  copiesRemoved: number;
  /** The last `zoho-attach check` of the batch, when there was one. */
  lastCheck?: LastCheck;
}

/** The summary of a batch's last check against Zoho (`zoho-attach check`), as kept with the batch. */
export interface LastCheck {
  /** When it finished (epoch ms). */
  at: number;
  /** Whether it downloaded and hashed the files. */
  deep: boolean;
  /** True when every row was `ok`, `dead` or `pending`. */
  passed: boolean;
  /** Rows per status: ok, missing, extra, mismatch, unchecked, dead, pending. */
  counts: Record<string, number>;
  apiCalls: { listings: number; downloads: number };
}

/** Which rows an enqueue may queue again. */
export type ClaimMode =
  /** New rows, and dead letters an operator purged. */
  | 'normal'
  /** Also dead letters (the manifest was fixed). Never an uploaded row. */
  | 'force'
  /** Also uploaded rows: a deliberate second copy in Zoho. */
  | 'reupload';

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
  /**
   * Queued again (a purged or forced dead letter, a re-upload, or a requeue that an earlier run
   * did not finish): its old job must be replaced. A requeue intent is recorded until it is.
   */
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
  /** Why, as a stable code, when a source check refused the row; invalid rows have none. */
  code?: string | undefined;
  /** The row's manifest fields as written (`module`, `record_id`, `file`, `link_url`, `title`), as far as they could be read. */
  fields?: Record<string, string> | undefined;
  /** Its pass-through columns, as far as they could be read. */
  extra?: Record<string, string> | undefined;
}

/** A requeue that must be finished: the row is pending again but its old job may still hold its id. */
export interface RequeueIntent {
  jobId: string;
  batch: string;
  line: number;
  at: number;
}

/** Reads an item's stored values (field to value, see item-store.ts); undefined when the row identity was never enqueued. */
export function parseItem(raw: Record<string, string>): LedgerItem | undefined {
  if (!raw.status) return undefined;
  const num = (v: string | undefined) => (v === undefined || v === '' ? undefined : Number(v));
  const item: LedgerItem = {
    status: raw.status as ItemStatus,
    batch: raw.batch ?? '',
    attempts: num(raw.attempts) ?? 0,
  };
  const set = <K extends keyof LedgerItem>(key: K, value: LedgerItem[K] | undefined) => {
    if (value !== undefined) item[key] = value;
  };
  set('attachmentId', raw.attachmentId || undefined);
  set('sha256', raw.sha256 || undefined);
  set('bytes', num(raw.bytes));
  if (raw.how === 'uploaded' || raw.how === 'adopted') item.how = raw.how;
  set('errorCode', raw.errorCode || undefined);
  set('errorMessage', raw.errorMessage || undefined);
  set('errorHttpStatus', num(raw.errorHttpStatus));
  if (raw.errorDetails) item.errorDetails = JSON.parse(raw.errorDetails) as Record<string, unknown>;
  set('pendingSince', num(raw.pendingSince));
  set('firstAttemptAt', num(raw.firstAttemptAt));
  set('sentName', raw.sentName || undefined);
  set('sentBytes', num(raw.sentBytes));
  if (raw.sentSha256s) item.sentSha256s = raw.sentSha256s.split(',');
  set('fedAt', num(raw.fedAt));
  set('postingBy', raw.postingBy || undefined);
  set('postingAt', num(raw.postingAt));
  set('purgedAt', num(raw.purgedAt));
  set('verifyAt', num(raw.verifyAt));
  set('copiesRemoved', num(raw.copiesRemoved));
  set('verifyError', raw.verifyError || undefined);
  set('createdAt', num(raw.createdAt));
  set('updatedAt', num(raw.updatedAt) ?? num(raw.createdAt));
  set('uploadedAt', num(raw.uploadedAt));
  set('undoneAttachmentId', raw.undoneAttachmentId || undefined);
  set('undoneAt', num(raw.undoneAt));
  return item;
}
