/**
 * Exactly once on the paths an operator takes (dlq retry, dlq purge + enqueue, --force,
 * --reupload), against a Zoho that stores late and lists late, and for a worker cut off from
 * Redis while it posts. Real Redis, the fake Zoho over HTTP. Each test names the hole of
 * issue 10 it closes; each failed on the code before the fix.
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { reportRows, type ReportRow } from '../../src/ledger/report.js';
import { purgeDeadLetters, retryDeadLetters } from '../../src/queue/dead-letters.js';
import { recoverUnfinishedWork } from '../../src/queue/recovery.js';
import { uploadJobId } from '../../src/queue/upload-job.js';
import { startUploadWorker } from '../../src/queue/upload-worker.js';
import { createPipelineWorld, runCli, type PipelineWorld } from '../helpers/pipeline.js';
import {
  enqueueManifest,
  runWorkersUntilIdle,
  silentLogger,
  startWorkers,
  waitUntilIdle,
  withQueue,
} from '../helpers/queue-runs.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { uploadFile } from '../helpers/fake-zoho-requests.js';

let world: PipelineWorld | undefined;
let proxy: TcpProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
  await world?.cleanup();
  world = undefined;
});

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** The ledger item of a row. */
async function itemOf(w: PipelineWorld, row: { module: string; recordId: string; path: string; title?: string }) {
  const jobId = uploadJobId({
    module: row.module,
    recordId: row.recordId,
    target: { kind: 'file', path: row.path },
    title: row.title,
  });
  return withQueue(w, async (queue) => (await queue.ledger.getItems([jobId]))[0]);
}

/**
 * A row whose first attempt Zoho stored (answering 500) and whose retry then died on a 4xx
 * while listing: the ledger has it dead, Zoho holds one copy, and the row "may be stored".
 */
async function rowStoredThenDead(w: PipelineWorld) {
  const file = await w.writeFile('files/contract.pdf', 'contract bytes');
  const manifest = await w.writeFile('m.csv', 'module,record_id,file\nLeads,1,files/contract.pdf\n');
  w.fake.faults.add({ match: { recordId: '1', path: 'upload' }, kind: 'storeThen500', times: 1 });
  w.fake.faults.add({ match: { recordId: '1', path: 'list' }, kind: 'noPermission', times: 1 });
  await enqueueManifest(w, manifest, 'b');
  await runWorkersUntilIdle(w);
  expect(w.fake.inspect().attachments).toHaveLength(1);
  const item = await itemOf(w, { module: 'Leads', recordId: '1', path: file });
  expect(item).toMatchObject({ status: 'dead', errorCode: 'NO_PERMISSION' });
  expect(item?.pendingSince).toBeTypeOf('number');
  return { file, manifest, storedId: w.fake.inspect().attachments[0]!.id };
}

/** After the revival, the row is uploaded once, pointing at the copy Zoho already had. */
async function expectAdoptedOnce(w: PipelineWorld, file: string, storedId: string) {
  expect(w.fake.inspect().attachments.map((a) => a.id)).toEqual([storedId]);
  expect(await itemOf(w, { module: 'Leads', recordId: '1', path: file })).toMatchObject({
    status: 'uploaded',
    attachmentId: storedId,
    how: 'adopted',
  });
}

describe('a revived dead row lists before it posts (hole 1)', () => {
  it('dlq retry keeps the "may already be stored" mark', async () => {
    world = await createPipelineWorld();
    const { file, storedId } = await rowStoredThenDead(world);
    expect(await withQueue(world, (queue) => retryDeadLetters(queue))).toBe(1);
    await runWorkersUntilIdle(world);
    await expectAdoptedOnce(world, file, storedId);
  });

  it('enqueue --force keeps it', async () => {
    world = await createPipelineWorld();
    const { file, manifest, storedId } = await rowStoredThenDead(world);
    const forced = await runCli(['enqueue', manifest, '--batch', 'b', '--force'], world.env, world.dir);
    expect(forced.code, forced.stderr).toBe(0);
    await runWorkersUntilIdle(world);
    await expectAdoptedOnce(world, file, storedId);
  });

  it('after dlq purge, a plain enqueue queues the row again (hole 6) and it still lists first', async () => {
    world = await createPipelineWorld();
    const { file, manifest, storedId } = await rowStoredThenDead(world);
    expect(await withQueue(world, (queue) => purgeDeadLetters(queue))).toBe(1);
    const again = await runCli(['enqueue', manifest, '--batch', 'b2'], world.env, world.dir);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/enqueued:\s+1 \(1 of them queued again\)/);
    await runWorkersUntilIdle(world);
    await expectAdoptedOnce(world, file, storedId);
  });
});

describe('--force and --reupload (hole 6)', () => {
  it('--force never re-posts a row the ledger has as uploaded; --reupload does, once, and says what it costs', async () => {
    world = await createPipelineWorld();
    await world.writeFile('a.txt', 'a');
    const manifest = await world.writeFile('m.csv', 'module,record_id,file\nLeads,1,a.txt\n');
    await enqueueManifest(world, manifest, 'b');
    await runWorkersUntilIdle(world);
    expect(world.fake.inspect().attachments).toHaveLength(1);

    const forced = await runCli(['enqueue', manifest, '--batch', 'b', '--force'], world.env, world.dir);
    expect(forced.stdout).toMatch(/skipped, already uploaded: 1/);
    await runWorkersUntilIdle(world);
    expect(world.fake.inspect().attachments).toHaveLength(1);

    const help = await runCli(['enqueue', '--help'], world.env, world.dir);
    expect(help.stdout + help.stderr).toMatch(/--reupload[\s\S]*SECOND copy[\s\S]*credit/);
    const reuploaded = await runCli(['enqueue', manifest, '--batch', 'again', '--reupload'], world.env, world.dir);
    expect(reuploaded.code, reuploaded.stderr).toBe(0);
    await runWorkersUntilIdle(world);
    expect(world.fake.inspect().attachments).toHaveLength(2);
  });
});

describe('an interrupted requeue is finished (hole 5)', () => {
  /** A dead row whose `enqueue --force` was killed right after its claim: pending, its failed job still holding the id. */
  async function interruptedForce(w: PipelineWorld) {
    await w.writeFile('a.txt', 'a');
    const manifest = await w.writeFile('m.csv', 'module,record_id,file\nLeads,1,a.txt\n');
    w.fake.faults.add({ match: { recordId: '1', path: 'upload' }, kind: 'noPermission', times: 1 });
    await enqueueManifest(w, manifest, 'b');
    await runWorkersUntilIdle(w);
    const jobId = uploadJobId({ module: 'Leads', recordId: '1', target: { kind: 'file', path: `${w.dir}/a.txt` } });
    await withQueue(w, (queue) => queue.ledger.claim('b', [{ jobId, line: 2 }], 'force'));
    return { manifest, jobId };
  }

  it('a row claimed for --force whose old job was never replaced is run by the next worker', async () => {
    world = await createPipelineWorld();
    const { jobId } = await interruptedForce(world);
    await withQueue(world, async (queue) => {
      expect(await queue.queue.getJobState(jobId)).toBe('failed');
      // The worker's pass at start leaves intents younger than its grace alone (an enqueue may be finishing them); later it runs them.
      expect(
        await recoverUnfinishedWork(queue, { now: () => Date.now() + 60_000, logger: silentLogger }),
      ).toMatchObject({ requeued: 1 });
    });
    await runWorkersUntilIdle(world);
    expect(await itemOf(world, { module: 'Leads', recordId: '1', path: `${world.dir}/a.txt` })).toMatchObject({
      status: 'uploaded',
    });
    expect(world.fake.inspect().attachments).toHaveLength(1);
  });

  it('enqueueing the same manifest again finishes it too', async () => {
    world = await createPipelineWorld();
    const { manifest } = await interruptedForce(world);
    expect(await enqueueManifest(world, manifest, 'b')).toMatchObject({ enqueued: 1, requeued: 1 });
    await runWorkersUntilIdle(world);
    expect(world.fake.inspect().attachments).toHaveLength(1);
  });
});

describe('adoption is exact (hole 3)', () => {
  it("of two look-alikes in the window, the copy whose bytes this row sent is adopted, not a person's", async () => {
    world = await createPipelineWorld();
    const file = await world.writeFile('files/scan.pdf', 'AAAA');
    const manifest = await world.writeFile('m.csv', 'module,record_id,file\nLeads,1,files/scan.pdf\n');
    // Someone attaches a file with the same name and size but other bytes, moments before the row runs.
    const token = world.fake.issueAccessToken();
    expect(
      (
        await uploadFile(
          world.fake,
          token,
          { fileName: 'scan.pdf', content: 'BBBB' },
          { module: 'Leads', recordId: '1' },
        )
      ).status,
    ).toBe(200);
    world.fake.faults.add({ match: { recordId: '1', path: 'upload' }, kind: 'storeThen500', times: 1 });
    await enqueueManifest(world, manifest, 'b');
    await runWorkersUntilIdle(world);

    const stored = world.fake.inspect().attachments;
    const ours = stored.find((a) => a.sha256 === sha256('AAAA'));
    expect(stored).toHaveLength(2);
    expect(await itemOf(world, { module: 'Leads', recordId: '1', path: file })).toMatchObject({
      status: 'uploaded',
      attachmentId: ours?.id,
      sha256: sha256('AAAA'),
    });
    // Both look-alikes were downloaded to tell them apart (and again by the verification, which deletes neither).
    expect(world.fake.inspect().calls.download).toBeGreaterThanOrEqual(2);
    expect(world.fake.inspect().calls.delete).toBe(0);
  });

  it("a copy older than the row's first attempt is never adopted", async () => {
    let offsetMs = -10 * 60_000;
    world = await createPipelineWorld({ fake: { clock: () => Date.now() + offsetMs } });
    const file = await world.writeFile('a.txt', 'same bytes');
    const manifest = await world.writeFile('m.csv', 'module,record_id,file\nLeads,1,a.txt\n');
    const token = world.fake.issueAccessToken();
    const old = await uploadFile(
      world.fake,
      token,
      { fileName: 'a.txt', content: 'same bytes' },
      { module: 'Leads', recordId: '1' },
    );
    offsetMs = 0;
    // The row's first post fails before it is stored, ambiguously: the retry lists, finds only the old copy, and posts.
    world.fake.faults.add({ match: { recordId: '1', path: 'upload' }, kind: 'error500', times: 1 });
    await enqueueManifest(world, manifest, 'b');
    await runWorkersUntilIdle(world);
    const oldId = (old.json?.data as Array<{ details: { id: string } }>)[0]!.details.id;
    const item = await itemOf(world, { module: 'Leads', recordId: '1', path: file });
    expect(item).toMatchObject({ status: 'uploaded', how: 'uploaded' });
    expect(item?.attachmentId).not.toBe(oldId);
    // ...and verification, which runs because the row had an ambiguous attempt, leaves the old copy alone.
    expect(
      world.fake
        .inspect()
        .attachments.map((a) => a.id)
        .sort(),
    ).toEqual([oldId, item!.attachmentId].sort());
  });

  it('claiming an attachment another row owns is refused, and the row is not marked', async () => {
    world = await createPipelineWorld();
    await world.writeFile('a.txt', 'a');
    const manifest = await world.writeFile(
      'm.csv',
      'module,record_id,file,title\nLeads,1,a.txt,one\nLeads,1,a.txt,two\n',
    );
    await enqueueManifest(world, manifest, 'b');
    const [one, two] = ['one', 'two'].map((title) =>
      uploadJobId({ module: 'Leads', recordId: '1', target: { kind: 'file', path: `${world!.dir}/a.txt` }, title }),
    );
    await withQueue(world, async (queue) => {
      expect(
        await queue.ledger.markUploaded(one!, { attachmentId: '4150868000000000001', attempt: 1, how: 'uploaded' }),
      ).toEqual({ result: 'ok' });
      expect(
        await queue.ledger.markUploaded(two!, { attachmentId: '4150868000000000001', attempt: 1, how: 'adopted' }),
      ).toEqual({ result: 'owned' });
      const [item] = await queue.ledger.getItems([two!]);
      expect(item?.status).toBe('pending');
      expect(await queue.ledger.ownersOf(['4150868000000000001'])).toEqual([one]);
    });
  });
});

describe('settle and verify (hole 2)', () => {
  it("a copy stored after the client gave up is deleted once the row has succeeded; the person's and the other row's copies stay", async () => {
    let offsetMs = -10 * 60_000;
    world = await createPipelineWorld({
      env: { ZOHO_ATTACH_SETTLE_MS: '1500' },
      fake: { clock: () => Date.now() + offsetMs },
    });
    const file = await world.writeFile('files/scan.pdf', 'scan bytes');
    const manifest = await world.writeFile('m.csv', 'module,record_id,file,title\nLeads,1,files/scan.pdf,\n');
    const otherRow = await world.writeFile(
      'other.csv',
      'module,record_id,file,title\nLeads,1,files/scan.pdf,other row\n',
    );
    const token = world.fake.issueAccessToken();
    // A person's identical copy, attached long before the migration: outside every attempt window.
    const personal = await uploadFile(
      world.fake,
      token,
      { fileName: 'scan.pdf', content: 'scan bytes' },
      { module: 'Leads', recordId: '1' },
    );
    const personalId = (personal.json?.data as Array<{ details: { id: string } }>)[0]!.details.id;
    offsetMs = 0;
    // Another row of the same file on the same record, uploaded cleanly first: its copy is its own.
    await enqueueManifest(world, otherRow, 'b');
    await runWorkersUntilIdle(world);
    // The row under test: its first POST answers 500 (the fault can only meet this row now).
    world.fake.faults.add({ match: { recordId: '1', path: 'upload' }, kind: 'error500', times: 1 });
    await enqueueManifest(world, manifest, 'b');

    const workers = await startWorkers(world);
    try {
      const uploadQueue = workers[0]!.uploadQueue;
      const rowItem = () => itemOf(world!, { module: 'Leads', recordId: '1', path: file, title: '' });
      await expect.poll(async () => (await rowItem())?.status, { timeout: 10_000 }).toBe('uploaded');
      expect((await rowItem())?.verifyAt).toBeTypeOf('number');
      // Zoho now stores the POST that answered 500, late: the retry's listing could not have seen it.
      await uploadFile(
        world.fake,
        token,
        { fileName: 'scan.pdf', content: 'scan bytes' },
        { module: 'Leads', recordId: '1' },
      );
      expect(world.fake.inspect().attachments).toHaveLength(4);
      expect(await uploadQueue.isIdle()).toBe(false);
      await waitUntilIdle(uploadQueue);
    } finally {
      await Promise.all(workers.map((w) => w.close()));
    }
    const kept = (await itemOf(world, { module: 'Leads', recordId: '1', path: file }))!;
    const other = (await itemOf(world, { module: 'Leads', recordId: '1', path: file, title: 'other row' }))!;
    expect(kept).toMatchObject({ status: 'uploaded', copiesRemoved: 1 });
    expect(kept.verifyAt).toBeUndefined();
    expect(
      world.fake
        .inspect()
        .attachments.map((a) => a.id)
        .sort(),
    ).toEqual([personalId, kept.attachmentId, other.attachmentId].sort());
    const batch = await withQueue(world, (queue) => queue.ledger.getBatch('b'));
    expect(batch).toMatchObject({ copiesRemoved: 1, verifying: 0 });
  });
});

describe('settle and verify against a Zoho that stores late and lists late (hole 2)', () => {
  it('a POST that timed out and is stored later, after the retry posted again, is deleted: one copy, the ledger points at it', async () => {
    world = await createPipelineWorld({
      fake: { listLagMs: 500 },
      env: { ZOHO_REQUEST_TIMEOUT_MS: '300', ZOHO_ATTACH_SETTLE_MS: '2500' },
    });
    const file = await world.writeFile('scan.pdf', 'scan bytes');
    const manifest = await world.writeFile('m.csv', 'module,record_id,file\nLeads,1,scan.pdf\n');
    // The first POST is read but not answered (the client gives up after 300 ms) and stored 1 s later.
    world.fake.faults.add({ match: { path: 'upload' }, kind: 'lateStore', delayMs: 1_000 });
    await enqueueManifest(world, manifest, 'b');
    await runWorkersUntilIdle(world, { timeoutMs: 20_000 });

    const item = (await itemOf(world, { module: 'Leads', recordId: '1', path: file }))!;
    expect(item).toMatchObject({ status: 'uploaded', copiesRemoved: 1 });
    const stored = world.fake.inspect();
    expect(stored.faultsFired.lateStore).toBe(1);
    expect(stored.lateStoresPending).toBe(0);
    expect(stored.calls.delete).toBe(1);
    expect(stored.attachments.map((a) => a.id)).toEqual([item.attachmentId]);
    const report = await withQueue(world, async (queue) => {
      const rows: ReportRow[] = [];
      for await (const row of reportRows(queue.ledger, 'b')) rows.push(row);
      return rows;
    });
    expect(report).toEqual([
      expect.objectContaining({ status: 'uploaded', attachment_id: item.attachmentId, copies_removed: '1' }),
    ]);
    expect((await runCli(['status'], world.env, world.dir)).stdout).toContain('1 extra copies removed');
  });
});

describe('settle and verify for links', () => {
  it('a link POST stored after the client gave up, racing past the duplicate-link check, is deleted', async () => {
    // The first POST is stored 1.5 s after it arrived; the retry (within a second) posts the link again
    // before that, so Zoho's duplicate check passes, then the late one lands too.
    world = await createPipelineWorld({
      fake: { listLagMs: 500 },
      env: { ZOHO_REQUEST_TIMEOUT_MS: '300', ZOHO_ATTACH_SETTLE_MS: '2500' },
    });
    const manifest = await world.writeFile('m.csv', 'module,record_id,link_url\nLeads,1,https://example.com/wiki\n');
    world.fake.faults.add({ match: { path: 'upload' }, kind: 'lateStore', delayMs: 1_500 });
    await enqueueManifest(world, manifest, 'b');
    await runWorkersUntilIdle(world, { timeoutMs: 20_000 });
    const stored = world.fake.inspect();
    expect(stored.faultsFired.lateStore).toBe(1);
    expect(stored.attachments).toHaveLength(1);
    const jobId = uploadJobId({
      module: 'Leads',
      recordId: '1',
      target: { kind: 'link', url: 'https://example.com/wiki' },
    });
    const [item] = await withQueue(world, (queue) => queue.ledger.getItems([jobId]));
    expect(item).toMatchObject({ status: 'uploaded', attachmentId: stored.attachments[0]!.id, copiesRemoved: 1 });
  });
});

describe('a worker cut off from Redis stops posting (hole 4)', () => {
  it('aborts its POST before the lease can go stale; the worker that takes the row over lists before it posts', async () => {
    world = await createPipelineWorld({
      env: { ZOHO_REQUEST_TIMEOUT_MS: '60000', ZOHO_ATTACH_LOCK_DURATION_MS: '2000' },
    });
    await world.writeFile('a.txt', 'a');
    const manifest = await world.writeFile('m.csv', 'module,record_id,file\nLeads,1,a.txt\n');
    world.fake.faults.add({ match: { recordId: '1', path: 'upload' }, kind: 'hang', times: 1 });
    await enqueueManifest(world, manifest, 'b');

    const redis = new URL(world.env.REDIS_URL as string);
    proxy = await startTcpProxy(redis.hostname, Number(redis.port || 6379));
    const cutOff = await startUploadWorker({
      config: loadConfig({ ...world.env, REDIS_URL: `redis://127.0.0.1:${proxy.port}` }, world.dir),
      logger: silentLogger,
    });
    let rescuer: Awaited<ReturnType<typeof startWorkers>> = [];
    try {
      await expect.poll(() => world!.fake.inspect().inFlight, { timeout: 10_000 }).toBe(1);
      proxy.cut();
      rescuer = await startWorkers(world);
      // The hung POST ends (aborted by its own worker) before the rescuer has even listed the record.
      await expect.poll(() => world!.fake.inspect().inFlight, { timeout: 10_000, interval: 20 }).toBe(0);
      expect(world.fake.inspect().calls.list).toBe(0);
      expect(world.fake.inspect().calls.upload).toBe(1);
      await waitUntilIdle(rescuer[0]!.uploadQueue);
      expect(world.fake.inspect().calls.list).toBeGreaterThanOrEqual(1);
      expect(world.fake.inspect().attachments).toHaveLength(1);
    } finally {
      proxy.restore();
      await Promise.all([cutOff, ...rescuer].map((w) => w.close()));
    }
  });
});
