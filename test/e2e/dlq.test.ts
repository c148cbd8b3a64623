/**
 * `zoho-attach dlq` as an operator runs it: groups by code and message signature, says when
 * it shows fewer groups than there are, and acts on one group by its id.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createPipelineWorld, runCli, type PipelineWorld } from '../helpers/pipeline.js';
import { enqueueManifest, runWorkersUntilIdle } from '../helpers/queue-runs.js';

let world: PipelineWorld | undefined;
afterEach(async () => {
  await world?.cleanup();
  world = undefined;
});

describe('dlq list, and --group', () => {
  it('puts rows whose messages differ only by their path in one group, says what it leaves out, and purges one group by its id', async () => {
    world = await createPipelineWorld();
    await world.writeFile('ok.txt', 'ok');
    const rows = ['module,record_id,file'];
    // Twelve missing files, with spaces and numbers in their paths: one group, not twelve.
    for (let i = 1; i <= 12; i++) rows.push(`Leads,${100 + i},scans ${i}/missing file ${i}.pdf`);
    rows.push('Widgets,200,ok.txt', 'Gadgets,201,ok.txt');
    const manifest = await world.writeFile('m.csv', `${rows.join('\n')}\n`);
    // Missing files must reach the workers to become dead letters: enqueue's own check is off.
    await enqueueManifest(world, manifest, 'b', { checks: { sources: false } });
    await runWorkersUntilIdle(world);

    const listed = await runCli(['dlq', 'list', '--json'], world.env, world.dir);
    const groups = JSON.parse(listed.stdout) as Array<{ id: string; code: string; count: number; signature: string }>;
    expect(groups.map((g) => [g.code, g.count])).toEqual([
      ['SOURCE_NOT_FOUND', 12],
      ['INVALID_MODULE', 2],
    ]);
    const missing = groups[0]!;
    expect(missing.signature).toBe('<path> does not exist');

    const short = await runCli(['dlq', 'list', '--limit', '1'], world.env, world.dir);
    expect(short.stdout).toContain(`[${missing.id}] SOURCE_NOT_FOUND: 12 row(s)`);
    expect(short.stdout).toContain('… and 1 more group(s) with 2 row(s)');

    const purged = await runCli(['dlq', 'purge', '--group', missing.id], world.env, world.dir);
    expect(purged.stdout).toContain('purged 12 dead letter(s)');
    const after = JSON.parse((await runCli(['dlq', 'list', '--json'], world.env, world.dir)).stdout) as Array<{
      code: string;
    }>;
    expect(after.map((g) => g.code)).toEqual(['INVALID_MODULE']);
  });
});
