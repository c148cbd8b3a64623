/**
 * The compact backlog and its feeder (issue 14, item 1): enqueue writes rows, not jobs; feeders
 * keep a window of jobs; a feeder that dies half way, two feeders at once, a job removed by hand,
 * and rows fed twice all end with every row uploaded exactly once. Real Redis, the fake Zoho.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { BacklogFeeder } from '../../src/queue/backlog-feeder.js';
import { readStatus } from '../../src/queue/status.js';
import { jobDataFromStoredRow, UPLOAD_JOB_NAME } from '../../src/queue/upload-job.js';
import type { UploadQueue } from '../../src/queue/upload-queue.js';
import { createPipelineWorld, type PipelineWorld } from '../helpers/pipeline.js';
import { enqueueManifest, runWorkersUntilIdle, startWorkers, waitUntilIdle, withQueue } from '../helpers/queue-runs.js';

let world: PipelineWorld | undefined;
afterEach(async () => {
  await world?.cleanup();
  world = undefined;
});

/** A world with `rows` small files and their manifest; the window is `window` jobs. */
async function worldWithRows(rows: number, window: number) {
  const w = await createPipelineWorld({ env: { ZOHO_ATTACH_FEED_WINDOW: String(window) } });
  world = w;
  const lines = ['module,record_id,file'];
  for (let i = 1; i <= rows; i++) {
    await w.writeFile(`files/f${i}.txt`, `file ${i}`);
    lines.push(`Leads,${1000 + i},files/f${i}.txt`);
  }
  const manifest = await w.writeFile('m.csv', `${lines.join('\n')}\n`);
  return { w, manifest };
}

/** Jobs that run without help (waiting, held by a pause, running). */
async function liveJobs(uploadQueue: UploadQueue): Promise<number> {
  const counts = await uploadQueue.queue.getJobCounts('waiting', 'active', 'prioritized');
  return Object.values(counts).reduce((sum, n) => sum + n, 0);
}

/** The manifest lines of the waiting jobs, sorted. */
async function lines(uploadQueue: UploadQueue): Promise<number[]> {
  return (await uploadQueue.queue.getWaiting()).map((job) => job.data.line).sort((a, b) => a - b);
}

/** Attachments the fake holds per record: every row's record must hold exactly one. */
function copiesPerRecord(w: PipelineWorld): Map<string, number> {
  const copies = new Map<string, number>();
  for (const a of w.fake.inspect().attachments) copies.set(a.recordId, (copies.get(a.recordId) ?? 0) + 1);
  return copies;
}

function expectEachOnce(w: PipelineWorld, rows: number) {
  const copies = copiesPerRecord(w);
  expect(copies.size).toBe(rows);
  expect([...copies.values()].every((n) => n === 1)).toBe(true);
}

describe('the compact backlog', () => {
  it('enqueue writes rows to the backlog, not jobs; status shows the backlog per batch', async () => {
    const { w, manifest } = await worldWithRows(30, 8);
    const summary = await enqueueManifest(w, manifest, 'b');
    expect(summary.enqueued).toBe(30);
    await withQueue(w, async (uploadQueue) => {
      expect(await liveJobs(uploadQueue)).toBe(0);
      const status = await readStatus(uploadQueue);
      expect(status.queue.backlog).toBe(30);
      expect(status.batches[0]).toMatchObject({ name: 'b', owned: 30, pending: 30, backlog: 30 });
      expect(await uploadQueue.isIdle()).toBe(false);
    });
  });

  it('a feeder fills the window and no more, oldest rows first', async () => {
    const { w, manifest } = await worldWithRows(30, 8);
    await enqueueManifest(w, manifest, 'b');
    await withQueue(w, async (uploadQueue) => {
      const feeder = new BacklogFeeder(uploadQueue, { window: 8 });
      expect(await feeder.feedOnce()).toBe(8);
      expect(await feeder.feedOnce()).toBe(0);
      expect(await liveJobs(uploadQueue)).toBe(8);
      expect(await lines(uploadQueue)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
      expect((await readStatus(uploadQueue)).queue.backlog).toBe(22);
    });
  });

  it('two feeders at once take different rows and never more than the window', async () => {
    const { w, manifest } = await worldWithRows(40, 25);
    await enqueueManifest(w, manifest, 'b');
    await withQueue(w, async (one) =>
      withQueue(w, async (two) => {
        const fed = await Promise.all([
          new BacklogFeeder(one, { window: 25 }).feedOnce(),
          new BacklogFeeder(two, { window: 25 }).feedOnce(),
        ]);
        expect(fed[0] + fed[1]).toBe(25);
        expect(await liveJobs(one)).toBe(25);
        expect((await readStatus(one)).queue.backlog).toBe(15);
      }),
    );
  });

  it('workers upload every row exactly once with at most the window of jobs; finished jobs leave BullMQ', async () => {
    const { w, manifest } = await worldWithRows(60, 6);
    await enqueueManifest(w, manifest, 'b');
    let mostLive = 0;
    await runWorkersUntilIdle(w, {
      count: 2,
      during: async (uploadQueue) => {
        mostLive = Math.max(mostLive, await liveJobs(uploadQueue));
      },
    });
    expectEachOnce(w, 60);
    expect(mostLive).toBeGreaterThan(0);
    expect(mostLive).toBeLessThanOrEqual(6);
    await withQueue(w, async (uploadQueue) => {
      const counts = await uploadQueue.queue.getJobCounts('completed', 'waiting', 'active');
      expect(counts).toEqual({ completed: 0, waiting: 0, active: 0 });
      const status = await readStatus(uploadQueue);
      expect(status.batches[0]).toMatchObject({ uploaded: 60, pending: 0, backlog: 0 });
    });
  });

  it('rows a feeder took and never turned into jobs (it died) go back to the backlog and are uploaded once', async () => {
    const { w, manifest } = await worldWithRows(12, 5);
    await enqueueManifest(w, manifest, 'b');
    await withQueue(w, async (uploadQueue) => {
      // A feeder that died right after its take: 5 rows are out of the backlog, with no job.
      const taken = await uploadQueue.ledger.takeFromBacklog({ window: 5, staleMs: 30_000 });
      expect(taken.rows).toHaveLength(5);
      expect((await readStatus(uploadQueue)).queue.backlog).toBe(12);
      // Not yet stale: a live feeder leaves them alone (they count against the window: their jobs
      // may be on their way) and feeds the next rows.
      const fresh = new BacklogFeeder(uploadQueue, { window: 10, staleMs: 30_000 });
      expect(await fresh.feedOnce()).toBe(5);
      expect(await lines(uploadQueue)).toEqual([7, 8, 9, 10, 11]);
      // Once they count as stale, the next feed puts them back at the head of the backlog and feeds them.
      expect(await new BacklogFeeder(uploadQueue, { window: 10, staleMs: 0 }).feedOnce()).toBe(5);
      expect(await lines(uploadQueue)).toEqual([2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
      expect((await readStatus(uploadQueue)).queue.backlog).toBe(2);
    });
    await runWorkersUntilIdle(w);
    expectEachOnce(w, 12);
  });

  it('rows fed twice (a feeder died after adding the jobs) are uploaded once', async () => {
    const { w, manifest } = await worldWithRows(10, 10);
    await enqueueManifest(w, manifest, 'b');
    await withQueue(w, async (uploadQueue) => {
      // A feeder that added the jobs and died before it said so.
      const taken = await uploadQueue.ledger.takeFromBacklog({ window: 10, staleMs: 30_000 });
      await uploadQueue.queue.addBulk(
        taken.rows.map(({ batch, line, row }) => ({
          name: UPLOAD_JOB_NAME,
          data: jobDataFromStoredRow(batch, line, row),
          opts: { ...uploadQueue.jobOptions, jobId: row.jobId },
        })),
      );
    });
    const workers = await startWorkers(w);
    try {
      await expect.poll(() => w.fake.inspect().attachments.length, { timeout: 20_000 }).toBe(10);
      await withQueue(w, async (uploadQueue) => {
        // The rows are still noted as being fed: a feeder counting them stale puts them back, finds
        // them uploaded, and adds no job.
        await expect.poll(() => liveJobs(uploadQueue)).toBe(0);
        expect((await readStatus(uploadQueue)).queue.backlog).toBe(10);
        expect(await new BacklogFeeder(uploadQueue, { window: 10, staleMs: 0 }).feedOnce()).toBe(0);
        expect(await liveJobs(uploadQueue)).toBe(0);
        await waitUntilIdle(uploadQueue);
      });
    } finally {
      await Promise.all(workers.map((worker) => worker.close()));
    }
    expectEachOnce(w, 10);
  });

  it('a fed row whose job was removed by hand goes back to the backlog when its manifest is enqueued again', async () => {
    const { w, manifest } = await worldWithRows(3, 10);
    await enqueueManifest(w, manifest, 'b');
    const removed = await withQueue(w, async (uploadQueue) => {
      await new BacklogFeeder(uploadQueue, { window: 10 }).feedOnce();
      const [job] = await uploadQueue.queue.getWaiting();
      await job!.remove();
      return job!.data.recordId;
    });
    const again = await enqueueManifest(w, manifest, 'b');
    expect(again.alreadyQueued).toBe(3);
    await withQueue(w, async (uploadQueue) => expect((await readStatus(uploadQueue)).queue.backlog).toBe(1));
    await runWorkersUntilIdle(w);
    expectEachOnce(w, 3);
    expect(copiesPerRecord(w).get(removed)).toBe(1);
  });
});
