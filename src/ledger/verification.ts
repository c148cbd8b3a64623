/**
 * The settle-and-verify step's bookkeeping: the due list, and the result of one verification
 * (copies removed, the attachment kept), written in one step.
 */
import type { Redis } from 'ioredis';
import type { KeyNames } from '../shared/key-names.js';
import { splitAround } from './claim-rows.js';
import { ITEM_STORE_LUA, readItems } from './item-store.js';
import { runScript, type LedgerScript } from './redis-script.js';

// KEYS: item, owners, verifyDue. ARGV: jobId, keptId ('' = unchanged), removedCount, now, metaPrefix, metaSuffix,
// verifyError ('' = none). Ends the row's pending verification.
export const FINISH_VERIFICATION_SCRIPT: LedgerScript = {
  name: 'zohoAttachFinishVerification',
  lua: `${ITEM_STORE_LUA}
local item, owners, verifyDue = KEYS[1], KEYS[2], KEYS[3]
local jobId, keptId, removed, now = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local batch = itemGet(item, 'batch')
if not batch then redis.call('ZREM', verifyDue, jobId); return 0 end
local meta = ARGV[5] .. batch .. ARGV[6]
if redis.call('ZREM', verifyDue, jobId) == 1 then redis.call('HINCRBY', meta, 'verifying', -1) end
itemDel(item, 'verifyAt', 'verifyRow')
if removed > 0 then
  itemIncrBy(item, 'copiesRemoved', removed)
  redis.call('HINCRBY', meta, 'copiesRemoved', removed)
end
if keptId ~= '' and itemGet(item, 'status') == 'uploaded' then
  itemSet(item, 'attachmentId', keptId)
  ownerSet(owners, keptId, jobId)
end
if ARGV[7] ~= '' then itemSet(item, 'verifyError', ARGV[7]) else itemDel(item, 'verifyError') end
itemSet(item, 'updatedAt', now)
return 1
`,
};

/** What one verification found and did. */
export interface VerificationResult {
  /** How many extra copies it deleted. */
  removed: number;
  /** The attachment the row now points at, when it changed (its own copy was gone). */
  keptId?: string | undefined;
  /** Why it could not finish, when it could not (the row keeps its attachment). */
  error?: string | undefined;
}

/** Records a verification's result and takes the row off the due list. */
export async function finishVerification(
  redis: Redis,
  keys: KeyNames,
  jobId: string,
  result: VerificationResult,
  now: number,
): Promise<void> {
  const [metaPrefix, metaSuffix] = splitAround(keys.batchMeta);
  await runScript(
    redis,
    FINISH_VERIFICATION_SCRIPT,
    [keys.ledgerItem(jobId), keys.attachmentOwners, keys.verifyDue],
    [jobId, result.keptId ?? '', result.removed, now, metaPrefix, metaSuffix, result.error ?? ''],
  );
}

/** A row whose verification is due. */
export interface DueVerification {
  jobId: string;
  dueAt: number;
  /** The row's job data as recorded with the success (undefined if the item is gone). */
  row: unknown;
}

/** Rows whose verification is due, with when (all of them: the list is short, one entry per ambiguous success). */
export async function listDueVerifications(redis: Redis, keys: KeyNames): Promise<DueVerification[]> {
  const flat = await redis.zrange(keys.verifyDue, 0, -1, 'WITHSCORES');
  const due: Array<{ jobId: string; dueAt: number }> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) due.push({ jobId: flat[i] as string, dueAt: Number(flat[i + 1]) });
  if (due.length === 0) return [];
  // Every row's job data in one round trip, not one per row.
  const items = await readItems(
    redis,
    keys,
    due.map((d) => d.jobId),
  );
  return due.map((entry, i) => {
    const raw = items[i]?.verifyRow;
    return { ...entry, row: raw === undefined ? undefined : (JSON.parse(raw) as unknown) };
  });
}

/** How many verifications are due or running. */
export function countDueVerifications(redis: Redis, keys: KeyNames): Promise<number> {
  return redis.zcard(keys.verifyDue);
}

// KEYS[1] item. ARGV: count, metaPrefix, metaSuffix. Counts copies removed outside a verification.
export const COUNT_REMOVED_COPIES_SCRIPT: LedgerScript = {
  name: 'zohoAttachCountRemovedCopies',
  lua: `${ITEM_STORE_LUA}
local batch = itemGet(KEYS[1], 'batch')
if not batch then return 0 end
itemIncrBy(KEYS[1], 'copiesRemoved', ARGV[1])
redis.call('HINCRBY', ARGV[2] .. batch .. ARGV[3], 'copiesRemoved', ARGV[1])
return 1
`,
};

/**
 * Counts extra copies removed at once: a run that posted a copy and then found the row already
 * uploaded by another run deletes its own copy on the spot.
 */
export async function countRemovedCopies(redis: Redis, keys: KeyNames, jobId: string, count: number): Promise<void> {
  const [metaPrefix, metaSuffix] = splitAround(keys.batchMeta);
  await runScript(redis, COUNT_REMOVED_COPIES_SCRIPT, [keys.ledgerItem(jobId)], [count, metaPrefix, metaSuffix]);
}
