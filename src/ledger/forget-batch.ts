/**
 * Forgetting an archived batch: the rows it owns (their items, the attachments they claimed,
 * any due verification or requeue intent) and the batch's own keys. A row another batch owns
 * stays: that batch still counts on it.
 */
import type { Redis } from 'ioredis';
import type { KeyNames } from '../shared/key-names.js';
import { ITEM_STORE_LUA } from './item-store.js';
import { defineScript, runScript, type LedgerScript } from './redis-script.js';

// KEYS: item, owners, verifyDue, intents. ARGV: batch, jobId. Returns 1 when the item was this batch's and is gone.
const FORGET_ITEM_SCRIPT: LedgerScript = {
  name: 'zohoAttachForgetItem',
  lua: `${ITEM_STORE_LUA}
local item, owners, verifyDue, intents = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
if itemGet(item, 'batch') ~= ARGV[1] then return 0 end
local attachmentId = itemGet(item, 'attachmentId')
if attachmentId and ownerGet(owners, attachmentId) == ARGV[2] then ownerDel(owners, attachmentId) end
redis.call('ZREM', verifyDue, ARGV[2])
redis.call('HDEL', intents, ARGV[2])
itemRemove(item)
return 1
`,
};

/** Forgets the rows `jobIds` that `batch` owns, in one round trip; returns how many it owned. */
export async function forgetItems(
  redis: Redis,
  keys: KeyNames,
  batch: string,
  jobIds: readonly string[],
): Promise<number> {
  if (jobIds.length === 0) return 0;
  // A pipeline cannot define a script: the connection must know it before the pipeline is made.
  if (!(FORGET_ITEM_SCRIPT.name in redis)) defineScript(redis, FORGET_ITEM_SCRIPT);
  const pipeline = redis.pipeline();
  for (const jobId of jobIds)
    void runScript(
      pipeline,
      FORGET_ITEM_SCRIPT,
      [keys.ledgerItem(jobId), keys.attachmentOwners, keys.verifyDue, keys.requeueIntents],
      [batch, jobId],
    );
  let forgotten = 0;
  for (const [error, result] of (await pipeline.exec()) ?? []) {
    if (error) throw error;
    forgotten += Number(result);
  }
  return forgotten;
}
