/** The library API a migration script uses, against a real Redis and the fake Zoho. */
import { afterEach, describe, expect, it } from 'vitest';
import { PassThrough } from 'node:stream';
import path from 'node:path';
import {
  ZohoAttach,
  ZohoAttachError,
  planManifest,
  readArchivedReport,
  startUploadWorker,
  type ReportRow,
} from '../../src/index.js';
import { createLogger } from '../../src/shared/logger.js';
import { createPipelineWorld, type PipelineWorld } from '../helpers/pipeline.js';
import { testRedis } from '../helpers/redis.js';

let world: PipelineWorld | undefined;
afterEach(async () => {
  await world?.cleanup();
  world = undefined;
});

describe('ZohoAttach (library API)', () => {
  it('enqueues rows, waits for the batch and reads the ledger as the migration mapping', async () => {
    world = await createPipelineWorld();
    await world.writeFile('docs/a.pdf', 'A');
    await world.writeFile('docs/b.pdf', 'B');
    const za = await ZohoAttach.open(world.config);
    const worker = await startUploadWorker({
      config: world.config,
      logger: createLogger({ level: 'silent', pretty: false }),
    });
    try {
      const summary = await za.enqueueRows(
        [
          { module: 'Accounts', record_id: '11', file: 'docs/a.pdf', title: 'A', legacy_id: 'OLD-1' },
          { module: 'Accounts', record_id: '12', file: 'docs/b.pdf', legacy_id: 'OLD-2' },
          { module: 'Accounts', record_id: 'x13', file: 'docs/b.pdf', legacy_id: 'OLD-3' },
          { module: 'Accounts', record_id: '14', link_url: 'https://example.com/doc', legacy_id: 'OLD-4' },
        ],
        { batch: 'script', baseDir: world.dir },
      );
      expect(summary).toMatchObject({ enqueued: 3, rejected: 1 });
      expect(summary.rejections).toMatchObject([
        { line: 3, field: 'record_id', reason: expect.stringContaining('digits') },
      ]);

      const done = await za.waitForBatch('script', { pollMs: 100, timeoutMs: 20_000 });
      expect(done).toMatchObject({ uploaded: 3, dead: 0, pending: 0 });

      const rows: ReportRow[] = [];
      for await (const row of za.report('script')) rows.push(row);
      const mapping = Object.fromEntries(
        rows.filter((r) => r.status === 'uploaded').map((r) => [r.extra.legacy_id, r.attachment_id]),
      );
      const stored = world.fake.inspect().attachments;
      expect(Object.keys(mapping).sort()).toEqual(['OLD-1', 'OLD-2', 'OLD-4']);
      for (const [legacy, attachmentId] of Object.entries(mapping)) {
        const attachment = stored.find((a) => a.id === attachmentId);
        expect(attachment, legacy).toBeDefined();
      }
      // A rejected row keeps its fields and pass-through columns in the report.
      expect(rows.find((r) => r.status === 'rejected')).toMatchObject({
        record_id: 'x13',
        error_code: 'INVALID_ROW',
        extra: { legacy_id: 'OLD-3' },
      });
      expect((await za.status('script')).batches[0]!.uploaded).toBe(3);

      // The migration proves itself against Zoho, as `zoho-attach check` does.
      const plans: number[] = [];
      const check = await za.check('script', { onPlan: (plan) => plans.push(plan.apiCallsAtLeast) });
      expect(plans).toEqual([3]);
      expect(check).toMatchObject({ passed: true, counts: { ok: 3, missing: 0, extra: 0 }, differing: [] });

      // And can be backed out: exactly its three attachments go.
      expect((await za.planUndo('script')).targets.map((t) => t.recordId).sort()).toEqual(['11', '12', '14']);
      expect(await za.undo('script')).toMatchObject({ deleted: 3, failed: [] });
      // Its deletions borrowed the workers' slots, and gave them back.
      const redis = testRedis();
      try {
        expect(await redis.hlen(`${world.queueName}:control:concurrency-borrowed`)).toBe(0);
        expect(await redis.hget(`${world.queueName}:uploads:meta`, 'concurrency')).toBe('10');
      } finally {
        redis.disconnect();
      }
      expect(world.fake.inspect().attachments).toHaveLength(0);
      expect(await za.batch('script')).toMatchObject({ uploaded: 0, undone: 3, pending: 0 });
    } finally {
      await worker.close();
      await za.close();
      await za.close(); // idempotent
    }
  });

  it('archives a finished batch, reads the archive back, and enqueues its manifest again without uploading twice', async () => {
    world = await createPipelineWorld();
    await world.writeFile('a.txt', 'a');
    const manifest = await world.writeFile('m.csv', 'module,record_id,file\nLeads,1,a.txt\n');
    const za = await ZohoAttach.open(world.config);
    const worker = await startUploadWorker({ config: world.config });
    try {
      await za.enqueueManifest(manifest, { batch: 'first' });
      await za.waitForBatch('first', { pollMs: 50, timeoutMs: 20_000 });
      const out = path.join(world.dir, 'first.jsonl.gz');
      expect(await za.archive('first', out)).toMatchObject({ batch: 'first', rows: 1, forgotten: 1 });
      expect(await za.batch('first')).toBeUndefined();
      const { header, rows } = await readArchivedReport(out);
      const archived: ReportRow[] = [];
      for await (const row of rows) archived.push(row);
      expect([header.batch, archived.map((r) => r.status)]).toEqual(['first', ['uploaded']]);
      expect(await planManifest(manifest, { config: world.config })).toMatchObject({
        rows: 1,
        valid: 1,
        fileBytes: 1,
        uploadCalls: 1,
      });
      expect(await za.enqueueManifest(manifest, { batch: 'second', archives: [out] })).toMatchObject({
        enqueued: 0,
        skipped: 1,
        skippedArchived: 1,
      });
      expect(world.fake.inspect().attachments).toHaveLength(1);
    } finally {
      await worker.close();
      await za.close();
    }
  });

  it('waitForBatch rejects on timeout and for an unknown batch', async () => {
    world = await createPipelineWorld();
    const za = await ZohoAttach.open(world.config);
    try {
      await expect(za.waitForBatch('nope', { pollMs: 10 })).rejects.toMatchObject({
        code: 'NO_SUCH_BATCH',
        name: 'ZohoAttachError',
      });
      await za.enqueueRows([{ module: 'Leads', record_id: '1', link_url: 'https://example.com/' }], { batch: 'slow' });
      await expect(za.waitForBatch('slow', { pollMs: 10, timeoutMs: 50 })).rejects.toBeInstanceOf(ZohoAttachError);
      await expect(za.waitForBatch('slow', { pollMs: 10, timeoutMs: 50 })).rejects.toMatchObject({
        code: 'WAIT_TIMEOUT',
      });
      await expect(za.enqueueRows([], { batch: 'bad name!' })).rejects.toMatchObject({ code: 'INVALID_BATCH' });
    } finally {
      await za.close();
    }
  });

  it('dry-runs, pauses and resumes, and lists, exports, retries and purges dead letters, as the CLI does', async () => {
    world = await createPipelineWorld();
    await world.writeFile('a.txt', 'a');
    const za = await ZohoAttach.open(world.config);
    try {
      const rows = [
        { module: 'Leads', record_id: '1', file: 'a.txt' },
        { module: 'Leads', record_id: '2', file: 'missing.txt' },
      ];
      const dry = await za.dryRun(rows, { baseDir: world.dir });
      expect(dry).toMatchObject({
        rows: 2,
        ok: 1,
        rejections: [{ line: 2, field: 'file', reason: expect.stringContaining('SOURCE_NOT_FOUND') }],
      });
      expect(await za.batch('dry')).toBeUndefined();
      // Enqueueing runs the very same checks.
      expect(await za.enqueueRows(rows, { batch: 'checked', baseDir: world.dir })).toMatchObject({
        enqueued: 1,
        rejected: 1,
        rejections: [{ line: 2, field: 'file', reason: expect.stringContaining('SOURCE_NOT_FOUND') }],
      });

      await za.pause();
      expect((await za.status()).paused).toBe(true);
      await za.resume();
      expect((await za.status()).paused).toBe(false);

      // The workers' refusal of a missing file is under test here: enqueue's own check is turned off.
      await za.enqueueRows(rows, { batch: 'dl', baseDir: world.dir, checkSources: false });
      // A worker with no logger at all: the library's default writes nothing.
      const worker = await startUploadWorker({ config: world.config });
      try {
        await za.waitForBatch('dl', { pollMs: 50, timeoutMs: 20_000 });
      } finally {
        await worker.close();
      }
      const groups = await za.deadLetters({ batch: 'dl' });
      expect(groups.map((g) => [g.code, g.count])).toEqual([['SOURCE_NOT_FOUND', 1]]);
      const out = new PassThrough();
      let csv = '';
      out.on('data', (d: Buffer) => (csv += d.toString()));
      expect(await za.exportDeadLetters(out, { group: groups[0]!.id })).toBe(1);
      expect(csv).toContain('missing.txt');
      expect(await za.retryDeadLetters({ group: groups[0]!.id })).toBe(1);
      expect((await za.batch('dl'))?.pending).toBe(1);
      expect(await za.purgeDeadLetters({ batch: 'dl' })).toBe(0);
    } finally {
      await za.close();
    }
  });
});
