/**
 * A batch's accepted rows, by manifest line, in pages: one Redis string per 128 lines
 * (`<rows>:<line div 128>`), a MessagePack map of line-in-page to the stored row. A row then
 * costs its own bytes and a few more; as a field of one hash per batch it cost about 90 bytes
 * more (the hash table's entry and two allocations). Rows are written once at enqueue and read
 * a page at a time (the feeder takes them in line order, the report reads them all).
 *
 * Batches written by versions before this one keep their rows in the hash `<rows>`: still read,
 * and moved into pages when enqueue writes the line again.
 */
import type { ChainableCommander, Redis } from 'ioredis';
import type { KeyNames } from '../shared/key-names.js';
import { runScript, type LedgerScript } from './redis-script.js';

/** Lines per page. */
export const ROW_PAGE_LINES = 128;

/**
 * Lua functions for scripts that read rows: `rowsGet(rowsKey, lines)` returns each line's
 * stored row, or false.
 */
export const ROW_PAGES_LUA = `
local function rowPage(rowsKey, line) return rowsKey .. ':' .. math.floor(line / ${ROW_PAGE_LINES}) end
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
    if not rows[i] then
      -- A batch written by a version that kept its rows in one hash.
      if legacy == nil then legacy = redis.call('EXISTS', rowsKey) == 1 end
      if legacy then rows[i] = redis.call('HGET', rowsKey, line) end
    end
  end
  return rows
end
`;

// KEYS: rows, the batch's meta. ARGV: line, row pairs, in any order. Writes the rows into their pages,
// counts the lines new to the pages as accepted, and raises maxLine (two enqueues of one batch may race).
const RECORD_ROWS_SCRIPT: LedgerScript = {
  name: 'zohoAttachRecordRows',
  lua: `${ROW_PAGES_LUA}
local rowsKey, meta = KEYS[1], KEYS[2]
local pages, order, added, maxLine = {}, {}, 0, 0
local legacy = redis.call('EXISTS', rowsKey) == 1
for i = 1, #ARGV, 2 do
  local line = tonumber(ARGV[i])
  local key = rowPage(rowsKey, line)
  if not pages[key] then
    local raw = redis.call('GET', key)
    pages[key] = raw and cmsgpack.unpack(raw) or {}
    order[#order + 1] = key
  end
  local offset = line % ${ROW_PAGE_LINES}
  if pages[key][offset] == nil then
    -- New to the pages: counted here. A line an older version stored in the hash (counted there) moves.
    if legacy then redis.call('HDEL', rowsKey, ARGV[i]) end
    added = added + 1
  end
  pages[key][offset] = ARGV[i + 1]
  if line > maxLine then maxLine = line end
end
for _, key in ipairs(order) do redis.call('SET', key, cmsgpack.pack(pages[key])) end
if added > 0 then redis.call('HINCRBY', meta, 'accepted', added) end
if maxLine > tonumber(redis.call('HGET', meta, 'maxLine') or '0') then redis.call('HSET', meta, 'maxLine', maxLine) end
return added
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
    rows.flatMap((r) => [r.line, r.encoded]),
  );
}

/** Defines the row scripts on a connection, so that its MULTIs can run them. */
export function defineRowPageScripts(redis: Redis): void {
  redis.defineCommand(RECORD_ROWS_SCRIPT.name, { lua: RECORD_ROWS_SCRIPT.lua });
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
