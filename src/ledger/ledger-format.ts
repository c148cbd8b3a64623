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
// ARGV[1] when a newer version wrote to the queue, which is then left as it is).
const CLAIM_FORMAT_SCRIPT: LedgerScript = {
  name: 'zohoAttachClaimLedgerFormat',
  lua: `
local current = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
local mine = tonumber(ARGV[1])
if current > mine then return current end
if current < mine then redis.call('SET', KEYS[1], mine) end
return mine
`,
};

/**
 * Notes that this version uses the queue, or refuses to when a newer one has written to it.
 * @throws ZohoAttachError `LEDGER_FORMAT_NEWER`
 */
export async function claimLedgerFormat(redis: Redis, keys: KeyNames, format = LEDGER_FORMAT): Promise<void> {
  const found = await runScript<number>(redis, CLAIM_FORMAT_SCRIPT, [keys.ledgerFormat], [format]);
  if (found > format) {
    throw new ZohoAttachError(
      'LEDGER_FORMAT_NEWER',
      `queue "${keys.prefix}" holds ledger format ${found}, written by a newer zoho-attach; this version reads format ${format} at most. Run the newer version here too (every process of a queue runs one version)`,
    );
  }
}

/** The mark as it is (for `doctor`, which changes nothing): undefined when no process of this or a later version opened the queue. */
export async function readLedgerFormat(redis: Redis, keys: KeyNames): Promise<number | undefined> {
  const mark = await redis.get(keys.ledgerFormat);
  return mark === null ? undefined : Number(mark);
}
