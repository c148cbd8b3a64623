/**
 * Where items and attachment owners live in Redis, packed many to a hash so that a row does not
 * cost a Redis key of its own (about 100 bytes before it holds anything).
 *
 * - An item is a field of a bucket hash: `<prefix>:ledger:items:<last 4 characters of the job
 *   id>` (65,536 buckets), its field the rest of the job id (a `u-<32 hex>` id as 14 bytes), its
 *   value a MessagePack array of the item's values in a fixed order ({@link ITEM_FIELDS}): no
 *   field names, none at the end, absent values as one byte. Format 2 (format 1, which earlier
 *   versions wrote, is still read) keeps the status, how and an attempt count up to 3 as one byte;
 *   batches as small numbers (`<ledger>:batch-ids`, `batch-names`); times as signed distances:
 *   createdAt from its batch's epoch (`<ledger>:batch-epochs`), the others from the row's first
 *   attempt or its creation (see ITEM_TIME_FROM); an attachment id of 16 to 20 digits as its 8
 *   bytes, in one string with the sha256's 32 when the row has both.
 *   Redis keeps a bucket in its compact `listpack` encoding while every value is at most 64 bytes
 *   (`hash-max-listpack-value`, left as it is), and never turns it back once one is longer. What
 *   fits: a waiting row (4 to 8 bytes), a row in flight (about 34, its posting lease included), a
 *   finished link row (about 25) and a finished file row: 61 bytes with a 19-digit attachment id,
 *   a file of 64 KiB to 4 GiB, created within 65 seconds of its batch's first row (a manifest
 *   enqueued in one go), first tried within 49 days of that and uploaded within 65 seconds of its
 *   first try; 63 when created up to 49 days after its batch's first row; 65, over, when also
 *   uploaded more than 65 seconds after its first try. A time beyond 49 days (24.8 before) takes 4
 *   bytes more, an upload on the fourth attempt or later 1 more, a file under 64 KiB 2 less. What
 *   does not fit: a row whose verification is due (its sent name and job data) or that failed (its
 *   error), a file of 4 GiB or more (its size 4 bytes more; Zoho takes 100 MB at most), an attachment
 *   id that is not 16 to 20 digits below 2^64 (kept as it is, apart from the sha256).
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

/** Format 1's order (items earlier versions wrote): read, never written, never changed. */
const FORMAT_1_FIELDS = [
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

/**
 * An item's values, in the order format 2 packs them (see {@link ITEM_STORE_LUA}): slot 1 holds the
 * status together with `how` and a small `attempts` (a finished row's state in one byte); then what
 * every row has, then an upload's (a finished row has no gap, ending at its uploadedAt), then an
 * attempt's, then the rarer ones. Append only: the position is the stored format.
 */
export const ITEM_FIELDS = [
  'status',
  'batch',
  'createdAt',
  'attachmentId',
  'bytes',
  'firstAttemptAt',
  'uploadedAt',
  // Here, not further on: a finished row tried 4 times or more (its attempts not in the state) pays 1 byte, not 7.
  'attempts',
  'updatedAt',
  'fedAt',
  'pendingSince',
  'postingBy',
  'postingAt',
  'sha256',
  // The rarer ones in format 1's order, from its list: it never changes, so appending here stays safe.
  ...FORMAT_1_FIELDS.slice(FORMAT_1_FIELDS.indexOf('errorCode')),
] as const;

/**
 * Values stored as their position in these lists. Append only: format 2's state byte has room for
 * seven statuses and two hows (a third needs a format 3).
 */
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
local FORMAT_1_FIELDS = ${luaList(FORMAT_1_FIELDS)}
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

-- Long digit strings (Zoho's 19-digit attachment ids): format 2 keeps them as 8 bytes, format 1 as packed decimal.
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

-- Each batch's epoch, kept like its name (<ledger>:batch-epochs, number → time): the createdAt of the first
-- item packed with the batch (a claim packs its new rows' values first, so about when its first row came).
-- Format 2 keeps createdAt as the distance from it: 5 bytes up to 49 days later, where the time took 9.
local batchEpochs = {}
local function batchEpochOf(base, id, createdAt)
  local epoch = batchEpochs[id]
  if epoch then return epoch end
  epoch = tonumber(redis.call('HGET', base .. ':batch-epochs', id))
  if not epoch then
    -- Only a write (createdAt given) begins one: an item packed with this batch's number set it.
    if not createdAt then error('the ledger has no epoch for batch number ' .. id) end
    epoch = createdAt
    redis.call('HSET', base .. ':batch-epochs', id, string.format('%.0f', epoch))
  end
  batchEpochs[id] = epoch
  return epoch
end

-- Whole numbers below 10^15 (exact as Lua numbers; times, counts, sizes) as numbers. The length is
-- checked first: a pattern of optional digits would backtrack through every split of a long one.
local function wholeNumber(v)
  if #v <= 15 and (v == '0' or string.find(v, '^[1-9]%d*$')) then return tonumber(v) end
  return nil
end
local function shaBytes(v)
  if #v == 64 and not string.find(v, '[^0-9a-f]') then return hexToBytes(v) end
  return nil
end

-- An id of 16 to 20 digits below 2^64 as its 8 bytes (big-endian), or nil. The digits are high * 10^9 + low,
-- multiplied out one 16-bit limb at a time: every partial value stays below 2^53, exact in a Lua number.
local function digitsToBytes(v)
  if #v < 16 or #v > 20 or not string.find(v, '^[1-9]%d*$') then return nil end
  local floor, high, carry, limbs = math.floor, tonumber(string.sub(v, 1, -10)), tonumber(string.sub(v, -9)), {}
  for i = 4, 1, -1 do
    local n = high % 65536 * 1000000000 + carry
    high, limbs[i], carry = floor(high / 65536), n % 65536, floor(n / 65536)
  end
  if high > 0 or carry > 0 then return nil end
  return string.char(floor(limbs[1] / 256), limbs[1] % 256, floor(limbs[2] / 256), limbs[2] % 256,
    floor(limbs[3] / 256), limbs[3] % 256, floor(limbs[4] / 256), limbs[4] % 256)
end
-- The digits back: the 8 bytes divided by 10^9 one 16-bit limb at a time (again below 2^53 throughout).
local function bytesToDigits(bytes)
  local high, low = 0, 0
  for i = 1, 7, 2 do
    local n = low * 65536 + string.byte(bytes, i) * 256 + string.byte(bytes, i + 1)
    local q = math.floor(n / 1000000000)
    high, low = high * 65536 + q, n - q * 1000000000
  end
  -- High is never 0: only ids of 16 digits or more are kept this way.
  return string.format('%.0f%09.0f', high, low)
end

-- Format 2's first slot, one byte (a positive fixint): the status's code (bits 0-2), how's code + 1 (bits 3-4)
-- and attempts when it is 1, 2 or 3 (bits 5-6; 0: in its own slot, or none). A status or how that is no code
-- is kept with the extras (code 0). It is 8 or more, where format 1 kept a status code (1 to 4), a literal or
-- false: that tells the formats apart.
local function packState(values)
  local attempts = values.attempts
  local folded = (attempts == '1' or attempts == '2' or attempts == '3') and tonumber(attempts) or 0
  local status, how = ITEM_CODE_OF.status[values.status] or 0, ITEM_CODE_OF.how[values.how] or 0
  return status + 8 * (how + 1) + 32 * folded, folded > 0
end
local function unpackState(state, values)
  values.status = ITEM_CODES.status[state % 8]
  values.how = ITEM_CODES.how[math.floor(state / 8) % 4 - 1]
  if state >= 32 then values.attempts = tostring(math.floor(state / 32)) end
end

-- Format 2's times, as signed distances from a time the reader has decoded already: createdAt from its
-- batch's epoch; the first attempt and the feed from the creation; the others from the first attempt (an
-- upload ends seconds after it began: 3 bytes up to 65 seconds) or, before one, from the creation. 5 bytes
-- up to 49 days later or 24.8 days earlier, 9 beyond; a time whose reference is not a number is kept as it is.
local ITEM_TIME_FROM = { createdAt = 'epoch', firstAttemptAt = 'createdAt', fedAt = 'createdAt',
  uploadedAt = 'attempt', updatedAt = 'attempt', pendingSince = 'attempt', postingAt = 'attempt',
  purgedAt = 'attempt', verifyAt = 'attempt', undoneAt = 'attempt' }

local function packValue(f, v, from)
  if f == 'sha256' then return shaBytes(v) or { v } end
  local n = wholeNumber(v)
  if n then
    local ref = from[ITEM_TIME_FROM[f]]
    return ref and n - ref or n
  end
  if ITEM_DIGITS[f] then return digitsToBytes(v) or { v } end
  return v
end

local function itemPack(values, base)
  local state, attemptsFolded = packState(values)
  local packed, last, extra = { state }, 1, false
  -- The times others are kept from (ITEM_TIME_FROM), as unpackFormat2 finds them again.
  local batch = values.batch and batchIdOf(base, values.batch)
  local createdAt = values.createdAt and wholeNumber(values.createdAt)
  local from = { epoch = batch and createdAt and batchEpochOf(base, batch, createdAt), createdAt = createdAt }
  from.attempt = values.firstAttemptAt and wholeNumber(values.firstAttemptAt) or createdAt
  -- An upload's updatedAt is its uploadedAt until something else changes the row: stored once.
  local sameAsUploaded = values.updatedAt == values.uploadedAt
  -- A file row's sha256 and attachment id as one string of 40 bytes (one string header instead of two).
  local sha = values.sha256 and values.attachmentId and shaBytes(values.sha256)
  local id = sha and digitsToBytes(values.attachmentId)
  -- Only the values present are visited (an item has a few of the many fields), then the gaps filled.
  for f, v in pairs(values) do
    local slot = ITEM_SLOT[f]
    if f == 'status' or f == 'how' or not slot then
      if not (ITEM_CODE_OF[f] and ITEM_CODE_OF[f][v]) then
        extra = extra or {}
        extra[f] = v
      end
    elseif not ((f == 'updatedAt' and sameAsUploaded) or (f == 'attempts' and attemptsFolded) or (f == 'sha256' and id)) then
      if f == 'batch' then
        packed[slot] = batch
      elseif f == 'attachmentId' and id then
        packed[slot] = sha .. id
      else
        packed[slot] = packValue(f, v, from)
      end
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

local function unpackFormat2(packed, base)
  local values = {}
  unpackState(packed[1], values)
  local batch, createdAt, first = packed[ITEM_SLOT.batch], packed[ITEM_SLOT.createdAt], packed[ITEM_SLOT.firstAttemptAt]
  local from = {}
  if type(createdAt) == 'number' then
    from.epoch = type(batch) == 'number' and batchEpochOf(base, batch) or nil
    from.createdAt = createdAt + (from.epoch or 0)
  end
  from.attempt = type(first) == 'number' and first + (from.createdAt or 0) or from.createdAt
  for i = 2, math.min(#packed, #ITEM_FIELDS) do
    local f, v = ITEM_FIELDS[i], packed[i]
    if type(v) == 'table' then
      values[f] = v[1]
    elseif type(v) == 'number' then
      if f == 'batch' then
        values[f] = batchNameOf(base, v)
      else
        local ref = from[ITEM_TIME_FROM[f]]
        values[f] = string.format('%.0f', ref and v + ref or v)
      end
    elseif v == false then
      -- A gap: no such value.
    elseif f == 'sha256' then
      values[f] = bytesToHex(v)
    elseif ITEM_DIGITS[f] then
      if #v == 40 then values.sha256 = bytesToHex(string.sub(v, 1, 32)) end
      values[f] = bytesToDigits(string.sub(v, -8))
    else
      values[f] = v
    end
  end
  return values, packed[#ITEM_FIELDS + 1]
end

-- Format 1 (items written before format 2): long ids as packed decimal, times after createdAt as
-- the distance, negated, createdAt itself absolute.
local function unpackFormat1Value(f, v, createdAt, base)
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
local function unpackFormat1(packed, base)
  local values = {}
  local createdAt = packed[3] -- its slot in format 1
  createdAt = type(createdAt) == 'number' and createdAt or nil
  for i = 1, math.min(#packed, #FORMAT_1_FIELDS) do
    local v = packed[i]
    if v ~= false then values[FORMAT_1_FIELDS[i]] = unpackFormat1Value(FORMAT_1_FIELDS[i], v, createdAt, base) end
  end
  return values, packed[#FORMAT_1_FIELDS + 1]
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
    local values, extra
    if type(packed[1]) == 'number' and packed[1] >= 8 then
      values, extra = unpackFormat2(packed, base)
    else
      values, extra = unpackFormat1(packed, base)
    end
    -- Stored once when they are equal (see itemPack).
    if values.updatedAt == nil then values.updatedAt = values.uploadedAt end
    if type(extra) == 'table' then
      for f, v in pairs(extra) do values[f] = v end
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
