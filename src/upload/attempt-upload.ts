/**
 * One try at one row: look at the ledger, wait if another run is posting the row, adopt a copy
 * an earlier attempt stored, else post; holding the posting lease from start to end. What the
 * answer means for the row is decided by {@link decideOutcome}; this module carries it out
 * against the ledger and Zoho, and throws the classified failure for the queue to act on.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Ledger, LedgerItem, SentContent, UploadedRow, UploadHow } from '../ledger/ledger.js';
import { ClassifiedError, isClassifiedError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { OpenedSource, SourceLimits, SourceRef } from '../sources/index.js';
import type { AttachmentInfo, ZohoClient } from '../zoho/index.js';
import { isZohoError, sanitizeFileName } from '../zoho/index.js';
import { decideOutcome, planAttempt, type AttemptPlan, type AttemptState } from './decide-outcome.js';
import { keepPostingLease, LeaseLostError, type PostingLeaseTiming } from './lease-keeper.js';
import { findOwnCopies, type CopyIdentity } from './own-copies.js';
import type { UploadTarget } from './upload-target.js';

/** What one attempt needs. */
export interface AttemptDeps {
  client: Pick<
    ZohoClient,
    'uploadFile' | 'uploadLink' | 'listAllAttachments' | 'downloadAttachment' | 'deleteAttachments'
  >;
  ledger: Ledger;
  openSource: (ref: SourceRef, limits: SourceLimits) => Promise<OpenedSource>;
  sourceLimits: SourceLimits;
  lease: PostingLeaseTiming;
  /** How far Zoho's clock may lag ours. */
  clockSkewMs: number;
  /** How long after an ambiguous row's success its record is listed again. */
  settleMs: number;
  logger: Logger;
  now: () => number;
}

/** The row being tried. */
export interface RowAttempt {
  jobId: string;
  /** 1-based. */
  attempt: number;
  lastAttempt: boolean;
  module: string;
  recordId: string;
  target: UploadTarget;
  title?: string | undefined;
  /** Names this run in the posting lease. */
  runToken: string;
  /** The job's data, kept with a success that needs verifying (to schedule it again after a crash). */
  jobData: unknown;
}

/** How a row came to be uploaded: posted now, adopted (an earlier attempt's copy), or already in the ledger. */
export type SuccessHow = UploadHow | 'already-uploaded';

/** A successful attempt. */
export interface AttemptSuccess {
  attachmentId: string;
  how: SuccessHow;
  bytes?: number;
  creditsRemaining?: number;
  /** When the settle-and-verify listing is due (an earlier attempt may have stored a copy). */
  verifyAt?: number;
}

/** Another run of the same row is still posting it: wait for it, do not post a second copy. */
export class PostInFlightElsewhere extends Error {
  override readonly name = 'PostInFlightElsewhere';
}

/** Tries the row once. Throws a {@link ClassifiedError} (or {@link PostInFlightElsewhere}) when it did not succeed. */
export async function attemptUpload(deps: AttemptDeps, row: RowAttempt): Promise<AttemptSuccess> {
  const { target } = row;
  const early =
    target.kind === 'file'
      ? new EarlySource(() => deps.openSource({ kind: 'file', path: target.path }, deps.sourceLimits))
      : undefined;
  try {
    return await attemptWithLease(deps, row, early);
  } finally {
    await early?.release();
  }
}

/**
 * A local file opened while the ledger is asked about its row, so that the file's checks (several
 * trips to libuv's thread pool) and the ledger's round trip overlap instead of adding up: at Zoho's
 * latency each upload's slot is held that much less (BENCHMARKS.md). Only files: a URL source
 * downloads, which must not start before the row is known to need it. Whether the file could be
 * opened is judged only when it is taken, so a row the ledger skips never reports it.
 */
class EarlySource {
  private taken = false;
  private readonly opening: Promise<OpenedSource>;

  constructor(open: () => Promise<OpenedSource>) {
    this.opening = open();
    // Looked at by take() or release(), never left unhandled.
    this.opening.catch(() => undefined);
  }

  /** Hands the source over: the taker closes it. */
  take(): Promise<OpenedSource> {
    this.taken = true;
    return this.opening;
  }

  /** Closes the source unless it was taken. */
  async release(): Promise<void> {
    if (this.taken) return;
    this.taken = true;
    const source = await this.opening.catch(() => undefined);
    await source?.close();
  }
}

async function attemptWithLease(
  deps: AttemptDeps,
  row: RowAttempt,
  early: EarlySource | undefined,
): Promise<AttemptSuccess> {
  const { ledger, lease } = deps;
  let started = await ledger.startAttempt(row.jobId, row.attempt, { token: row.runToken, staleMs: lease.staleMs });
  if (started.verdict === 'stale') {
    // The other run has been silent for a lock's length: give it time for one more beat (it may just
    // have got Redis back), and take over only if it stays silent.
    await sleep(lease.beatMs * 2);
    started = await ledger.startAttempt(row.jobId, row.attempt, {
      token: row.runToken,
      staleMs: lease.staleMs,
      takeOverAt: started.item?.postingAt,
    });
  }
  const mayBeStored = started.item?.pendingSince !== undefined;
  const plan = planAttempt({ verdict: started.verdict, mayBeStored });
  if (plan === 'skip') return { attachmentId: started.item?.attachmentId as string, how: 'already-uploaded' };
  if (plan === 'wait-for-other-run') throw new PostInFlightElsewhere();

  const state: AttemptState = { mayBeStored, lastAttempt: row.lastAttempt, link: row.target.kind === 'link' };
  const keeper = keepPostingLease(ledger, row.jobId, row.runToken, lease, deps.now(), deps.now);
  let sent: SentContent | undefined;
  try {
    const item = started.item as LedgerItem;
    const success = await postOrAdopt(deps, row, item, plan, keeper.signal, (content) => (sent = content), early);
    const decision = decideOutcome(state, { kind: success.how === 'adopted' ? 'adopted' : 'posted' });
    const verifyAt = decision.verify ? deps.now() + deps.settleMs : undefined;
    return await recordSuccess(deps, row, success, verifyAt);
  } catch (caught) {
    const error = asClassified(caught, keeper.signal);
    const decision = decideOutcome(state, {
      kind: 'failed',
      classification: error.classification,
      ambiguous: error.ambiguous,
    });
    await ledger.endPosting(row.jobId, row.runToken, {
      notStored: decision.mark === 'clear',
      sent: error.ambiguous ? sent : undefined,
    });
    throw error;
  } finally {
    keeper.stop();
  }
}

/** A post's or an adoption's result, before the ledger has it. */
interface Stored extends Omit<UploadedRow, 'attempt' | 'verifyAt' | 'verifyRow'> {
  creditsRemaining?: number | undefined;
}

/**
 * Writes the success. The ledger claims the attachment for the row in the same step; if the
 * row turns out to be uploaded already (another run finished it while this one was cut off),
 * a copy this run posted is an extra and is deleted at once.
 */
async function recordSuccess(
  deps: AttemptDeps,
  row: RowAttempt,
  stored: Stored,
  verifyAt: number | undefined,
): Promise<AttemptSuccess> {
  const marked = await deps.ledger.markUploaded(row.jobId, {
    ...stored,
    attempt: row.attempt,
    verifyAt,
    verifyRow: row.jobData,
  });
  const success: AttemptSuccess = {
    attachmentId: stored.attachmentId,
    how: stored.how,
    ...(stored.bytes === undefined ? {} : { bytes: stored.bytes }),
    ...(stored.creditsRemaining === undefined ? {} : { creditsRemaining: stored.creditsRemaining }),
    ...(verifyAt === undefined ? {} : { verifyAt }),
  };
  switch (marked.result) {
    case 'ok':
    case 'same':
      return success;
    case 'other':
      if (stored.how === 'uploaded') {
        await deps.client.deleteAttachments(row.module, row.recordId, [stored.attachmentId]);
        await deps.ledger.countRemovedCopies(row.jobId, 1);
        deps.logger.warn(
          { jobId: row.jobId, removed: stored.attachmentId, kept: marked.attachmentId },
          "the row was uploaded by another run meanwhile: deleted this run's copy",
        );
      }
      return { attachmentId: marked.attachmentId, how: 'already-uploaded' };
    case 'owned':
      // Only an adoption can name an attachment another row owns: another row claimed it since the listing. Try again.
      throw new ClassifiedError({
        code: 'ADOPTION_CONFLICT',
        classification: 'transient',
        ambiguous: true,
        message: `attachment ${stored.attachmentId} was claimed by another row meanwhile`,
      });
    case 'missing':
      throw new ClassifiedError({
        code: 'LEDGER_ITEM_MISSING',
        classification: 'permanent',
        message: 'the row has no ledger entry (its batch was removed while it ran)',
      });
  }
}

/** With the lease held: adopt what an earlier post may have stored, else post. */
async function postOrAdopt(
  deps: AttemptDeps,
  row: RowAttempt,
  item: LedgerItem,
  plan: AttemptPlan,
  signal: AbortSignal,
  onSent: (sent: SentContent) => void,
  early: EarlySource | undefined,
): Promise<Stored> {
  const { module, recordId, target, title } = row;
  const owner = { jobId: row.jobId, module, recordId };
  const since = item.pendingSince ?? deps.now();

  if (target.kind === 'link') {
    const identity: CopyIdentity = { kind: 'link', url: target.url };
    if (plan === 'reconcile-then-post') {
      const adopted = adoptFirst(await findOwnCopies(deps, owner, identity, since, { signal }));
      if (adopted) return adopted;
    }
    try {
      const result = await deps.client.uploadLink({
        module,
        recordId,
        url: target.url,
        signal,
        ...(title ? { title } : {}),
      });
      return { attachmentId: result.attachmentId, how: 'uploaded', creditsRemaining: result.creditsRemaining };
    } catch (error) {
      // Zoho refuses the same link twice on a record: if it is this row's own (made inside its window, owned by no other row), adopt it.
      if (isZohoError(error) && error.code === 'DUPLICATE_DATA') {
        const window = item.firstAttemptAt ?? since;
        const adopted = adoptFirst(await findOwnCopies(deps, owner, identity, window, { signal }));
        if (adopted) return adopted;
        // An earlier attempt of this row may have stored it, and Zoho's list may not show it yet: look again later.
        if (item.pendingSince !== undefined) throw duplicateNotListedYet(error);
      }
      throw error;
    }
  }

  const ref: SourceRef =
    target.kind === 'file' ? { kind: 'file', path: target.path } : { kind: 'url', url: target.url };
  let source = await (early?.take() ?? deps.openSource(ref, deps.sourceLimits));
  try {
    const fileName = sanitizeFileName(source.fileName);
    if (plan === 'reconcile-then-post') {
      // This source's sha256 is read only if a candidate needs it; then the source is opened again to post.
      let currentSha256: string | undefined;
      const readSha256 = async () => (currentSha256 ??= await drain(source));
      const identity: CopyIdentity = {
        kind: 'file',
        fileName,
        size: source.size,
        sha256s: async () => [...(item.sentSha256s ?? []), await readSha256()],
      };
      const candidates = await findOwnCopies(deps, owner, identity, since, { signal });
      if (candidates.length > 0) {
        const adopted = adoptFirst(candidates, { sha256: await readSha256(), bytes: source.size, fileName });
        if (adopted) return adopted;
      }
      if (currentSha256 !== undefined) {
        await source.close();
        source = await deps.openSource(ref, deps.sourceLimits);
      }
    }
    let opened = 0;
    try {
      const result = await deps.client.uploadFile({
        module,
        recordId,
        signal,
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
      return {
        attachmentId: result.attachmentId,
        how: 'uploaded',
        sha256: source.sha256(),
        bytes: source.size,
        fileName,
        creditsRemaining: result.creditsRemaining,
      };
    } catch (error) {
      // What was sent, if all of it was read: the copy Zoho may have stored has exactly these bytes.
      const sha256 = finishedSha256(source);
      if (sha256) onSent({ fileName, bytes: source.size, sha256 });
      throw error;
    }
  } finally {
    await source.close();
  }
}

/**
 * Takes the oldest candidate (the first post is the one to keep). The ledger claims it in the
 * same step as it marks the row uploaded; if another row claimed it meanwhile, that step says
 * so and the attempt is retried (see recordSuccess).
 */
function adoptFirst(
  candidates: AttachmentInfo[],
  content: { sha256?: string; bytes?: number; fileName?: string } = {},
): Stored | undefined {
  const oldest = candidates[0];
  return oldest ? { attachmentId: oldest.id, how: 'adopted', ...content } : undefined;
}

/**
 * Zoho says the link is on the record, the row may have put it there, but the list does not
 * show it (yet): transient, so the row is retried with backoff and lists again, never dead-lettered
 * for its own copy.
 */
function duplicateNotListedYet(cause: unknown): ClassifiedError {
  return new ClassifiedError({
    code: 'DUPLICATE_NOT_LISTED_YET',
    classification: 'transient',
    ambiguous: true,
    message:
      'Zoho says the link is already on the record, but its list does not show it yet: an earlier attempt may have stored it; looking again later',
    cause,
  });
}

/** Reads a source to its end and returns the sha256 of its bytes. */
async function drain(source: OpenedSource): Promise<string> {
  for await (const _chunk of source.stream) {
    // Only the hash and byte count matter.
  }
  return source.sha256();
}

function finishedSha256(source: OpenedSource): string | undefined {
  try {
    return source.sha256();
  } catch {
    return undefined;
  }
}

/**
 * Any thrown value as a classified error. An abort by this run's own lease keeper is an
 * abort of the post (ambiguous if any of it was sent, which the client decides); anything
 * unexpected is transient, ambiguous (it may have happened mid-post), and retried a bounded
 * number of times.
 */
export function asClassified(error: unknown, leaseSignal?: AbortSignal): ClassifiedError {
  if (isClassifiedError(error)) {
    if (leaseSignal?.aborted && leaseSignal.reason instanceof LeaseLostError) {
      return new ClassifiedError({
        code: 'LEASE_LOST',
        classification: 'transient',
        ambiguous: error.ambiguous,
        message: `${leaseSignal.reason.message}; the post was aborted`,
        cause: error,
      });
    }
    return error;
  }
  const message = error instanceof Error ? error.message : String(error);
  return new ClassifiedError({
    code: 'WORKER_ERROR',
    classification: 'transient',
    message,
    ambiguous: true,
    cause: error,
  });
}
