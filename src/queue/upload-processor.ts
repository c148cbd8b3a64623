/**
 * The BullMQ side of one job: runs an attempt (src/upload/) and turns its result into what
 * BullMQ does with the job. What a result means for the row is decided once, in
 * `upload/decide-outcome.ts`; this file only carries the decision out: retry with backoff,
 * rate-limit every worker, pause the queue, dead-letter, or schedule the settle-and-verify job.
 *
 * Two kinds of job run here:
 * - `upload`: one row (see `upload/attempt-upload.ts`);
 * - `verify`: the settle-and-verify listing of a row that succeeded after an ambiguous attempt
 *   (see `upload/verify-copies.ts`). It never dead-letters: the row is uploaded either way.
 */
import type { Job } from 'bullmq';
import { DelayedError, UnrecoverableError, Worker } from 'bullmq';
import pRetry from 'p-retry';
import type { Ledger, LedgerError } from '../ledger/ledger.js';
import { ClassifiedError, isClassifiedError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { OpenedSource, SourceLimits, SourceRef } from '../sources/index.js';
import { asClassified, attemptUpload, PostInFlightElsewhere, type AttemptSuccess } from '../upload/attempt-upload.js';
import { decideOutcome, type Decision } from '../upload/decide-outcome.js';
import { newPostingToken, postingLeaseTiming, type PostingLeaseTiming } from '../upload/lease-keeper.js';
import { RETRY_DEFAULTS, type RetryPolicy } from '../upload/retry-policy.js';
import { giveUpVerification, verifyCopies } from '../upload/verify-copies.js';
import type { ZohoClient } from '../zoho/index.js';
import { isZohoError } from '../zoho/index.js';
import { CREDIT_BUDGET_PAUSE_CODE } from './credit-budget.js';
import type { PauseControl } from './pause-control.js';
import type { RateControl } from './rate-control.js';
import { VERIFY_JOB_NAME, jobDataProblem, type UploadJobData, type UploadJobResult } from './upload-job.js';

export { postingLeaseTiming, type PostingLeaseTiming } from '../upload/lease-keeper.js';

/** How long a job of a batch held for its credit budget waits before it looks again. */
const HELD_BATCH_RECHECK_MS = 30_000;

/** What the processor needs; the worker wires the real ones, tests may wire their own. */
export interface UploadProcessorDeps {
  /** Attributed to each job's batch (`attributedTo`), so the credit budget counts the job's requests for it. */
  client: Pick<
    ZohoClient,
    'uploadFile' | 'uploadLink' | 'listAllAttachments' | 'downloadAttachment' | 'deleteAttachments' | 'attributedTo'
  >;
  ledger: Ledger;
  rateControl: RateControl;
  pauseControl: PauseControl;
  openSource: (ref: SourceRef, limits: SourceLimits) => Promise<OpenedSource>;
  sourceLimits: SourceLimits;
  /** Holds every worker of the queue back for `ms` (`queue.rateLimit`). */
  rateLimit: (ms: number) => Promise<void>;
  /** Adds the settle-and-verify job of a row, due at `dueAt`. */
  scheduleVerification: (data: UploadJobData, rowJobId: string, dueAt: number) => Promise<void>;
  logger: Logger;
  /** Called once per finished attempt, for metrics and progress. */
  onOutcome?: (outcome: UploadOutcome) => void;
  /** True for a batch whose credit budget is spent (queue/credit-budget.ts): its jobs wait. */
  isHeld?: (batch: string) => boolean;
  /** The quick retries and the systemic pause's delay; BullMQ's attempts and backoff are in the job options. @defaultValue RETRY_DEFAULTS */
  retry?: Partial<Pick<RetryPolicy, 'quickRetries' | 'quickRetryMs' | 'systemicRequeueDelayMs'>>;
  /** @defaultValue postingLeaseTiming(30000) */
  postingLease?: PostingLeaseTiming;
  /** @defaultValue 120000 (see `ZOHO_ATTACH_SETTLE_MS`) */
  settleMs?: number;
  /** @defaultValue 30000 (see `ZOHO_ATTACH_CLOCK_SKEW_MS`) */
  clockSkewMs?: number;
  now?: () => number;
}

/**
 * What an attempt can end as, as logged and counted: `uploaded`, `adopted` (an earlier
 * attempt's copy was found), `already-uploaded` (the ledger had it), `retry`, `dead`,
 * `rate-limited`, `paused`, `deferred` (another run of the row was still posting it: this
 * one waits for it), `verified` (a settle-and-verify listing finished).
 */
export const UPLOAD_OUTCOME_RESULTS = [
  'uploaded',
  'adopted',
  'already-uploaded',
  'retry',
  'dead',
  'rate-limited',
  'paused',
  'deferred',
  'verified',
] as const;

/** One of {@link UPLOAD_OUTCOME_RESULTS}. */
export type UploadOutcomeResult = (typeof UPLOAD_OUTCOME_RESULTS)[number];

/** One attempt's outcome, as logged and counted. */
export interface UploadOutcome {
  batch: string;
  jobId: string;
  attempt: number;
  result: UploadOutcomeResult;
  durationMs: number;
  bytes?: number;
  attachmentId?: string;
  errorCode?: string;
  copiesRemoved?: number;
}

/** Builds the BullMQ processor function for upload and verify jobs. */
export function createUploadProcessor(deps: UploadProcessorDeps) {
  const now = deps.now ?? Date.now;
  const lease = deps.postingLease ?? postingLeaseTiming(30_000);
  const retry = { ...RETRY_DEFAULTS, ...deps.retry };
  const attemptDeps = {
    ...deps,
    lease,
    settleMs: deps.settleMs ?? 120_000,
    clockSkewMs: deps.clockSkewMs ?? 30_000,
    now,
  };

  return async function processUpload(
    job: Job<UploadJobData, UploadJobResult>,
    token?: string,
  ): Promise<UploadJobResult> {
    const jobId = job.id as string;
    const attempt = job.attemptsMade + 1;
    const lastAttempt = attempt >= (job.opts.attempts ?? 1);
    const { batch, module, recordId, line } = job.data;
    const rowJobId = job.data.verifies ?? jobId;
    const log = deps.logger.child({ batch, line, jobId: rowJobId, module, recordId, attempt });
    // Every Zoho request of the job counts against its batch's credits.
    const jobDeps = { ...attemptDeps, client: deps.client.attributedTo(batch) };
    const started = now();
    const report = (outcome: Omit<UploadOutcome, 'batch' | 'jobId' | 'attempt' | 'durationMs'>) => {
      const full: UploadOutcome = { batch, jobId: rowJobId, attempt, durationMs: now() - started, ...outcome };
      deps.onOutcome?.(full);
      const level = outcome.result === 'dead' ? 'warn' : 'info';
      log[level](
        {
          outcome: outcome.result,
          durationMs: full.durationMs,
          bytes: outcome.bytes,
          attachmentId: outcome.attachmentId,
          errorCode: outcome.errorCode,
          copiesRemoved: outcome.copiesRemoved,
        },
        job.name === VERIFY_JOB_NAME ? 'verify outcome' : 'upload outcome',
      );
    };

    try {
      if (job.name === VERIFY_JOB_NAME) {
        const verified = await verifyCopies(jobDeps, {
          jobId: rowJobId,
          module,
          recordId,
          target: job.data.target,
        });
        report({
          result: 'verified',
          copiesRemoved: verified.removed.length,
          ...(verified.keptId ? { attachmentId: verified.keptId } : {}),
        });
        return { attachmentId: verified.keptId ?? '', how: 'already-uploaded' };
      }
      // The batch spent its credit budget: the job waits (no attempt spent) and looks again later.
      if (deps.isHeld?.(batch) === true) {
        report({ result: 'paused', errorCode: CREDIT_BUDGET_PAUSE_CODE });
        await job.moveToDelayed(now() + HELD_BATCH_RECHECK_MS, token);
        throw new DelayedError();
      }
      // A job that did not come through a manifest check (added to Redis by other means) gets one now.
      const invalid = jobDataProblem(job.data);
      if (invalid !== undefined) {
        throw new ClassifiedError({
          code: 'INVALID_JOB_DATA',
          classification: 'permanent',
          message: `the job's row is not valid: ${invalid}`,
        });
      }
      // Names this run in the posting lease.
      const runToken = newPostingToken();
      const row = {
        jobId,
        attempt,
        lastAttempt,
        module,
        recordId,
        target: job.data.target,
        title: job.data.title,
        runToken,
        jobData: job.data,
      };
      const result: AttemptSuccess = await pRetry(() => attemptUpload(jobDeps, row), {
        retries: retry.quickRetries,
        minTimeout: retry.quickRetryMs,
        factor: 2,
        randomize: true,
        shouldRetry: ({ error }) => isQuickRetry(error),
        // A quick retry is a retry: the batch's counter and the metrics count it like BullMQ's.
        onFailedAttempt: async ({ error, retriesLeft }) => {
          if (retriesLeft === 0 || !isQuickRetry(error)) return;
          await deps.ledger.count(batch, 'retries');
          report({ result: 'retry', errorCode: (error as ClassifiedError).code });
        },
      });
      report({
        result: result.how,
        attachmentId: result.attachmentId,
        ...(result.bytes === undefined ? {} : { bytes: result.bytes }),
      });
      if (result.verifyAt !== undefined) await deps.scheduleVerification(job.data, jobId, result.verifyAt);
      const slowDownMs = await deps.rateControl.onSuccess(result.creditsRemaining);
      if (slowDownMs > 0) {
        log.warn(
          { creditsRemaining: result.creditsRemaining, slowDownMs },
          'Zoho API credits are running low: slowing down',
        );
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
      const decision: Decision = decideOutcome(
        { mayBeStored: true, lastAttempt, link: job.data.target.kind === 'link' },
        { kind: 'failed', classification: error.classification, ambiguous: error.ambiguous },
      );
      switch (decision.action) {
        case 'rate-limit': {
          const creditsRemaining = isZohoError(error) ? error.creditsRemaining : undefined;
          const pauseMs = await deps.rateControl.onRateLimited(creditsRemaining);
          await deps.ledger.count(batch, 'rateLimited');
          report({ result: 'rate-limited', errorCode: error.code });
          // Usually 0: the shared concurrency limit came down instead (see rate-control.ts).
          if (pauseMs > 0) await deps.rateLimit(pauseMs);
          // Not a failure: the job goes back to wait without spending an attempt.
          throw Worker.RateLimitError();
        }
        case 'pause': {
          const hint = systemicHint(error.code);
          const pausedNow = await deps.pauseControl.pause({ code: error.code, message: error.reason, hint });
          if (pausedNow)
            log.error(
              { errorCode: error.code, hint },
              `queue paused: ${error.reason}. To fix: ${hint}; then run \`zoho-attach resume\``,
            );
          report({ result: 'paused', errorCode: error.code });
          // Back to delayed without spending an attempt; it runs again once the queue is resumed.
          await job.moveToDelayed(now() + retry.systemicRequeueDelayMs, token);
          throw new DelayedError();
        }
        case 'dead-letter': {
          if (job.name === VERIFY_JOB_NAME) {
            // The row is uploaded and keeps its attachment; what could not be checked is said in the ledger.
            await giveUpVerification(jobDeps, rowJobId, `[${error.code}] ${error.reason}`);
            report({ result: 'verified', errorCode: error.code, copiesRemoved: 0 });
            return { attachmentId: '', how: 'already-uploaded' };
          }
          await deps.ledger.markDead(jobId, ledgerError(error, attempt));
          report({ result: 'dead', errorCode: error.code });
          throw new UnrecoverableError(error.message);
        }
        default: {
          if (job.name !== VERIFY_JOB_NAME) {
            await deps.ledger.recordError(jobId, ledgerError(error, attempt));
            await deps.ledger.count(batch, 'retries');
          }
          report({ result: 'retry', errorCode: error.code });
          throw error;
        }
      }
    }
  };
}

/** Transient faults are retried a few times inside one attempt before BullMQ's backoff takes over. */
function isQuickRetry(error: unknown): boolean {
  return isClassifiedError(error) && error.classification === 'transient';
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

/**
 * What to fix for each systemic error. How to go on afterwards depends on where it is read
 * (`zoho-attach resume`, or the dashboard's Resume button): each surface says that itself.
 */
function systemicHint(code: string): string {
  switch (code) {
    case 'OAUTH_SCOPE_MISMATCH':
      return "the token lacks the attachments scope: grant ZohoCRM.modules.ALL (or ZohoCRM.modules.attachments.ALL with the modules' scopes), mint a new refresh token";
    case 'AUTHENTICATION_FAILURE':
      return 'Zoho refused the credentials: check ZOHO_ACCESS_TOKEN or the refresh credentials';
    case 'REFRESH_INVALID_CODE':
      return 'the refresh token is revoked or invalid: set a valid ZOHO_REFRESH_TOKEN';
    case 'REFRESH_INVALID_CLIENT':
      return 'the client id/secret are wrong or belong to another data centre: check ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET and ZOHO_DC';
    case 'NO_CREDENTIALS':
      return 'set ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET and ZOHO_REFRESH_TOKEN (or ZOHO_ACCESS_TOKEN)';
    default:
      return 'fix the cause';
  }
}
