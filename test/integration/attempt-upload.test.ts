/**
 * One attempt at a file row (`upload/attempt-upload.ts`), against a real ledger in Redis and the
 * fake Zoho over HTTP: the file is opened while the ledger is asked about the row, so the two
 * waits overlap, and a file opened for a row that turns out not to need it is closed again,
 * whatever became of the file.
 */
import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { Ledger } from '../../src/ledger/ledger.js';
import { uploadJobId } from '../../src/queue/upload-job.js';
import type { UploadQueue } from '../../src/queue/upload-queue.js';
import { openSource, sourceLimitsOf, type SourceLimits, type SourceRef } from '../../src/sources/index.js';
import { attemptUpload, PostInFlightElsewhere, type AttemptDeps } from '../../src/upload/attempt-upload.js';
import { newPostingToken, postingLeaseTiming } from '../../src/upload/lease-keeper.js';
import { createTokenProvider } from '../../src/zoho/create-token-provider.js';
import { ZohoClient } from '../../src/zoho/client.js';
import { openDescriptorsUnder } from '../helpers/open-descriptors.js';
import { createPipelineWorld, type PipelineWorld } from '../helpers/pipeline.js';
import { enqueueManifest, silentLogger, withQueue } from '../helpers/queue-runs.js';
import { testRedis } from '../helpers/redis.js';

let world: PipelineWorld | undefined;
afterEach(async () => {
  await world?.cleanup();
  world = undefined;
});

/**
 * A world with one enqueued file row, and a way to attempt it with the real ledger and client.
 * `events` says in which order the file was opened and the ledger answered `startAttempt`.
 */
async function oneFileRow(use: (run: RowRun) => Promise<void>) {
  const w = (world = await createPipelineWorld());
  // Over the 64 KiB a source reads whole: streamed, it holds its descriptor until it is closed.
  const file = await w.writeFile('files/contract.pdf', Buffer.alloc(100 * 1024, 1));
  const manifest = await w.writeFile('m.csv', 'module,record_id,file\nLeads,1,files/contract.pdf\n');
  await enqueueManifest(w, manifest, 'b');
  const jobId = uploadJobId({ module: 'Leads', recordId: '1', target: { kind: 'file', path: file } });
  const tokenRedis = testRedis();
  try {
    await withQueue(w, async (queue) => {
      const events: string[] = [];
      const opens: Array<Promise<unknown>> = [];
      const attempt = (number: number, runToken = newPostingToken()) =>
        attemptUpload(depsOf(w, queue, events, opens, tokenRedis), {
          jobId,
          attempt: number,
          lastAttempt: false,
          module: 'Leads',
          recordId: '1',
          target: { kind: 'file', path: file },
          runToken,
          jobData: {},
        });
      // Every open the attempts started has ended (an unawaited one could still be under way).
      const openFilesUnder = async (dir: string) => {
        await Promise.allSettled(opens);
        return openDescriptorsUnder(dir);
      };
      await use({ world: w, queue, file, jobId, events, attempt, openFilesUnder });
    });
  } finally {
    tokenRedis.disconnect();
  }
}

interface RowRun {
  world: PipelineWorld;
  queue: UploadQueue;
  file: string;
  jobId: string;
  events: string[];
  attempt: (number: number, runToken?: string) => ReturnType<typeof attemptUpload>;
  /** The files open under `dir` once every open an attempt started has ended. */
  openFilesUnder: (dir: string) => Promise<string[]>;
}

function depsOf(
  w: PipelineWorld,
  queue: UploadQueue,
  events: string[],
  opens: Array<Promise<unknown>>,
  tokenRedis: ReturnType<typeof testRedis>,
) {
  // The real ledger, observed: when its answer to startAttempt arrives.
  const ledger = new Proxy(queue.ledger, {
    get(target, key) {
      if (key === 'startAttempt') {
        return async (...args: Parameters<Ledger['startAttempt']>) => {
          const started = await target.startAttempt(...args);
          events.push('ledger answered');
          return started;
        };
      }
      const value = Reflect.get(target, key, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  const deps: AttemptDeps = {
    client: new ZohoClient({
      config: w.config.zoho,
      tokens: createTokenProvider(w.config.zoho, tokenRedis, queue.keys.oauth),
    }),
    ledger,
    openSource: (ref: SourceRef, limits: SourceLimits) => {
      events.push('file opening');
      const opening = openSource(ref, limits);
      opens.push(opening);
      return opening;
    },
    sourceLimits: sourceLimitsOf(w.config.sources),
    lease: postingLeaseTiming(w.config.queue.lockDurationMs),
    clockSkewMs: w.config.queue.clockSkewMs,
    settleMs: w.config.queue.settleMs,
    logger: silentLogger,
    now: Date.now,
  };
  return deps;
}

describe('one attempt at a file row', () => {
  it('opens the file while the ledger is asked about the row, then posts it once', async () => {
    await oneFileRow(async ({ world: w, events, attempt, openFilesUnder }) => {
      const result = await attempt(1);
      expect(result.how).toBe('uploaded');
      expect(events).toEqual(['file opening', 'ledger answered']);
      expect(w.fake.inspect().attachments).toHaveLength(1);
      expect(await openFilesUnder(w.dir)).toEqual([]);
    });
  });

  it('a row the ledger has as uploaded is skipped even when its file is gone since; nothing stays open', async () => {
    await oneFileRow(async ({ world: w, file, attempt, openFilesUnder }) => {
      const first = await attempt(1);
      // The same file, present: opened for nothing and closed again.
      await expect(attempt(2)).resolves.toEqual({ attachmentId: first.attachmentId, how: 'already-uploaded' });
      expect(await openFilesUnder(w.dir)).toEqual([]);
      // Gone: the failed open is not this row's problem.
      await rm(file);
      await expect(attempt(3)).resolves.toEqual({ attachmentId: first.attachmentId, how: 'already-uploaded' });
      expect(w.fake.inspect().attachments).toHaveLength(1);
    });
  });

  it('a row another run is posting waits for it, with its file closed again', async () => {
    await oneFileRow(async ({ world: w, queue, jobId, attempt, openFilesUnder }) => {
      const lease = postingLeaseTiming(w.config.queue.lockDurationMs);
      const other = await queue.ledger.startAttempt(jobId, 1, { token: newPostingToken(), staleMs: lease.staleMs });
      expect(other.verdict).toBe('go');
      await expect(attempt(2)).rejects.toBeInstanceOf(PostInFlightElsewhere);
      expect(await openFilesUnder(w.dir)).toEqual([]);
      expect(w.fake.inspect().attachments).toHaveLength(0);
    });
  });

  it('a file refused by its checks is reported as before, and the lease is given back', async () => {
    await oneFileRow(async ({ world: w, queue, file, jobId, attempt }) => {
      await rm(file);
      await expect(attempt(1)).rejects.toMatchObject({ code: 'SOURCE_NOT_FOUND', classification: 'permanent' });
      const [item] = await queue.ledger.getItems([jobId]);
      expect(item?.postingAt).toBeUndefined();
      expect(w.fake.inspect().attachments).toHaveLength(0);
    });
  });
});
