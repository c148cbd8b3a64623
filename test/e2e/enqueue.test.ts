/**
 * `zoho-attach enqueue` as a user runs it (the built CLI as a subprocess, a real Redis, the fake
 * Zoho): exit codes, the checks it shares with --dry-run, and the manifest conveniences.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { UploadQueue } from '../../src/queue/upload-queue.js';
import { createPipelineWorld, parseCsv, runCli, type PipelineWorld } from '../helpers/pipeline.js';

let world: PipelineWorld | undefined;
afterEach(async () => {
  await world?.cleanup();
  world = undefined;
});

describe('zoho-attach enqueue', () => {
  it('enqueue exits 0 when every row is valid, 1 when some are rejected (listing each line) or on a fatal error', async () => {
    world = await createPipelineWorld();
    await world.writeFile('a.txt', 'a');
    const good = await world.writeFile('good.csv', 'module,record_id,file\nLeads,1,a.txt\n');
    const mixed = await world.writeFile(
      'mixed.csv',
      'module,record_id,file\nLeads,2,a.txt\nLeads,abc,a.txt\nLeads,3,\n',
    );
    const broken = await world.writeFile('broken.csv', 'modul,record,file\nLeads,1,a.txt\n');

    const ok = await runCli(['enqueue', good], world.env, world.dir);
    expect([ok.code, ok.stdout]).toEqual([0, expect.stringContaining('batch good')]);
    const partial = await runCli(['enqueue', mixed, '--batch', 'mixed-run'], world.env, world.dir);
    expect(partial.code).toBe(1);
    expect(partial.stdout).toMatch(/enqueued:\s+1/);
    expect(partial.stdout).toMatch(/line 3: record_id/);
    expect(partial.stdout).toMatch(/line 4: file/);
    const fatal = await runCli(['enqueue', broken], world.env, world.dir);
    expect(fatal.code).toBe(1);
    expect(fatal.stderr).toMatch(/module/);
    const missing = await runCli(['enqueue', 'nope.csv'], world.env, world.dir);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('nope.csv');

    const dry = await runCli(['enqueue', mixed, '--dry-run'], world.env, world.dir);
    expect(dry.code).toBe(1);
    expect(dry.stdout).toContain('nothing was enqueued');
  });

  it('--dry-run checks that files exist, fit and are allowed, and enqueues nothing', async () => {
    world = await createPipelineWorld();
    await world.writeFile('a.txt', 'a');
    await world.writeFile('tool.exe', 'MZ');
    const manifest = await world.writeFile(
      'm.csv',
      'module,record_id,file\nLeads,1,a.txt\nLeads,2,tool.exe\nLeads,3,gone.txt\n',
    );
    const dry = await runCli(['enqueue', manifest, '--dry-run'], world.env, world.dir);
    expect(dry.code).toBe(1);
    expect(dry.stdout).toMatch(/line 3: file: \[SOURCE_FORBIDDEN_TYPE\]/);
    expect(dry.stdout).toMatch(/line 4: file: \[SOURCE_NOT_FOUND\]/);
    const status = await runCli(['status', '--json'], world.env, world.dir);
    expect(JSON.parse(status.stdout).batches).toEqual([]);
  });

  it('enqueue refuses exactly the rows --dry-run refuses (one validation path), and --allow-empty admits an empty file in both', async () => {
    world = await createPipelineWorld();
    await world.writeFile('a.txt', 'a');
    await world.writeFile('tool.exe', 'MZ');
    await world.writeFile('empty.txt', '');
    const manifest = await world.writeFile(
      'm.csv',
      'module,record_id,file,legacy\nLeads,1,a.txt,L1\nLeads,2,tool.exe,L2\nLeads,3,gone.txt,L3\nLeads,4,empty.txt,L4\n',
    );
    const refusals = (stdout: string) =>
      stdout
        .split('\n')
        .filter((l) => /^\s+line \d+:/.test(l))
        .map((l) => l.trim());

    const dry = await runCli(['enqueue', manifest, '--dry-run'], world.env, world.dir);
    const real = await runCli(['enqueue', manifest, '--batch', 'checked'], world.env, world.dir);
    expect(real.code).toBe(1);
    expect(refusals(real.stdout)).toEqual(refusals(dry.stdout));
    expect(refusals(real.stdout)).toEqual([
      expect.stringMatching(/^line 3: file: \[SOURCE_FORBIDDEN_TYPE\]/),
      expect.stringMatching(/^line 4: file: \[SOURCE_NOT_FOUND\]/),
      expect.stringMatching(/^line 5: file: \[SOURCE_EMPTY\] .*empty\.txt is empty \(0 bytes\).*--allow-empty/),
    ]);
    expect(real.stdout).toMatch(/enqueued:\s+1\b/);
    const uploadQueue = await UploadQueue.open(world.config);
    try {
      expect(await uploadQueue.ledger.getBatch('checked')).toMatchObject({ owned: 1, backlog: 1 });
      const rows: number[] = [];
      for await (const entry of uploadQueue.ledger.readRows('checked')) if ('row' in entry) rows.push(entry.line);
      expect(rows).toEqual([2]);
    } finally {
      await uploadQueue.close();
    }

    // The report keeps a refused row whole: its fields and its pass-through columns.
    const report = parseCsv((await runCli(['report', '--batch', 'checked'], world.env, world.dir)).stdout);
    expect(report.find((r) => r.line === '4')).toMatchObject({
      status: 'rejected',
      error_code: 'SOURCE_NOT_FOUND',
      module: 'Leads',
      record_id: '3',
      legacy: 'L3',
    });
    expect(report.find((r) => r.line === '4')!.file).toMatch(/gone\.txt$/);

    const allowDry = await runCli(['enqueue', manifest, '--dry-run', '--allow-empty'], world.env, world.dir);
    expect(refusals(allowDry.stdout)).toHaveLength(2);
    const allowed = await runCli(['enqueue', manifest, '--batch', 'checked', '--allow-empty'], world.env, world.dir);
    expect(refusals(allowed.stdout)).toEqual(refusals(allowDry.stdout));
    expect(allowed.stdout).toMatch(/enqueued:\s+1\b/);
  });

  it('--skip-source-checks leaves the files to the workers, which refuse a missing one as a dead letter', async () => {
    world = await createPipelineWorld();
    const manifest = await world.writeFile('m.csv', 'module,record_id,file\nLeads,1,not-here-yet.txt\n');
    const result = await runCli(['enqueue', manifest, '--skip-source-checks'], world.env, world.dir);
    expect([result.code, result.stdout]).toEqual([0, expect.stringMatching(/enqueued:\s+1\b/)]);
    expect((await runCli(['worker', '--until-idle'], world.env, world.dir)).code).toBe(0);
    expect((await runCli(['dlq', 'list'], world.env, world.dir)).stdout).toContain('SOURCE_NOT_FOUND');
  });

  it('manifest conveniences: columns keep their order, "did you mean title?", rejected rows whole, no empty batch on a re-run', async () => {
    world = await createPipelineWorld();
    await world.writeFile('a.txt', 'a');
    await world.writeFile('b.txt', 'b');
    const manifest = await world.writeFile(
      'rows.csv',
      'zeta,module,record_id,file,titel,alpha\nz1,Leads,1,a.txt,Hello,a1\nz2,Leads,x,b.txt,Bye,a2\n',
    );
    const first = await runCli(['enqueue', manifest, '--batch', 'first'], world.env, world.dir);
    expect(first.stderr).toContain(
      'warning: column "titel" is not a manifest field, so it is passed through as it is: did you mean title?',
    );
    expect(first.stderr.match(/did you mean/g)).toHaveLength(1);
    const dry = await runCli(['enqueue', manifest, '--dry-run'], world.env, world.dir);
    expect(dry.stderr).toContain('did you mean title?');

    const report = (await runCli(['report', '--batch', 'first'], world.env, world.dir)).stdout;
    expect(report.split(/\r?\n/)[0]).toMatch(/,copies_removed,zeta,titel,alpha$/);
    expect(parseCsv(report).find((r) => r.line === '3')).toMatchObject({
      status: 'rejected',
      module: 'Leads',
      record_id: 'x',
      zeta: 'z2',
      titel: 'Bye',
      alpha: 'a2',
    });

    // The valid row again, without --batch: it is queued already (in "first"), so no batch "rows" appears.
    const fixed = await world.writeFile(
      'rows.csv',
      'zeta,module,record_id,file,titel,alpha\nz1,Leads,1,a.txt,Hello,a1\n',
    );
    const rerun = await runCli(['enqueue', fixed], world.env, world.dir);
    expect(rerun.code).toBe(0);
    expect(rerun.stdout).toMatch(/already queued:\s+1 /);
    expect(rerun.stdout).toMatch(
      /^nothing new: each of the 1 rows is already uploaded, queued or a dead letter\n {2}so no batch rows was created/m,
    );
    const status = JSON.parse((await runCli(['status', '--json'], world.env, world.dir)).stdout);
    expect(status.batches.map((b: { name: string }) => b.name)).toEqual(['first']);
  });
});
