/**
 * A batch's accepted rows, by manifest line, in pages: one Redis string per 128 lines
 * (`<rows>:<line div 128>`), a MessagePack map of line-in-page to the stored row. A row then
 * costs its own bytes and a few more; as a field of one hash per batch it cost about 90 bytes
 * more (the hash table's entry and two allocations). Rows are written once at enqueue and read
 * a page at a time (the feeder takes them in line order, the report reads them all).
 *
 * A page keeps, for each column (see stored-row.ts), the prefix its rows share (`p`), and each
 * row keeps its job id (16 bytes for a `u-` id) and, per column, what follows that prefix. A
 * migration's rows mostly share their module, the start of their record ids, and a directory or
 * URL: a link row like `bench:scale`'s takes about 41 bytes of its page instead of 125 (49 B of
 * Redis's memory there, allocations included).
 *
 * Rows written by versions before this one are still read: pages without prefixes (a row as its
 * job id's bytes beside the rest of its JSON, or whole), and batches that keep their rows in
 * the hash `<rows>` (moved into pages when enqueue writes the line again).
 */
import type { ChainableCommander, Redis } from 'ioredis';
import type { KeyNames } from '../shared/key-names.js';
import { JOB_ID_LUA } from './item-store.js';
import { runScript, type LedgerScript } from './redis-script.js';

/** Lines per page. */
export const ROW_PAGE_LINES = 128;

/** The most columns a stored row has after its job id (five row fields and the pass-through columns). */
const ROW_COLUMNS_AFTER_ID = 6;

/**
 * Lua functions for scripts that read rows: `rowsGet(rowsKey, lines)` returns each line's
 * stored row (its JSON), or false, and, where the page gives it without parsing the JSON, the
 * row's job id.
 */
export const ROW_PAGES_LUA = `${JOB_ID_LUA}
local function rowPage(rowsKey, line) return rowsKey .. ':' .. math.floor(line / ${ROW_PAGE_LINES}) end
-- A row as a page keeps it: its stored job id (16 bytes, or '~'s before its JSON) and each column after
-- the page's prefix for it; or, as versions before wrote it, the job id's 16 bytes beside the rest of the
-- row's JSON, or the row whole.
local function unpackRow(kept, prefixes)
  if type(kept) ~= 'table' then return kept end
  if #kept == 2 then
    local jobId = unpackJobId(kept[1])
    return '["' .. jobId .. '",' .. kept[2], jobId
  end
  local id = kept[1]
  local jobJson = #id == 16 and ('"u-' .. bytesToHex(id) .. '"') or (string.gsub(id, '^~+', ''))
  local parts = { '[', jobJson }
  for column = 2, #kept do
    parts[#parts + 1] = ','
    parts[#parts + 1] = prefixes[column - 1]
    parts[#parts + 1] = kept[column]
  end
  parts[#parts + 1] = ']'
  -- The job id itself when it needs no unescaping (a u- id never does).
  return table.concat(parts), #id == 16 and string.sub(jobJson, 2, -2) or nil
end
local function rowsGet(rowsKey, lines)
  local pages, rows, jobIds, legacy = {}, {}, {}, nil
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
    if rows[i] then rows[i], jobIds[i] = unpackRow(rows[i], page.p) end
    if not rows[i] then
      -- A batch written by a version that kept its rows in one hash.
      if legacy == nil then legacy = redis.call('EXISTS', rowsKey) == 1 end
      if legacy then rows[i] = redis.call('HGET', rowsKey, line) end
    end
  end
  return rows, jobIds
end
`;

/**
 * The Lua function that writes rows, for the record script and the claim's (which records a chunk's
 * rows and claims their items in one step, see claim-rows.ts): `recordRowPages(rowsKey, meta,
 * packedRows)` takes rows as {@link packRows} packs them, in any order, writes them into their
 * pages, counts the lines new to the pages as accepted, and raises maxLine (two enqueues of one
 * batch may race).
 */
export const RECORD_ROWS_LUA = `${ROW_PAGES_LUA}
-- How many leading bytes a and b share: all of the shorter one's (one comparison), or found by halves.
local function sharedLength(a, b)
  local low, high = 0, math.min(#a, #b)
  if string.sub(a, 1, high) == string.sub(b, 1, high) then return high end
  high = high - 1
  while low < high do
    local middle = math.ceil((low + high) / 2)
    if string.sub(a, 1, middle) == string.sub(b, 1, middle) then low = middle else high = middle - 1 end
  end
  return low
end
-- Shortens a page's prefix of a column to its first keep bytes: the rest moves into each row's part.
local function shortenPrefix(page, column, keep)
  local moved = string.sub(page.p[column], keep + 1)
  for offset, kept in pairs(page) do
    if offset ~= 'p' and type(kept) == 'table' and #kept > 2 and kept[column + 1] ~= nil then
      kept[column + 1] = moved .. kept[column + 1]
    end
  end
  page.p[column] = string.sub(page.p[column], 1, keep)
end
-- Keeps a row (its line, its stored job id, then its columns, see packRows) in its page.
local function keepRow(page, row)
  if not page.p then page.p = {} end
  local prefixes = page.p
  local kept = { row[2] }
  for column = 1, #row - 2 do
    local value = row[column + 2]
    local prefix = prefixes[column]
    -- A page's first row gives the prefixes; a row that shares less shortens them. (Lua's strings are
    -- interned: comparing two is one pointer comparison, and find needs no copy.)
    if not prefix then
      prefixes[column] = value
      kept[column + 1] = ''
    elseif value == prefix then
      kept[column + 1] = ''
    else
      if string.find(value, prefix, 1, true) ~= 1 then
        shortenPrefix(page, column, sharedLength(prefix, value))
        prefix = prefixes[column]
      end
      kept[column + 1] = string.sub(value, #prefix + 1)
    end
  end
  return kept
end
local function recordRowPages(rowsKey, meta, packedRows)
  local pages, order, keys, added, maxLine = {}, {}, {}, 0, 0
  local legacy = redis.call('EXISTS', rowsKey) == 1
  for _, row in ipairs(cmsgpack.unpack(packedRows)) do
    local line = row[1]
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
      if legacy then redis.call('HDEL', rowsKey, line) end
      added = added + 1
    end
    -- Taken out first: a prefix shortened for this row need not be moved into the row it replaces.
    page[offset] = nil
    page[offset] = keepRow(page, row)
    if line > maxLine then maxLine = line end
  end
  for _, pageNumber in ipairs(order) do redis.call('SET', keys[pageNumber], cmsgpack.pack(pages[pageNumber])) end
  if added > 0 then redis.call('HINCRBY', meta, 'accepted', added) end
  if maxLine > tonumber(redis.call('HGET', meta, 'maxLine') or '0') then redis.call('HSET', meta, 'maxLine', maxLine) end
  return added
end
`;

// KEYS: rows, the batch's meta. ARGV[1]: the rows, as packRows packs them.
export const RECORD_ROWS_SCRIPT: LedgerScript = {
  name: 'zohoAttachRecordRows',
  lua: `${RECORD_ROWS_LUA}
return recordRowPages(KEYS[1], KEYS[2], ARGV[1])
`,
};

// KEYS[1] rows. ARGV: lines. Returns each line's stored row, or false.
const READ_ROWS_SCRIPT: LedgerScript = {
  name: 'zohoAttachReadRows',
  lua: `${ROW_PAGES_LUA}
-- The rows only (rowsGet also gives the job ids it knows).
local rows = rowsGet(KEYS[1], ARGV)
return rows
`,
};

/** Stores accepted rows (their columns) by line, on a MULTI or a connection that defined the script. */
export function recordRowPages(
  redis: Redis | ChainableCommander,
  keys: KeyNames,
  batch: string,
  rows: ReadonlyArray<{ line: number; columns: readonly string[] }>,
): Promise<number> {
  return runScript<number>(redis, RECORD_ROWS_SCRIPT, [keys.batchRows(batch), keys.batchMeta(batch)], [packRows(rows)]);
}

/**
 * Rows as the page scripts take them: one MessagePack array of rows, each an array of its line,
 * its job id as stored (a u- id as its 16 bytes: decoding hex costs Lua far more than Node; any
 * other id as its JSON after enough '~' to make it longer than 16 bytes) and its other columns.
 * One argument for a whole chunk: as 8 arguments a row, ioredis made a Buffer of each, and Node
 * spent a third more CPU on an enqueue. Strings only, no `bin` type: Redis's cmsgpack reads none.
 */
export function packRows(rows: ReadonlyArray<{ line: number; columns: readonly string[] }>): Buffer {
  // Room enough without measuring first: a row's header and line take 8 bytes, its job id's '~'s at
  // most 16, a string's header 5, a UTF-16 unit at most 3 bytes of UTF-8.
  let room = 5;
  for (const { columns } of rows) {
    room += 8 + 16;
    for (const column of columns) room += 5 + 3 * column.length;
  }
  const out = Buffer.allocUnsafe(room);
  let at = writeArrayHeader(out, 0, rows.length);
  for (const { line, columns } of rows) {
    const [jobId = '', ...rest] = columns;
    if (rest.length > ROW_COLUMNS_AFTER_ID)
      throw new Error(`a stored row has at most ${ROW_COLUMNS_AFTER_ID + 1} columns`);
    at = writeArrayHeader(out, at, 2 + rest.length);
    out[at] = 0xce; // uint32: the line
    out.writeUInt32BE(line, at + 1);
    at += 5;
    at = /^"u-[0-9a-f]{32}"$/.test(jobId)
      ? writeStr(out, at, Buffer.from(jobId.slice(3, 35), 'hex'))
      : writeStr(out, at, '~'.repeat(Math.max(1, 17 - jobId.length)) + jobId);
    for (const column of rest) at = writeStr(out, at, column);
  }
  return out.subarray(0, at);
}

function writeArrayHeader(out: Buffer, at: number, length: number): number {
  if (length < 16) {
    out[at] = 0x90 | length;
    return at + 1;
  }
  if (length < 65536) {
    out[at] = 0xdc;
    out.writeUInt16BE(length, at + 1);
    return at + 3;
  }
  out[at] = 0xdd;
  out.writeUInt32BE(length, at + 1);
  return at + 5;
}
function writeStr(out: Buffer, at: number, value: Buffer | string): number {
  const bytes = typeof value === 'string' ? Buffer.byteLength(value) : value.length;
  if (bytes < 32) out[at++] = 0xa0 | bytes;
  else if (bytes < 256) {
    out[at++] = 0xd9;
    out[at++] = bytes;
  } else if (bytes < 65536) {
    out[at++] = 0xda;
    out.writeUInt16BE(bytes, at);
    at += 2;
  } else {
    out[at++] = 0xdb;
    out.writeUInt32BE(bytes, at);
    at += 4;
  }
  if (typeof value === 'string') out.write(value, at, 'utf8');
  else value.copy(out, at);
  return at + bytes;
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
