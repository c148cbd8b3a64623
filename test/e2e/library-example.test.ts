/**
 * The library example in jobs/examples/ runs as a migration team would run it (`npx tsx
 * jobs/examples/migrate-with-library.ts`), against the fake Zoho and a real Redis.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { collect, createPipelineWorld, type PipelineWorld } from '../helpers/pipeline.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const example = fileURLToPath(new URL('../../jobs/examples/migrate-with-library.ts', import.meta.url));
const filesDir = fileURLToPath(new URL('../../jobs/examples/files', import.meta.url));

let world: PipelineWorld | undefined;
afterEach(async () => {
  await world?.cleanup();
  world = undefined;
});

describe('jobs/examples/migrate-with-library.ts', () => {
  it('uploads every document through the library and prints the mapping', async () => {
    world = await createPipelineWorld();
    const child = spawn(process.execPath, ['--import', 'tsx', example], {
      cwd: repo,
      env: { PATH: process.env.PATH ?? '', ...world.env, ZOHO_ATTACH_FILE_ROOTS: filesDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const run = await collect(child, 60_000);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const mappings = [...run.stdout.matchAll(/^mapping (DOC-\d) -> (\d+)$/gm)];
    expect(mappings.map((m) => m[1])).toEqual(['DOC-1', 'DOC-2', 'DOC-3', 'DOC-4']);
    expect(new Set(mappings.map((m) => m[2])).size).toBe(4);
    expect(
      world.fake
        .inspect()
        .attachments.map((a) => a.id)
        .sort(),
    ).toEqual(mappings.map((m) => m[2]).sort());
  });
});
