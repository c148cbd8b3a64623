/**
 * A batch's rows in pages (issue 14, item 2): one Redis string per 128 lines instead of a hash
 * field per row; counted once however often a line is written; the rows of a batch written by
 * an earlier version (one hash) still read, fed and counted. Real Redis.
 */
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Ledger } from '../../src/ledger/ledger.js';
import type { StoredRow } from '../../src/ledger/types.js';
import { encodeStoredRow } from '../../src/ledger/stored-row.js';
import { keyNames, type KeyNames } from '../../src/shared/key-names.js';
import { deleteKeysContaining, testRedis, uniqueName } from '../helpers/redis.js';

let redis: Redis;
let name: string;
let keys: KeyNames;
let ledger: Ledger;

beforeEach(() => {
  redis = testRedis();
  name = uniqueName('pages');
  keys = keyNames(name);
  ledger = new Ledger(redis, keys);
});
afterEach(async () => {
  await deleteKeysContaining(redis, name);
  redis.disconnect();
});

function row(line: number): StoredRow {
  const jobId = `u-${line.toString(16).padStart(32, '0')}`;
  return {
    jobId,
    module: 'Leads',
    record_id: String(line),
    file: '',
    link_url: `https://x.test/${line}`,
    title: '',
    extra: {},
  };
}

async function lineNumbers(batch: string): Promise<number[]> {
  const lines: number[] = [];
  for await (const entry of ledger.readRows(batch)) if ('row' in entry) lines.push(entry.line);
  return lines;
}

describe('row pages', () => {
  it('stores 300 rows as three strings, counts each line once, and reads them back in order', async () => {
    await ledger.ensureBatch('b');
    const lines = Array.from({ length: 300 }, (_, i) => i + 2);
    // Written out of order and in two parts that share a page, then the first part again.
    await ledger.recordRows(
      'b',
      lines.slice(150).map((line) => ({ line, row: row(line) })),
    );
    await ledger.recordRows(
      'b',
      lines.slice(0, 150).map((line) => ({ line, row: row(line) })),
    );
    await ledger.recordRows(
      'b',
      lines.slice(0, 10).map((line) => ({ line, row: row(line) })),
    );

    const made = (await redis.keys(`${name}:ledger:batch:b:rows*`)).sort();
    expect(made).toEqual([0, 1, 2].map((page) => `${name}:ledger:batch:b:rows:${page}`));
    for (const key of made) expect(await redis.type(key)).toBe('string');
    // Each row's bytes and a few more, its job id as 16 bytes instead of 36 characters of JSON.
    let stored = 0;
    for (const key of made) stored += await redis.strlen(key);
    const json = lines.reduce((sum, line) => sum + encodeStoredRow(row(line)).length, 0);
    expect(stored).toBeLessThan(json - 300 * 15);
    expect(await ledger.getBatch('b')).toMatchObject({ accepted: 300, maxLine: 301 });
    expect(await lineNumbers('b')).toEqual(lines);
    expect(await ledger.getRow('b', 200)).toEqual(row(200));
    expect(await ledger.getRow('b', 1)).toBeUndefined();

    await ledger.dropBatch('b');
    expect(await redis.keys(`${name}:ledger:batch:b:*`)).toEqual([]);
  });

  it('reads, feeds and counts rows an earlier version kept in one hash; moves a line written again', async () => {
    await ledger.ensureBatch('old');
    await redis.hset(keys.batchMeta('old'), 'maxLine', 4);
    await redis.hset(keys.batchRows('old'), { '2': encodeStoredRow(row(2)), '3': encodeStoredRow(row(3)) });
    // An even older row: a JSON object.
    await redis.hset(keys.batchRows('old'), '4', JSON.stringify(row(4)));
    expect(await ledger.getBatch('old')).toMatchObject({ accepted: 3 });
    expect(await lineNumbers('old')).toEqual([2, 3, 4]);
    expect(await ledger.getRow('old', 4)).toEqual(row(4));

    // The backlog still turns such rows into jobs.
    expect(
      await ledger.claim(
        'old',
        [2, 3].map((line) => ({ jobId: row(line).jobId, line })),
        'normal',
      ),
    ).toEqual(['created', 'created']);
    const take = await ledger.takeFromBacklog({ window: 10, staleMs: 5_000 });
    expect(take.rows.map((r) => [r.line, r.row])).toEqual([
      [2, row(2)],
      [3, row(3)],
    ]);

    // Enqueue writes line 3 again: it moves to a page, and the batch still has three rows.
    await ledger.recordRows('old', [{ line: 3, row: row(3) }]);
    expect(await redis.hkeys(keys.batchRows('old'))).toEqual(['2', '4']);
    expect(await ledger.getBatch('old')).toMatchObject({ accepted: 3 });
    expect(await lineNumbers('old')).toEqual([2, 3, 4]);
  });
});
