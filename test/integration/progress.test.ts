/** Progress: rates, ETA and the rate chart from stored samples; the samples the ledger writes; the worker's terminal ticker on a real queue. */
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { startProgressTicker } from '../../src/cli/progress-ticker.js';
import type { BatchMeta, ProgressSample } from '../../src/ledger/ledger.js';
import { readManifest } from '../../src/manifest/index.js';
import { enqueueRows } from '../../src/queue/enqueue.js';
import { formatProgressLine } from '../../src/cli/progress-format.js';
import { batchProgress, rateHistory, rateSamplesSince } from '../../src/queue/progress.js';
import { readProgressSamples } from '../../src/ledger/progress-samples.js';
import { keyNames } from '../../src/shared/key-names.js';
import { deleteKeysContaining, testRedis, uniqueName } from '../helpers/redis.js';
import { formatDuration } from '../../src/shared/units.js';
import { UploadQueue } from '../../src/queue/upload-queue.js';
import { createPipelineWorld, type PipelineWorld } from '../helpers/pipeline.js';

function metaOf(uploaded: number): BatchMeta {
  return { ...meta('b', uploaded, 0, uploaded, 0), retries: 0, rateLimited: 0 };
}

function meta(name: string, uploaded: number, dead: number, owned: number, bytes: number): BatchMeta {
  return {
    name,
    createdAt: 0,
    maxLine: owned,
    accepted: owned,
    rejected: 0,
    owned,
    uploaded,
    dead,
    undone: 0,
    pending: owned - uploaded - dead,
    backlog: 0,
    bytes,
    retries: 2,
    rateLimited: 1,
    credits: 0,
    verifying: 0,
    copiesRemoved: 0,
  };
}

/** A stored sample: the counters at the end of the 5 s slot starting at `at`. */
function sample(at: number, uploaded: number, dead = 0, bytes = 0, slotMs = 5_000): ProgressSample {
  return { at, slotMs, uploaded, dead, bytes };
}

describe('progress from stored samples', () => {
  it('derives uploads/s, bytes/s and the ETA over the last 30 s', () => {
    // 2 rows a second since t=0, 1 KiB each: at t=40 s, 80 done.
    const samples = Array.from({ length: 8 }, (_, i) => sample(i * 5_000, (i + 1) * 10, 0, (i + 1) * 10_240));
    const p = batchProgress(meta('b', 78, 2, 180, 81_920), samples, 40_000);
    expect(p).toMatchObject({
      name: 'b',
      total: 180,
      done: 80,
      pending: 100,
      uploadsPerSecond: 2,
      bytesPerSecond: 2048,
      etaSeconds: 50,
    });
    expect(formatProgressLine(p)).toMatch(
      /^b \[#+\.+\] 80\/180 \(44%\)\s+2\.0 uploads\/s\s+2\.0 KB\/s\s+ETA 50s\s+retries 2\s+429s 1\s+dead 2$/,
    );
  });

  it('a batch that started less than 30 s ago is measured from its first finish, not diluted', () => {
    const p = batchProgress(meta('b', 20, 0, 100, 0), [sample(100_000, 10), sample(105_000, 20)], 110_000);
    expect(p.uploadsPerSecond).toBe(2);
    expect(p.etaSeconds).toBe(40);
  });

  it('has no rate and no ETA while nothing finishes (slots nobody wrote are idle), and none before the first finish', () => {
    const p = batchProgress(meta('b', 50, 0, 100, 0), [sample(0, 25), sample(5_000, 50)], 65_000);
    expect(p).toMatchObject({ uploadsPerSecond: 0, etaSeconds: undefined });
    expect(batchProgress(meta('b', 0, 0, 100, 0), [], 65_000)).toMatchObject({
      uploadsPerSecond: 0,
      etaSeconds: undefined,
    });
    expect(batchProgress(meta('b', 100, 0, 100, 0), [sample(0, 100)], 65_000).etaSeconds).toBe(0);
    expect(formatDuration(undefined)).toBe('--');
    expect(formatDuration(3725)).toBe('1h02m05s');
  });

  it('charts the whole life of the batches: busy stretches at their rate, idle ones at zero', () => {
    // 1 row/s for 60 s, idle for 60 s, then 3 rows/s for 60 s (the later ones in 1-minute slots).
    const busy = Array.from({ length: 12 }, (_, i) => sample(i * 5_000, (i + 1) * 5));
    const later = [sample(120_000, 60 + 180, 0, 0, 60_000)];
    const points = rateHistory(new Map([['b', [...busy, ...later]]]), 180_000);
    expect(points).toHaveLength(120);
    expect(points[0]!.at).toBeGreaterThan(0);
    expect(points.at(-1)!.at).toBe(180_000);
    const rateAround = (seconds: number) => points.find((p) => p.at >= seconds * 1000)!.uploadsPerSecond;
    expect(rateAround(30)).toBeCloseTo(1, 5);
    expect(rateAround(90)).toBeCloseTo(0, 5);
    expect(rateAround(150)).toBeCloseTo(3, 5);
    // Two batches add up.
    const both = rateHistory(
      new Map([
        ['a', busy],
        ['b', busy],
      ]),
      60_000,
    );
    expect(both[60]!.uploadsPerSecond).toBeCloseTo(2, 5);
    expect(rateHistory(new Map([['b', []]]), 60_000)).toEqual([]);
    // A batch whose first rows finished a moment ago is charted over a second, not left out.
    const fresh = rateHistory(new Map([['b', [sample(0, 6)]]]), 100);
    expect(fresh).toHaveLength(120);
    expect(fresh.reduce((sum, p) => sum + (p.uploadsPerSecond * 1_000) / 120 / 1_000, 0)).toBeCloseTo(6, 5);
  });
});

describe('reading only the samples current rates need', () => {
  it('gives the counters before the window and the slots in it, and the same rates and ETA as the whole history', async () => {
    const redis = testRedis();
    const queue = uniqueName('progress-since');
    try {
      // A batch three hours old: 5 s slots for its first two hours, then 1-minute slots, 2 rows a second throughout.
      const start = 1_000_000_000;
      const samples: ProgressSample[] = [];
      for (let at = start; at < start + 2 * 3_600_000; at += 5_000)
        samples.push(sample(at, (at - start + 5_000) / 500));
      for (let at = start + 2 * 3_600_000; at < start + 3 * 3_600_000; at += 60_000)
        samples.push(sample(at, (at - start + 60_000) / 500, 0, 0, 60_000));
      const key = keyNames(queue).batchProgress('b');
      for (const s of samples) await redis.zadd(key, s.at, `${s.at}:${s.slotMs}:${s.uploaded}:${s.dead}:${s.bytes}`);
      const now = start + 3 * 3_600_000;
      const since = rateSamplesSince(now);

      const read = (await readProgressSamples(redis, keyNames(queue), ['b'], since)).get('b')!;
      const before = samples.filter((s) => s.at < since).at(-1)!;
      expect(read).toEqual([before, ...samples.filter((s) => s.at >= since)]);
      expect(read.length).toBeLessThan(20);

      const done = samples.at(-1)!.uploaded;
      const meta: BatchMeta = { ...metaOf(done), owned: done + 3_600, pending: 3_600 };
      expect(batchProgress(meta, read, now)).toEqual(batchProgress(meta, samples, now));
      expect(batchProgress(meta, read, now)).toMatchObject({ uploadsPerSecond: 2, etaSeconds: 1_800 });

      // Idle for a quarter of an hour, then one row 10 s ago: the sample before the window is what
      // keeps that row from reading as the whole batch finished in 10 s.
      const later = now + 15 * 60_000;
      const last = sample(later - 10_000, done + 1, 0, 0, 60_000);
      await redis.zadd(key, last.at, `${last.at}:${last.slotMs}:${last.uploaded}:${last.dead}:${last.bytes}`);
      const afterIdle = (await readProgressSamples(redis, keyNames(queue), ['b'], rateSamplesSince(later))).get('b')!;
      expect(afterIdle).toEqual([samples.at(-1), last]);
      const metaLater: BatchMeta = { ...metaOf(done + 1), owned: done + 3_600, pending: 3_599 };
      expect(batchProgress(metaLater, afterIdle, later)).toEqual(batchProgress(metaLater, [...samples, last], later));
      expect(batchProgress(metaLater, afterIdle, later).uploadsPerSecond).toBeCloseTo(1 / 30, 5);
    } finally {
      await deleteKeysContaining(redis, queue);
      redis.disconnect();
    }
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
