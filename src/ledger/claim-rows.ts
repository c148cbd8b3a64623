/**
 * Enqueue's decision per row, in one script call per chunk: create, leave alone, or queue
 * again. A created row's line goes into its batch's backlog in the same step (a feeder turns it
 * into a job, see backlog.ts). A row queued again keeps its "may already be stored" mark and its attempt window,
 * unless it is a deliberate re-upload, and gets a requeue intent in the same step, so that an
 * enqueue killed before it replaced the old job leaves a trace that the next run finishes.
 */
import type { ChainableCommander, Redis } from 'ioredis';
import type { KeyNames } from '../shared/key-names.js';
import { ITEM_STORE_LUA, itemFieldOf } from './item-store.js';
import { packRows, RECORD_ROWS_LUA } from './row-pages.js';
import { runScript, type LedgerScript } from './redis-script.js';
import type { ClaimMode, ClaimOutcome } from './types.js';

// KEYS: the items of one chunk. ARGV: batch, mode, now, metaPrefix, metaSuffix, intentsKey, itemPrefix,
// backlog (the batch's), backlogBatches, jobPrefix (BullMQ's key of a job, without its id), rowsKey (the
// batch's, or '' when the rows are recorded already), then one manifest line per item, then each item's field
// (itemFieldOf), then, with rowsKey, the items' stored rows as packRows packs them: recorded first, in the
// same step. Returns one outcome per item.
export const CLAIM_ROWS_SCRIPT: LedgerScript = {
  name: 'zohoAttachClaimRows',
  lua: `${ITEM_STORE_LUA}${RECORD_ROWS_LUA}
local batch, mode, now, metaPrefix, metaSuffix, intents, itemPrefix = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local backlog, backlogBatches, jobPrefix, rowsKey = ARGV[8], ARGV[9], ARGV[10], ARGV[11]
local LINES = 11
local FIELDS = LINES + #KEYS
for i, item in ipairs(KEYS) do
  if ARGV[FIELDS + i] ~= '' then itemFieldSeeds[item] = ARGV[FIELDS + i] end
end
if rowsKey ~= '' then
  -- The rows first: a feeder builds each job from its stored row, so no row is claimed without one.
  recordRowPages(rowsKey, metaPrefix .. batch .. metaSuffix, ARGV[FIELDS + #KEYS + 1])
end
local outcomes = {}
local owned = 0
local NEW_ITEM = #KEYS > 0 and itemPack({ status = 'pending', batch = batch, createdAt = now }, select(3, itemPlace(KEYS[1])))
-- Lines for the backlog: written in this same step, so no row is ever claimed without a way to its job.
local waiting = {}
for i, item in ipairs(KEYS) do
  local jobId = string.sub(item, #itemPrefix + 1)
  local status = itemGet(item, 'status')
  local requeue = false
  local freshWindow = false
  if not status then
    -- No attempts (0 when absent) and no updatedAt (createdAt until it changes): a waiting row costs bytes.
    itemCreate(item, { status = 'pending', batch = batch, createdAt = now }, NEW_ITEM)
    owned = owned + 1
    outcomes[i] = 'created'
    waiting[#waiting + 1] = ARGV[LINES + i]
  elseif status == 'pending' then
    -- An intent left by a requeue that did not finish: this run finishes it.
    if redis.call('HEXISTS', intents, jobId) == 1 then
      outcomes[i] = 'requeued'
    else
      outcomes[i] = 'queued'
      -- Fed, yet its job is gone (removed by hand, lost with a failed-over primary): back to a backlog.
      if itemExists(item, 'fedAt') == 1 and redis.call('EXISTS', jobPrefix .. jobId) == 0 then
        itemDel(item, 'fedAt')
        waiting[#waiting + 1] = ARGV[LINES + i]
      end
    end
  elseif status == 'dead' then
    if mode ~= 'normal' or itemExists(item, 'purgedAt') == 1 then requeue = true else outcomes[i] = 'dead' end
  elseif status == 'uploaded' then
    if mode == 'reupload' then requeue = true; freshWindow = true else outcomes[i] = 'uploaded' end
  elseif status == 'undone' then
    -- Its attachment was deleted by undo: enqueueing it again means uploading it again.
    requeue = true; freshWindow = true
  else
    outcomes[i] = status
  end
  if requeue then
    local oldMeta = metaPrefix .. itemGet(item, 'batch') .. metaSuffix
    redis.call('HINCRBY', oldMeta, 'owned', -1)
    redis.call('HINCRBY', oldMeta, status, -1)
    itemDel(item, 'errorCode', 'errorMessage', 'errorHttpStatus', 'errorDetails', 'postingBy', 'postingAt', 'purgedAt', 'verifyError')
    if freshWindow then
      -- A deliberate second copy: the first one stays, so nothing of the old window may be adopted or removed.
      itemDel(item, 'attachmentId', 'how', 'uploadedAt', 'sha256', 'bytes', 'pendingSince', 'firstAttemptAt', 'sentName', 'sentBytes', 'sentSha256s', 'undoneAttachmentId', 'undoneAt')
    end
    -- A dead row keeps pendingSince (the "may already be stored" mark) and firstAttemptAt: an earlier
    -- attempt may have stored a copy that the next attempt must find before it posts.
    itemSet(item, 'status', 'pending', 'batch', batch, 'attempts', 0, 'updatedAt', now)
    redis.call('HSET', intents, jobId, batch .. '\\n' .. (ARGV[LINES + i] or '0') .. '\\n' .. now)
    owned = owned + 1
    outcomes[i] = 'requeued'
  end
end
if owned > 0 then redis.call('HINCRBY', metaPrefix .. batch .. metaSuffix, 'owned', owned) end
for first = 1, #waiting, 1000 do
  redis.call('RPUSH', backlog, unpack(waiting, first, math.min(first + 999, #waiting)))
end
if #waiting > 0 then redis.call('ZADD', backlogBatches, 'NX', now, batch) end
return outcomes
`,
};

/** Runs the claim for one chunk of rows (see {@link ClaimOutcome}). */
export function claimRows(
  redis: Redis | ChainableCommander,
  keys: KeyNames,
  batch: string,
  rows: ReadonlyArray<{ jobId: string; line: number; columns?: readonly string[] | undefined }>,
  mode: ClaimMode,
  now: number,
): Promise<ClaimOutcome[]> {
  // Either every row comes with its stored row (recorded in the same step) or none does.
  const withRows = rows.every((r) => r.columns !== undefined);
  const [metaPrefix, metaSuffix] = splitAround(keys.batchMeta);
  const [itemPrefix] = splitAround(keys.ledgerItem);
  return runScript<ClaimOutcome[]>(
    redis,
    CLAIM_ROWS_SCRIPT,
    rows.map((r) => keys.ledgerItem(r.jobId)),
    [
      batch,
      mode,
      now,
      metaPrefix,
      metaSuffix,
      keys.requeueIntents,
      itemPrefix,
      keys.batchBacklog(batch),
      keys.backlogBatches,
      keys.jobPrefix,
      withRows ? keys.batchRows(batch) : '',
      ...rows.map((r) => r.line),
      ...rows.map((r) => itemFieldOf(r.jobId)),
      ...(withRows ? [packRows(rows as ReadonlyArray<{ line: number; columns: readonly string[] }>)] : []),
    ],
  );
}

/** The fixed parts of a key builder around its one variable part, for scripts that build keys themselves. */
export function splitAround(build: (part: string) => string): [string, string] {
  return build('\u0000').split('\u0000') as [string, string];
}
