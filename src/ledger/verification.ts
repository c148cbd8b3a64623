/**
 * The settle-and-verify step's bookkeeping: the due list, and the result of one verification
 * (copies removed, the attachment kept), written in one step.
 */
import type { Redis } from 'ioredis';
import type { KeyNames } from '../shared/key-names.js';
import { splitAround } from './claim-rows.js';
import { runScript, type LedgerScript } from './redis-script.js';

// KEYS: item, owners, verifyDue. ARGV: jobId, keptId ('' = unchanged), removedCount, now, metaPrefix, metaSuffix,
// verifyError ('' = none). Ends the row's pending verification.
export const FINISH_VERIFICATION_SCRIPT: LedgerScript = {
  name: 'zohoAttachFinishVerification',
  lua: `
local item, owners, verifyDue = KEYS[1], KEYS[2], KEYS[3]
local jobId, keptId, removed, now = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4]
local batch = redis.call('HGET', item, 'batch')
if not batch then redis.call('ZREM', verifyDue, jobId); return 0 end
local meta = ARGV[5] .. batch .. ARGV[6]
if redis.call('ZREM', verifyDue, jobId) == 1 then redis.call('HINCRBY', meta, 'verifying', -1) end
redis.call('HDEL', item, 'verifyAt', 'verifyRow')
if removed > 0 then
  redis.call('HINCRBY', item, 'copiesRemoved', removed)
  redis.call('HINCRBY', meta, 'copiesRemoved', removed)
end
if keptId ~= '' and redis.call('HGET', item, 'status') == 'uploaded' then
  redis.call('HSET', item, 'attachmentId', keptId)
  redis.call('HSET', owners, keptId, jobId)
end
if ARGV[7] ~= '' then redis.call('HSET', item, 'verifyError', ARGV[7]) else redis.call('HDEL', item, 'verifyError') end
redis.call('HSET', item, 'updatedAt', now)
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
  const pipeline = redis.pipeline();
  for (const { jobId } of due) pipeline.hget(keys.ledgerItem(jobId), 'verifyRow');
  const rows = (await pipeline.exec()) ?? [];
  return due.map((entry, i) => {
    const [error, raw] = rows[i] ?? [null, null];
    if (error) throw error;
    return { ...entry, row: typeof raw === 'string' ? (JSON.parse(raw) as unknown) : undefined };
  });
}

/** How many verifications are due or running. */
export function countDueVerifications(redis: Redis, keys: KeyNames): Promise<number> {
  return redis.zcard(keys.verifyDue);
}

// KEYS[1] item. ARGV: count, metaPrefix, metaSuffix. Counts copies removed outside a verification.
export const COUNT_REMOVED_COPIES_SCRIPT: LedgerScript = {
  name: 'zohoAttachCountRemovedCopies',
  lua: `
local batch = redis.call('HGET', KEYS[1], 'batch')
if not batch then return 0 end
redis.call('HINCRBY', KEYS[1], 'copiesRemoved', ARGV[1])
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
