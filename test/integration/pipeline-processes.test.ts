/**
 * The pipeline as operators run it: the CLI's `enqueue`, several `worker` processes, and
 * Zoho misbehaving meanwhile. A worker is SIGKILLed mid-run and restarted.
 */
import type { ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { collect, createPipelineWorld, parseCsv, runCli, spawnCli, type PipelineWorld } from '../helpers/pipeline.js';

let world: PipelineWorld | undefined;
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  await world?.cleanup();
  world = undefined;
});

const VALID_ROWS = 300;
const REJECTED_MODULE_ROWS = 10;

/** A manifest of VALID_ROWS files over 100 records plus rows for a module Zoho refuses. */
async function writeManifest(w: PipelineWorld): Promise<string> {
  const lines = ['module,record_id,file,title,legacy_id'];
  for (let i = 1; i <= VALID_ROWS; i++) {
    await w.writeFile(`files/doc-${i}.txt`, `document ${i} `.repeat(20));
    lines.push(`Accounts,${1000 + (i % 100)},files/doc-${i}.txt,Doc ${i},L-${i}`);
  }
  for (let i = 1; i <= REJECTED_MODULE_ROWS; i++) lines.push(`Widgets,${2000 + i},files/doc-${i}.txt,,W-${i}`);
  return w.writeFile('manifest.csv', lines.join('\n'));
}

/** Polls until `check` holds (vitest's waitFor, with the thing awaited named in the error). */
function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  return vi.waitFor(
    async () => {
      if (!(await check())) throw new Error(`still waiting for ${what}`);
    },
    { timeout: timeoutMs, interval: 50 },
  );
}

/** Every valid row uploaded exactly once, 4xx rows dead with their code, the report equal to the fake. */
async function expectExactlyOnce(w: PipelineWorld) {
  const snapshot = w.fake.inspect();
  const perFile = new Map<string, number>();
  for (const a of snapshot.attachments)
    perFile.set(`${a.recordId}/${a.fileName}`, (perFile.get(`${a.recordId}/${a.fileName}`) ?? 0) + 1);
  const duplicates = [...perFile.entries()].filter(([, n]) => n > 1);
  expect(duplicates).toEqual([]);
  expect(snapshot.attachments).toHaveLength(VALID_ROWS);

  const result = await runCli(['report', '--batch', 'migration'], w.env, w.dir);
  expect(result.code, result.stderr).toBe(0);
  const rows = parseCsv(result.stdout);
  expect(rows).toHaveLength(VALID_ROWS + REJECTED_MODULE_ROWS);
  const byId = new Map(snapshot.attachments.map((a) => [a.id, a]));
  for (const row of rows) {
    if (row.module === 'Widgets') {
      expect([row.status, row.error_code]).toEqual(['dead', 'INVALID_MODULE']);
      continue;
    }
    expect(row.status, `line ${row.line}: ${row.error_code} ${row.error_message}`).toBe('uploaded');
    const stored = byId.get(row.attachment_id!);
    expect(stored, `line ${row.line}`).toBeDefined();
    expect([stored!.recordId, stored!.sha256, stored!.title]).toEqual([row.record_id, row.sha256, row.title]);
  }
  return snapshot;
}

describe('several worker processes', () => {
  it('upload every valid row exactly once through 500s, "stored then 500", token expiry and a concurrency limit', async () => {
    world = await createPipelineWorld({
      fake: { concurrencyLimit: 5, latencyMs: { min: 2, max: 25 } },
      env: { ZOHO_CONCURRENCY: '5' },
    });
    world.fake.faults.add({ match: { path: 'upload' }, kind: 'error500', probability: 0.05, times: Infinity });
    world.fake.faults.add({ match: { path: 'upload' }, kind: 'storeThen500', probability: 0.03, times: 10 });
    world.fake.faults.add({ match: { path: 'upload' }, kind: 'resetAfterStore', probability: 0.02, times: 5 });
    const manifest = await writeManifest(world);

    const enqueue = await runCli(['enqueue', manifest, '--batch', 'migration'], world.env, world.dir);
    expect(enqueue.code, enqueue.stderr).toBe(0);
    expect(enqueue.stdout).toMatch(new RegExp(`enqueued:\\s+${VALID_ROWS + REJECTED_MODULE_ROWS}`));

    const workers = [0, 1, 2].map(() =>
      spawnCli(['worker', '--until-idle', '--concurrency', '4'], world!.env, world!.dir),
    );
    children.push(...workers);
    await waitFor(() => world!.fake.inspect().attachments.length >= VALID_ROWS / 3, 30_000, 'a third of the uploads');
    world.fake.expireAllTokens();
    const results = await Promise.all(workers.map((w) => collect(w, 60_000)));
    for (const r of results) expect(r.code, r.stderr).toBe(0);

    const snapshot = await expectExactlyOnce(world);
    expect(snapshot.peakInFlight).toBeLessThanOrEqual(5);
    // One refresh at start (shared by all processes), one after the forced expiry; a little slack for timing.
    expect(snapshot.tokens.refreshes).toBeLessThanOrEqual(3);
  });

  it('lose nothing and duplicate nothing when a worker is SIGKILLed mid-upload and restarted', async () => {
    world = await createPipelineWorld({
      fake: { concurrencyLimit: 6, latencyMs: { min: 20, max: 60 } },
      env: { ZOHO_CONCURRENCY: '6' },
    });
    const manifest = await writeManifest(world);
    expect((await runCli(['enqueue', manifest, '--batch', 'migration'], world.env, world.dir)).code).toBe(0);

    const start = () => {
      const child = spawnCli(['worker', '--concurrency', '3'], world!.env, world!.dir);
      children.push(child);
      return child;
    };
    const victim = start();
    const survivors = [start(), start()];
    await waitFor(() => world!.fake.inspect().attachments.length >= 60, 30_000, 'uploads to be under way');
    await waitFor(() => world!.fake.inspect().inFlight > 0, 10_000, 'an upload in flight');
    victim.kill('SIGKILL');
    const restarted = start();

    await waitFor(
      async () => {
        const status = await runCli(['status', '--batch', 'migration', '--json'], world!.env, world!.dir);
        const batch = JSON.parse(status.stdout).batches[0];
        return batch.pending === 0;
      },
      90_000,
      'the batch to finish',
    );
    for (const child of [...survivors, restarted]) child.kill('SIGTERM');
    const exits = await Promise.all([...survivors, restarted].map((c) => collect(c, 30_000)));
    for (const exit of exits) expect(exit.code, exit.stderr).toBe(0);

    await expectExactlyOnce(world);
  });

  it('finish their in-flight uploads on SIGTERM before exiting 0', async () => {
    world = await createPipelineWorld({ fake: { latencyMs: 1_500 } });
    await world.writeFile('slow.txt', 'slow');
    const manifest = await world.writeFile('m.csv', 'module,record_id,file\nLeads,1,slow.txt\n');
    expect((await runCli(['enqueue', manifest, '--batch', 'migration'], world.env, world.dir)).code).toBe(0);
    const worker = spawnCli(['worker'], world.env, world.dir);
    children.push(worker);
    await waitFor(() => world!.fake.inspect().inFlight > 0, 15_000, 'the upload to be in flight');
    worker.kill('SIGTERM');
    const exit = await collect(worker, 30_000);
    expect(exit.code, exit.stderr).toBe(0);
    expect(world.fake.inspect().attachments).toHaveLength(1);
    const status = JSON.parse(
      (await runCli(['status', '--batch', 'migration', '--json'], world.env, world.dir)).stdout,
    );
    expect(status.batches[0]).toMatchObject({ uploaded: 1, pending: 0 });
  });
});
