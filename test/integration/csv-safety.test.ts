/**
 * Spreadsheet-safe CSV: every exported cell a spreadsheet would run is guarded with a leading
 * `'`, and enqueueing the export (or a report) takes exactly that guard off, so the values come
 * back byte for byte, for any number of rounds.
 */
import { createWriteStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeReport } from '../../src/ledger/report.js';
import { readManifest } from '../../src/manifest/index.js';
import { exportDeadLetters } from '../../src/queue/dead-letters.js';
import { guardCell, unguardCell } from '../../src/shared/spreadsheet-guard.js';
import { createPipelineWorld, type PipelineWorld } from '../helpers/pipeline.js';
import { enqueueManifest, runWorkersUntilIdle, withQueue } from '../helpers/queue-runs.js';

let world: PipelineWorld | undefined;
afterEach(async () => {
  await world?.cleanup();
  world = undefined;
});

/** Values a spreadsheet would run, and some it would not. */
const HOSTILE = [
  '=HYPERLINK("http://evil.example/x","click")',
  "+cmd|' /c calc'!A1",
  '@SUM(1+1)*cmd|"/c calc"!A0',
  '\tTAB',
  '\rCR',
  "'=already quoted",
];
const HARMLESS = ['-5', '-2+3', '-0.5', 'plain', "'quoted", '', 'a,b "c"'];

describe('the guard', () => {
  it.each(HOSTILE)('guards %j and takes the guard off again exactly', (value) => {
    expect(guardCell(value)).toBe(`'${value}`);
    expect(unguardCell(guardCell(value))).toBe(value);
  });
  it.each(HARMLESS)('leaves %j alone', (value) => {
    expect(guardCell(value)).toBe(value);
    expect(unguardCell(value)).toBe(value);
  });
});

/** Reads a CSV file as the manifest reader does, returning the valid rows. */
async function rowsOf(file: string) {
  const rows = [];
  for await (const entry of readManifest(file, { baseDir: path.dirname(file) })) if (entry.ok) rows.push(entry.row);
  return rows;
}

describe('round trips', () => {
  it('report → enqueue keeps titles and pass-through values byte for byte; the report file runs nothing in a spreadsheet', async () => {
    world = await createPipelineWorld();
    await world.writeFile('a.txt', 'a');
    const rows = HOSTILE.filter((v) => !/[\t\r]/.test(v)).map((value, i) => ({
      module: 'Leads',
      record_id: String(100 + i),
      link_url: `https://example.com/${i}`,
      title: value.slice(0, 200),
      note: value,
    }));
    const manifest = await world.writeFile('m.jsonl', rows.map((r) => JSON.stringify(r)).join('\n'));
    expect(await enqueueManifest(world, manifest, 'b')).toMatchObject({ rejected: 0 });
    await runWorkersUntilIdle(world);

    const reportFile = path.join(world.dir, 'report.csv');
    await withQueue(world, async (queue) => {
      const out = createWriteStream(reportFile);
      await writeReport(queue.ledger, 'b', 'csv', out);
      out.end();
      await finished(out);
    });
    const text = await readFile(reportFile, 'utf8');
    for (const line of text.split('\r\n').slice(1).filter(Boolean)) {
      for (const cell of line.split(',')) expect(cell.replace(/^"/, '')).not.toMatch(/^[=+@\t\r]/);
    }
    const back = await rowsOf(reportFile);
    expect(back.map((r) => [r.title, r.extra.note])).toEqual(rows.map((r) => [r.title, r.note]));
  });

  it('dlq export → enqueue → dead again → export → enqueue works for three rounds, the reason columns written once', async () => {
    world = await createPipelineWorld();
    const title = '=HYPERLINK("http://evil.example")';
    const manifest = await world.writeFile(
      'm.jsonl',
      `${JSON.stringify({ module: 'Leads', record_id: '1', link_url: 'https://example.com/doc', title, legacy: '+cmd' })}\n`,
    );
    world.fake.faults.add({ match: { path: 'upload' }, kind: 'noPermission', times: Infinity });
    await enqueueManifest(world, manifest, 'round-0');
    await runWorkersUntilIdle(world);
    for (let round = 1; round <= 3; round++) {
      const exportFile = path.join(world.dir, `export-${round}.csv`);
      const count = await withQueue(world, async (queue) => {
        const out = createWriteStream(exportFile);
        const n = await exportDeadLetters(queue, {}, out);
        out.end();
        await finished(out);
        return n;
      });
      expect(count).toBe(1);
      const header = (await readFile(exportFile, 'utf8')).split('\r\n')[0]!;
      expect(header.split(',').filter((c) => c === 'dlq_error_code')).toHaveLength(1);
      const [row] = await rowsOf(exportFile);
      expect(row).toMatchObject({ title, extra: { legacy: '+cmd', dlq_error_code: 'NO_PERMISSION' } });
      const summary = await enqueueManifest(world, exportFile, `round-${round}`, { mode: 'force' });
      expect(summary, `round ${round}`).toMatchObject({ rejected: 0, enqueued: 1 });
      await runWorkersUntilIdle(world);
    }
  });
});
