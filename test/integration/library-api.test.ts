/** The library API a migration script uses, against a real Redis and the fake Zoho. */
import { afterEach, describe, expect, it } from 'vitest';
import { ZohoAttach, startUploadWorker, type ReportRow } from '../../src/index.js';
import { createLogger } from '../../src/shared/logger.js';
import { createPipelineWorld, type PipelineWorld } from '../helpers/pipeline.js';

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
    const worker = await startUploadWorker({ config: world.config, logger: createLogger({ level: 'silent', pretty: false }) });
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
      expect(summary.rejections).toEqual([{ line: 3, field: 'record_id', reason: expect.stringContaining('digits') }]);

      const done = await za.waitForBatch('script', { pollMs: 100, timeoutMs: 20_000 });
      expect(done).toMatchObject({ uploaded: 3, dead: 0, pending: 0 });

      const rows: ReportRow[] = [];
      for await (const row of za.report('script')) rows.push(row);
      const mapping = Object.fromEntries(rows.filter((r) => r.status === 'uploaded').map((r) => [r.extra.legacy_id, r.attachment_id]));
      const stored = world.fake.inspect().attachments;
      expect(Object.keys(mapping).sort()).toEqual(['OLD-1', 'OLD-2', 'OLD-4']);
      for (const [legacy, attachmentId] of Object.entries(mapping)) {
        const attachment = stored.find((a) => a.id === attachmentId);
        expect(attachment, legacy).toBeDefined();
      }
      expect(rows.find((r) => r.extra.legacy_id === undefined && r.status === 'rejected')).toBeDefined();
      expect((await za.status('script')).batches[0]!.uploaded).toBe(3);
    } finally {
      await worker.close();
      await za.close();
      await za.close(); // idempotent
    }
  });

  it('waitForBatch rejects on timeout and for an unknown batch', async () => {
    world = await createPipelineWorld();
    const za = await ZohoAttach.open(world.config);
    try {
      await expect(za.waitForBatch('nope', { pollMs: 10 })).rejects.toThrow('[NO_SUCH_BATCH]');
      await za.enqueueRows([{ module: 'Leads', record_id: '1', link_url: 'https://example.com/' }], { batch: 'slow' });
      await expect(za.waitForBatch('slow', { pollMs: 10, timeoutMs: 50 })).rejects.toThrow('[WAIT_TIMEOUT]');
    } finally {
      await za.close();
    }
  });
});
