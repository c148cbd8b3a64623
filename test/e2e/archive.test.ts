/**
 * `zoho-attach archive` as a user runs it: a finished batch leaves Redis for a checked file,
 * its report reads back from the file, and enqueueing the manifest again with the archive
 * uploads nothing.
 */
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createPipelineWorld, parseCsv, runCli, type PipelineWorld } from '../helpers/pipeline.js';
import { TEST_REDIS_URL } from '../helpers/redis.js';

let world: PipelineWorld | undefined;
afterEach(async () => {
  await world?.cleanup();
  world = undefined;
});

/** The keys of the world's queue that name the batch or its rows. */
async function keysOf(queueName: string, pattern: string): Promise<string[]> {
  const redis = new Redis(TEST_REDIS_URL);
  try {
    return await redis.keys(`${queueName}:${pattern}`);
  } finally {
    redis.disconnect();
  }
}

describe('zoho-attach archive', () => {
  it('moves a finished batch to a checked file; report reads it back; enqueue --archive uploads nothing again', async () => {
    world = await createPipelineWorld();
    await world.writeFile('a.txt', 'a');
    await world.writeFile('b.txt', 'b');
    const manifest = await world.writeFile(
      'm.csv',
      'module,record_id,file,legacy\nLeads,1,a.txt,L1\nWidgets,2,b.txt,L2\nLeads,x,a.txt,L3\n',
    );
    expect((await runCli(['enqueue', manifest, '--batch', 'old'], world.env, world.dir)).code).toBe(1);
    expect((await runCli(['worker', '--until-idle'], world.env, world.dir)).code).toBe(0);
    const before = (await runCli(['report', '--batch', 'old'], world.env, world.dir)).stdout;
    expect(parseCsv(before).map((r) => r.status)).toEqual(['uploaded', 'dead', 'rejected']);

    const out = path.join(world.dir, 'old.jsonl.gz');
    const archived = await runCli(['archive', '--batch', 'old', '--out', out], world.env, world.dir);
    expect(archived.code, archived.stderr).toBe(0);
    expect(archived.stdout).toMatch(
      /archived batch old: 3 rows written to .*old\.jsonl\.gz and checked;\n {2}2 rows it owned removed from Redis/,
    );

    // Gone from Redis: the batch, its rows' items, its dead letter's job.
    expect(await keysOf(world.queueName, 'ledger:batch:old:*')).toEqual([]);
    expect(await keysOf(world.queueName, 'ledger:item*')).toEqual([]);
    expect(await keysOf(world.queueName, 'ledger:attachment-owners*')).toEqual([]);
    expect(JSON.parse((await runCli(['dlq', 'list', '--json'], world.env, world.dir)).stdout)).toEqual([]);
    expect(JSON.parse((await runCli(['status', '--json'], world.env, world.dir)).stdout).batches).toEqual([]);

    // The file: header, three rows with their evidence, trailer.
    const lines = gunzipSync(await readFile(out))
      .toString('utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({
      zohoAttachArchive: 1,
      batch: 'old',
      columns: ['legacy'],
      meta: { uploaded: 1, dead: 1, rejected: 1 },
    });
    expect(lines[1]).toMatchObject({
      row: { status: 'uploaded', extra: { legacy: 'L1' } },
      jobId: expect.stringMatching(/^u-/),
      evidence: { how: 'uploaded', bytes: 1 },
    });
    expect(lines.at(-1)).toEqual({ zohoAttachArchiveEnd: true, rows: 3 });

    // The same report, from the file (no batch in Redis any more).
    expect((await runCli(['report', '--archive', out], world.env, world.dir)).stdout).toBe(before);
    expect((await runCli(['archive', '--batch', 'old', '--out', out], world.env, world.dir)).stderr).toContain(
      '[NO_SUCH_BATCH]',
    );

    // Enqueued again with the archive: the uploaded row is skipped, not uploaded a second time.
    const again = await runCli(['enqueue', manifest, '--batch', 'again', '--archive', out], world.env, world.dir);
    expect(again.stdout).toMatch(/skipped, already uploaded: 1 \(1 of them per the archives\)/);
    expect((await runCli(['worker', '--until-idle'], world.env, world.dir)).code).toBe(0);
    expect(world.fake.inspect().attachments).toHaveLength(1);
  });

  it('refuses an unfinished batch, an existing file, and a file cut short', async () => {
    world = await createPipelineWorld();
    await world.writeFile('a.txt', 'a');
    const manifest = await world.writeFile('m.csv', 'module,record_id,file\nLeads,1,a.txt\n');
    await runCli(['enqueue', manifest, '--batch', 'b'], world.env, world.dir);
    const pending = await runCli(['archive', '--batch', 'b', '--out', 'b.jsonl.gz'], world.env, world.dir);
    expect([pending.code, pending.stderr]).toEqual([
      1,
      expect.stringContaining('[BATCH_NOT_FINISHED] batch b still has 1 pending row(s)'),
    ]);

    await runCli(['worker', '--until-idle'], world.env, world.dir);
    await writeFile(path.join(world.dir, 'taken.jsonl.gz'), 'x');
    const taken = await runCli(['archive', '--batch', 'b', '--out', 'taken.jsonl.gz'], world.env, world.dir);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toContain('EEXIST');
    expect(JSON.parse((await runCli(['status', '--json'], world.env, world.dir)).stdout).batches).toHaveLength(1);

    expect((await runCli(['archive', '--batch', 'b', '--out', 'b.jsonl.gz'], world.env, world.dir)).code).toBe(0);
    const whole = gunzipSync(await readFile(path.join(world.dir, 'b.jsonl.gz')))
      .toString('utf8')
      .trim()
      .split('\n');
    const { gzipSync } = await import('node:zlib');
    await writeFile(path.join(world.dir, 'cut.jsonl.gz'), gzipSync(whole.slice(0, -1).join('\n')));
    const cut = await runCli(['report', '--archive', 'cut.jsonl.gz'], world.env, world.dir);
    expect([cut.code, cut.stderr]).toEqual([
      1,
      expect.stringMatching(
        /\[ARCHIVE_INVALID\] .*cut\.jsonl\.gz line \d+: the file ends without its trailer: it is cut short/,
      ),
    ]);
  });
});
