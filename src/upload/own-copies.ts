/**
 * Finding this row's own copies among a record's attachments. Used before posting (adopt a
 * copy an earlier attempt stored) and after the settle window (delete the extra ones).
 *
 * A copy is this row's when it has the row's identity (the same link, or the same file name
 * and size), was created inside the row's attempt window (Zoho's `Created_Time`, allowing for
 * clock skew), and no other row owns it. For files, when more than one copy qualifies, or
 * before deleting one, the bytes are downloaded and compared by sha256 with what was sent.
 */
import { createHash } from 'node:crypto';
import type { Ledger } from '../ledger/ledger.js';
import type { AttachmentInfo, ZohoClient } from '../zoho/index.js';

/** What makes an attachment look like this row's. */
export type CopyIdentity =
  | { kind: 'link'; url: string }
  /** `sha256s`: every sha256 this row's attempts sent (the source may change between them); read only when needed. */
  | { kind: 'file'; fileName: string; size: number; sha256s: () => Promise<string[]> };

/** What finding copies needs. */
export interface OwnCopiesDeps {
  client: Pick<ZohoClient, 'listAllAttachments' | 'downloadAttachment'>;
  ledger: Pick<Ledger, 'ownersOf'>;
  /** How far Zoho's clock may lag ours. */
  clockSkewMs: number;
}

/** The row whose copies are looked for. */
export interface CopyOwner {
  jobId: string;
  module: string;
  recordId: string;
}

/** True when an attachment has the row's identity (link, or name and size). */
export function hasIdentity(attachment: AttachmentInfo, identity: CopyIdentity): boolean {
  if (identity.kind === 'link') return attachment.linkUrl === identity.url;
  return (
    attachment.linkUrl === undefined && attachment.fileName === identity.fileName && attachment.size === identity.size
  );
}

/**
 * Lists the record and returns the copies this row's own attempts may have created since
 * `since` (local epoch ms), oldest first. With `confirmAll`, every file copy is confirmed by
 * its bytes; otherwise only when more than one qualifies.
 * @param listed the record's attachments when the caller has listed them already
 */
export async function findOwnCopies(
  deps: OwnCopiesDeps,
  owner: CopyOwner,
  identity: CopyIdentity,
  since: number,
  options: { confirmAll?: boolean; signal?: AbortSignal; listed?: AttachmentInfo[] } = {},
): Promise<AttachmentInfo[]> {
  const signal = options.signal ? { signal: options.signal } : {};
  const attachments = options.listed ?? (await deps.client.listAllAttachments(owner.module, owner.recordId, signal));
  const earliest = since - deps.clockSkewMs;
  const lookAlikes = attachments.filter((a) => hasIdentity(a, identity) && createdAtOrAfter(a, earliest));
  if (lookAlikes.length === 0) return [];
  const owners = await deps.ledger.ownersOf(lookAlikes.map((a) => a.id));
  let candidates = lookAlikes.filter((_, i) => owners[i] === undefined || owners[i] === owner.jobId);
  if (identity.kind === 'file' && (options.confirmAll || candidates.length > 1)) {
    const sent = await identity.sha256s();
    const confirmed: AttachmentInfo[] = [];
    for (const candidate of candidates) {
      const sha256 = await downloadSha256(deps, owner, candidate.id, options.signal);
      if (sent.includes(sha256)) confirmed.push(candidate);
    }
    candidates = confirmed;
  }
  return candidates.sort((a, b) => Date.parse(a.createdTime) - Date.parse(b.createdTime) || a.id.localeCompare(b.id));
}

/**
 * Zoho's `Created_Time` has whole seconds and an offset; a copy counts when it was created at
 * or after `earliest`. A time Zoho did not send, or that cannot be read, does not count: a
 * copy whose age is unknown is never adopted or deleted.
 */
function createdAtOrAfter(attachment: AttachmentInfo, earliest: number): boolean {
  const created = Date.parse(attachment.createdTime);
  // Whole seconds: a copy made at 12:00:00.900 reads 12:00:00.
  return !Number.isNaN(created) && created + 999 >= earliest;
}

/** Downloads an attachment and hashes its bytes. */
async function downloadSha256(
  deps: OwnCopiesDeps,
  owner: CopyOwner,
  attachmentId: string,
  signal: AbortSignal | undefined,
): Promise<string> {
  const download = await deps.client.downloadAttachment(
    owner.module,
    owner.recordId,
    attachmentId,
    signal ? { signal } : {},
  );
  const hash = createHash('sha256');
  for await (const chunk of download.stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
