/**
 * The newest ledger format a queue's Redis holds, so that a process of an older version refuses a
 * queue a newer one has written to, instead of misreading it: a version that cannot read an item
 * takes it for absent, and an `enqueue` would then queue an uploaded row again.
 *
 * Formats: 1, items packed in buckets (format 1) and row pages; 2, item format 2 and row pages
 * that share their rows' prefixes (ledger/item-store.ts, ledger/row-pages.ts). A version reads
 * every format up to its own. Versions before this check kept no mark: they cannot refuse, which is
 * why the README asks for every process to be stopped before an upgrade.
 */
import type { Redis } from 'ioredis';
import { ZohoAttachError } from '../shared/errors.js';
import type { KeyNames } from '../shared/key-names.js';
import { runScript, type LedgerScript } from './redis-script.js';

/** The format this version writes (and the newest it reads). */
export const LEDGER_FORMAT = 2;

/** The mark as read: undefined when there is none, its format, or its text when that is not a whole number. */
export type FormatMark = number | string | undefined;

// KEYS: the mark. ARGV: this version's format. Raises a missing or lower mark to it; returns the mark as
// it was (nil when there was none). A higher mark (a newer version wrote to the queue) and one that is
// not a whole number (no version writes one, so whoever did is not known to read what this version
// would write) are left as they are; the caller refuses the queue (markRefusal).
const CLAIM_FORMAT_SCRIPT: LedgerScript = {
  name: 'zohoAttachClaimLedgerFormat',
  lua: `
local text = redis.call('GET', KEYS[1])
if not text or (string.match(text, '^%d+$') and tonumber(text) < tonumber(ARGV[1])) then
  redis.call('SET', KEYS[1], ARGV[1])
end
return text
`,
};

/**
 * Notes that this version uses the queue, or refuses to when a newer one has written to it or the
 * mark is not one this project writes.
 * @throws ZohoAttachError `LEDGER_FORMAT_NEWER`, `LEDGER_FORMAT_UNREADABLE`
 */
export async function claimLedgerFormat(redis: Redis, keys: KeyNames, format = LEDGER_FORMAT): Promise<void> {
  const found = await runScript<string | null>(redis, CLAIM_FORMAT_SCRIPT, [keys.ledgerFormat], [format]);
  const refusal = markRefusal(keys, parseMark(found), format);
  if (refusal) throw new ZohoAttachError(refusal.code, `${refusal.problem}. To fix: ${refusal.fix}`);
}

/** The mark as it is (for `doctor`, which changes nothing). */
export async function readLedgerFormat(redis: Redis, keys: KeyNames): Promise<FormatMark> {
  return parseMark(await redis.get(keys.ledgerFormat));
}

/** Why a version that writes `format` must not use a queue with this mark (for the refusal and `doctor`); undefined when it may. */
export function markRefusal(
  keys: KeyNames,
  mark: FormatMark,
  format = LEDGER_FORMAT,
): { code: 'LEDGER_FORMAT_NEWER' | 'LEDGER_FORMAT_UNREADABLE'; problem: string; fix: string } | undefined {
  if (typeof mark === 'string') {
    return {
      code: 'LEDGER_FORMAT_UNREADABLE',
      problem: `queue "${keys.prefix}" holds ${JSON.stringify(mark.slice(0, 40))} as its ledger format mark, not a format number; no zoho-attach writes that, so this version cannot tell whether it reads the queue`,
      fix: `if the mark was set by hand, delete the key ${keys.ledgerFormat}: the next zoho-attach process sets it again`,
    };
  }
  if (mark !== undefined && mark > format) {
    return {
      code: 'LEDGER_FORMAT_NEWER',
      problem: `queue "${keys.prefix}" holds ledger format ${mark}, written by a newer zoho-attach; this version reads format ${format} at most`,
      fix: 'run the newer zoho-attach here too: every process of a queue runs one version',
    };
  }
  return undefined;
}

function parseMark(text: string | null): FormatMark {
  if (text === null) return undefined;
  return /^\d+$/.test(text) ? Number(text) : text;
}
