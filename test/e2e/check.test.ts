/**
 * `zoho-attach check`, as a user runs it: the built CLI, a real Redis, the fake Zoho over HTTP.
 * The tests tamper with Zoho behind the tool's back (an attachment deleted, a copy added) and with
 * the ledger's memory of what was sent, and check must name each row that differs.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { setItemFields } from '../../src/ledger/item-store.js';
import { keyNames } from '../../src/shared/key-names.js';
import { createPipelineWorld, runCli, type PipelineWorld } from '../helpers/pipeline.js';
import { attachmentsUrl, auth, mintToken, send, uploadFile } from '../helpers/fake-zoho-requests.js';
import { runWorkersUntilIdle, withQueue } from '../helpers/queue-runs.js';
import { testRedis } from '../helpers/redis.js';

let world: PipelineWorld | undefined;
afterEach(async () => {
  await world?.cleanup();
  world = undefined;
});

/** Five file rows on five records, a link row, and a row Zoho refuses (a dead letter); uploaded. */
async function uploadedBatch(): Promise<PipelineWorld> {
  const w = await createPipelineWorld();
  world = w;
  const lines = ['module,record_id,file,link_url'];
  for (let i = 1; i <= 5; i++) {
    await w.writeFile(`f${i}.txt`, `contract ${i}`);
    lines.push(`Leads,${700 + i},f${i}.txt,`);
  }
  lines.push('Leads,706,,https://example.com/wiki/706', 'Widgets,707,f1.txt,');
  const manifest = await w.writeFile('m.csv', `${lines.join('\n')}\n`);
  expect((await runCli(['enqueue', manifest, '--batch', 'moved'], w.env, w.dir)).code).toBe(0);
  await runWorkersUntilIdle(w);
  expect(w.fake.inspect().attachments).toHaveLength(6);
  return w;
}

/** The rows of `check`'s table: line → status. */
function table(stdout: string): Map<number, string> {
  const rows = new Map<number, string>();
  for (const match of stdout.matchAll(/^\s+(\d+)\s+(\d+)\s+(\w+)\s/gm)) rows.set(Number(match[1]), match[3] as string);
  return rows;
}

describe('zoho-attach check', () => {
  it('passes an untouched batch, saying first what it will spend', async () => {
    const w = await uploadedBatch();
    const check = await runCli(['check', '--batch', 'moved'], w.env, w.dir);
    expect(check.code, check.stdout + check.stderr).toBe(0);
    expect(check.stderr).toMatch(/7 rows, 6 uploaded on 6 records; this spends at least 6 API calls/);
    expect(check.stdout).toMatch(/6 ok, 0 missing, 0 extra, 0 mismatch, 0 unchecked, 1 dead, 0 pending \(6 listings\)/);
    expect(check.stdout).toContain('check passed');
  });

  it('names the row whose attachment was removed and the row with a copy added, exits 1, and --repair uploads the missing one again', async () => {
    const w = await uploadedBatch();
    const token = await mintToken(w.fake);
    const stored = w.fake.inspect().attachments;
    const removed = stored.find((a) => a.recordId === '702')!;
    const deleted = await send(attachmentsUrl(w.fake, { recordId: '702' }, `/${removed.id}`), {
      method: 'DELETE',
      headers: auth(token),
    });
    expect(deleted.status).toBe(200);
    // Someone uploads the same file to record 703 once more.
    const copied = stored.find((a) => a.recordId === '703')!;
    const copy = await uploadFile(
      w.fake,
      token,
      { fileName: copied.fileName, content: 'contract 3' },
      { recordId: '703' },
    );
    expect(copy.status).toBe(200);

    const check = await runCli(['check', '--batch', 'moved'], w.env, w.dir);
    expect(check.code).toBe(1);
    expect(table(check.stdout)).toEqual(
      new Map([
        [3, 'missing'],
        [4, 'extra'],
      ]),
    );
    expect(check.stdout).toMatch(
      new RegExp(`3\\s+702\\s+missing\\s+Leads: .*f2\\.txt — attachment ${removed.id} is no longer`),
    );
    expect(check.stdout).toMatch(/4\s+703\s+extra\s+.*1 more copy of the row's file no row owns/);
    expect(check.stdout).toContain('check FAILED');

    const repaired = await runCli(['check', '--batch', 'moved', '--repair'], w.env, w.dir);
    expect(repaired.stdout).toMatch(/repair: 1 missing row\(s\) queued again/);
    await runWorkersUntilIdle(w);
    const after = await runCli(['check', '--batch', 'moved', '--json'], w.env, w.dir);
    const result = JSON.parse(after.stdout) as { counts: Record<string, number>; differing: Array<{ line: number }> };
    // The missing row is back; the extra copy is still reported (check never deletes).
    expect(result.counts).toMatchObject({ ok: 5, missing: 0, extra: 1, dead: 1 });
    expect(result.differing.map((d) => d.line)).toEqual([4]);
    expect(w.fake.inspect().attachments.filter((a) => a.recordId === '702')).toHaveLength(1);
    expect(after.code).toBe(1);

    // The batch keeps its last check, for status and the dashboard.
    const meta = await withQueue(w, (queue) => queue.ledger.getBatch('moved'));
    expect(meta?.lastCheck).toMatchObject({ passed: false, counts: { extra: 1, ok: 5 } });
  });

  it('--deep downloads the files and names a row whose stored bytes are not what was sent', async () => {
    const w = await uploadedBatch();
    const check = await runCli(['check', '--batch', 'moved', '--deep'], w.env, w.dir);
    expect(check.code, check.stdout).toBe(0);
    expect(check.stderr).toMatch(/at least 11 API calls \(6 listings.*, 5 downloads\)/);
    expect(check.stdout).toMatch(/\(6 listings, 5 downloads\)/);

    // The ledger remembers other bytes for line 5 than Zoho holds.
    const jobId = await withQueue(w, async (queue) => {
      for await (const entry of queue.ledger.readRows('moved'))
        if ('row' in entry && entry.line === 5) return entry.row.jobId;
      throw new Error('no line 5');
    });
    const redis = testRedis();
    try {
      await setItemFields(redis, keyNames(w.queueName), jobId, { sha256: '0'.repeat(64) });
    } finally {
      redis.disconnect();
    }
    const deep = await runCli(['check', '--batch', 'moved', '--deep'], w.env, w.dir);
    expect(deep.code).toBe(1);
    expect(table(deep.stdout)).toEqual(new Map([[5, 'mismatch']]));
    expect(deep.stdout).toMatch(/the ledger sent 0{64}/);
  });

  it('refuses an unknown batch by name', async () => {
    world = await createPipelineWorld();
    const check = await runCli(['check', '--batch', 'nope'], world.env, world.dir);
    expect(check.code).toBe(1);
    expect(check.stderr).toContain('[NO_SUCH_BATCH] no batch named "nope"');
  });
});
