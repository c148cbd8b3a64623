/**
 * The backlog: rows that wait for a job. Enqueue writes each row once (its batch row, its item,
 * and its line at the end of the batch's backlog list, see claim-rows.ts); only a window of them
 * are real BullMQ jobs at a time, so a million waiting rows cost a few bytes each in the list
 * instead of a job hash each.
 *
 * Feeding, by any worker, without a leader:
 * 1. {@link takeFromBacklog} (one script) puts back what a dead feeder left half fed, counts the
 *    jobs that are ready or running, and takes that many fewer than the window from the oldest
 *    batches' backlogs, passing over batches whose credit budget is spent (queue/credit-budget.ts). Each row it takes is noted in `feeding` and marked `fedAt` on its item.
 * 2. The feeder adds the jobs, with the rows' deterministic ids: adding one that exists is a no-op,
 *    and a job whose row is uploaded already ends without a call to Zoho, so feeding twice is harmless.
 * 3. {@link finishFeeding} takes the rows off `feeding`. A feeder killed before this leaves them
 *    there; after `staleMs` the next take puts them back at the head of their backlog.
 */
import type { Redis } from 'ioredis';
import type { KeyNames } from '../shared/key-names.js';
import { splitAround } from './claim-rows.js';
import { ITEM_STORE_LUA } from './item-store.js';
import { ROW_PAGES_LUA } from './row-pages.js';
import { runScript, type LedgerScript } from './redis-script.js';
import { decodeStoredRow } from './stored-row.js';
import type { StoredRow } from './types.js';

// KEYS: backlogBatches, feeding, heldBatches. ARGV: window, now, staleBefore, backlog prefix and suffix, rows prefix
// and suffix, item prefix, job prefix. Returns the jobs counted, then batch, line, row for each row taken.
const TAKE_FROM_BACKLOG_SCRIPT: LedgerScript = {
  name: 'zohoAttachTakeFromBacklog',
  lua: `${ITEM_STORE_LUA}${ROW_PAGES_LUA}
local backlogBatches, feeding, held = KEYS[1], KEYS[2], KEYS[3]
local window, now, staleBefore = tonumber(ARGV[1]), ARGV[2], ARGV[3]
local backlogPrefix, backlogSuffix, rowsPrefix, rowsSuffix, itemPrefix, jobPrefix = ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9]

for _, entry in ipairs(redis.call('ZRANGEBYSCORE', feeding, '-inf', staleBefore, 'LIMIT', 0, 1000)) do
  local cut = string.find(entry, '\\n', 1, true)
  local batch = string.sub(entry, 1, cut - 1)
  redis.call('LPUSH', backlogPrefix .. batch .. backlogSuffix, string.sub(entry, cut + 1))
  redis.call('ZADD', backlogBatches, 'NX', now, batch)
  redis.call('ZREM', feeding, entry)
end

-- Jobs that will run without anyone's help: those waiting (or held by a pause) and those running,
-- and the rows other feeders are adding now. Delayed jobs (a retry's backoff, a verification) do
-- not count: they would keep the window empty.
local live = redis.call('LLEN', jobPrefix .. 'wait') + redis.call('LLEN', jobPrefix .. 'paused')
  + redis.call('LLEN', jobPrefix .. 'active') + redis.call('ZCARD', jobPrefix .. 'prioritized')
  + redis.call('ZCARD', feeding)
local taken = { live }
local want = window - live
-- Oldest batch first; a batch whose credit budget is spent (held) keeps its rows for later.
local batches = redis.call('ZRANGE', backlogBatches, 0, -1)
local next = 1
while want > 0 and next <= #batches do
  local batch = batches[next]
  local backlog = backlogPrefix .. batch .. backlogSuffix
  local lines = false
  if redis.call('HEXISTS', held, batch) == 1 then next = next + 1 else lines = redis.call('LPOP', backlog, want) end
  if lines then
    local rows, jobIds = rowsGet(rowsPrefix .. batch .. rowsSuffix, lines)
    for i, line in ipairs(lines) do
      local row = rows[i]
      -- A row another path settled meanwhile (uploaded, dead, its batch archived) needs no job.
      if row then
        -- The job id is a stored row's first element (an object's jobId in rows older versions wrote).
        local jobId = jobIds[i]
        if not jobId then
          local decoded = cjson.decode(row)
          jobId = decoded[1] or decoded.jobId
        end
        local item = itemPrefix .. jobId
        if itemGet(item, 'status') == 'pending' then
          itemSet(item, 'fedAt', now)
          redis.call('ZADD', feeding, now, batch .. '\\n' .. line)
          taken[#taken + 1] = batch
          taken[#taken + 1] = line
          taken[#taken + 1] = row
          want = want - 1
        end
      end
    end
  end
  if redis.call('LLEN', backlog) == 0 then
    redis.call('ZREM', backlogBatches, batch)
    if batches[next] == batch then next = next + 1 end
  end
end
return taken
`,
};

/** A row a feeder took from a backlog: its job is to be added. */
export interface TakenRow {
  batch: string;
  line: number;
  row: StoredRow;
}

/** What {@link takeFromBacklog} found and took. */
export interface BacklogTake {
  /** Jobs that were waiting or running before this take, and rows other feeders were adding. */
  live: number;
  rows: TakenRow[];
}

/**
 * Takes up to `window` minus the live jobs' count of rows from the backlogs, oldest batch first
 * (see the module's comment); rows taken more than `staleMs` ago and never finished go back first.
 */
export async function takeFromBacklog(
  redis: Redis,
  keys: KeyNames,
  options: { window: number; staleMs: number },
  now: number,
): Promise<BacklogTake> {
  const [backlogPrefix, backlogSuffix] = splitAround(keys.batchBacklog);
  const [rowsPrefix, rowsSuffix] = splitAround(keys.batchRows);
  const [itemPrefix] = splitAround(keys.ledgerItem);
  const result = await runScript<Array<string | number>>(
    redis,
    TAKE_FROM_BACKLOG_SCRIPT,
    [keys.backlogBatches, keys.feeding, keys.heldBatches],
    [
      options.window,
      now,
      now - options.staleMs,
      backlogPrefix,
      backlogSuffix,
      rowsPrefix,
      rowsSuffix,
      itemPrefix,
      keys.jobPrefix,
    ],
  );
  const rows: TakenRow[] = [];
  for (let i = 1; i + 2 < result.length; i += 3) {
    rows.push({
      batch: String(result[i]),
      line: Number(result[i + 1]),
      row: decodeStoredRow(String(result[i + 2])),
    });
  }
  return { live: Number(result[0]), rows };
}

/** Takes rows whose jobs are added off the `feeding` list. */
export async function finishFeeding(redis: Redis, keys: KeyNames, rows: readonly TakenRow[]): Promise<void> {
  if (rows.length === 0) return;
  await redis.zrem(keys.feeding, ...rows.map((r) => `${r.batch}\n${r.line}`));
}

/** Rows that wait in backlogs or are being fed, all batches together. */
export async function backlogCount(redis: Redis, keys: KeyNames): Promise<number> {
  const [batches, feeding] = await Promise.all([redis.zrange(keys.backlogBatches, 0, -1), redis.zcard(keys.feeding)]);
  if (batches.length === 0) return feeding;
  const pipeline = redis.pipeline();
  for (const batch of batches) pipeline.llen(keys.batchBacklog(batch));
  let total = feeding;
  for (const [error, length] of (await pipeline.exec()) ?? []) {
    if (error) throw error;
    total += Number(length);
  }
  return total;
}
