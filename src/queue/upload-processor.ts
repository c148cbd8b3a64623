/**
 * The upload processor: the one place that turns a Zoho outcome into a job outcome.
 * "Retry", "back off", "dead-letter" and "pause" are decided here and nowhere else.
 *
 * Exactly once: Zoho uploads are not idempotent. Before posting, an attempt notes
 * `pendingSince` in the ledger; only an answer that proves nothing was stored clears it.
 * The next attempt of a row whose `pendingSince` is set (a timeout, a reset, a 5xx, a worker
 * killed mid-upload and its job recovered as stalled) first lists the record's attachments
 * and adopts a match instead of posting again.
 *
 * A listing cannot show a post that is still being sent, though. So a run holds the row's
 * posting lease while it works, renewing it with a beat; a job recovered as stalled while its
 * first run is alive (cut off from Redis past its job lock, say) finds the lease beating and
 * waits for that post to end, instead of posting a second copy.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Job } from 'bullmq';
import { DelayedError, UnrecoverableError, Worker } from 'bullmq';
import pRetry from 'p-retry';
import type { Ledger, LedgerError, LedgerItem } from '../ledger/ledger.js';
import { ClassifiedError, isClassifiedError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { OpenedSource, SourceLimits, SourceRef } from '../sources/index.js';
import type { AttachmentInfo, ZohoClient } from '../zoho/index.js';
import { isZohoError, sanitizeFileName } from '../zoho/index.js';
import type { PauseControl } from './pause-control.js';
import type { RateControl } from './rate-control.js';
import type { UploadJobData, UploadJobResult } from './upload-job.js';

/**
 * How far before our first post a Zoho `Created_Time` may lie and still count as that post's
 * attachment: room for clock skew between this machine and Zoho's, small enough not to adopt
 * an identical file someone attached well before the migration.
 */
const ADOPTION_CLOCK_SKEW_MS = 60_000;

/** In-attempt retries of transient faults, before BullMQ's own backoff takes over. */
const QUICK_RETRIES = 2;

/** How long a job whose run hit a systemic error waits before it is looked at again (the queue is paused by then). */
const SYSTEMIC_REQUEUE_DELAY_MS = 5_000;

/** Timing of the posting lease (see the file comment). */
export interface PostingLeaseTiming {
  /** How often a run renews its lease. */
  beatMs: number;
  /** A lease not renewed for this long may belong to a dead run; also how long a waiting job waits. */
  staleMs: number;
}

/** Derives the lease timing from BullMQ's job lock: a stalled job is recovered after about one lock duration. */
export function postingLeaseTiming(lockDurationMs: number): PostingLeaseTiming {
  return { beatMs: Math.max(100, Math.floor(lockDurationMs / 4)), staleMs: lockDurationMs };
}

/** Another run of the same row is still posting it: wait for it, do not post a second copy. */
class PostInFlightElsewhere extends Error {}

/** What the processor needs; the worker wires the real ones, tests may wire their own. */
export interface UploadProcessorDeps {
  client: Pick<ZohoClient, 'uploadFile' | 'uploadLink' | 'listAllAttachments'>;
  ledger: Ledger;
  rateControl: RateControl;
  pauseControl: PauseControl;
  openSource: (ref: SourceRef, limits: SourceLimits) => Promise<OpenedSource>;
  sourceLimits: SourceLimits;
  /** Holds every worker of the queue back for `ms` (`queue.rateLimit`). */
  rateLimit: (ms: number) => Promise<void>;
  logger: Logger;
  /** Called once per finished attempt, for metrics and progress. */
  onOutcome?: (outcome: UploadOutcome) => void;
  /** Base delay of the in-attempt quick retries. @defaultValue 250 */
  quickRetryMs?: number;
  /** @defaultValue postingLeaseTiming(30000) */
  postingLease?: PostingLeaseTiming;
  now?: () => number;
}

/** One attempt's outcome, as logged and counted. */
export interface UploadOutcome {
  batch: string;
  jobId: string;
  attempt: number;
  /**
   * `uploaded` | `adopted` | `already-uploaded` | `retry` | `dead` | `rate-limited` | `paused` |
   * `deferred` (another run of the row was still posting it: this one waits for it).
   */
  result: 'uploaded' | 'adopted' | 'already-uploaded' | 'retry' | 'dead' | 'rate-limited' | 'paused' | 'deferred';
  durationMs: number;
  bytes?: number;
  attachmentId?: string;
  errorCode?: string;
}

/** Builds the BullMQ processor function for upload jobs. */
export function createUploadProcessor(deps: UploadProcessorDeps) {
  const now = deps.now ?? Date.now;
  const lease = deps.postingLease ?? postingLeaseTiming(30_000);

  return async function processUpload(job: Job<UploadJobData, UploadJobResult>, token?: string): Promise<UploadJobResult> {
    const jobId = job.id as string;
    const attempt = job.attemptsMade + 1;
    const { batch, module, recordId } = job.data;
    const log = deps.logger.child({ batch, jobId, module, recordId, attempt });
    const started = now();
    const report = (outcome: Omit<UploadOutcome, 'batch' | 'jobId' | 'attempt' | 'durationMs'>) => {
      const full: UploadOutcome = { batch, jobId, attempt, durationMs: now() - started, ...outcome };
      deps.onOutcome?.(full);
      const level = outcome.result === 'dead' ? 'warn' : 'info';
      log[level]({ outcome: outcome.result, durationMs: full.durationMs, bytes: outcome.bytes, attachmentId: outcome.attachmentId, errorCode: outcome.errorCode }, 'upload outcome');
    };

    // Names this run in the posting lease.
    const runToken = randomUUID();
    try {
      const result = await pRetry(() => attemptUpload(deps, job, attempt, runToken, lease), {
        retries: QUICK_RETRIES,
        minTimeout: deps.quickRetryMs ?? 250,
        factor: 2,
        randomize: true,
        shouldRetry: ({ error }) => isClassifiedError(error) && error.classification === 'transient',
      });
      report({ result: result.how, attachmentId: result.attachmentId, ...(result.bytes === undefined ? {} : { bytes: result.bytes }) });
      const slowDownMs = await deps.rateControl.onSuccess(result.creditsRemaining);
      if (slowDownMs > 0) {
        log.warn({ creditsRemaining: result.creditsRemaining, slowDownMs }, 'Zoho API credits are running low: slowing down');
        await deps.rateLimit(slowDownMs);
      }
      return { attachmentId: result.attachmentId, how: result.how };
    } catch (caught) {
      if (caught instanceof PostInFlightElsewhere) {
        report({ result: 'deferred' });
        // Not a failure: look again once that post has ended or its run is known dead.
        await job.moveToDelayed(now() + lease.staleMs, token);
        throw new DelayedError();
      }
      const error = asClassified(caught);
      switch (error.classification) {
        case 'rate_limited': {
          const creditsRemaining = isZohoError(error) ? error.creditsRemaining : undefined;
          const pauseMs = await deps.rateControl.onRateLimited(creditsRemaining);
          await deps.ledger.count(batch, 'rateLimited');
          report({ result: 'rate-limited', errorCode: error.code });
          await deps.rateLimit(pauseMs);
          // Not a failure: the job goes back to wait without spending an attempt.
          throw Worker.RateLimitError();
        }
        case 'systemic': {
          const hint = systemicHint(error.code);
          const pausedNow = await deps.pauseControl.pause({ code: error.code, message: error.reason, hint });
          if (pausedNow) log.error({ errorCode: error.code, hint }, `queue paused: ${error.reason}. ${hint}`);
          report({ result: 'paused', errorCode: error.code });
          // Back to delayed without spending an attempt; it runs again once the queue is resumed.
          await job.moveToDelayed(now() + SYSTEMIC_REQUEUE_DELAY_MS, token);
          throw new DelayedError();
        }
        case 'permanent': {
          await deps.ledger.markDead(jobId, ledgerError(error, attempt));
          report({ result: 'dead', errorCode: error.code });
          throw new UnrecoverableError(error.message);
        }
        default: {
          // transient, or a token still refused after the client's one refresh-and-retry.
          const lastAttempt = attempt >= (job.opts.attempts ?? 1);
          if (lastAttempt) {
            await deps.ledger.markDead(jobId, ledgerError(error, attempt));
            report({ result: 'dead', errorCode: error.code });
          } else {
            await deps.ledger.recordError(jobId, ledgerError(error, attempt));
            await deps.ledger.count(batch, 'retries');
            report({ result: 'retry', errorCode: error.code });
          }
          throw error;
        }
      }
    }
  };
}

interface AttemptResult {
  attachmentId: string;
  how: 'uploaded' | 'adopted' | 'already-uploaded';
  bytes?: number;
  creditsRemaining?: number;
}

/**
 * One try: skip if done, wait if another run is posting the row, adopt if a previous post may
 * have stored it, else post — holding the posting lease from start to end.
 */
async function attemptUpload(
  deps: UploadProcessorDeps,
  job: Job<UploadJobData, UploadJobResult>,
  attempt: number,
  runToken: string,
  lease: PostingLeaseTiming,
): Promise<AttemptResult> {
  const jobId = job.id as string;
  // One round trip: the item as it was; unless it is uploaded or another run posts it, pendingSince and the lease.
  let { item, startedPending, verdict } = await deps.ledger.startAttempt(jobId, attempt, { token: runToken, staleMs: lease.staleMs });
  if (verdict === 'stale') {
    // The other run has been silent for a lock's length: give it time for one more beat (it may just
    // have got Redis back), and take over only if it stays silent.
    await sleep(lease.beatMs * 2);
    ({ item, startedPending, verdict } = await deps.ledger.startAttempt(jobId, attempt, { token: runToken, staleMs: lease.staleMs, takeOverAt: item?.postingAt }));
  }
  if (verdict === 'uploaded' && item?.attachmentId) return { attachmentId: item.attachmentId, how: 'already-uploaded' };
  if (verdict !== 'go') throw new PostInFlightElsewhere();

  const beat = setInterval(() => void deps.ledger.beatPosting(jobId, runToken).catch(() => undefined), lease.beatMs);
  try {
    return await postOrAdopt(deps, job, attempt, item);
  } catch (error) {
    // Nothing certainly stored (a clean refusal by Zoho, or no post at all): forget pendingSince too —
    // but only if this attempt set it: an earlier ambiguous attempt's mark must survive.
    const notStored = startedPending && isClassifiedError(error) && !error.ambiguous;
    await deps.ledger.endPosting(jobId, runToken, notStored);
    throw error;
  } finally {
    clearInterval(beat);
  }
}

/** With the lease held: adopt what a previous post may have stored, else post. Success ends the lease (markUploaded). */
async function postOrAdopt(
  deps: UploadProcessorDeps,
  job: Job<UploadJobData, UploadJobResult>,
  attempt: number,
  item: LedgerItem | undefined,
): Promise<AttemptResult> {
  const jobId = job.id as string;
  const { module, recordId, target, title } = job.data;

  if (target.kind === 'link') {
    const expected: StoredMatch = { linkUrl: target.url };
    if (item?.pendingSince !== undefined) {
      const adopted = await findStoredAttachment(deps, job, expected, item.pendingSince);
      if (adopted) return adopt(deps, jobId, attempt, adopted);
    }
    try {
      const result = await deps.client.uploadLink({ module, recordId, url: target.url, ...(title ? { title } : {}) });
      await deps.ledger.markUploaded(jobId, { attachmentId: result.attachmentId, attempt, how: 'uploaded' });
      return { attachmentId: result.attachmentId, how: 'uploaded', ...credits(result.creditsRemaining) };
    } catch (error) {
      // Zoho refuses the same link twice on a record: if it is there and no other row owns it, it is ours.
      if (isZohoError(error) && error.code === 'DUPLICATE_DATA') {
        const existing = await findStoredAttachment(deps, job, expected, undefined);
        if (existing) return adopt(deps, jobId, attempt, existing);
      }
      throw error;
    }
  }

  const ref: SourceRef = target.kind === 'file' ? { kind: 'file', path: target.path } : { kind: 'url', url: target.url };
  let source = await deps.openSource(ref, deps.sourceLimits);
  try {
    if (item?.pendingSince !== undefined) {
      const expected: StoredMatch = { fileName: sanitizeFileName(source.fileName), size: source.size };
      const adopted = await findStoredAttachment(deps, job, expected, item.pendingSince);
      if (adopted) {
        // Read the bytes anyway, so the ledger's sha256 describes what Zoho holds.
        await drain(source);
        return adopt(deps, jobId, attempt, adopted, { sha256: source.sha256(), bytes: source.size });
      }
    }
    let opened = 0;
    const result = await deps.client.uploadFile({
      module,
      recordId,
      ...(title ? { title } : {}),
      // The client calls this again to re-send after a token refresh: a consumed stream cannot be replayed.
      open: async () => {
        if (opened++ > 0) {
          await source.close();
          source = await deps.openSource(ref, deps.sourceLimits);
        }
        return { stream: source.stream, size: source.size, fileName: source.fileName };
      },
    });
    const sha256 = source.sha256();
    await deps.ledger.markUploaded(jobId, { attachmentId: result.attachmentId, attempt, sha256, bytes: source.size, how: 'uploaded' });
    return { attachmentId: result.attachmentId, how: 'uploaded', bytes: source.size, ...credits(result.creditsRemaining) };
  } finally {
    await source.close();
  }
}

type StoredMatch = { linkUrl: string } | { fileName: string; size: number };

/**
 * Looks for this row's attachment among the record's attachments: the same link, or the same
 * name and size created since `since` (any time when undefined), and not owned by another row.
 */
async function findStoredAttachment(
  deps: UploadProcessorDeps,
  job: Job<UploadJobData, UploadJobResult>,
  expected: StoredMatch,
  since: number | undefined,
): Promise<AttachmentInfo | undefined> {
  const attachments = await deps.client.listAllAttachments(job.data.module, job.data.recordId);
  const candidates = attachments.filter((a) => {
    const matches = 'linkUrl' in expected ? a.linkUrl === expected.linkUrl : a.fileName === expected.fileName && a.size === expected.size;
    if (!matches) return false;
    if (since === undefined) return true;
    const created = Date.parse(a.createdTime);
    return Number.isNaN(created) || created >= since - ADOPTION_CLOCK_SKEW_MS;
  });
  if (candidates.length === 0) return undefined;
  const owners = await deps.ledger.ownersOf(candidates.map((c) => c.id));
  return candidates.find((_, i) => owners[i] === undefined || owners[i] === job.id);
}

async function adopt(
  deps: UploadProcessorDeps,
  jobId: string,
  attempt: number,
  attachment: AttachmentInfo,
  content: { sha256?: string; bytes?: number } = {},
): Promise<AttemptResult> {
  await deps.ledger.markUploaded(jobId, { attachmentId: attachment.id, attempt, how: 'adopted', ...content });
  return { attachmentId: attachment.id, how: 'adopted', ...(content.bytes === undefined ? {} : { bytes: content.bytes }) };
}

async function drain(source: OpenedSource): Promise<void> {
  for await (const _chunk of source.stream) {
    // Only the hash and byte count matter.
  }
}

function credits(creditsRemaining: number | undefined): { creditsRemaining?: number } {
  return creditsRemaining === undefined ? {} : { creditsRemaining };
}

/** Any thrown value as a classified error; an unexpected one is transient (and retried a bounded number of times). */
function asClassified(error: unknown): ClassifiedError {
  if (isClassifiedError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new ClassifiedError({ code: 'WORKER_ERROR', classification: 'transient', message, ambiguous: true, cause: error });
}

function ledgerError(error: ClassifiedError, attempt: number): LedgerError {
  return {
    attempt,
    code: error.code,
    message: error.reason,
    httpStatus: isZohoError(error) ? error.httpStatus : undefined,
    details: isZohoError(error) ? error.details : undefined,
  };
}

/** What to tell the operator for each systemic error. */
function systemicHint(code: string): string {
  switch (code) {
    case 'OAUTH_SCOPE_MISMATCH':
      return 'the token lacks the attachments scope: grant ZohoCRM.modules.ALL (or ZohoCRM.modules.attachments.ALL with the modules\' scopes), mint a new refresh token, then run `zoho-attach resume`';
    case 'AUTHENTICATION_FAILURE':
      return 'Zoho refused the credentials: check ZOHO_ACCESS_TOKEN or the refresh credentials, then run `zoho-attach resume`';
    case 'REFRESH_INVALID_CODE':
      return 'the refresh token is revoked or invalid: set a valid ZOHO_REFRESH_TOKEN, then run `zoho-attach resume`';
    case 'REFRESH_INVALID_CLIENT':
      return 'the client id/secret are wrong or belong to another data centre: check ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET and ZOHO_DC, then run `zoho-attach resume`';
    case 'NO_CREDENTIALS':
      return 'set ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET and ZOHO_REFRESH_TOKEN (or ZOHO_ACCESS_TOKEN), then run `zoho-attach resume`';
    default:
      return 'fix the cause, then run `zoho-attach resume`';
  }
}
