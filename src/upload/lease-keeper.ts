/**
 * Keeps a run's posting lease alive while it posts, and aborts the post when the lease can
 * no longer be trusted. A worker cut off from Redis cannot renew its lease; after
 * `staleMs` another worker may take the row over and (after listing) post it. So the cut-off
 * worker aborts its own POST before that can happen: a safety margin before the lease
 * could go stale, counted from the last beat Redis confirmed. A beat that finds the lease
 * taken aborts at once.
 */
import type { Ledger } from '../ledger/ledger.js';
import { pooledRandomBytes } from '../shared/random-pool.js';

/**
 * A new token naming one run in the posting lease: 72 random bits, 12 characters. Short because
 * it is stored in the row's ledger item while the run posts: a UUID's 36 characters took an item
 * past the 64 bytes Redis keeps compact, and Redis never compacts a bucket again (README,
 * "Running at scale").
 */
export function newPostingToken(): string {
  return pooledRandomBytes(9).toString('base64url');
}

/** Timing of the posting lease. */
export interface PostingLeaseTiming {
  /** How often a run renews its lease. */
  beatMs: number;
  /** A lease not renewed for this long may belong to a dead run; also how long a waiting job waits. */
  staleMs: number;
  /** A run aborts its post once this long has passed without a confirmed beat (less than staleMs). */
  abortAfterMs: number;
}

/** Derives the lease timing from BullMQ's job lock: a stalled job is recovered after about one lock duration. */
export function postingLeaseTiming(lockDurationMs: number): PostingLeaseTiming {
  const beatMs = Math.max(100, Math.floor(lockDurationMs / 4));
  // One beat of margin: the abort must land before another worker can even see the lease stale.
  return { beatMs, staleMs: lockDurationMs, abortAfterMs: Math.max(beatMs, lockDurationMs - beatMs) };
}

/** Why a post was aborted by its own run. */
export class LeaseLostError extends Error {
  override readonly name = 'LeaseLostError';
  constructor(readonly reason: 'taken-over' | 'cut-off-from-redis') {
    super(
      reason === 'taken-over'
        ? 'another run took over the posting lease'
        : 'no confirmed lease renewal: cut off from Redis',
    );
  }
}

/** A running lease keeper; `stop()` ends the beats. */
export interface LeaseKeeper {
  /** Aborts when the lease is lost; pass it to every Zoho call of the attempt. */
  readonly signal: AbortSignal;
  stop(): void;
}

/**
 * Starts beating the lease that `ledger.startAttempt` just gave this run.
 * @param takenAt when the lease was taken (local clock), the first confirmed beat
 */
export function keepPostingLease(
  ledger: Pick<Ledger, 'beatPosting'>,
  jobId: string,
  token: string,
  timing: PostingLeaseTiming,
  takenAt: number,
  now: () => number = Date.now,
): LeaseKeeper {
  const controller = new AbortController();
  let lastConfirmed = takenAt;
  const abort = (reason: LeaseLostError['reason']) => {
    if (!controller.signal.aborted) controller.abort(new LeaseLostError(reason));
  };
  const beat = setInterval(() => {
    const sentAt = now();
    ledger.beatPosting(jobId, token).then(
      (ours) => {
        if (!ours) abort('taken-over');
        // The beat wrote `sentAt` (or a later time): the lease is good until sentAt + staleMs.
        else lastConfirmed = Math.max(lastConfirmed, sentAt);
      },
      () => undefined,
    );
  }, timing.beatMs);
  // Checked more often than beats go out, so the abort is never later than a fraction of a beat.
  const watchdog = setInterval(
    () => {
      if (now() - lastConfirmed >= timing.abortAfterMs) abort('cut-off-from-redis');
    },
    Math.max(20, Math.floor(timing.beatMs / 4)),
  );
  return {
    signal: controller.signal,
    stop() {
      clearInterval(beat);
      clearInterval(watchdog);
    },
  };
}
