/**
 * A 100 MB upload is streamed, not buffered: measured in a child process of its own so the
 * test runner's memory cannot blur the figure.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startFakeZoho } from '../../src/fake-zoho/index.js';
import { uniqueName } from '../helpers/redis.js';

const SIZE = 100_000_000;
const MB = 1024 * 1024;
const file = path.join(tmpdir(), `${uniqueName('zoho-stream')}.bin`);
let fake: Awaited<ReturnType<typeof startFakeZoho>>;

beforeAll(async () => {
  // Sparse: 100 MB of zeros that take no disk and no time to write.
  await writeFile(file, '');
  await truncate(file, SIZE);
  fake = await startFakeZoho({ storeContent: false });
});
afterAll(async () => {
  await fake.close();
  await rm(file, { force: true });
});

it('uploads a 100 MB file with RSS growth well under 100 MB, and every byte arrives', async () => {
  const token = fake.issueAccessToken({});
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', 'test/helpers/zoho-upload-rss.ts', fake.url, token, file],
    { cwd: process.cwd(), timeout: 60_000 },
  );
  const result = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as {
    attachmentId: string;
    size: number;
    rssGrowthBytes: number;
  };

  expect(result.size).toBe(SIZE);
  expect(result.rssGrowthBytes, `RSS grew ${(result.rssGrowthBytes / MB).toFixed(1)} MB`).toBeLessThan(50 * MB);
  const stored = fake.inspect().attachments.find((a) => a.id === result.attachmentId);
  expect(stored?.size).toBe(SIZE);
  const zeros = createHash('sha256');
  const chunk = Buffer.alloc(MB);
  for (let left = SIZE; left > 0; left -= MB) zeros.update(left >= MB ? chunk : chunk.subarray(0, left));
  expect(stored?.sha256).toBe(zeros.digest('hex'));
}, 60_000);
