/**
 * The start and end of an attempt, and the posting lease between them. Before posting, an
 * attempt sets the row's "may already be stored" mark (`pendingSince`, kept at its earliest)
 * and takes the lease (`postingBy`, renewed by beats). A job recovered as stalled while its
 * first run is still sending finds the lease beating and waits instead of posting a copy.
 */
import type { Redis } from 'ioredis';
import type { KeyNames } from '../shared/key-names.js';
import { ITEM_STORE_LUA } from './item-store.js';
import { runScript, type LedgerScript } from './redis-script.js';
import { parseItem, type AttemptVerdict, type LedgerItem } from './types.js';

// KEYS[1] item. ARGV: attempt, now, postingToken, staleMs, takeOverAt ('' or the postingAt a caller saw stale).
// Returns the item as it was (HGETALL's flat list), whether this call set pendingSince (1|0), and a verdict:
// 'uploaded' (only read), 'busy' (another run's post is alive: nothing changed), 'stale' (another run's post
// has not beaten for staleMs and the caller has not yet re-checked it: nothing changed), or 'go' (the
// attempt is noted, pendingSince set unless an earlier attempt left it, and the posting lease is ours).
export const START_ATTEMPT_SCRIPT: LedgerScript = {
  name: 'zohoAttachStartAttempt',
  lua: `${ITEM_STORE_LUA}
local fields = itemGetAll(KEYS[1])
local status, attachmentId, postingBy, postingAt
for i = 1, #fields, 2 do
  local f, v = fields[i], fields[i + 1]
  if f == 'status' then status = v elseif f == 'attachmentId' then attachmentId = v
  elseif f == 'postingBy' then postingBy = v elseif f == 'postingAt' then postingAt = v end
end
if status == 'uploaded' and attachmentId and attachmentId ~= '' then return { fields, 0, 'uploaded' } end
local now, token, staleMs, takeOverAt = tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4]), ARGV[5]
if postingBy and postingBy ~= token then
  if now - tonumber(postingAt) < staleMs then return { fields, 0, 'busy' } end
  -- Stale: take over only if the caller already saw this very beat stale once, a while ago.
  if takeOverAt ~= postingAt then return { fields, 0, 'stale' } end
end
local started = 1 - itemExists(KEYS[1], 'pendingSince')
local firstAttemptAt = itemGet(KEYS[1], 'firstAttemptAt') or ARGV[2]
local pendingSince = itemGet(KEYS[1], 'pendingSince') or ARGV[2]
itemSet(KEYS[1], 'pendingSince', pendingSince, 'firstAttemptAt', firstAttemptAt, 'attempts', ARGV[1], 'updatedAt', ARGV[2],
  'postingBy', token, 'postingAt', ARGV[2])
return { fields, started, 'go' }
`,
};

// KEYS[1] item. ARGV: postingToken, now. Renews the posting lease if it is still ours.
export const BEAT_POSTING_SCRIPT: LedgerScript = {
  name: 'zohoAttachBeatPosting',
  lua: `${ITEM_STORE_LUA}
if itemGet(KEYS[1], 'postingBy') ~= ARGV[1] then return 0 end
itemSet(KEYS[1], 'postingAt', ARGV[2])
return 1
`,
};

// KEYS[1] item. ARGV: postingToken, clearPending (0|1), sentName, sentBytes, sentSha256 ('' when unknown).
// Ends our posting lease; forgets pendingSince when nothing was stored, but only while the lease is
// still ours (a run that took over owns the mark now); remembers what an ambiguous attempt sent (at
// most five distinct sha256s: a source that keeps changing is rare).
export const END_POSTING_SCRIPT: LedgerScript = {
  name: 'zohoAttachEndPosting',
  lua: `${ITEM_STORE_LUA}
if itemGet(KEYS[1], 'postingBy') == ARGV[1] then
  itemDel(KEYS[1], 'postingBy', 'postingAt')
  if ARGV[2] == '1' then itemDel(KEYS[1], 'pendingSince') end
end
if ARGV[5] ~= '' then
  itemSet(KEYS[1], 'sentName', ARGV[3], 'sentBytes', ARGV[4])
  local shas = itemGet(KEYS[1], 'sentSha256s') or ''
  if not string.find(',' .. shas .. ',', ',' .. ARGV[5] .. ',', 1, true) then
    local count = select(2, string.gsub(shas, ',', ',')) + 1
    if shas == '' then shas = ARGV[5] elseif count < 5 then shas = shas .. ',' .. ARGV[5] end
    itemSet(KEYS[1], 'sentSha256s', shas)
  end
end
return 0
`,
};

/** What {@link startAttempt} found. */
export interface StartedAttempt {
  /** The item as it was before this call (undefined if the row identity was never enqueued). */
  item: LedgerItem | undefined;
  /** This call set the "may already be stored" mark (no earlier attempt had left it). */
  startedPending: boolean;
  verdict: AttemptVerdict;
}

/**
 * Reads a row's item and, unless it is uploaded already or another run is posting it, notes
 * that this attempt is about to post and takes the row's posting lease, in one round trip.
 * @param lease `token` names this run; `staleMs` is how old a beat may be before its run
 *   counts as dead; `takeOverAt` is the stale beat this caller saw on an earlier call
 */
export async function startAttempt(
  redis: Redis,
  keys: KeyNames,
  jobId: string,
  attempt: number,
  lease: { token: string; staleMs: number; takeOverAt?: number | undefined },
  now: number,
): Promise<StartedAttempt> {
  const [fields, started, verdict] = await runScript<[string[], number, AttemptVerdict]>(
    redis,
    START_ATTEMPT_SCRIPT,
    [keys.ledgerItem(jobId)],
    [attempt, now, lease.token, lease.staleMs, lease.takeOverAt === undefined ? '' : String(lease.takeOverAt)],
  );
  const raw: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) raw[fields[i] as string] = fields[i + 1] as string;
  return { item: parseItem(raw), startedPending: started === 1, verdict };
}

/** Renews a run's posting lease; false when it is no longer that run's. */
export async function beatPosting(
  redis: Redis,
  keys: KeyNames,
  jobId: string,
  token: string,
  now: number,
): Promise<boolean> {
  return (await runScript<number>(redis, BEAT_POSTING_SCRIPT, [keys.ledgerItem(jobId)], [token, now])) === 1;
}

/** What an attempt that ended without success sent, when the whole body was read. */
export interface SentContent {
  fileName: string;
  bytes: number;
  sha256: string;
}

/**
 * Ends a run's posting lease. With `notStored`, also forgets the "may already be stored"
 * mark. With `sent`, remembers what an ambiguous attempt sent, so that adoption and
 * verification can recognise its copy even if the source changes later.
 */
export async function endPosting(
  redis: Redis,
  keys: KeyNames,
  jobId: string,
  token: string,
  outcome: { notStored: boolean; sent?: SentContent | undefined },
): Promise<void> {
  const { sent } = outcome;
  await runScript(
    redis,
    END_POSTING_SCRIPT,
    [keys.ledgerItem(jobId)],
    [token, outcome.notStored ? '1' : '0', sent?.fileName ?? '', sent?.bytes ?? '', sent?.sha256 ?? ''],
  );
}
