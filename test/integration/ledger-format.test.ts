/**
 * The ledger's format mark (ledger/ledger-format.ts): every process notes the format it writes,
 * and a process of an older version refuses a queue a newer one wrote to instead of misreading
 * its items (an item it cannot read is an absent row to it, which an enqueue would queue again).
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { LEDGER_FORMAT } from '../../src/ledger/ledger-format.js';
import { UploadQueue } from '../../src/queue/upload-queue.js';
import { keyNames } from '../../src/shared/key-names.js';
import { createPipelineWorld, runCli, type PipelineWorld } from '../helpers/pipeline.js';
import { testRedis } from '../helpers/redis.js';

let world: PipelineWorld | undefined;
const redis = testRedis();
afterEach(async () => {
  await world?.cleanup();
  world = undefined;
});

/** The keys of the world's queue that exist now. */
async function queueKeys(w: PipelineWorld): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `*${w.queueName}*`, 'COUNT', 1000);
    cursor = next;
    found.push(...keys);
  } while (cursor !== '0');
  return found.sort();
}

describe('the ledger format mark', () => {
  it("is set to this version's format by the first process to open a queue", async () => {
    const w = (world = await createPipelineWorld());
    const uploadQueue = await UploadQueue.open(w.config);
    await uploadQueue.close();
    expect(LEDGER_FORMAT).toBe(2);
    expect(await redis.get(keyNames(w.queueName).ledgerFormat)).toBe(String(LEDGER_FORMAT));
  });

  it('is raised from an older format, which this version reads', async () => {
    const w = (world = await createPipelineWorld());
    await redis.set(keyNames(w.queueName).ledgerFormat, '1');
    const uploadQueue = await UploadQueue.open(w.config);
    await uploadQueue.close();
    expect(await redis.get(keyNames(w.queueName).ledgerFormat)).toBe(String(LEDGER_FORMAT));
  });

  it('refuses a queue a newer version wrote to, saying which formats and what to do, and writes nothing', async () => {
    const w = (world = await createPipelineWorld());
    const mark = keyNames(w.queueName).ledgerFormat;
    await redis.set(mark, String(LEDGER_FORMAT + 1));
    await expect(UploadQueue.open(w.config)).rejects.toMatchObject({
      code: 'LEDGER_FORMAT_NEWER',
      message: expect.stringContaining(`holds ledger format ${LEDGER_FORMAT + 1}, written by a newer zoho-attach`),
    });
    expect(await redis.get(mark)).toBe(String(LEDGER_FORMAT + 1));
    expect(await queueKeys(w)).toEqual([mark]);
  });

  it('stops every command, e.g. an enqueue, before it reads or writes anything', async () => {
    const w = (world = await createPipelineWorld());
    const mark = keyNames(w.queueName).ledgerFormat;
    await redis.set(mark, String(LEDGER_FORMAT + 1));
    await w.writeFile('files/a.pdf', 'a');
    const manifest = await w.writeFile('m.csv', 'module,record_id,file\nLeads,1,files/a.pdf\n');
    const result = await runCli(['enqueue', manifest, '--batch', 'b'], w.env, w.dir);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('LEDGER_FORMAT_NEWER');
    expect(result.stderr).toContain(`this version reads format ${LEDGER_FORMAT} at most`);
    expect(await queueKeys(w)).toEqual([mark]);

    // doctor says so, and how to fix it.
    const doctor = await runCli(['doctor'], w.env, w.dir);
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toMatch(
      new RegExp(
        `✗ Ledger format: queue "[^"]+" holds ledger format ${LEDGER_FORMAT + 1}, written by a newer zoho-attach; this version reads format ${LEDGER_FORMAT} at most: every command of this version refuses the queue`,
      ),
    );
    expect(doctor.stdout).toContain('every process of a queue runs one version');
  });

  it('refuses a mark that is not a format number, leaves it as it is, and doctor says which key to delete', async () => {
    const w = (world = await createPipelineWorld());
    const mark = keyNames(w.queueName).ledgerFormat;
    await redis.set(mark, 'v3');
    await expect(UploadQueue.open(w.config)).rejects.toMatchObject({
      code: 'LEDGER_FORMAT_UNREADABLE',
      message: expect.stringContaining('holds "v3" as its ledger format mark, not a format number'),
    });
    expect(await redis.get(mark)).toBe('v3');
    expect(await queueKeys(w)).toEqual([mark]);

    const doctor = await runCli(['doctor'], w.env, w.dir);
    expect(doctor.code).toBe(1);
    expect(doctor.stdout).toContain('✗ Ledger format: queue');
    expect(doctor.stdout).toContain('holds "v3" as its ledger format mark');
    expect(doctor.stdout).toContain(`delete the key ${mark}`);

    // Deleted by hand, as doctor says: the next process sets it again.
    await redis.del(mark);
    const uploadQueue = await UploadQueue.open(w.config);
    await uploadQueue.close();
    expect(await redis.get(mark)).toBe(String(LEDGER_FORMAT));
  });
});

afterAll(() => redis.disconnect());
