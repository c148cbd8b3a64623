/** Live progress: the tracker's rates and ETA, and the worker's terminal ticker on a real queue. */
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { startProgressTicker } from '../../src/cli/progress-ticker.js';
import type { BatchMeta } from '../../src/ledger/ledger.js';
import { readManifest } from '../../src/manifest/index.js';
import { enqueueRows } from '../../src/queue/enqueue.js';
import { ProgressTracker, formatDuration, formatProgressLine } from '../../src/queue/progress.js';
import { UploadQueue } from '../../src/queue/upload-queue.js';
import { createPipelineWorld, type PipelineWorld } from '../helpers/pipeline.js';

function meta(name: string, uploaded: number, dead: number, owned: number, bytes: number): BatchMeta {
  return { name, createdAt: 0, maxLine: owned, accepted: owned, rejected: 0, owned, uploaded, dead, pending: owned - uploaded - dead, bytes, retries: 2, rateLimited: 1, verifying: 0, copiesRemoved: 0 };
}

describe('ProgressTracker', () => {
  it('derives uploads/s, bytes/s and the ETA from successive samples', () => {
    const tracker = new ProgressTracker(30_000);
    tracker.add(0, [meta('b', 0, 0, 100, 0)]);
    tracker.add(10_000, [meta('b', 18, 2, 100, 20_480)]);
    const [p] = tracker.progress();
    expect(p).toMatchObject({ name: 'b', total: 100, done: 20, pending: 80, uploadsPerSecond: 2, bytesPerSecond: 2048, etaSeconds: 40 });
    expect(formatProgressLine(p!)).toMatch(/^b \[#####\.+\] 20\/100 \(20%\)\s+2\.0 uploads\/s\s+2\.0 KB\/s\s+ETA 40s\s+retries 2\s+429s 1\s+dead 2$/);
  });

  it('forgets samples older than its window, and has no ETA while nothing moves', () => {
    const tracker = new ProgressTracker(10_000);
    tracker.add(0, [meta('b', 0, 0, 100, 0)]);
    tracker.add(5_000, [meta('b', 50, 0, 100, 0)]);
    tracker.add(60_000, [meta('b', 50, 0, 100, 0)]);
    tracker.add(65_000, [meta('b', 50, 0, 100, 0)]);
    expect(tracker.progress()[0]).toMatchObject({ uploadsPerSecond: 0, etaSeconds: undefined });
    expect(formatDuration(undefined)).toBe('--');
    expect(formatDuration(3725)).toBe('1h02m05s');
  });
});

let world: PipelineWorld | undefined;
afterEach(async () => {
  await world?.cleanup();
  world = undefined;
});

describe('the worker progress ticker', () => {
  it('prints a line per batch with work, and says when the queue is paused and why', async () => {
    world = await createPipelineWorld();
    await world.writeFile('a.txt', 'a');
    const manifest = await world.writeFile('m.csv', 'module,record_id,file\nLeads,1,a.txt\nLeads,2,a.txt\n');
    const uploadQueue = await UploadQueue.open(world.config);
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d.toString()));
    try {
      await enqueueRows(uploadQueue, readManifest(manifest, { baseDir: path.dirname(manifest) }), { batch: 'ticked' });
      const stop = startProgressTicker(uploadQueue, out, 50);
      await expect.poll(() => text, { timeout: 5_000 }).toMatch(/ticked \[\.+\] 0\/2 \(0%\)/);
      await uploadQueue.pauseControl.pauseByOperator();
      await expect.poll(() => text, { timeout: 5_000 }).toContain('queue PAUSED: [PAUSED_BY_OPERATOR]');
      stop();
    } finally {
      await uploadQueue.close();
    }
  });
});
