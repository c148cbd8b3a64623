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

    // A typical finished row: within the 64 bytes that keep its bucket compact, half of it the sha256;
    // the batch's name is a number.
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
    expect(packed?.length).toBeLessThanOrEqual(64);
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
    // The outcome alone: the state, batch, times, sha256 and attachment id (40 bytes) and size.
    const [value] = await redis.hvalsBuffer(`${name}:ledger:items:cdef`);
    expect(value?.length).toBeLessThanOrEqual(64);
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

describe('a finished row in 64 bytes (format 2)', () => {
  const DAY = 86_400_000;
  const ZOHO_ID = '5725767000000652001';
  const SHA = 'e3'.repeat(32);

  /** What a u- job id's item takes in its bucket, and the bucket's encoding. */
  async function storedItem(jobId: string): Promise<{ bytes: number; encoding: unknown }> {
    const bucket = `${name}:ledger:items:${jobId.slice(-4)}`;
    return {
      bytes: await redis.hstrlen(bucket, Buffer.from(jobId.slice(2, 30), 'hex')),
      encoding: await redis.object('ENCODING', bucket),
    };
  }

  async function upload(jobId: string, attempt: number, took: number, row: { attachmentId: string; bytes?: number }) {
    expect((await ledger.startAttempt(jobId, attempt, { token: newPostingToken(), staleMs: 30_000 })).verdict).toBe(
      'go',
    );
    clock += took;
    const sha256 = row.bytes === undefined ? {} : { sha256: SHA };
    expect(await ledger.markUploaded(jobId, { ...row, ...sha256, attempt, how: 'uploaded' })).toEqual({ result: 'ok' });
  }

  it('keeps a finished file row in 64 bytes or less (its bucket compact) and reads every value back, even 40 days into its batch', async () => {
    const first = 'u-000000000000000000000000000000a0';
    const typical = 'u-000000000000000000000000000000a1';
    const link = 'u-000000000000000000000000000000a2';
    const late = 'u-000000000000000000000000000000a3';
    const t0 = clock;
    await ledger.ensureBatch('b');
    await ledger.claim('b', [{ jobId: first, line: 2 }], 'normal');
    // Enqueued with the batch's first row, first tried hours later, uploaded in seconds.
    clock += 20_000;
    await ledger.claim(
      'b',
      [
        { jobId: typical, line: 3 },
        { jobId: link, line: 4 },
      ],
      'normal',
    );
    clock += 5 * 3_600_000;
    await upload(typical, 1, 4_000, { attachmentId: ZOHO_ID, bytes: 3_500_000 });
    // Uploaded on its sixth attempt: too many for the state byte, one byte more.
    await upload(link, 6, 4_000, { attachmentId: '5725767000000652002' });
    // The far end: created 40 days after the batch's first row, first tried 20 days later, a file of 4 GiB - 1.
    clock = t0 + 40 * DAY;
    await ledger.claim('b', [{ jobId: late, line: 5 }], 'normal');
    clock += 20 * DAY;
    await upload(late, 3, 60_000, { attachmentId: '9999999999999999999', bytes: 4_294_967_295 });

    const created = t0 + 20_000;
    const firstTry = created + 5 * 3_600_000;
    expect(await ledger.getItems([typical, link, late])).toEqual([
      {
        status: 'uploaded',
        batch: 'b',
        attempts: 1,
        attachmentId: ZOHO_ID,
        sha256: SHA,
        bytes: 3_500_000,
        how: 'uploaded',
        createdAt: created,
        firstAttemptAt: firstTry,
        uploadedAt: firstTry + 4_000,
        updatedAt: firstTry + 4_000,
      },
      {
        status: 'uploaded',
        batch: 'b',
        attempts: 6,
        attachmentId: '5725767000000652002',
        how: 'uploaded',
        createdAt: created,
        firstAttemptAt: firstTry + 4_000,
        uploadedAt: firstTry + 8_000,
        updatedAt: firstTry + 8_000,
      },
      {
        status: 'uploaded',
        batch: 'b',
        attempts: 3,
        attachmentId: '9999999999999999999',
        sha256: SHA,
        bytes: 4_294_967_295,
        how: 'uploaded',
        createdAt: t0 + 40 * DAY,
        firstAttemptAt: t0 + 60 * DAY,
        uploadedAt: t0 + 60 * DAY + 60_000,
        updatedAt: t0 + 60 * DAY + 60_000,
      },
    ]);
    // state 1, batch 1, createdAt 3 (5 at 40 days), sha256 and attachment id 42, bytes 5, first attempt 5,
    // upload 3, the array's header 1.
    expect(await storedItem(typical)).toEqual({ bytes: 61, encoding: 'listpack' });
    expect(await storedItem(late)).toEqual({ bytes: 63, encoding: 'listpack' });
    // No sha256 and no size: the attachment id alone, 9 bytes; attempts 1 byte.
    expect(await storedItem(link)).toEqual({ bytes: 25, encoding: 'listpack' });
  });

  it('reads what format 1 wrote, small times of a mocked clock too, and writes it again smaller, every value the same', async () => {
    // The batch numbered as a version before numbered it: with no epoch.
    await redis.hset(`${name}:ledger:batch-ids`, '', '1', 'b', '1');
    await redis.hset(`${name}:ledger:batch-names`, '1', 'b');
    // A finished row of a 1 KiB file as format 1 packed it: status, batch, createdAt (9 bytes), attempts, the
    // attachment id in packed decimal (11), sha256 (34), bytes, how, uploadedAt (the distance, negated).
    const fileRow = 'u-0000000000000000000000000000f001';
    const fileValue = Buffer.from(
      `990201cf000001a24155c44901aa05725767000000652001d920${'ab'.repeat(32)}cd040001d2fff6d82c`,
      'hex',
    );
    // An adopted row of a mocked clock's small times, its 16-digit id in packed decimal: 8 bytes, as long as
    // format 2's binary ids (the format, not the length, tells them apart). Uploaded, batch 1, createdAt 1000,
    // attempts 2, the id, no sha256 or bytes, adopted, uploadedAt 6000 and firstAttemptAt 3000 (distances,
    // negated), no updatedAt or fedAt, pendingSince 1000.
    const smallRow = 'u-0000000000000000000000000000f002';
    const smallValue = Buffer.from('9d0201cd03e802a81234567890123456c2c202d1ec77d1f82fc2c2ff', 'hex');
    for (const [jobId, value] of [
      [fileRow, fileValue],
      [smallRow, smallValue],
    ] as const)
      await redis.hset(`${name}:ledger:items:${jobId.slice(-4)}`, Buffer.from(jobId.slice(2, 30), 'hex'), value);
    // Over 64 bytes: its bucket is a hash table already, and stays one.
    expect((await storedItem(fileRow)).bytes).toBe(67);

    const expected = [
      {
        status: 'uploaded',
        batch: 'b',
        createdAt: '1796392469577',
        attempts: '1',
        attachmentId: ZOHO_ID,
        sha256: 'ab'.repeat(32),
        bytes: '1024',
        how: 'uploaded',
        uploadedAt: '1796393069596',
        updatedAt: '1796393069596',
      },
      {
        status: 'uploaded',
        batch: 'b',
        createdAt: '1000',
        attempts: '2',
        attachmentId: '1234567890123456',
        how: 'adopted',
        uploadedAt: '6000',
        firstAttemptAt: '3000',
        updatedAt: '6000',
        pendingSince: '1000',
      },
    ];
    expect(await readItems(redis, keys, [fileRow, smallRow])).toEqual(expected);
    // Any write packs the item again, in format 2; the batch gets its epoch from the first item packed.
    await setItemFields(redis, keys, fileRow, { attempts: '1' });
    await setItemFields(redis, keys, smallRow, { attempts: '2' });
    expect(await readItems(redis, keys, [fileRow, smallRow])).toEqual(expected);
    expect(await redis.hgetall(`${name}:ledger:batch-epochs`)).toEqual({ '1': '1796392469577' });
    // 67 bytes less the absolute createdAt (8), the packed decimal (2), a string header (1), how and attempts (in
    // the state: 2), plus the gap where format 2 keeps a first attempt (1).
    expect((await storedItem(fileRow)).bytes).toBe(55);
  });

  it("keeps a row's createdAt when it is queued again into another batch, before that batch's epoch", async () => {
    clock = 1_000;
    await ledger.ensureBatch('a');
    await ledger.claim('a', [{ jobId: JOB, line: 2 }], 'normal');
    clock += 2_000;
    await upload(JOB, 1, 3_000, { attachmentId: ZOHO_ID, bytes: 70_000 });
    clock += 10 * DAY;
    const requeuedAt = clock;
    await ledger.ensureBatch('c');
    expect(await ledger.claim('c', [{ jobId: JOB, line: 7 }], 'reupload')).toEqual(['requeued']);
    expect((await ledger.getItems([JOB]))[0]).toEqual({
      status: 'pending',
      batch: 'c',
      attempts: 0,
      createdAt: 1_000,
      updatedAt: requeuedAt,
    });
    expect(await redis.hgetall(`${name}:ledger:batch-epochs`)).toEqual({ '1': '1000', '2': String(requeuedAt) });

    clock += 60_000;
    await upload(JOB, 1, 2_500, { attachmentId: '5725767000000652999', bytes: 70_000 });
    expect((await ledger.getItems([JOB]))[0]).toEqual({
      status: 'uploaded',
      batch: 'c',
      attempts: 1,
      attachmentId: '5725767000000652999',
      sha256: SHA,
      bytes: 70_000,
      how: 'uploaded',
      createdAt: 1_000,
      firstAttemptAt: requeuedAt + 60_000,
      uploadedAt: requeuedAt + 62_500,
      updatedAt: requeuedAt + 62_500,
    });
    // createdAt 10 days before its batch's epoch: 5 bytes, as 10 days after would be.
    expect(await storedItem(JOB)).toEqual({ bytes: 63, encoding: 'listpack' });
  });

  it('keeps an attachment id of 16 to 20 digits below 2^64 in 8 bytes, and any other as it was given', async () => {
    const script = `${(await import('../../src/ledger/item-store.js')).ITEM_STORE_LUA}
itemSet(KEYS[1], unpack(ARGV))
return 1`;
    const binary = ['1000000000000000', '9007199254740993', ZOHO_ID, '9999999999999999999', '18446744073709551615'];
    const other = ['18446744073709551616', '123456789012345678901', '999999999999999', '42', '0123', 'x'];
    const lengths = new Map<string, number>();
    for (const [i, id] of [...binary, ...other].entries()) {
      const jobId = `u-${i.toString(16).padStart(32, '0')}`;
      const values = {
        status: 'uploaded',
        batch: 'b',
        createdAt: String(clock),
        attachmentId: id,
        undoneAttachmentId: id,
        sha256: SHA,
      };
      await redis.eval(script, 1, keys.ledgerItem(jobId), ...Object.entries(values).flat());
      expect((await readItems(redis, keys, [jobId]))[0]).toEqual(values);
      lengths.set(id, (await storedItem(jobId)).bytes);
    }
    // Whatever its digits, such an id takes 8 bytes (and shares its string header with the sha256).
    expect(new Set(binary.map((id) => lengths.get(id)))).toEqual(new Set([lengths.get(ZOHO_ID)]));
    expect(lengths.get('18446744073709551616')).toBeGreaterThan(lengths.get(ZOHO_ID) as number);
  });
});
