/**
 * A row's success: the attachment becomes the row's (ownership claimed in the same script,
 * so two rows can never both adopt one attachment), the batch counters move, and, when an
 * earlier attempt may have stored a copy, a settle-and-verify listing is put on the due list.
 */
import type { Redis } from 'ioredis';
import type { KeyNames } from '../shared/key-names.js';
import { splitAround } from './claim-rows.js';
import { RECORD_PROGRESS_LUA } from './progress-samples.js';
import { ITEM_STORE_LUA } from './item-store.js';
import { runScript, type LedgerScript } from './redis-script.js';
import type { UploadHow } from './types.js';

// KEYS: item, owners, verifyDue. ARGV: attachmentId, sha256, bytes, how, now, metaPrefix, metaSuffix, jobId,
// attempts, verifyAt ('' for none), sentName and verifyRow (the row's job data, JSON; both kept while a verification is due),
// progressSuffix (the batch's progress samples are at metaPrefix .. batch .. progressSuffix).
// Returns 'ok'; 'same' (already uploaded with this attachment); 'other:<id>' (already uploaded with another
// attachment: the caller's copy is an extra); 'owned' (another row owns the attachment: nothing changed);
// 'missing' (no such item).
export const MARK_UPLOADED_SCRIPT: LedgerScript = {
  name: 'zohoAttachMarkUploaded',
  lua: `${ITEM_STORE_LUA}${RECORD_PROGRESS_LUA}
local item, owners, verifyDue = KEYS[1], KEYS[2], KEYS[3]
local attachmentId, sha, bytes, how, now, metaPrefix, metaSuffix, jobId, attempts, verifyAt, sentName, verifyRow =
  ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[10], ARGV[11], ARGV[12]
local status = itemGet(item, 'status')
if not status then return 'missing' end
if status == 'uploaded' then
  local current = itemGet(item, 'attachmentId')
  if current == attachmentId then return 'same' end
  return 'other:' .. (current or '')
end
local owner = ownerGet(owners, attachmentId)
if owner and owner ~= jobId then return 'owned' end
local batch = itemGet(item, 'batch')
local meta = metaPrefix .. batch .. metaSuffix
if status == 'dead' then redis.call('HINCRBY', meta, 'dead', -1) end
redis.call('HINCRBY', meta, 'uploaded', 1)
if bytes ~= '' then redis.call('HINCRBY', meta, 'bytes', bytes) end
recordProgress(meta, metaPrefix .. batch .. ARGV[13], tonumber(now))
-- Written once: what a pending row needed (its lease, its error, when it was fed) goes, the outcome comes.
local values = itemLoad(item).values
for _, f in ipairs({ 'pendingSince', 'postingBy', 'postingAt', 'errorCode', 'errorMessage', 'errorHttpStatus', 'errorDetails', 'purgedAt', 'fedAt' }) do
  values[f] = nil
end
itemSet(item, 'status', 'uploaded', 'attachmentId', attachmentId, 'how', how, 'attempts', attempts, 'uploadedAt', now, 'updatedAt', now,
  'sha256', sha ~= '' and sha or nil, 'bytes', bytes ~= '' and bytes or nil,
  -- The name as sent identifies copies for the settle-and-verify listing only (about 40 bytes a file row).
  'sentName', (verifyAt ~= '' and sentName ~= '') and sentName or nil,
  'verifyAt', verifyAt ~= '' and verifyAt or nil, 'verifyRow', verifyAt ~= '' and verifyRow or nil)
ownerSet(owners, attachmentId, jobId)
if verifyAt ~= '' and redis.call('ZADD', verifyDue, verifyAt, jobId) == 1 then redis.call('HINCRBY', meta, 'verifying', 1) end
return 'ok'
`,
};

/** What marking a row uploaded did. */
export type MarkUploadedResult =
  | { result: 'ok' | 'same' | 'owned' | 'missing' }
  /** The row was already uploaded with `attachmentId`: the caller's attachment is an extra copy. */
  | { result: 'other'; attachmentId: string };

/** The success of one attempt, as {@link markUploaded} records it. */
export interface UploadedRow {
  attachmentId: string;
  attempt: number;
  how: UploadHow;
  sha256?: string | undefined;
  bytes?: number | undefined;
  /** The file name as sent (sanitized), for verification. */
  fileName?: string | undefined;
  /** When the settle-and-verify listing is due; undefined when no earlier attempt can have stored a copy. */
  verifyAt?: number | undefined;
  /** With `verifyAt`: the row's job data, so the verification can be scheduled again after a crash. */
  verifyRow?: unknown;
}

/** Marks a row uploaded and claims its attachment, atomically (see {@link MarkUploadedResult}). */
export async function markUploaded(
  redis: Redis,
  keys: KeyNames,
  jobId: string,
  row: UploadedRow,
  now: number,
): Promise<MarkUploadedResult> {
  const [metaPrefix, metaSuffix] = splitAround(keys.batchMeta);
  const answer = await runScript<string>(
    redis,
    MARK_UPLOADED_SCRIPT,
    [keys.ledgerItem(jobId), keys.attachmentOwners, keys.verifyDue],
    [
      row.attachmentId,
      row.sha256 ?? '',
      row.bytes === undefined ? '' : String(row.bytes),
      row.how,
      now,
      metaPrefix,
      metaSuffix,
      jobId,
      row.attempt,
      row.verifyAt === undefined ? '' : String(row.verifyAt),
      row.fileName ?? '',
      row.verifyAt === undefined ? '' : JSON.stringify(row.verifyRow ?? null),
      splitAround(keys.batchProgress)[1],
    ],
  );
  if (answer.startsWith('other:')) return { result: 'other', attachmentId: answer.slice('other:'.length) };
  return { result: answer as 'ok' | 'same' | 'owned' | 'missing' };
}
