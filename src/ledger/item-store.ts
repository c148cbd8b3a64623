/**
 * Where items and attachment owners live in Redis, packed many to a hash so that a row does not
 * cost a Redis key of its own (about 100 bytes before it holds anything).
 *
 * - An item is a field of a bucket hash: `<prefix>:ledger:items:<last 4 characters of the job
 *   id>` (65,536 buckets), its field the rest of the job id (a `u-<32 hex>` id as 14 bytes), its
 *   value a MessagePack array of the item's values in a fixed order ({@link ITEM_FIELDS}): no
 *   field names, statuses and batches as small numbers (`<ledger>:batch-ids`, `batch-names`),
 *   numbers as numbers, times as their distance from the row's creation, a sha256 as 32 bytes,
 *   a long attachment id as packed decimal, absent values as one byte, none at the end. Buckets
 *   of waiting rows stay in Redis's compact `listpack` encoding (up to 8 million rows at the
 *   default `hash-max-listpack-entries 128`), and so do those of rows in flight and of finished
 *   link rows (about 33 bytes); a finished file row's value (about 72 bytes, with its sha256) does
 *   not, and Redis never turns its bucket back.
 * - An attachment's owner is a field of `<owners>:<last 5 digits of the attachment id>`
 *   (100,000 buckets): the attachment id, and the owning job id as 16 bytes.
 *
 * Scripts still name an item by its address, `keys.ledgerItem(jobId)` (it carries the queue's
 * hash tag, so a script's keys stay in one cluster slot), and use the functions of
 * {@link ITEM_STORE_LUA} instead of hash commands. Items and owners written by versions before
 * this one (a hash per item, one owners hash) are still read, and moved here when next written;
 * a ledger begun with this layout (`ledgerLayout`) never looks for them.
 */
import type { ChainableCommander, Redis } from 'ioredis';
import type { KeyNames } from '../shared/key-names.js';
import { runScript, type LedgerScript } from './redis-script.js';

/**
 * An item's values, in the order they are packed: the ones every row has first (a packed item
 * ends at its last present value), then an upload's (a finished row has no gap), then the
 * rarer ones. Append only: the position is the stored format.
 */
export const ITEM_FIELDS = [
  'status',
  'batch',
  'createdAt',
  'attempts',
  'attachmentId',
  'sha256',
  'bytes',
  'how',
  'uploadedAt',
  'firstAttemptAt',
  'updatedAt',
  'fedAt',
  'pendingSince',
  'postingBy',
  'postingAt',
  'errorCode',
  'errorMessage',
  'errorHttpStatus',
  'errorDetails',
  'sentName',
  'sentBytes',
  'sentSha256s',
  'purgedAt',
  'verifyAt',
  'verifyRow',
  'copiesRemoved',
  'verifyError',
  'undoneAttachmentId',
  'undoneAt',
] as const;

/** Values stored as their position in these lists. Append only. */
const ITEM_CODES = {
  status: ['pending', 'uploaded', 'dead', 'undone'],
  how: ['uploaded', 'adopted'],
} as const;

const luaList = (values: readonly string[]) => `{ ${values.map((v) => `'${v}'`).join(', ')} }`;
/** A Lua table of each value's position (1-based), written out: scripts run it on every call. */
const luaPositions = (values: readonly string[]) => `{ ${values.map((v, i) => `['${v}'] = ${i + 1}`).join(', ')} }`;

/**
 * Lua functions for job ids as stored: `packJobId(jobId)` (a u-<32 hex> id as its 16 bytes) and
 * `unpackJobId(stored)`, with `hexToBytes` and `bytesToHex`.
 */
export const JOB_ID_LUA = `
-- Eight hex digits at a time (exact in a Lua number): half the time of a pair at a time.
local function hexToBytes(hex)
  local out, floor, whole = {}, math.floor, #hex - #hex % 8
  for i = 1, whole, 8 do
    local n = tonumber(string.sub(hex, i, i + 7), 16)
    out[#out + 1] = string.char(floor(n / 16777216), floor(n / 65536) % 256, floor(n / 256) % 256, n % 256)
  end
  for i = whole + 1, #hex, 2 do out[#out + 1] = string.char(tonumber(string.sub(hex, i, i + 1), 16)) end
  return table.concat(out)
end
local function bytesToHex(bytes)
  return string.format(string.rep('%02x', #bytes), string.byte(bytes, 1, #bytes))
end

-- A job id as stored: a u-<32 hex> id (every upload's) as its 16 bytes; any other id after
-- enough '~' to make it longer than 16 bytes (job ids never begin with '~').
local function packJobId(jobId)
  if #jobId == 34 and string.sub(jobId, 1, 2) == 'u-' and not string.find(jobId, '[^0-9a-f]', 3) then
    return hexToBytes(string.sub(jobId, 3))
  end
  return string.rep('~', math.max(1, 17 - #jobId)) .. jobId
end
local function unpackJobId(stored)
  if #stored == 16 then return 'u-' .. bytesToHex(stored) end
  return (string.gsub(stored, '^~+', ''))
end
`;

/**
 * The Lua functions every script that touches items or owners includes. They act like the hash
 * commands they replace, on an item's address: `itemGet` (HGET), `itemSet` (HSET, field value
 * pairs), `itemDel` (HDEL), `itemExists` (HEXISTS), `itemIncrBy` (HINCRBY),
 * `itemGetAll` (HGETALL), `itemRemove` (DEL); and `ownerGet`, `ownerSet`, `ownerDel` on the
 * owners key and an attachment id. An item is read once per script call and written through.
 */
export const ITEM_STORE_LUA = `
local ITEM_FIELDS = ${luaList(ITEM_FIELDS)}
local ITEM_SLOT = ${luaPositions(ITEM_FIELDS)}
local ITEM_CODES = { status = ${luaList(ITEM_CODES.status)}, how = ${luaList(ITEM_CODES.how)} }
local ITEM_CODE_OF = { status = ${luaPositions(ITEM_CODES.status)}, how = ${luaPositions(ITEM_CODES.how)} }

${JOB_ID_LUA}
-- Fields a caller worked out already (itemFieldOf in item-store.ts): decoding hex costs Lua far more than Node.
local itemFieldSeeds = {}
-- Where an item lives: its bucket and its field there (see item-store.ts), and the ledger's base name.
local function itemPlace(address)
  -- A plain search: a pattern with '.*' would backtrack through the whole name.
  local at = string.find(address, ':item:', 1, true)
  local base, jobId = string.sub(address, 1, at - 1), string.sub(address, at + 6)
  local bucket = base .. ':items:' .. string.sub(jobId, -4)
  local field = itemFieldSeeds[address]
  if not field then
    field = packJobId(jobId)
    if #field == 16 then field = string.sub(field, 1, 14) end
  end
  return bucket, field, base
end

-- Whether the ledger may hold items a version before wrote: unless it was begun packed (ledgerLayout).
local mayHoldLegacy = nil
local function legacyPossible(base)
  if mayHoldLegacy == nil then mayHoldLegacy = redis.call('GET', base .. ':layout') ~= 'packed' end
  return mayHoldLegacy
end

-- Times after the row's createdAt are kept as that distance, negated (5 bytes instead of 9 up to 24.8 days).
local ITEM_TIMES = { updatedAt = true, fedAt = true, uploadedAt = true, firstAttemptAt = true, pendingSince = true,
  postingAt = true, purgedAt = true, verifyAt = true, undoneAt = true }
-- Long digit strings (Zoho's 19-digit ids) as packed decimal: two digits a byte.
local ITEM_DIGITS = { attachmentId = true, undoneAttachmentId = true }

-- Batch names as small numbers, one pair of hashes per ledger (<ledger>:batch-ids, name → number and
-- the counter; <ledger>:batch-names, number → name): a million rows of a batch store its name once.
local batchIds, batchNames = {}, {}
local function batchIdOf(base, name)
  local id = batchIds[name]
  if id then return id end
  id = redis.call('HGET', base .. ':batch-ids', name)
  if not id then
    id = redis.call('HINCRBY', base .. ':batch-ids', '', 1)
    redis.call('HSET', base .. ':batch-ids', name, id)
    redis.call('HSET', base .. ':batch-names', id, name)
  end
  batchIds[name] = tonumber(id)
  return batchIds[name]
end
local function batchNameOf(base, id)
  local name = batchNames[id]
  if not name then
    name = redis.call('HGET', base .. ':batch-names', id)
    batchNames[id] = name
  end
  return name
end

local function packValue(f, v, createdAt, base)
  if f == 'batch' then return batchIdOf(base, v) end
  local codes = ITEM_CODE_OF[f]
  if codes then return codes[v] or { v } end
  if f == 'sha256' then
    if #v == 64 and not string.find(v, '[^0-9a-f]') then return hexToBytes(v) end
    return { v }
  end
  -- Whole numbers below 10^15 (exact as Lua numbers; times, counts, sizes) as numbers. The length is
  -- checked first: a pattern of optional digits would backtrack through every split of a long one.
  if #v <= 15 and (v == '0' or string.find(v, '^[1-9]%d*$')) then
    local n = tonumber(v)
    if ITEM_TIMES[f] and createdAt and n >= createdAt then return createdAt - n - 1 end
    return n
  end
  if ITEM_DIGITS[f] then
    if string.find(v, '^[1-9]%d*$') then return hexToBytes(#v % 2 == 1 and '0' .. v or v) end
    return { v }
  end
  return v
end
local function unpackValue(f, v, createdAt, base)
  if type(v) == 'table' then return v[1] end
  if type(v) == 'number' then
    if f == 'batch' then return batchNameOf(base, v) end
    local codes = ITEM_CODES[f]
    if codes then return codes[v] end
    if v < 0 then v = createdAt - v - 1 end
    return string.format('%.0f', v)
  end
  if f == 'sha256' then return bytesToHex(v) end
  if ITEM_DIGITS[f] then return (string.gsub(bytesToHex(v), '^0', '')) end
  return v
end

local itemCache = {}
local function itemLoad(address)
  local entry = itemCache[address]
  if entry then return entry end
  local bucket, field, base = itemPlace(address)
  entry = { address = address, bucket = bucket, field = field, base = base, values = false, legacy = false }
  local raw = redis.call('HGET', bucket, field)
  if raw then
    local packed = cmsgpack.unpack(raw)
    local values = {}
    local createdAt = packed[ITEM_SLOT.createdAt]
    createdAt = type(createdAt) == 'number' and createdAt or nil
    for i = 1, math.min(#packed, #ITEM_FIELDS) do
      local v = packed[i]
      if v ~= false then values[ITEM_FIELDS[i]] = unpackValue(ITEM_FIELDS[i], v, createdAt, base) end
    end
    -- Stored once when they are equal (see itemSave).
    if values.updatedAt == nil then values.updatedAt = values.uploadedAt end
    if type(packed[#ITEM_FIELDS + 1]) == 'table' then
      for f, v in pairs(packed[#ITEM_FIELDS + 1]) do values[f] = v end
    end
    entry.values = values
  elseif legacyPossible(base) then
    -- An item written by a version that kept a hash per item.
    local flat = redis.call('HGETALL', address)
    if #flat > 0 then
      local values = {}
      for i = 1, #flat, 2 do values[flat[i]] = flat[i + 1] end
      entry.values = values
      entry.legacy = true
    end
  end
  itemCache[address] = entry
  return entry
end

local function itemPack(values, base)
  -- Only the values present are visited (an item has a few of the many fields), then the gaps filled.
  local packed, last, extra = {}, 0, false
  -- An upload's updatedAt is its uploadedAt until something else changes the row: stored once.
  local sameAsUploaded = values.updatedAt == values.uploadedAt
  local createdAt = values.createdAt and tonumber(values.createdAt)
  for f, v in pairs(values) do
    local slot = ITEM_SLOT[f]
    if not slot then
      extra = extra or {}
      extra[f] = v
    elseif not (slot == ITEM_SLOT.updatedAt and sameAsUploaded) then
      packed[slot] = packValue(f, v, createdAt, base)
      if slot > last then last = slot end
    end
  end
  if extra then
    last = #ITEM_FIELDS + 1
    packed[last] = extra
  end
  for i = 1, last do
    if packed[i] == nil then packed[i] = false end
  end
  return cmsgpack.pack(packed)
end

local function itemSave(entry, packed)
  if entry.legacy then
    redis.call('DEL', entry.address)
    entry.legacy = false
  end
  if not entry.values or next(entry.values) == nil then
    entry.values = false
    redis.call('HDEL', entry.bucket, entry.field)
    return
  end
  redis.call('HSET', entry.bucket, entry.field, packed or itemPack(entry.values, entry.base))
end

-- Creates an item known to be absent with values already packed by itemPack: many new rows share one packing.
local function itemCreate(address, values, packed)
  local entry = itemLoad(address)
  entry.values = values
  itemSave(entry, packed)
end

local function itemGet(address, f)
  local values = itemLoad(address).values
  return values and values[f] or false
end
local function itemExists(address, f)
  local values = itemLoad(address).values
  if values and values[f] ~= nil then return 1 end
  return 0
end
local function itemGetAll(address)
  local values = itemLoad(address).values
  local flat = {}
  if values then
    for f, v in pairs(values) do flat[#flat + 1] = f; flat[#flat + 1] = v end
  end
  return flat
end
local function itemSet(address, ...)
  local entry = itemLoad(address)
  if not entry.values then entry.values = {} end
  local added = 0
  for i = 1, select('#', ...), 2 do
    local f, v = select(i, ...)
    -- A nil value leaves the field as it is (callers pass optional values inline).
    if v ~= nil then
      if entry.values[f] == nil then added = added + 1 end
      entry.values[f] = tostring(v)
    end
  end
  itemSave(entry)
  return added
end
local function itemDel(address, ...)
  local entry = itemLoad(address)
  if not entry.values then return 0 end
  local removed = 0
  for i = 1, select('#', ...) do
    local f = select(i, ...)
    if entry.values[f] ~= nil then entry.values[f] = nil; removed = removed + 1 end
  end
  if removed > 0 then itemSave(entry) end
  return removed
end
local function itemIncrBy(address, f, by)
  local value = (tonumber(itemGet(address, f)) or 0) + tonumber(by)
  itemSet(address, f, string.format('%.0f', value))
  return value
end
local function itemRemove(address)
  local entry = itemLoad(address)
  entry.values = false
  itemSave(entry)
end

-- Attachment owners: <owners>:<last 5 characters of the id>, the attachment id, the packed job id.
-- A version before kept them all in the one hash <owners>, still read while it exists.
local ownersLegacy = nil
local function legacyOwners(owners)
  if ownersLegacy == nil then ownersLegacy = redis.call('EXISTS', owners) == 1 end
  return ownersLegacy
end
local function ownerBucket(owners, attachmentId) return owners .. ':' .. string.sub(attachmentId, -5) end
local function ownerGet(owners, attachmentId)
  local stored = redis.call('HGET', ownerBucket(owners, attachmentId), attachmentId)
  if stored then return unpackJobId(stored) end
  return legacyOwners(owners) and redis.call('HGET', owners, attachmentId)
end
local function ownerSet(owners, attachmentId, jobId)
  redis.call('HSET', ownerBucket(owners, attachmentId), attachmentId, packJobId(jobId))
  if legacyOwners(owners) then redis.call('HDEL', owners, attachmentId) end
end
local function ownerDel(owners, attachmentId)
  redis.call('HDEL', ownerBucket(owners, attachmentId), attachmentId)
  if legacyOwners(owners) then redis.call('HDEL', owners, attachmentId) end
end
`;

/**
 * An item's field in its bucket, as `itemPlace` makes it, for a script that takes many items at
 * once (the claim) to seed `itemFieldSeeds` with; '' for a job id of another form (the script
 * works it out).
 */
export function itemFieldOf(jobId: string): Buffer | '' {
  return /^u-[0-9a-f]{32}$/.test(jobId) ? Buffer.from(jobId.slice(2, 30), 'hex') : '';
}

// KEYS: the ledger's layout, its batches. Notes, before a queue's first batch, whether the ledger was begun
// packed or holds what a version before wrote (it has batches already).
export const NOTE_LAYOUT_SCRIPT: LedgerScript = {
  name: 'zohoAttachNoteLayout',
  lua: `
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('SET', KEYS[1], redis.call('ZCARD', KEYS[2]) > 0 and 'packed+legacy' or 'packed')
end
return 0
`,
};

/**
 * Notes the ledger's layout before its first batch (on a MULTI, ahead of the batch's ZADD): a
 * ledger begun packed never looks for what versions before wrote, which saves a look per new row.
 */
export function noteLayout(redis: Redis | ChainableCommander, keys: KeyNames): Promise<unknown> {
  return runScript(redis, NOTE_LAYOUT_SCRIPT, [keys.ledgerLayout, keys.batches], []);
}

// KEYS: item addresses. Returns each item's values as HGETALL would (an empty list when there is none).
const READ_ITEMS_SCRIPT: LedgerScript = {
  name: 'zohoAttachReadItems',
  lua: `${ITEM_STORE_LUA}
local items = {}
for i, address in ipairs(KEYS) do items[i] = itemGetAll(address) end
return items
`,
};

// KEYS[1] the owners key. ARGV: attachment ids. Returns each one's owning job id, or false.
const READ_OWNERS_SCRIPT: LedgerScript = {
  name: 'zohoAttachReadOwners',
  lua: `${ITEM_STORE_LUA}
local owners = {}
for i, attachmentId in ipairs(ARGV) do owners[i] = ownerGet(KEYS[1], attachmentId) end
return owners
`,
};

// KEYS[1] item address. ARGV: field value pairs. Sets fields of an existing item; 0 when there is none.
const SET_ITEM_FIELDS_SCRIPT: LedgerScript = {
  name: 'zohoAttachSetItemFields',
  lua: `${ITEM_STORE_LUA}
if not itemGet(KEYS[1], 'status') then return 0 end
itemSet(KEYS[1], unpack(ARGV))
return 1
`,
};

/** Several items' stored values (field to value, as the hash commands return them), in one round trip. */
export async function readItems(
  redis: Redis,
  keys: KeyNames,
  jobIds: readonly string[],
): Promise<Array<Record<string, string>>> {
  if (jobIds.length === 0) return [];
  const flats = await runScript<string[][]>(
    redis,
    READ_ITEMS_SCRIPT,
    jobIds.map((jobId) => keys.ledgerItem(jobId)),
    [],
  );
  return flats.map((flat) => {
    const values: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) values[flat[i] as string] = flat[i + 1] as string;
    return values;
  });
}

/** The job ids that own each attachment id (undefined where none does). */
export async function readOwners(
  redis: Redis,
  keys: KeyNames,
  attachmentIds: readonly string[],
): Promise<Array<string | undefined>> {
  if (attachmentIds.length === 0) return [];
  const owners = await runScript<Array<string | null>>(
    redis,
    READ_OWNERS_SCRIPT,
    [keys.attachmentOwners],
    [...attachmentIds],
  );
  return owners.map((owner) => owner ?? undefined);
}

/** Sets fields of a row's item (nothing when the row identity was never enqueued). */
export async function setItemFields(
  redis: Redis,
  keys: KeyNames,
  jobId: string,
  fields: Record<string, string>,
): Promise<void> {
  await runScript(redis, SET_ITEM_FIELDS_SCRIPT, [keys.ledgerItem(jobId)], Object.entries(fields).flat());
}
