/**
 * Queueing a dead row again (`dlq retry`), marking a purged dead letter, and the requeue
 * intents that make both crash-safe. A revived row keeps its "may already be stored" mark
 * (`pendingSince`) and its attempt window: an earlier attempt may have stored a copy, so the
 * next attempt lists the record before it posts.
 */
import type { Redis } from 'ioredis';
import type { KeyNames } from '../shared/key-names.js';
import { splitAround } from './claim-rows.js';
import { ITEM_STORE_LUA } from './item-store.js';
import { runScript, type LedgerScript } from './redis-script.js';
import type { RequeueIntent } from './types.js';

// KEYS: item, intents. ARGV: now, metaPrefix, metaSuffix, jobId, batchFallback, line.
// Moves a dead row back to pending and records the intent to re-run its job, in one step.
export const REVIVE_DEAD_SCRIPT: LedgerScript = {
  name: 'zohoAttachReviveDead',
  lua: `${ITEM_STORE_LUA}
local item, intents = KEYS[1], KEYS[2]
if itemGet(item, 'status') ~= 'dead' then return 0 end
local batch = itemGet(item, 'batch') or ARGV[5]
itemSet(item, 'status', 'pending', 'attempts', 0, 'updatedAt', ARGV[1])
itemDel(item, 'postingBy', 'postingAt', 'purgedAt')
redis.call('HINCRBY', ARGV[2] .. batch .. ARGV[3], 'dead', -1)
redis.call('HSET', intents, ARGV[4], batch .. '\\n' .. ARGV[6] .. '\\n' .. ARGV[1])
return 1
`,
};

// KEYS[1] item. ARGV: now. Notes that an operator purged the dead letter (the row stays dead).
export const MARK_PURGED_SCRIPT: LedgerScript = {
  name: 'zohoAttachMarkPurged',
  lua: `${ITEM_STORE_LUA}
if itemGet(KEYS[1], 'status') ~= 'dead' then return 0 end
itemSet(KEYS[1], 'purgedAt', ARGV[1])
return 1
`,
};

/** Moves a dead row back to pending with a requeue intent; false when it was not dead. */
export async function reviveDead(
  redis: Redis,
  keys: KeyNames,
  jobId: string,
  row: { batch: string; line: number },
  now: number,
): Promise<boolean> {
  const [metaPrefix, metaSuffix] = splitAround(keys.batchMeta);
  const revived = await runScript<number>(
    redis,
    REVIVE_DEAD_SCRIPT,
    [keys.ledgerItem(jobId), keys.requeueIntents],
    [now, metaPrefix, metaSuffix, jobId, row.batch, row.line],
  );
  return revived === 1;
}

/** Marks a dead row purged, so that a plain `enqueue` of its manifest queues it again. */
export async function markPurged(redis: Redis, keys: KeyNames, jobId: string, now: number): Promise<boolean> {
  return (await runScript<number>(redis, MARK_PURGED_SCRIPT, [keys.ledgerItem(jobId)], [now])) === 1;
}

/** Every requeue intent not yet finished. */
export async function listRequeueIntents(redis: Redis, keys: KeyNames): Promise<RequeueIntent[]> {
  const raw = await redis.hgetall(keys.requeueIntents);
  return Object.entries(raw).map(([jobId, value]) => {
    const [batch = '', line = '0', at = '0'] = value.split('\n');
    return { jobId, batch, line: Number(line), at: Number(at) };
  });
}

/** Forgets finished requeue intents. */
export async function clearRequeueIntents(redis: Redis, keys: KeyNames, jobIds: string[]): Promise<void> {
  if (jobIds.length > 0) await redis.hdel(keys.requeueIntents, ...jobIds);
}
