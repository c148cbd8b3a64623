/**
 * `zoho-attach undo`, as a user runs it (the built CLI), against the fake Zoho over HTTP and a
 * real Redis: it deletes exactly what the batch created. Attachments that were on the records
 * before, that another batch uploaded, and that a person added afterwards all survive.
 */
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { undoCommand } from '../../src/cli/commands/undo.js';
import { createPipelineWorld, runCli, type PipelineWorld } from '../helpers/pipeline.js';
import { attachmentsUrl, auth, mintToken, send, uploadFile } from '../helpers/fake-zoho-requests.js';
import { runWorkersUntilIdle, withQueue } from '../helpers/queue-runs.js';

let world: PipelineWorld | undefined;
afterEach(async () => {
  await world?.cleanup();
  world = undefined;
});

/**
 * Record 801 holds a person's file from before; batch `other` uploads to 802 (and a row batch
 * `moved` repeats); batch `moved` uploads four rows to 801–804; then a person adds a file to 803.
 */
async function setUp() {
  const w = await createPipelineWorld();
  world = w;
  const token = await mintToken(w.fake);
  const before = await uploadFile(w.fake, token, { fileName: 'before.pdf', content: 'old' }, { recordId: '801' });
  expect(before.status).toBe(200);
  for (let i = 1; i <= 4; i++) await w.writeFile(`f${i}.txt`, `moved ${i}`);
  await w.writeFile('shared.txt', 'shared');
  const other = await w.writeFile('other.csv', 'module,record_id,file\nLeads,802,shared.txt\n');
  expect((await runCli(['enqueue', other, '--batch', 'other'], w.env, w.dir)).code).toBe(0);
  await runWorkersUntilIdle(w);
  const lines = [
    'module,record_id,file',
    ...[1, 2, 3, 4].map((i) => `Leads,${800 + i},f${i}.txt`),
    'Leads,802,shared.txt',
  ];
  const manifest = await w.writeFile('moved.csv', `${lines.join('\n')}\n`);
  expect((await runCli(['enqueue', manifest, '--batch', 'moved'], w.env, w.dir)).code).toBe(0);
  await runWorkersUntilIdle(w);
  const after = await uploadFile(w.fake, token, { fileName: 'later.pdf', content: 'new' }, { recordId: '803' });
  expect(after.status).toBe(200);
  expect(w.fake.inspect().attachments).toHaveLength(7);
  return { w, token, manifest };
}

const names = (w: PipelineWorld) =>
  w.fake
    .inspect()
    .attachments.map((a) => `${a.recordId}:${a.fileName}`)
    .sort();

describe('zoho-attach undo', () => {
  it('deletes exactly the attachments the batch created, marks them undone, resumes, and an enqueue uploads them again', async () => {
    const { w, token, manifest } = await setUp();

    const dry = await runCli(['undo', '--batch', 'moved', '--dry-run'], w.env, w.dir);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/undo would delete 4 attachments .* 1 uploaded rows belong to another batch and stay/);
    expect([...dry.stdout.matchAll(/line (\d+): Leads (\d+)/g)].map((m) => `${m[1]}:${m[2]}`)).toEqual([
      '2:801',
      '3:802',
      '4:803',
      '5:804',
    ]);
    expect(w.fake.inspect().attachments).toHaveLength(7);

    // Not on a terminal: it will not delete without --yes.
    const unasked = await runCli(['undo', '--batch', 'moved'], w.env, w.dir);
    expect(unasked.code).toBe(2);
    expect(unasked.stderr).toMatch(/undo deletes 4 attachments on 4 records: add --yes/);

    // One of them was deleted by hand already (or by an undo killed before it marked the row).
    const gone = w.fake.inspect().attachments.find((a) => a.recordId === '804')!;
    expect(
      (
        await send(attachmentsUrl(w.fake, { recordId: '804' }, `/${gone.id}`), {
          method: 'DELETE',
          headers: auth(token),
        })
      ).status,
    ).toBe(200);

    const undo = await runCli(['undo', '--batch', 'moved', '--yes'], w.env, w.dir);
    expect(undo.code, undo.stdout + undo.stderr).toBe(0);
    expect(undo.stdout).toMatch(/3 attachments deleted, 1 gone already, 0 undone by an earlier run, 0 changed/);
    expect(names(w)).toEqual(['801:before.pdf', '802:shared.txt', '803:later.pdf']);

    const meta = await withQueue(w, (queue) => queue.ledger.getBatch('moved'));
    expect(meta).toMatchObject({ owned: 4, uploaded: 0, undone: 4, pending: 0 });
    expect(await withQueue(w, (queue) => queue.ledger.getBatch('other'))).toMatchObject({ uploaded: 1, undone: 0 });
    const again = await runCli(['undo', '--batch', 'moved', '--yes'], w.env, w.dir);
    expect(again.stdout).toMatch(/nothing to undo \(4 rows undone already\)/);
    const report = await runCli(['report', '--batch', 'moved', '--format', 'jsonl'], w.env, w.dir);
    expect(report.stdout.split('\n').filter((l) => l.includes('"status":"undone"'))).toHaveLength(4);

    // Enqueueing the manifest again uploads the undone rows again, once each.
    const enqueue = await runCli(['enqueue', manifest, '--batch', 'moved'], w.env, w.dir);
    expect(enqueue.stdout).toMatch(/enqueued:\s+4\b/);
    await runWorkersUntilIdle(w);
    expect(names(w)).toEqual([
      '801:before.pdf',
      '801:f1.txt',
      '802:f2.txt',
      '802:shared.txt',
      '803:f3.txt',
      '803:later.pdf',
      '804:f4.txt',
    ]);
  });

  it('on a terminal asks for the batch name, and deletes nothing on another answer', async () => {
    const { w } = await setUp();
    const run = async (answer: string) => {
      const stdin = Object.assign(new PassThrough(), { isTTY: true });
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      let said = '';
      stderr.on('data', (chunk: Buffer) => (said += chunk.toString()));
      stdout.resume();
      const exit = undoCommand.run(['--batch', 'moved'], {
        env: w.env,
        cwd: w.dir,
        stdin,
        stdout,
        stderr,
        stopSignal: new Promise(() => {}),
      });
      await expect.poll(() => said).toMatch(/Type the batch name to confirm: $/);
      stdin.write(`${answer}\n`);
      return { code: await exit, said };
    };
    const refused = await run('yes');
    expect(refused.code).toBe(1);
    expect(refused.said).toMatch(/Delete 4 attachments that batch moved created on 4 records from Zoho\?/);
    expect(w.fake.inspect().attachments).toHaveLength(7);
    expect((await run('moved')).code).toBe(0);
    expect(names(w)).toEqual(['801:before.pdf', '802:shared.txt', '803:later.pdf']);
  });
});
