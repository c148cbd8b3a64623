/** A row's final failure, and its error; an uploaded row is never marked dead. */
import type { Redis } from 'ioredis';
import type { KeyNames } from '../shared/key-names.js';
import { splitAround } from './claim-rows.js';
import { RECORD_PROGRESS_LUA } from './progress-samples.js';
import { ITEM_STORE_LUA } from './item-store.js';
import { runScript, type LedgerScript } from './redis-script.js';
import type { LedgerError } from './types.js';

// KEYS[1] item. ARGV: code, message, httpStatus, detailsJson, attempts, now, metaPrefix, metaSuffix, progressSuffix.
// pendingSince stays: a dead row revived later must still look before it posts.
export const MARK_DEAD_SCRIPT: LedgerScript = {
  name: 'zohoAttachMarkDead',
  lua: `${ITEM_STORE_LUA}${RECORD_PROGRESS_LUA}
local item = KEYS[1]
local status = itemGet(item, 'status')
if status == 'uploaded' or not status then return 0 end
itemSet(item, 'errorCode', ARGV[1], 'errorMessage', ARGV[2], 'errorHttpStatus', ARGV[3], 'errorDetails', ARGV[4], 'attempts', ARGV[5], 'updatedAt', ARGV[6])
if status == 'dead' then return 0 end
itemSet(item, 'status', 'dead')
local batch = itemGet(item, 'batch')
redis.call('HINCRBY', ARGV[7] .. batch .. ARGV[8], 'dead', 1)
recordProgress(ARGV[7] .. batch .. ARGV[8], ARGV[7] .. batch .. ARGV[9], tonumber(ARGV[6]))
return 1
`,
};

/** The error fields of an item. */
export function errorFields(error: LedgerError, now: number) {
  return {
    errorCode: error.code,
    errorMessage: error.message,
    errorHttpStatus: error.httpStatus === undefined ? '' : String(error.httpStatus),
    errorDetails: error.details === undefined ? '' : JSON.stringify(error.details),
    attempts: String(error.attempt),
    updatedAt: String(now),
  };
}

/** Marks a row dead with its error; returns false when it was dead already or is uploaded. */
export async function markDead(
  redis: Redis,
  keys: KeyNames,
  jobId: string,
  error: LedgerError,
  now: number,
): Promise<boolean> {
  const [metaPrefix, metaSuffix] = splitAround(keys.batchMeta);
  const fields = errorFields(error, now);
  const changed = await runScript<number>(
    redis,
    MARK_DEAD_SCRIPT,
    [keys.ledgerItem(jobId)],
    [
      fields.errorCode,
      fields.errorMessage,
      fields.errorHttpStatus,
      fields.errorDetails,
      fields.attempts,
      now,
      metaPrefix,
      metaSuffix,
      splitAround(keys.batchProgress)[1],
    ],
  );
  return changed === 1;
}
