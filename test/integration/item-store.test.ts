/**
 * The packed item store (issue 14, item 2): items and attachment owners are fields of bucket
 * hashes, not keys of their own; every value survives the packing; what older versions wrote
 * (a hash per item, one owners hash) is still read, and moved when next written. Real Redis.
 */
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ITEM_FIELDS, readItems, setItemFields } from '../../src/ledger/item-store.js';
import { Ledger } from '../../src/ledger/ledger.js';
import { keyNames, type KeyNames } from '../../src/shared/key-names.js';
import { newPostingToken } from '../../src/upload/lease-keeper.js';
import { createPipelineWorld, type PipelineWorld } from '../helpers/pipeline.js';
import { enqueueManifest, runWorkersUntilIdle } from '../helpers/queue-runs.js';
import { deleteKeysContaining, testRedis, uniqueName } from '../helpers/redis.js';

let redis: Redis;
let name: string;
let keys: KeyNames;
let ledger: Ledger;
let clock: number;

beforeEach(() => {
  redis = testRedis();
  name = uniqueName('items');
  keys = keyNames(name);
  clock = 1_733_300_000_000;
  ledger = new Ledger(redis, keys, () => clock);
});
afterEach(async () => {
  await deleteKeysContaining(redis, name);
  redis.disconnect();
});

const JOB = 'u-0123456789abcdef0123456789abcdef';

/** Every key the test made, by name. */
async function keysMade(): Promise<string[]> {
  return (await redis.keys(`*${name}*`)).sort();
}

describe('the packed item store', () => {
  it('keeps a waiting row as a few bytes of a bucket hash, not a key of its own', async () => {
    const ids = Array.from({ length: 20 }, (_, i) => `u-${i.toString(16).padStart(4, '0')}${'ab'.repeat(14)}`);
    await ledger.ensureBatch('b');
    await ledger.recordRows(
      'b',
      ids.map((jobId, i) => ({
        line: i + 2,
        row: {
          jobId,
          module: 'Leads',
          record_id: String(i),
          file: '',
          link_url: 'https://x.test/',
          title: '',
          extra: {},
        },
      })),
    );
    // A queue begun with this layout never looks for an older one.
    expect(await redis.get(keys.ledgerLayout)).toBe('packed');
    expect(
      await ledger.claim(
        'b',
        ids.map((jobId, i) => ({ jobId, line: i + 2 })),
        'normal',
      ),
    ).toEqual(ids.map(() => 'created'));
    const made = await keysMade();
    expect(made.filter((k) => k.includes(':ledger:item:'))).toEqual([]);
    // The last four characters of the id choose the bucket: these twenty ids share one.
    const buckets = made.filter((k) => k.includes(':ledger:items:'));
    expect(buckets).toEqual([`${name}:ledger:items:abab`]);
    expect(await redis.hlen(buckets[0] as string)).toBe(20);
    expect(await redis.object('ENCODING', buckets[0] as string)).toBe('listpack');
    // Status, batch and creation time, packed: far below the 64 bytes a listpack value may hold.
    const values = await redis.hvals(buckets[0] as string);
    expect(Math.max(...values.map((v) => Buffer.byteLength(v, 'latin1')))).toBeLessThanOrEqual(20);
    expect(await ledger.getItems([ids[0] as string])).toEqual([
      { status: 'pending', batch: 'b', attempts: 0, createdAt: clock, updatedAt: clock },
    ]);
  });

  it('gives back every value it was given, whatever its form', async () => {
    await ledger.claim('b', [{ jobId: JOB, line: 2 }], 'normal');
    const script = `${(await import('../../src/ledger/item-store.js')).ITEM_STORE_LUA}
itemSet(KEYS[1], unpack(ARGV))
return 1`;
    const values: Record<string, string> = {};
    for (const [i, field] of ITEM_FIELDS.entries()) values[field] = `value ${i}`;
    Object.assign(values, {
      status: 'dead',
      how: 'adopted',
      createdAt: '1733300000000',
      attempts: '0',
      bytes: '007',
      errorHttpStatus: '',
      attachmentId: '5725767000000652001',
      undoneAttachmentId: '12345678901234567890',
      uploadedAt: '1733300000999',
      firstAttemptAt: '1733300000000',
      // Before the row was created (a clock moved): kept as it is.
      pendingSince: '1733299999999',
      sha256: 'ab'.repeat(32),
      sentSha256s: `${'cd'.repeat(32)},${'ef'.repeat(32)}`,
      errorMessage: 'ünïcödé\n"quoted"',
      verifyRow: JSON.stringify({ a: [1, 2] }),
      aFieldOfALaterVersion: 'kept',
    });
    await redis.eval(script, 1, keys.ledgerItem(JOB), ...Object.entries(values).flat());
    const [stored] = await readItems(redis, keys, [JOB]);
    expect(stored).toEqual(values);

    // A typical finished row: small enough for an 80-byte allocation (its bucket's hash table keeps
    // one per row), almost half of it the sha256; the batch's name is a number.
    const finished = 'u-00000000000000000000000000000001';
    await ledger.claim('b', [{ jobId: finished, line: 3 }], 'normal');
    clock += 3_600_000;
    await ledger.startAttempt(finished, 1, { token: 'a-posting-token-0123456789', staleMs: 30_000 });
    clock += 2_000;
    await ledger.markUploaded(finished, {
      attachmentId: '5725767000000652001',
      attempt: 1,
      how: 'uploaded',
      sha256: 'ef'.repeat(32),
      bytes: 1_234_567,
    });
    const bucket = `${name}:ledger:items:0001`;
    const [packed] = await redis.hvalsBuffer(bucket);
    expect(packed?.length).toBeLessThanOrEqual(76);
    expect((await ledger.getItems([finished]))[0]).toEqual({
      status: 'uploaded',
      batch: 'b',
      attempts: 1,
      attachmentId: '5725767000000652001',
      sha256: 'ef'.repeat(32),
      bytes: 1_234_567,
      how: 'uploaded',
      createdAt: 1_733_300_000_000,
      firstAttemptAt: 1_733_303_600_000,
      uploadedAt: 1_733_303_602_000,
      updatedAt: 1_733_303_602_000,
    });

    // An uploaded row's updatedAt is stored once with its uploadedAt, and still read back.
    await redis.eval(script, 1, keys.ledgerItem(JOB), 'uploadedAt', '1733300000999', 'updatedAt', '1733300000999');
    expect((await readItems(redis, keys, [JOB]))[0]).toMatchObject({
      uploadedAt: '1733300000999',
      updatedAt: '1733300000999',
    });
    await redis.eval(script, 1, keys.ledgerItem(JOB), 'updatedAt', '1733300005000');
    expect((await readItems(redis, keys, [JOB]))[0]).toMatchObject({ updatedAt: '1733300005000' });
  });

  it('owners: an attachment id names its row, any job id form', async () => {
    for (const jobId of [JOB, 'job-1', 'a-job-id-of-16-c']) {
      await ledger.claim('b', [{ jobId, line: 2 }], 'normal');
      const attachment = `57257670000006${jobId.length}01`;
      expect(await ledger.markUploaded(jobId, { attachmentId: attachment, attempt: 1, how: 'uploaded' })).toEqual({
        result: 'ok',
      });
      expect(await ledger.ownersOf([attachment, '1'])).toEqual([jobId, undefined]);
    }
  });

  it('reads items and owners an earlier version wrote, and moves them when it next writes them', async () => {
    const legacyItem = `${name}:ledger:item:${JOB}`;
    const legacyOwners = `${name}:ledger:attachment-owners`;
    const uploaded = 'u-ffffffffffffffffffffffffffffffff';
    await redis.hset(legacyItem, { status: 'pending', batch: 'old', attempts: '2', createdAt: '5', errorCode: 'X' });
    await redis.hset(`${name}:ledger:item:${uploaded}`, {
      status: 'uploaded',
      batch: 'old',
      attachmentId: '900',
      sha256: 'ab'.repeat(32),
    });
    await redis.hset(legacyOwners, '900', uploaded);
    // The queue had a batch before the upgrade: its ledger is noted as holding the older layout.
    await redis.zadd(keys.batches, 1, 'old');
    await ledger.ensureBatch('b');
    expect(await redis.get(keys.ledgerLayout)).toBe('packed+legacy');

    expect(await ledger.getItems([JOB, uploaded])).toMatchObject([
      { status: 'pending', batch: 'old', attempts: 2, errorCode: 'X' },
      { status: 'uploaded', attachmentId: '900', sha256: 'ab'.repeat(32) },
    ]);
    expect(await ledger.ownersOf(['900'])).toEqual([uploaded]);
    // The uploaded row is not queued again, and reading moved nothing.
    expect(await ledger.claim('b', [{ jobId: uploaded, line: 3 }], 'normal')).toEqual(['uploaded']);
    expect(await redis.exists(legacyItem)).toBe(1);

    // A write moves the item into its bucket and deletes the old hash.
    expect(await ledger.markUploaded(JOB, { attachmentId: '901', attempt: 3, how: 'uploaded' })).toEqual({
      result: 'ok',
    });
    expect(await redis.exists(legacyItem)).toBe(0);
    expect(await ledger.getItems([JOB])).toMatchObject([{ status: 'uploaded', batch: 'old', attachmentId: '901' }]);
    // Another row cannot adopt the attachment the old owners hash gives to `uploaded`.
    expect(await ledger.markUploaded(JOB, { attachmentId: '900', attempt: 4, how: 'adopted' })).toEqual({
      result: 'other',
      attachmentId: '901',
    });
    // Forgetting the batch forgets its row wherever it was kept.
    expect(await ledger.forgetItems('old', [JOB, uploaded])).toBe(2);
    expect(await ledger.ownersOf(['900', '901'])).toEqual([undefined, undefined]);
    expect(await keysMade()).not.toContain(legacyItem);
    expect((await keysMade()).filter((k) => k.includes(':ledger:item'))).toEqual([]);
  });
});

describe('buckets through an upload', () => {
  it("keep a finished file row's sent name only while a verification needs it", async () => {
    const other = 'u-0123456789abcdef0123456789abcdee';
    await ledger.ensureBatch('b');
    await ledger.claim(
      'b',
      [
        { jobId: JOB, line: 2 },
        { jobId: other, line: 3 },
      ],
      'normal',
    );
    const upload = { attempt: 1, how: 'uploaded' as const, sha256: 'ab'.repeat(32), bytes: 250_000 };
    const fileName = 'contract-2019-03-12-signed-by-both.pdf';
    await ledger.markUploaded(JOB, { ...upload, attachmentId: '4876876000000000001', fileName });
    await ledger.markUploaded(other, {
      ...upload,
      attachmentId: '4876876000000000002',
      fileName,
      verifyAt: clock + 120_000,
      verifyRow: { module: 'Leads' },
    });
    const [plain, verifying] = await ledger.getItems([JOB, other]);
    expect(plain).toMatchObject({ status: 'uploaded', sha256: 'ab'.repeat(32), bytes: 250_000 });
    expect(plain?.sentName).toBeUndefined();
    expect(verifying).toMatchObject({ status: 'uploaded', sentName: fileName });
    // The outcome alone: the status, batch, times, attachment id (10 bytes), sha256 (32) and size.
    const [value] = await redis.hvalsBuffer(`${name}:ledger:items:cdef`);
    expect(value?.length).toBeLessThanOrEqual(72);
  });

  it('hold a row in flight in at most 64 bytes, even 24 days after it was enqueued', async () => {
    await ledger.ensureBatch('b');
    await ledger.claim('b', [{ jobId: JOB, line: 2 }], 'normal');
    // Times are kept as distances from the row's creation: 5 bytes each up to 2^31 ms (24.8 days), 9 beyond.
    const day = 86_400_000;
    clock += 23 * day;
    await setItemFields(redis, keys, JOB, { fedAt: String(clock) });
    clock += day;
    const started = await ledger.startAttempt(JOB, 1, { token: newPostingToken(), staleMs: 30_000 });
    expect(started.verdict).toBe('go');
    expect((await ledger.getItems([JOB]))[0]).toMatchObject({ pendingSince: clock, fedAt: clock - day });
    const [bucket] = await redis.keys(`${name}:ledger:items:*`);
    const [value] = await redis.hvals(bucket as string);
    expect(Buffer.byteLength(value as string, 'latin1')).toBeLessThanOrEqual(64);
  });

  let world: PipelineWorld | undefined;
  afterEach(async () => {
    await world?.cleanup();
    world = undefined;
  });

  it("stay compact (listpack) once a worker has posted and finished their link rows: an attempt's posting lease fits too", async () => {
    // Redis turns a bucket into a hash table once any value passes 64 bytes, and never turns it back:
    // a row in flight (its lease's token and times) must fit as well as a finished one.
    const w = await createPipelineWorld();
    world = w;
    const lines = ['module,record_id,link_url'];
    for (let i = 0; i < 30; i++) lines.push(`Leads,${100 + i},https://example.com/doc/${i}`);
    await enqueueManifest(w, await w.writeFile('links.csv', `${lines.join('\n')}\n`), 'links');
    await runWorkersUntilIdle(w);
    expect(w.fake.inspect().attachments).toHaveLength(30);

    const buckets = (await redis.keys(`${w.queueName}:ledger:items:*`)).sort();
    expect(buckets.length).toBeGreaterThan(0);
    const encodings = await Promise.all(buckets.map((bucket) => redis.object('ENCODING', bucket)));
    expect(new Set(encodings)).toEqual(new Set(['listpack']));
  });
});
