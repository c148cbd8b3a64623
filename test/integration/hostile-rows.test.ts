/**
 * Hostile manifest rows that once crashed enqueue halfway: refused with a reason that names the
 * line and the limit, before anything of them is queued, while every valid row goes in.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MANIFEST_LIMITS } from '../../src/manifest/limits.js';
import { createPipelineWorld, type PipelineWorld } from '../helpers/pipeline.js';
import { UPLOAD_JOB_NAME } from '../../src/queue/upload-job.js';
import { enqueueManifest, runWorkersUntilIdle, withQueue } from '../helpers/queue-runs.js';

let world: PipelineWorld | undefined;
afterEach(async () => {
  await world?.cleanup();
  world = undefined;
});

describe('jobs that did not come through enqueue', () => {
  it('a job added straight to the queue with a javascript: link is checked like a manifest row: dead letter, never sent', async () => {
    world = await createPipelineWorld();
    await withQueue(world, (queue) =>
      queue.queue.add(
        UPLOAD_JOB_NAME,
        {
          batch: 'rogue',
          line: 1,
          module: 'Leads',
          recordId: '1',
          target: { kind: 'link', url: 'javascript:alert(1)' },
        },
        { jobId: 'rogue-1', attempts: 3 },
      ),
    );
    await runWorkersUntilIdle(world);
    expect(world.fake.inspect().calls.upload).toBe(0);
    const { state, failedReason, attemptsMade } = await withQueue(world, async (queue) => {
      const job = await queue.queue.getJob('rogue-1');
      return { state: await job!.getState(), failedReason: job!.failedReason, attemptsMade: job!.attemptsMade };
    });
    expect(state).toBe('failed');
    expect(failedReason).toMatch(/^\[INVALID_JOB_DATA\] the job's row is not valid: link_url: /);
    expect(attemptsMade).toBe(1);
  });
});

describe('hostile rows at enqueue', () => {
  it('a JSONL row with 70,000 keys is refused (no stack overflow), the rows around it are queued', async () => {
    world = await createPipelineWorld();
    const huge: Record<string, string> = { module: 'Leads', record_id: '2', link_url: 'https://example.com/2' };
    for (let i = 0; i < 70_000; i++) huge[`k${i}`] = 'v';
    const wide: Record<string, string> = {
      module: 'Leads',
      record_id: '3',
      link_url: 'https://example.com/3',
      note: 'x'.repeat(MANIFEST_LIMITS.maxPassThroughBytes / 2),
      more: 'y'.repeat(MANIFEST_LIMITS.maxPassThroughBytes / 2 + 1),
    };
    const lines = [
      { module: 'Leads', record_id: '1', link_url: 'https://example.com/1', legacy: 'A' },
      huge,
      wide,
      { module: 'Leads', record_id: '4', link_url: 'https://example.com/4', legacy: 'D' },
    ].map((row) => JSON.stringify(row));
    const manifest = await world.writeFile('rows.jsonl', `${lines.join('\n')}\n`);
    const summary = await enqueueManifest(world, manifest, 'hostile');
    expect(summary).toMatchObject({ rows: 4, enqueued: 2, rejected: 2 });
    expect(summary.rejections).toMatchObject([
      { line: 2, reason: expect.stringMatching(/70003 columns; a row may carry at most 200 pass-through columns/) },
      { line: 3, reason: expect.stringMatching(/pass-through columns hold \d+ bytes; at most 65536/) },
    ]);
    const queued = await withQueue(world, async (queue) => {
      const ids: string[] = [];
      for await (const entry of queue.ledger.readRows('hostile')) if ('row' in entry) ids.push(entry.row.record_id);
      return { ids, meta: await queue.ledger.getBatch('hostile') };
    });
    expect(queued.ids).toEqual(['1', '4']);
    expect(queued.meta).toMatchObject({ owned: 2, backlog: 2 });
  });
});
