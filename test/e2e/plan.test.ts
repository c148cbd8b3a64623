/** `zoho-attach plan` as a user runs it: the cost of a manifest, with no Zoho, no Redis and no download. */
import { afterEach, describe, expect, it } from 'vitest';
import { createPipelineWorld, runCli, type PipelineWorld } from '../helpers/pipeline.js';

let world: PipelineWorld | undefined;
afterEach(async () => {
  await world?.cleanup();
  world = undefined;
});

describe('zoho-attach plan', () => {
  it('counts rows, bytes, calls, time and days of credits, without calling Zoho or Redis', async () => {
    world = await createPipelineWorld();
    const lines = ['module,record_id,file,link_url'];
    for (let i = 1; i <= 5; i++) {
      await world.writeFile(`f${i}.txt`, 'x'.repeat(1024 * i));
      lines.push(`Leads,${i},f${i}.txt,`);
    }
    lines.push(
      'Leads,6,https://files.example.com/a.pdf,',
      'Leads,7,,https://example.com/wiki',
      'Leads,x8,f1.txt,',
      'Leads,9,missing.txt,',
    );
    const manifest = await world.writeFile('m.csv', lines.join('\n'));
    // Neither Zoho nor Redis is asked: both point nowhere.
    const env = {
      ...world.env,
      REDIS_URL: 'redis://127.0.0.1:1',
      ZOHO_API_DOMAIN: 'http://127.0.0.1:1',
      ZOHO_CONCURRENCY: '2',
      ZOHO_EDITION: 'standard',
      ZOHO_USERS: '10',
    };

    const text = await runCli(['plan', manifest, '--latency-ms', '1000'], env, world.dir);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('rows:     9 (7 to upload: 5 files, 1 URLs, 1 links; 2 refused');
    expect(text.stdout).toContain("bytes:    15.0 KB in local files (the 1 URLs' sizes are known once downloaded)");
    expect(text.stdout).toContain('calls:    7 uploads = 7 API credits');
    expect(text.stdout).toContain('time:     about 4s at 2 in flight (ZOHO_CONCURRENCY) and 1000 ms a call');
    expect(text.stdout).toContain('days:     1 of 52500 credits a day (ZOHO_EDITION=standard, ZOHO_USERS=10)');
    expect(world.fake.inspect().counters).toEqual({});

    const json = JSON.parse(
      (await runCli(['plan', manifest, '--json'], { ...env, ZOHO_DAILY_CREDITS: '3' }, world.dir)).stdout,
    );
    expect(json).toMatchObject({
      rows: 9,
      valid: 7,
      refused: 2,
      fileBytes: 15 * 1024,
      uploadCalls: 7,
      days: 3,
      dailyCredits: 3,
      latencyMs: 500,
    });
    expect(
      (await runCli(['plan', manifest], { ...env, ZOHO_EDITION: '', ZOHO_USERS: '' }, world.dir)).stdout,
    ).toContain('days:     unknown');

    // Rows that name their record by a field: the COQL queries are said, and counted as credits.
    const byField = ['module,lookup_field,lookup_value,link_url'];
    for (let i = 1; i <= 120; i++) byField.push(`Leads,Legacy_Id,L-${i},https://example.com/${i}`);
    byField.push('Leads,Legacy_Id,L-1,https://example.com/again', 'Contacts,Old_Key,K-1,https://example.com/k');
    const lookups = await world.writeFile('lookups.csv', byField.join('\n'));
    const planned = await runCli(['plan', lookups], env, world.dir);
    // Leads: 120 distinct values (3 queries); Contacts: 1 (1 query).
    expect(planned.stdout).toContain(
      'lookups:  122 rows name their record by a field: 4 COQL queries (50 values each) = 4 API credits, spent at enqueue; 126 credits in all',
    );
  });
});
