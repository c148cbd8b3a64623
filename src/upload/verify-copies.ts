/**
 * Settle and verify. Zoho can store a POST after the client gave up on it, and its list can
 * lag behind its store, so a row that succeeded after an ambiguous attempt may still get a
 * second copy seconds later. Once the settle window has passed, the record is listed again:
 * copies this row's own attempts created beyond the one the ledger keeps are deleted.
 *
 * A copy is deleted only when it has the row's name and size, was created inside the row's
 * attempt window, no other row owns it, and its bytes (downloaded) equal what this row sent.
 * Nothing older than the row's first attempt, and nothing another row owns, is ever touched.
 */
import type { Ledger, LedgerItem } from '../ledger/ledger.js';
import { ClassifiedError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { ZohoClient } from '../zoho/index.js';
import { findOwnCopies, type CopyIdentity } from './own-copies.js';
import type { UploadTarget } from './upload-target.js';

/** What a verification needs. */
export interface VerifyDeps {
  client: Pick<ZohoClient, 'listAllAttachments' | 'downloadAttachment' | 'deleteAttachments'>;
  ledger: Ledger;
  clockSkewMs: number;
  logger: Logger;
}

/** The row to verify. */
export interface RowToVerify {
  jobId: string;
  module: string;
  recordId: string;
  target: UploadTarget;
}

/** What a verification did. */
export interface VerifyOutcome {
  /** Extra copies deleted. */
  removed: string[];
  /** The attachment the row keeps. */
  keptId?: string | undefined;
  /** Nothing to do: the row is not (or no longer) waiting for a verification. */
  skipped?: boolean;
}

/**
 * Verifies one row. Throws a classified error when Zoho fails (the queue retries it); a row
 * whose kept copy is not listed yet (listing lag) throws a transient error too, so nothing is
 * deleted while the picture is incomplete.
 */
export async function verifyCopies(deps: VerifyDeps, row: RowToVerify): Promise<VerifyOutcome> {
  const [item] = await deps.ledger.getItems([row.jobId]);
  if (!item || item.status !== 'uploaded' || item.verifyAt === undefined || !item.attachmentId) {
    if (item?.verifyAt !== undefined) await deps.ledger.finishVerification(row.jobId, { removed: 0 });
    return { removed: [], skipped: true };
  }
  const identity = identityOf(row.target, item);
  if (!identity) {
    // A file row without what was sent on record (an old ledger entry): nothing can be compared.
    await deps.ledger.finishVerification(row.jobId, {
      removed: 0,
      error: 'nothing recorded of what was sent: not verified',
    });
    return { removed: [], keptId: item.attachmentId };
  }
  const listed = await deps.client.listAllAttachments(row.module, row.recordId);
  if (!listed.some((a) => a.id === item.attachmentId)) {
    throw new ClassifiedError({
      code: 'VERIFY_KEPT_COPY_NOT_LISTED',
      classification: 'transient',
      message: `the row's attachment ${item.attachmentId} is not in the record's list yet (or was deleted): nothing is removed until it is`,
    });
  }
  const owner = { jobId: row.jobId, module: row.module, recordId: row.recordId };
  const since = item.firstAttemptAt ?? item.uploadedAt ?? 0;
  const own = await findOwnCopies(deps, owner, identity, since, { confirmAll: true, listed });
  const extras = own.filter((a) => a.id !== item.attachmentId).map((a) => a.id);
  if (extras.length > 0) {
    await deleteCopies(deps, row, extras);
    deps.logger.warn(
      { jobId: row.jobId, recordId: row.recordId, kept: item.attachmentId, removed: extras },
      'removed extra copies that Zoho stored late',
    );
  }
  await deps.ledger.finishVerification(row.jobId, { removed: extras.length });
  return { removed: extras, keptId: item.attachmentId };
}

/** Records that a verification could not finish (attempts ran out); the row keeps its attachment. */
export async function giveUpVerification(
  deps: Pick<VerifyDeps, 'ledger'>,
  jobId: string,
  reason: string,
): Promise<void> {
  await deps.ledger.finishVerification(jobId, { removed: 0, error: reason });
}

/** The identity copies of this row have, for files; undefined for links. */
function identityOf(target: UploadTarget, item: LedgerItem): CopyIdentity | undefined {
  // Zoho refuses a link already on the record, but a POST it stores late can race past that check.
  if (target.kind === 'link') return { kind: 'link', url: target.url };
  if (item.sentName === undefined || item.bytes === undefined) return undefined;
  const sha256s = [...new Set([...(item.sha256 ? [item.sha256] : []), ...(item.sentSha256s ?? [])])];
  return { kind: 'file', fileName: item.sentName, size: item.bytes, sha256s: () => Promise.resolve(sha256s) };
}

/** Deletes copies one by one; one already gone (deleted by a previous try of this verification) counts as deleted. */
async function deleteCopies(deps: VerifyDeps, row: RowToVerify, ids: string[]): Promise<void> {
  for (const id of ids) {
    try {
      await deps.client.deleteAttachments(row.module, row.recordId, [id]);
    } catch (error) {
      if (error instanceof ClassifiedError && error.code === 'INVALID_DATA') continue;
      throw error;
    }
  }
}
