/**
 * The one place where an attempt's result becomes the row's next state and the action the
 * queue takes. Pure: no Redis, no HTTP, no clock. Its unit test walks the decision table in
 * RELIABILITY.md row by row.
 *
 * Two decisions:
 * - {@link planAttempt}: before posting, from what the ledger says of the row;
 * - {@link decideOutcome}: after the attempt, from Zoho's answer (or a copy found by listing).
 */
import type { ErrorClassification } from '../shared/errors.js';

/** What the ledger said when the attempt started. */
export interface AttemptStart {
  /** The ledger's verdict (see the posting lease). */
  verdict: 'go' | 'uploaded' | 'busy' | 'stale';
  /** An earlier attempt may have stored a copy: the "may already be stored" mark was set before this attempt. */
  mayBeStored: boolean;
}

/** What an attempt does first. */
export type AttemptPlan =
  /** The ledger has the row uploaded: nothing to send. */
  | 'skip'
  /** Another run holds the posting lease: wait for it; never post beside it. */
  | 'wait-for-other-run'
  /** List the record and adopt this row's own copy if one is there; post only if none is. */
  | 'reconcile-then-post'
  /** Nothing can be stored yet: post. */
  | 'post';

/** Decides what an attempt does before it sends anything. */
export function planAttempt(start: AttemptStart): AttemptPlan {
  if (start.verdict === 'uploaded') return 'skip';
  if (start.verdict !== 'go') return 'wait-for-other-run';
  return start.mayBeStored ? 'reconcile-then-post' : 'post';
}

/** The row as the attempt ends. */
export interface AttemptState {
  /** The mark was set before this attempt (see {@link AttemptStart.mayBeStored}). */
  mayBeStored: boolean;
  /** No attempt is left after this one. */
  lastAttempt: boolean;
  /** A link row (Zoho refuses a link already on the record, yet a POST stored late can race past that check). */
  link: boolean;
}

/** How the attempt ended. */
export type AttemptAnswer =
  /** Zoho answered 2xx with an attachment id. */
  | { kind: 'posted' }
  /** Listing found this row's own copy (stored by an earlier attempt), and the row claimed it. */
  | { kind: 'adopted' }
  /** A failure, classified next to the client (see `zoho/errors.ts`). */
  | { kind: 'failed'; classification: ErrorClassification; ambiguous: boolean };

/** What happens next. */
export interface Decision {
  /** What the queue does with the job. */
  action:
    | 'complete'
    /** Back to the queue with backoff; spends an attempt. */
    | 'retry'
    /** To the dead-letter queue with its reason. */
    | 'dead-letter'
    /** Every worker slows down; the job waits without spending an attempt. */
    | 'rate-limit'
    /** The whole queue pauses with a reason for the operator; the job waits without spending an attempt. */
    | 'pause';
  /** The row's status afterwards. */
  next: 'uploaded' | 'pending' | 'dead';
  /**
   * The "may already be stored" mark afterwards: `clear` (nothing of this row can be stored
   * beyond what the ledger knows), `set` (the next attempt must list first).
   */
  mark: 'clear' | 'set';
  /** List the record again after the settle window and delete this row's extra copies. */
  verify: boolean;
}

/** Decides the row's next state and the queue's action from how an attempt ended. */
export function decideOutcome(state: AttemptState, answer: AttemptAnswer): Decision {
  if (answer.kind !== 'failed') {
    // A success after an attempt that may have stored a copy: that copy may still appear (late
    // store, listing lag), so the record is listed again once things have settled.
    return { action: 'complete', next: 'uploaded', mark: 'clear', verify: state.mayBeStored };
  }
  // A failure leaves the mark as it was, unless this one may itself have stored a copy.
  const mark = answer.ambiguous || state.mayBeStored ? 'set' : 'clear';
  switch (answer.classification) {
    case 'rate_limited':
      return { action: 'rate-limit', next: 'pending', mark, verify: false };
    case 'systemic':
      return { action: 'pause', next: 'pending', mark, verify: false };
    case 'permanent':
      return { action: 'dead-letter', next: 'dead', mark, verify: false };
    case 'transient':
    case 'token_expired':
      // A token still refused after the client's one refresh-and-retry is retried like a transient fault.
      return state.lastAttempt
        ? { action: 'dead-letter', next: 'dead', mark, verify: false }
        : { action: 'retry', next: 'pending', mark, verify: false };
  }
}
