/**
 * Rows that name their record by a field (`lookup_field`, `lookup_value`), as a user enqueues them
 * with the built CLI: found with COQL against the fake Zoho over HTTP, 50 values a query, cached in
 * Redis for the batch; a value that matches no record, or two, fails its row naming the value.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createPipelineWorld, parseCsv, runCli, type PipelineWorld } from '../helpers/pipeline.js';
import { runWorkersUntilIdle } from '../helpers/queue-runs.js';

let world: PipelineWorld | undefined;
afterEach(async () => {
  await world?.cleanup();
  world = undefined;
});

describe('rows that name their record by a field', () => {
  it('are found with COQL, 50 values a query; a missing and an ambiguous value fail their rows; a re-run asks only for those', async () => {
    const w = await createPipelineWorld();
    world = w;
    const recordOf = new Map<string, string>();
    for (let i = 1; i <= 200; i++)
      recordOf.set(`L-${i}`, w.fake.records.add({ module: 'Leads', fields: { Legacy_Id: `L-${i}` } }).id);
    w.fake.records.add({ module: 'Leads', fields: { Legacy_Id: 'L-TWICE' } });
    w.fake.records.add({ module: 'Leads', fields: { Legacy_Id: 'L-TWICE' } });
    const lines = ['module,lookup_field,lookup_value,link_url,legacy_note'];
    for (let i = 1; i <= 200; i++) lines.push(`Leads,Legacy_Id,L-${i},https://example.com/doc/${i},note ${i}`);
    lines.push(
      'Leads,Legacy_Id,L-TWICE,https://example.com/doc/twice,',
      'Leads,Legacy_Id,L-NOWHERE,https://example.com/doc/nowhere,',
    );
    const manifest = await w.writeFile('by-legacy-id.csv', `${lines.join('\n')}\n`);

    const first = await runCli(['enqueue', manifest, '--batch', 'legacy'], w.env, w.dir);
    expect(first.code).toBe(1);
    expect(first.stdout).toMatch(/enqueued:\s+200\b/);
    // 202 values, 50 a query.
    expect(first.stdout).toMatch(/found by a field:\s+200 of 202 rows .*\(5 COQL queries = API credits, 0 values/);
    expect(w.fake.inspect().coqlCalls).toBe(5);
    expect(first.stdout).toMatch(
      /line 202: lookup_value: \[LOOKUP_AMBIGUOUS\] "L-TWICE": 2 Leads records have Legacy_Id = "L-TWICE"/,
    );
    expect(first.stdout).toMatch(
      /line 203: lookup_value: \[LOOKUP_NOT_FOUND\] "L-NOWHERE": no Leads record has Legacy_Id = "L-NOWHERE"/,
    );

    await runWorkersUntilIdle(w);
    const stored = w.fake.inspect().attachments;
    expect(stored).toHaveLength(200);
    for (const attachment of stored) {
      const i = /\/doc\/(\d+)$/.exec(attachment.linkUrl ?? '')?.[1];
      expect(attachment.recordId).toBe(recordOf.get(`L-${i}`));
    }

    // The report shows the record each row was found to be, beside how it named it.
    const report = parseCsv((await runCli(['report', '--batch', 'legacy'], w.env, w.dir)).stdout);
    expect(report.find((r) => r.line === '2')).toMatchObject({
      record_id: recordOf.get('L-1'),
      lookup_field: 'Legacy_Id',
      lookup_value: 'L-1',
      status: 'uploaded',
      legacy_note: 'note 1',
    });
    expect(report.find((r) => r.line === '203')).toMatchObject({ status: 'rejected', error_code: 'LOOKUP_NOT_FOUND' });

    // Enqueued again: the 200 found values come from the batch's cache; only the two failures are asked again.
    const again = await runCli(['enqueue', manifest, '--batch', 'legacy'], w.env, w.dir);
    expect(again.stdout).toMatch(/enqueued:\s+0\b/);
    expect(again.stdout).toMatch(
      /found by a field:\s+200 of 202 rows .*\(1 COQL queries = API credits, 200 values from this batch's cache\)/,
    );
    expect(w.fake.inspect().coqlCalls).toBe(6);
  });

  it('are refused at once when they mix record_id with a lookup, or leave out half of one', async () => {
    const w = await createPipelineWorld();
    world = w;
    const manifest = await w.writeFile(
      'mixed.csv',
      [
        'module,record_id,lookup_field,lookup_value,link_url',
        'Leads,11,Legacy_Id,L-1,https://example.com/a',
        'Leads,,Legacy_Id,,https://example.com/b',
        'Leads,,,L-3,https://example.com/c',
        'Leads,,Legacy Id,L-4,https://example.com/d',
        '',
      ].join('\n'),
    );
    const dry = await runCli(['enqueue', manifest, '--dry-run'], w.env, w.dir);
    expect(dry.stdout).toMatch(/line 2: lookup_field: cannot be given with record_id/);
    expect(dry.stdout).toMatch(/line 3: lookup_value: is required with lookup_field "Legacy_Id"/);
    expect(dry.stdout).toMatch(/line 4: lookup_field: is required with lookup_value/);
    expect(dry.stdout).toMatch(/line 5: lookup_field: "Legacy Id" is not an API name COQL takes/);
    expect(w.fake.inspect().coqlCalls).toBe(0);
  });
});
