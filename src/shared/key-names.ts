/**
 * Every Redis key and queue name the tool uses, derived from `ZOHO_ATTACH_QUEUE` in this
 * one place. The configured name is BullMQ's key prefix, so a `{hash-tag}` name puts
 * every key of the tool, BullMQ's and ours, in one Redis Cluster slot.
 */

/** The BullMQ queue that holds upload jobs, under the configured prefix. */
export const UPLOAD_QUEUE_NAME = 'uploads';

/** Where the shared OAuth token store keeps its state (zoho/token-store.ts reads these, and names none). */
export interface OAuthKeys {
  /** The access token every process uses, as JSON, expiring with the token. */
  token: string;
  /** The refresh lock: whoever holds it refreshes, the others wait for the new token. */
  lock: string;
  /** A recent refresh failure, held briefly so N processes make one failed refresh; `resume` deletes it. */
  refreshFailure: string;
}

/** Key names for one deployment of the tool (one `ZOHO_ATTACH_QUEUE`). */
export interface KeyNames {
  /** BullMQ's `prefix` option. */
  prefix: string;
  /** The shared OAuth access token, its refresh lock and a held refresh failure. */
  oauth: OAuthKeys;
  /** Why the queue was paused (set when a systemic error paused it). */
  pauseReason: string;
  /** The escalating 429 pause: rounds of 429s in a row and when the current pause ends (a hash). */
  rateLimitStreak: string;
  /** Last `X-API-CREDITS-REMAINING` seen, and when. */
  credits: string;
  /** API requests sent, by hour slot, for the credit budget's rolling 24 hours (see queue/credit-budget.ts). */
  creditsSpent: string;
  /** Batches whose credit budget is spent: batch → why and until when (their jobs wait, their rows stay in the backlog). */
  heldBatches: string;
  /** Batches that spent credits, scored by when they last did: the ones the budget looks at. */
  creditBatches: string;
  /** The adaptive concurrency limit every worker shares, and what it learnt (a hash). */
  adaptiveConcurrency: string;
  /** Slots of that limit check or undo borrowed for their own calls: holder → "count:expiresAt". */
  borrowedConcurrency: string;
  /** BullMQ's meta hash of the upload queue (its `concurrency` field is the global limit). */
  queueMeta: string;
  /** What BullMQ puts before a job id or a state (`wait`, `active`, …) to name its key, for scripts that look at jobs. */
  jobPrefix: string;
  /** All batches, scored by creation time. */
  batches: string;
  /**
   * `packed` when the queue's ledger was begun with packed items; `packed+legacy` when it holds
   * what a version before wrote (see ledger/item-store.ts).
   */
  ledgerLayout: string;
  /** The newest ledger format written to the queue, which older versions refuse (see ledger/ledger-format.ts). */
  ledgerFormat: string;
  /**
   * The address of one row identity's outcome (shared by every batch that enqueued the row):
   * items are packed many to a hash, `<queue>:ledger:items:<bucket>`, and scripts find them
   * from this address (ledger/item-store.ts). Versions before kept a hash under this name.
   */
  ledgerItem: (jobId: string) => string;
  /**
   * Attachment id → the job id that owns it, so an adoption never claims another row's
   * attachment: in buckets `<this>:<last 5 digits>` (ledger/item-store.ts); versions before kept one hash here.
   */
  attachmentOwners: string;
  /** Rows queued again whose old job may still hold their id: job id → batch, line, time (finished by enqueue or a worker's start). */
  requeueIntents: string;
  /** Uploaded rows whose settle-and-verify listing is due, scored by when. */
  verifyDue: string;
  /** Batches with rows in their backlog, scored by when their first row was put there (the feeder serves the oldest first). */
  backlogBatches: string;
  /** Rows a feeder took from a backlog and is turning into jobs: "batch\nline", scored by when (see ledger/backlog.ts). */
  feeding: string;
  /** A batch's summary and counters. */
  batchMeta: (batch: string) => string;
  /** A batch's accepted rows, by manifest line. */
  batchRows: (batch: string) => string;
  /** A batch's rejected rows, by manifest line. */
  batchRejected: (batch: string) => string;
  /** A batch's backlog: the manifest lines of its rows that wait for a job, oldest first (a list). */
  batchBacklog: (batch: string) => string;
  /** Record ids a batch's rows were found to have by a field: "module, field, value" → id (see queue/record-lookup.ts). */
  batchLookups: (batch: string) => string;
  /** A batch's progress over time (see ledger/progress-samples.ts). */
  batchProgress: (batch: string) => string;
  /** A batch's API requests by hour slot, for its credit budget (see queue/credit-budget.ts). */
  batchCreditSlots: (batch: string) => string;
  /** The pass-through column names of a batch, scored by where each was first seen, so reports keep the manifest's order. */
  batchColumnOrder: (batch: string) => string;
  /** The same names as an unordered set: written by versions before the ordered key, still read for their batches. */
  batchColumns: (batch: string) => string;
}

/** Derives every key name from the configured queue name. */
export function keyNames(queueName: string): KeyNames {
  const p = queueName;
  return {
    prefix: p,
    oauth: { token: `${p}:oauth:token`, lock: `${p}:oauth:lock`, refreshFailure: `${p}:oauth:refresh-error` },
    pauseReason: `${p}:control:pause-reason`,
    rateLimitStreak: `${p}:control:429-streak`,
    credits: `${p}:control:credits`,
    creditsSpent: `${p}:control:credits-spent`,
    heldBatches: `${p}:control:held-batches`,
    creditBatches: `${p}:control:credit-batches`,
    adaptiveConcurrency: `${p}:control:concurrency`,
    borrowedConcurrency: `${p}:control:concurrency-borrowed`,
    queueMeta: `${p}:${UPLOAD_QUEUE_NAME}:meta`,
    jobPrefix: `${p}:${UPLOAD_QUEUE_NAME}:`,
    batches: `${p}:ledger:batches`,
    ledgerLayout: `${p}:ledger:layout`,
    ledgerFormat: `${p}:ledger:format`,
    ledgerItem: (jobId) => `${p}:ledger:item:${jobId}`,
    attachmentOwners: `${p}:ledger:attachment-owners`,
    requeueIntents: `${p}:ledger:requeue-intents`,
    verifyDue: `${p}:ledger:verify-due`,
    backlogBatches: `${p}:ledger:backlog-batches`,
    feeding: `${p}:ledger:feeding`,
    batchMeta: (batch) => `${p}:ledger:batch:${batch}:meta`,
    batchRows: (batch) => `${p}:ledger:batch:${batch}:rows`,
    batchRejected: (batch) => `${p}:ledger:batch:${batch}:rejected`,
    batchBacklog: (batch) => `${p}:ledger:batch:${batch}:backlog`,
    batchLookups: (batch) => `${p}:ledger:batch:${batch}:lookups`,
    batchProgress: (batch) => `${p}:ledger:batch:${batch}:progress`,
    batchCreditSlots: (batch) => `${p}:ledger:batch:${batch}:credit-slots`,
    batchColumnOrder: (batch) => `${p}:ledger:batch:${batch}:column-order`,
    batchColumns: (batch) => `${p}:ledger:batch:${batch}:columns`,
  };
}
