/**
 * A batch's accepted rows, by manifest line, in pages: one Redis string per 128 lines
 * (`<rows>:<line div 128>`), a MessagePack map of line-in-page to the stored row (its job id
 * as 16 bytes). A row then
 * costs its own bytes and a few more; as a field of one hash per batch it cost about 90 bytes
 * more (the hash table's entry and two allocations). Rows are written once at enqueue and read
 * a page at a time (the feeder takes them in line order, the report reads them all).
 *
 * Batches written by versions before this one keep their rows in the hash `<rows>`: still read,
 * and moved into pages when enqueue writes the line again.
 */
import type { ChainableCommander, Redis } from 'ioredis';
import type { KeyNames } from '../shared/key-names.js';
import { JOB_ID_LUA } from './item-store.js';
import { runScript, type LedgerScript } from './redis-script.js';

/** Lines per page. */
export const ROW_PAGE_LINES = 128;

/**
 * Lua functions for scripts that read rows: `rowsGet(rowsKey, lines)` returns each line's
 * stored row, or false.
 */
export const ROW_PAGES_LUA = `${JOB_ID_LUA}
local function rowPage(rowsKey, line) return rowsKey .. ':' .. math.floor(line / ${ROW_PAGE_LINES}) end
-- A stored row (JSON, its job id first, see stored-row.ts) is kept in a page as its job id's 16 bytes
-- beside the rest of the row (the caller splits it: see splitJobId), or, for a job id of another form, whole.
local function unpackRow(kept)
  if type(kept) == 'table' then return '["' .. unpackJobId(kept[1]) .. '",' .. kept[2] end
  return kept
end
local function rowsGet(rowsKey, lines)
  local pages, rows, legacy = {}, {}, nil
  for i, line in ipairs(lines) do
    local n = tonumber(line)
    local key = rowPage(rowsKey, n)
    local page = pages[key]
    if page == nil then
      local raw = redis.call('GET', key)
      page = raw and cmsgpack.unpack(raw) or false
      pages[key] = page
    end
    rows[i] = page and page[n % ${ROW_PAGE_LINES}] or false
    if rows[i] then rows[i] = unpackRow(rows[i]) end
    if not rows[i] then
      -- A batch written by a version that kept its rows in one hash.
      if legacy == nil then legacy = redis.call('EXISTS', rowsKey) == 1 end
      if legacy then rows[i] = redis.call('HGET', rowsKey, line) end
    end
  end
  return rows
end
`;

/**
 * The Lua function that writes rows, for the record script and the claim's (which records a chunk's
 * rows and claims their items in one step, see claim-rows.ts): `recordRowPages(rowsKey, meta, args,
 * first, last)` takes line, row pairs from `args[first..last]`, in any order, writes them into their
 * pages, counts the lines new to the pages as accepted, and raises maxLine (two enqueues of one
 * batch may race).
 */
export const RECORD_ROWS_LUA = `${ROW_PAGES_LUA}
local function recordRowPages(rowsKey, meta, args, first, last)
  -- args: line, job id bytes ('' when the row is whole), row: three each.
  local pages, order, keys, added, maxLine = {}, {}, {}, 0, 0
  local legacy = redis.call('EXISTS', rowsKey) == 1
  for i = first, last, 3 do
    local line = tonumber(args[i])
    local pageNumber = math.floor(line / ${ROW_PAGE_LINES})
    local page = pages[pageNumber]
    if not page then
      keys[pageNumber] = rowsKey .. ':' .. pageNumber
      local raw = redis.call('GET', keys[pageNumber])
      page = raw and cmsgpack.unpack(raw) or {}
      pages[pageNumber] = page
      order[#order + 1] = pageNumber
    end
    local offset = line % ${ROW_PAGE_LINES}
    if page[offset] == nil then
      -- New to the pages: counted here. A line an older version stored in the hash (counted there) moves.
      if legacy then redis.call('HDEL', rowsKey, args[i]) end
      added = added + 1
    end
    if args[i + 1] == '' then page[offset] = args[i + 2] else page[offset] = { args[i + 1], args[i + 2] } end
    if line > maxLine then maxLine = line end
  end
  for _, pageNumber in ipairs(order) do redis.call('SET', keys[pageNumber], cmsgpack.pack(pages[pageNumber])) end
  if added > 0 then redis.call('HINCRBY', meta, 'accepted', added) end
  if maxLine > tonumber(redis.call('HGET', meta, 'maxLine') or '0') then redis.call('HSET', meta, 'maxLine', maxLine) end
  return added
end
`;

// KEYS: rows, the batch's meta. ARGV: line, job id bytes, row triples (see recordRowPages, rowPageArgs).
export const RECORD_ROWS_SCRIPT: LedgerScript = {
  name: 'zohoAttachRecordRows',
  lua: `${RECORD_ROWS_LUA}
return recordRowPages(KEYS[1], KEYS[2], ARGV, 1, #ARGV)
`,
};

// KEYS[1] rows. ARGV: lines. Returns each line's stored row, or false.
const READ_ROWS_SCRIPT: LedgerScript = {
  name: 'zohoAttachReadRows',
  lua: `${ROW_PAGES_LUA}
return rowsGet(KEYS[1], ARGV)
`,
};

/** Stores accepted rows (encoded) by line, on a MULTI or a connection that defined the script. */
export function recordRowPages(
  redis: Redis | ChainableCommander,
  keys: KeyNames,
  batch: string,
  rows: ReadonlyArray<{ line: number; encoded: string }>,
): Promise<number> {
  return runScript<number>(
    redis,
    RECORD_ROWS_SCRIPT,
    [keys.batchRows(batch), keys.batchMeta(batch)],
    rows.flatMap((r) => rowPageArgs(r.line, r.encoded)),
  );
}

/**
 * A row as the page scripts take it: its line, its u- job id as 16 bytes and the rest of its JSON
 * (decoding hex costs Lua far more than Node), or, for a job id of another form, '' and the row whole.
 */
export function rowPageArgs(line: number, encoded: string): [number, Buffer | '', string] {
  return /^\["u-[0-9a-f]{32}",/.test(encoded)
    ? [line, Buffer.from(encoded.slice(4, 36), 'hex'), encoded.slice(38)]
    : [line, '', encoded];
}

/** The stored rows of `lines` (undefined where a line has none), in one round trip. */
export async function readRowPages(
  redis: Redis,
  keys: KeyNames,
  batch: string,
  lines: readonly number[],
): Promise<Array<string | undefined>> {
  if (lines.length === 0) return [];
  const rows = await runScript<Array<string | null>>(redis, READ_ROWS_SCRIPT, [keys.batchRows(batch)], [...lines]);
  return rows.map((row) => row ?? undefined);
}

/** The keys of a batch's row pages, for a batch whose highest line is `maxLine`. */
export function rowPageKeys(keys: KeyNames, batch: string, maxLine: number): string[] {
  const pages: string[] = [];
  for (let page = 0; page <= Math.floor(maxLine / ROW_PAGE_LINES); page++)
    pages.push(`${keys.batchRows(batch)}:${page}`);
  return pages;
}
