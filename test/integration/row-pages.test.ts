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

/** A link row like bench:scale's (backlog.ts's writeLinkManifest). */
function linkRow(line: number): StoredRow {
  const id = 10_000_000 + line;
  return {
    jobId: `u-${(0xabc000 + line).toString(16).padStart(32, '0')}`,
    module: 'Accounts',
    record_id: String(4_876_876_000_000_000 + id),
    file: '',
    link_url: `https://files.example.com/contracts/${id}.pdf`,
    title: `Contract ${id}`,
    extra: {},
  };
}

async function pageBytes(batch: string): Promise<number> {
  let stored = 0;
  for (const key of await redis.keys(`${name}:ledger:batch:${batch}:rows:*`)) stored += await redis.strlen(key);
  return stored;
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
    // (A hash table's order is its own: sorted.)
    expect((await redis.hkeys(keys.batchRows('old'))).sort()).toEqual(['2', '4']);
    expect(await ledger.getBatch('old')).toMatchObject({ accepted: 3 });
    expect(await lineNumbers('old')).toEqual([2, 3, 4]);
  });

  it("keeps the prefix a page's rows share once per column: a link row costs about 40 bytes of its page", async () => {
    await ledger.ensureBatch('links');
    const lines = Array.from({ length: 128 }, (_, i) => 128 + i);
    await ledger.recordRows(
      'links',
      lines.map((line) => ({ line, row: linkRow(line) })),
    );
    // One page; each row as JSON is 129 characters (its job id as 16 bytes saves 20 of them).
    expect(await redis.keys(`${name}:ledger:batch:links:rows:*`)).toEqual([`${name}:ledger:batch:links:rows:1`]);
    expect((await pageBytes('links')) / 128).toBeLessThan(45);
    for (const line of [128, 200, 255]) expect(await ledger.getRow('links', line)).toEqual(linkRow(line));
  });

  it('shortens a prefix for a row that shares less, and reads every row back exactly', async () => {
    await ledger.ensureBatch('mixed');
    const rows = new Map<number, StoredRow>();
    const write = async (list: StoredRow[], firstLine: number) => {
      const entries = list.map((row, i) => ({ line: firstLine + i, row }));
      for (const { line, row } of entries) rows.set(line, row);
      await ledger.recordRows('mixed', entries);
    };
    await write([linkRow(2), linkRow(3), linkRow(4)], 2);
    // Later rows of the same page share less in every column: another module, a file, an id of
    // another form, pass-through columns, quotes and characters beyond ASCII, an empty title.
    await write(
      [
        { ...linkRow(5), module: 'Deals', title: 'Ünïcødé "quoted" \\ title' },
        { ...linkRow(6), jobId: 'job-6', link_url: '', file: '/data/scans/2019/a.pdf', extra: { legacy: 'L-6' } },
        { ...linkRow(7), record_id: '9', title: '', extra: { legacy: 'M-7', owner: 'Ann' } },
        { ...linkRow(8), file: '/data/scans/2019/b.pdf', link_url: '' },
      ],
      5,
    );
    // Columns of every length a string header can give (up to 31 bytes, 255, 65,535 and more).
    await write(
      [
        { ...linkRow(9), title: 'é'.repeat(100), link_url: `https://files.example.com/${'x'.repeat(300)}` },
        { ...linkRow(10), title: 'long '.repeat(14_000), extra: { note: 'ü'.repeat(40_000) } },
      ],
      9,
    );
    // A line written again, with a different row.
    await write([{ ...linkRow(3), title: 'Contract' }], 3);
    // And rows in the next page, which starts its own prefixes.
    await write([linkRow(130), { ...linkRow(131), module: 'Leads' }], 130);

    for (const [line, row] of rows) expect(await ledger.getRow('mixed', line)).toEqual(row);
    expect(await ledger.getBatch('mixed')).toMatchObject({ accepted: 11, maxLine: 131 });

    // The feeder builds its jobs from the same rows.
    const lines = [...rows.keys()].sort((a, b) => a - b);
    await ledger.claim(
      'mixed',
      lines.map((line) => ({ jobId: (rows.get(line) as StoredRow).jobId, line })),
      'normal',
    );
    const take = await ledger.takeFromBacklog({ window: 20, staleMs: 5_000 });
    expect(take.rows.map((r) => [r.line, r.row])).toEqual(lines.map((line) => [line, rows.get(line)]));
  });

  it('reads a page an earlier version wrote without prefixes, and adds rows to it', async () => {
    await ledger.ensureBatch('v1');
    await redis.hset(keys.batchMeta('v1'), { maxLine: 3, accepted: 2 });
    // Then, a page held each row as its job id's 16 bytes beside the rest of its JSON, or whole.
    const rest = (row: StoredRow) => encodeStoredRow(row).slice(38);
    await redis.eval(
      `local page = {}
page[2] = { ARGV[1], ARGV[2] }
page[3] = ARGV[3]
redis.call('SET', KEYS[1], cmsgpack.pack(page))`,
      1,
      `${keys.batchRows('v1')}:0`,
      Buffer.from(linkRow(2).jobId.slice(2), 'hex'),
      rest(linkRow(2)),
      encodeStoredRow({ ...linkRow(3), jobId: 'job-3' }),
    );
    expect(await ledger.getRow('v1', 2)).toEqual(linkRow(2));
    expect(await ledger.getRow('v1', 3)).toEqual({ ...linkRow(3), jobId: 'job-3' });

    await ledger.recordRows('v1', [
      { line: 4, row: linkRow(4) },
      { line: 5, row: { ...linkRow(5), module: 'Leads' } },
    ]);
    expect(await ledger.getRow('v1', 2)).toEqual(linkRow(2));
    expect(await ledger.getRow('v1', 3)).toEqual({ ...linkRow(3), jobId: 'job-3' });
    expect(await ledger.getRow('v1', 4)).toEqual(linkRow(4));
    expect(await ledger.getRow('v1', 5)).toEqual({ ...linkRow(5), module: 'Leads' });
    expect(await ledger.getBatch('v1')).toMatchObject({ accepted: 4, maxLine: 5 });
  });
});
