/** A row whose attachment `undo` deleted from Zoho: it counts as undone, no longer uploaded. */
import type { Redis } from 'ioredis';
import type { KeyNames } from '../shared/key-names.js';
import { ITEM_STORE_LUA } from './item-store.js';
import { runScript, type LedgerScript } from './redis-script.js';

// KEYS: item, owners, the batch's meta. ARGV: jobId, batch, attachmentId, now.
// Only the row's own attachment of the batch that owns it: anything else changed since undo looked.
const MARK_UNDONE_SCRIPT: LedgerScript = {
  name: 'zohoAttachMarkUndone',
  lua: `${ITEM_STORE_LUA}
local item, owners, meta = KEYS[1], KEYS[2], KEYS[3]
local jobId, batch, attachmentId, now = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local status = itemGet(item, 'status')
if status == 'undone' and itemGet(item, 'undoneAttachmentId') == attachmentId then return 'already' end
if status ~= 'uploaded' or itemGet(item, 'batch') ~= batch or itemGet(item, 'attachmentId') ~= attachmentId then
  return 'changed'
end
itemSet(item, 'status', 'undone', 'undoneAttachmentId', attachmentId, 'undoneAt', now, 'updatedAt', now)
itemDel(item, 'attachmentId')
if ownerGet(owners, attachmentId) == jobId then ownerDel(owners, attachmentId) end
redis.call('HINCRBY', meta, 'uploaded', -1)
redis.call('HINCRBY', meta, 'undone', 1)
return 'ok'
`,
};

/**
 * `ok`: marked; `already`: marked before (a resumed undo); `changed`: the row is no longer this
 * batch's upload of that attachment (re-uploaded, or owned by another batch), and is left alone.
 */
export type MarkUndoneResult = 'ok' | 'already' | 'changed';

/** Marks the row `jobId` of `batch` undone, its attachment `attachmentId` deleted. */
export function markUndone(
  redis: Redis,
  keys: KeyNames,
  row: { jobId: string; batch: string; attachmentId: string },
  now: number,
): Promise<MarkUndoneResult> {
  return runScript<MarkUndoneResult>(
    redis,
    MARK_UNDONE_SCRIPT,
    [keys.ledgerItem(row.jobId), keys.attachmentOwners, keys.batchMeta(row.batch)],
    [row.jobId, row.batch, row.attachmentId, now],
  );
}
