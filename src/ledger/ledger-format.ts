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

// KEYS: the mark. ARGV: this version's format. Raises the mark to it; returns the mark (higher than
// ARGV[1] when a newer version wrote to the queue, which is then left as it is), or the mark's text
// when it is not a whole number, also left as it is: no version writes one, so whoever did is not
// known to read what this version would write.
const CLAIM_FORMAT_SCRIPT: LedgerScript = {
  name: 'zohoAttachClaimLedgerFormat',
  lua: `
local text = redis.call('GET', KEYS[1])
local current = 0
if text then
  if not string.match(text, '^%d+$') then return text end
  current = tonumber(text)
end
local mine = tonumber(ARGV[1])
if current > mine then return current end
if current < mine then redis.call('SET', KEYS[1], mine) end
return mine
`,
};

/**
 * Notes that this version uses the queue, or refuses to when a newer one has written to it or the
 * mark is not one this project writes.
 * @throws ZohoAttachError `LEDGER_FORMAT_NEWER`, `LEDGER_FORMAT_UNREADABLE`
 */
export async function claimLedgerFormat(redis: Redis, keys: KeyNames, format = LEDGER_FORMAT): Promise<void> {
  const found = await runScript<number | string>(redis, CLAIM_FORMAT_SCRIPT, [keys.ledgerFormat], [format]);
  if (typeof found === 'string') {
    const { problem, fix } = unreadableMark(keys, found);
    throw new ZohoAttachError('LEDGER_FORMAT_UNREADABLE', `${problem}. To fix: ${fix}`);
  }
  if (found > format) {
    throw new ZohoAttachError(
      'LEDGER_FORMAT_NEWER',
      `queue "${keys.prefix}" holds ledger format ${found}, written by a newer zoho-attach; this version reads format ${format} at most. Run the newer version here too (every process of a queue runs one version)`,
    );
  }
}

/** What is wrong with a mark that is not a whole number, and what to do about it (for the refusal and `doctor`). */
export function unreadableMark(keys: KeyNames, text: string): { problem: string; fix: string } {
  return {
    problem: `queue "${keys.prefix}" holds ${JSON.stringify(text.slice(0, 40))} as its ledger format mark, not a format number; no zoho-attach writes that, so this version cannot tell whether it reads the queue`,
    fix: `if the mark was set by hand, delete the key ${keys.ledgerFormat}: the next zoho-attach process sets it again`,
  };
}

/**
 * The mark as it is (for `doctor`, which changes nothing): undefined when no process of this or a
 * later version opened the queue, its text when it is not a whole number.
 */
export async function readLedgerFormat(redis: Redis, keys: KeyNames): Promise<number | string | undefined> {
  const mark = await redis.get(keys.ledgerFormat);
  if (mark === null) return undefined;
  return /^\d+$/.test(mark) ? Number(mark) : mark;
}
