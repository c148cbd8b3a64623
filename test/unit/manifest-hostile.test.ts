import { execFileSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import {
  MANIFEST_LIMITS,
  ManifestError,
  ManifestErrorCode,
  readManifest,
  type ManifestRow,
  type ManifestRowResult,
} from '../../src/manifest/index.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'manifest-hostile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileCount = 0;
function manifest(content: string | Buffer, extension = '.csv'): string {
  const filePath = path.join(dir, `h${++fileCount}${extension}`);
  writeFileSync(filePath, content);
  return filePath;
}

/** Everything the reader yields, and the error it ended with (if any). */
async function read(filePath: string): Promise<{ results: ManifestRowResult[]; error: unknown }> {
  const results: ManifestRowResult[] = [];
  try {
    for await (const result of readManifest(filePath)) results.push(result);
  } catch (error) {
    return { results, error };
  }
  return { results, error: undefined };
}

function summary(results: ManifestRowResult[]): string[] {
  return results.map((r) =>
    r.ok ? `${r.row.line}:${r.row.recordId}` : `${r.rejection.line}!${r.rejection.field ?? ''}`,
  );
}

const HEADER = 'module,record_id,file,title\n';
const MiB = 1024 * 1024;

describe('readManifest: broken CSV structure', () => {
  it('yields every row before an unclosed quote at the end, then names the line it starts on', async () => {
    const { results, error } = await read(
      manifest(`${HEADER}Leads,1,a,x\nLeads,2,b,y\nLeads,3,"c,never closed\nLeads,4,d,z\n`),
    );
    expect(summary(results)).toEqual(['2:1', '3:2']);
    expect(error).toBeInstanceOf(ManifestError);
    expect(error).toMatchObject({ code: ManifestErrorCode.MALFORMED, line: 4 });
    expect((error as Error).message).toContain('never closed');
  });

  it('stops at an unclosed quote followed by more than the row limit, naming the line, after the rows before it', async () => {
    const rows = Array.from({ length: 60_000 }, (_, i) => `Leads,${i + 10},f${i}.pdf,title ${i}\n`).join('');
    const { results, error } = await read(manifest(`${HEADER}Leads,1,a,x\nLeads,2,"b,oops\n${rows}`));
    expect(summary(results)).toEqual(['2:1']);
    expect(error).toMatchObject({ code: ManifestErrorCode.MALFORMED, line: 3 });
    expect((error as Error).message).toMatch(/larger than 1 MiB.*unclosed quote/);
  });

  it('rejects a field over 64 KiB and goes on with the next row', async () => {
    const big = 'x'.repeat(MANIFEST_LIMITS.maxFieldBytes + 10);
    const { results, error } = await read(manifest(`${HEADER}Leads,1,"${big}",t\nLeads,2,b,t\n`));
    expect(error).toBeUndefined();
    expect(results[0]).toMatchObject({
      ok: false,
      rejection: { line: 2, field: 'file', reason: 'is larger than 64 KiB' },
    });
    expect(summary(results)).toEqual(['2!file', '3:2']);
  });

  it.each([
    ['one 10 MB field', 'x'.repeat(10 * MiB)],
    ['10 MB of commas', ','.repeat(10 * MiB)],
    ['10 MB of short fields', 'ab,'.repeat((10 * MiB) / 3)],
  ])('stops at a 10 MB line (%s), naming it, after the rows before it', async (_name, line) => {
    const { results, error } = await read(manifest(`${HEADER}Leads,1,a,x\n${line}\nLeads,3,c,z\n`));
    expect(summary(results)).toEqual(['2:1']);
    expect(error).toMatchObject({ code: ManifestErrorCode.MALFORMED, line: 3 });
  });

  it('rejects a row with thousands of fields (bounded, without keeping them all) and goes on', async () => {
    const { results, error } = await read(manifest(`${HEADER}${'a,'.repeat(5000)}\nLeads,2,b,y\n`));
    expect(error).toBeUndefined();
    expect(results[0]).toMatchObject({
      ok: false,
      rejection: { line: 2, reason: expect.stringContaining('the row has more than 1000 fields and the header 4') },
    });
    expect(summary(results)[1]).toBe('3:2');
  });

  it('refuses a header with more than the column limit', async () => {
    const header = `module,record_id,file,${Array.from({ length: 1200 }, (_, i) => `c${i}`).join(',')}\n`;
    const { error } = await read(manifest(header));
    expect(error).toMatchObject({ code: ManifestErrorCode.BAD_HEADER });
    expect((error as Error).message).toContain('more than 1000 columns');
  });

  it('rejects the rows of a Latin-1 file that hold non-ASCII text, naming line and field', async () => {
    const latin1 = Buffer.from(`${HEADER}Leads,1,a.pdf,Plain\nLeads,2,b.pdf,Café crème\n`, 'latin1');
    const { results } = await read(manifest(latin1));
    expect(summary(results)).toEqual(['2:1', '3!title']);
  });
});

describe('readManifest: hostile JSONL', () => {
  it('rejects a 10 MB line and goes on with the next line', async () => {
    const huge = `{"module":"Leads","record_id":"1","file":"a","title":"${'x'.repeat(10 * MiB)}"}`;
    const { results, error } = await read(
      manifest(`${huge}\n{"module":"Leads","record_id":"2","file":"b"}\n`, '.jsonl'),
    );
    expect(error).toBeUndefined();
    expect(results).toEqual([
      { ok: false, rejection: { line: 1, reason: 'the line is larger than 1 MiB' } },
      expect.objectContaining({ ok: true, row: expect.objectContaining({ line: 2, recordId: '2' }) }),
    ]);
  });

  it('rejects a last line over the limit without a line break', async () => {
    const { results } = await read(
      manifest(`{"module":"Leads","record_id":"1","file":"a"}\n${' '.repeat(2 * MiB)}x`, '.jsonl'),
    );
    expect(summary(results)).toEqual(['1:1', '2!']);
  });

  it('survives deep nesting', async () => {
    const deepArray = '['.repeat(500_000) + ']'.repeat(500_000);
    const deepValue = `{"module":"Leads","record_id":"1","file":"a","x":${'{"y":'.repeat(100_000)}1${'}'.repeat(100_000)}}`;
    const { results, error } = await read(manifest(`${deepArray}\n${deepValue}\n`, '.jsonl'));
    expect(error).toBeUndefined();
    expect(summary(results)).toEqual(['1!', '2!x']);
  });
});

// ---- Fuzzing: random bytes and random damage to valid manifests. Seeded: a failure names
// its case, and the same case comes back on every run.

/** mulberry32: a small seeded PRNG. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const VALID_CSV = Buffer.from(
  '\uFEFFModule,Record ID,file,link_url,title,legacy_id\r\n' +
    'Accounts,4150868000000224001,files/a.pdf,,"Master, agreement",ACME-1\r\n' +
    'Accounts,4150868000000224002,,https://example.com/wiki,"He said ""hi""",ACME-2\n' +
    '\n' +
    'Contacts,3,"multi\nline.pdf",,x,"note\r\nspanning"\n' +
    'Deals,4,https://files.example.com/d.pdf?sig=1,,München café,D-4\n' +
    'Leads,5,e.pdf,,,\n',
);
const VALID_JSONL = Buffer.from(
  '{"module":"Accounts","record_id":"4150868000000224001","file":"files/a.pdf","title":"Master, agreement"}\n' +
    '{"Module":"Contacts","Record ID":3,"link_url":"https://example.com/x","legacy_id":"C-3"}\r\n' +
    '\n' +
    '{"module":"Deals","record_id":"4","file":"https://files.example.com/d.pdf","title":"München \\"café\\""}\n',
);

/** Bytes that matter to the parsers, and bytes that are not UTF-8. */
const INTERESTING_BYTES = [
  0x2c, 0x22, 0x0a, 0x0d, 0x7b, 0x7d, 0x3a, 0x5b, 0x20, 0x09, 0x00, 0xef, 0xbb, 0xbf, 0xff, 0xfe, 0xc3, 0x80, 0x5c,
];

function randomBytes(random: () => number, length: number, alphabet?: readonly number[]): Buffer {
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) {
    bytes[i] = alphabet ? (alphabet[Math.floor(random() * alphabet.length)] as number) : Math.floor(random() * 256);
  }
  return bytes;
}

function mutate(random: () => number, original: Buffer): Buffer {
  let bytes = Buffer.from(original);
  const mutations = 1 + Math.floor(random() * 6);
  for (let m = 0; m < mutations; m++) {
    const at = Math.floor(random() * (bytes.length + 1));
    const kind = Math.floor(random() * 6);
    if (kind === 0) {
      bytes = Buffer.concat([
        bytes.subarray(0, at),
        randomBytes(random, 1 + Math.floor(random() * 4), INTERESTING_BYTES),
        bytes.subarray(at),
      ]);
    } else if (kind === 1) {
      bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + 1 + Math.floor(random() * 20))]);
    } else if (kind === 2 && at < bytes.length) {
      bytes[at] = Math.floor(random() * 256);
    } else if (kind === 3) {
      const from = Math.floor(random() * bytes.length);
      bytes = Buffer.concat([
        bytes.subarray(0, at),
        bytes.subarray(from, from + Math.floor(random() * 40)),
        bytes.subarray(at),
      ]);
    } else if (kind === 4) {
      bytes = bytes.subarray(0, at);
    } else {
      bytes = Buffer.concat([bytes.subarray(0, at), randomBytes(random, Math.floor(random() * 8)), bytes.subarray(at)]);
    }
  }
  return bytes;
}

const MODULE_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;
const CONTROL = /[\u0000-\u0008\u000A-\u001F\u007F]/;

/** Everything a row the reader calls valid must be. */
function expectFullyValid(row: ManifestRow): void {
  expect(row.module).toMatch(MODULE_NAME);
  expect(row.recordId).toMatch(/^\d{1,19}$/);
  expect((row.file === undefined) !== (row.linkUrl === undefined)).toBe(true);
  if (row.file !== undefined) {
    if (/^https?:\/\//i.test(row.file)) {
      expect(() => new URL(row.file as string)).not.toThrow();
      expect(row.file).not.toMatch(/\s/);
    } else {
      expect(path.isAbsolute(row.file)).toBe(true);
      expect(row.file).not.toMatch(CONTROL);
    }
  }
  if (row.linkUrl !== undefined) {
    expect(row.linkUrl).toMatch(/^https?:\/\/\S+$/i);
    expect(row.linkUrl.length).toBeLessThanOrEqual(MANIFEST_LIMITS.maxLinkUrlLength);
    expect(new URL(row.linkUrl).username).toBe('');
  }
  if (row.title !== undefined) {
    expect(row.title.length).toBeLessThanOrEqual(MANIFEST_LIMITS.maxTitleLength);
    expect(row.title).not.toMatch(CONTROL);
    expect(row.title).toBe(row.title.trim());
    expect(row.title).not.toBe('');
  }
  for (const [key, value] of Object.entries(row.extra)) {
    expect(typeof value).toBe('string');
    expect(key).not.toBe('');
    expect(`${key}${value}`).not.toContain('\uFFFD');
  }
  expect(`${row.module}${row.recordId}${row.file ?? ''}${row.linkUrl ?? ''}${row.title ?? ''}`).not.toContain('\uFFFD');
}

const FATAL_CODES: string[] = Object.values(ManifestErrorCode);

/** Reads a fuzz case to the end, within a deadline, and checks everything it yielded. */
async function checkFuzzCase(label: string, content: Buffer, extension: string): Promise<void> {
  const filePath = manifest(content, extension);
  const physicalLines = (content.toString('latin1').match(/\r\n|\r|\n/g)?.length ?? 0) + 1;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${label}: the reader did not finish within 5 s`)), 5_000);
  });
  try {
    const { results, error } = await Promise.race([read(filePath), deadline]);
    if (error !== undefined) {
      expect(error, `${label}: ${error instanceof Error ? error.message : 'not an Error'}`).toBeInstanceOf(
        ManifestError,
      );
      expect(FATAL_CODES).toContain((error as ManifestError).code);
      expect((error as ManifestError).message).toMatch(/^\[MANIFEST_[A-Z_]+\] /);
    }
    let previousLine = 0;
    for (const result of results) {
      const line = result.ok ? result.row.line : result.rejection.line;
      expect(line, `${label}: lines go up`).toBeGreaterThan(previousLine);
      expect(line, `${label}: line within the file`).toBeLessThanOrEqual(physicalLines);
      previousLine = line;
      if (result.ok) expectFullyValid(result.row);
      else expect(result.rejection.reason, label).not.toBe('');
    }
  } finally {
    clearTimeout(timer);
    rmSync(filePath);
  }
}

describe('readManifest: fuzzing (seeded)', () => {
  const EXTENSIONS = ['.csv', '.jsonl', '.txt'];

  it('random bytes: only ManifestError, never a hang, every accepted row valid', async () => {
    const random = prng(0x5eed0001);
    for (let i = 0; i < 120; i++) {
      const content = randomBytes(random, Math.floor(random() * 3000));
      await checkFuzzCase(`random bytes #${i}`, content, EXTENSIONS[i % 3] as string);
    }
  });

  it('random parser-significant bytes (quotes, commas, line breaks, braces, bad UTF-8)', async () => {
    const random = prng(0x5eed0002);
    for (let i = 0; i < 120; i++) {
      const content = Buffer.concat([
        Buffer.from(i % 2 ? 'module,record_id,file\n' : ''),
        randomBytes(random, Math.floor(random() * 2000), INTERESTING_BYTES),
      ]);
      await checkFuzzCase(`significant bytes #${i}`, content, EXTENSIONS[i % 3] as string);
    }
  });

  it('random damage to a valid CSV', async () => {
    const random = prng(0x5eed0003);
    for (let i = 0; i < 150; i++)
      await checkFuzzCase(`mutated CSV #${i}`, mutate(random, VALID_CSV), i % 5 === 0 ? '.txt' : '.csv');
  });

  it('random damage to a valid JSONL', async () => {
    const random = prng(0x5eed0004);
    for (let i = 0; i < 100; i++)
      await checkFuzzCase(`mutated JSONL #${i}`, mutate(random, VALID_JSONL), i % 5 === 0 ? '.txt' : '.jsonl');
  });

  it('the undamaged fixtures are read as expected (so the mutations start from valid input)', async () => {
    const csv = await read(manifest(VALID_CSV));
    expect(csv.error).toBeUndefined();
    expect(summary(csv.results)).toEqual(['2:4150868000000224001', '3:4150868000000224002', '5!file', '8:4', '9:5']);
    const jsonl = await read(manifest(VALID_JSONL, '.jsonl'));
    expect(summary(jsonl.results)).toEqual(['1:4150868000000224001', '2:3', '4:4']);
  });
});

describe('readManifest: streaming', () => {
  it.runIf(process.platform === 'linux').each([
    ['.csv', 'module,record_id,file\nLeads,1,a\nLeads,2,b\n', 'Leads,3,c\n'],
    ['.jsonl', '{"module":"Leads","record_id":"1","file":"a"}\n', '{"module":"Leads","record_id":"2","file":"b"}\n'],
  ])(
    'yields rows before the end of the file is written (%s, through a FIFO)',
    async (extension, firstPart, lastPart) => {
      const fifo = path.join(dir, `fifo${extension}`);
      execFileSync('mkfifo', [fifo]);
      const writer = createWriteStream(fifo);
      const rows = readManifest(fifo)[Symbol.asyncIterator]();
      const first = rows.next();
      writer.write(firstPart);
      // The writer is still open: this resolves only if the reader does not wait for the end.
      expect(await first).toMatchObject({ done: false, value: { ok: true, row: { recordId: '1' } } });
      writer.end(lastPart);
      const rest: ManifestRowResult[] = [];
      for (let next = await rows.next(); !next.done; next = await rows.next()) rest.push(next.value);
      expect(rest.every((r) => r.ok)).toBe(true);
      expect(rest.length).toBeGreaterThan(0);
    },
  );

  it('streams a 200,000-row CSV without holding it in memory', { timeout: 120_000 }, async () => {
    const rowCount = 200_000;
    const filePath = path.join(dir, 'large.csv');
    const out = createWriteStream(filePath);
    out.write('module,record_id,file,title,legacy_id\n');
    for (let i = 0; i < rowCount; i++) {
      const line = `Accounts,${4150868000000000000n + BigInt(i)},files/contracts/document-${i}.pdf,"Contract ${i}, signed",LEGACY-${i}\n`;
      if (!out.write(line)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    }
    await new Promise<void>((resolve) => out.end(resolve));

    const gc = exposeGc();
    gc?.();
    const baseline = process.memoryUsage().heapUsed;
    let peakGrowth = 0;
    let accepted = 0;
    for await (const result of readManifest(filePath)) {
      if (!result.ok) throw new Error(`unexpected rejection: ${JSON.stringify(result.rejection)}`);
      accepted++;
      if (gc && accepted % 40_000 === 0) {
        gc();
        peakGrowth = Math.max(peakGrowth, process.memoryUsage().heapUsed - baseline);
      }
    }
    expect(accepted).toBe(rowCount);
    // Keeping the rows would take well over 100 MB; streaming keeps a chunk's worth.
    if (gc) expect(peakGrowth).toBeLessThan(50 * MiB);
  });
});

/** The V8 garbage collector, when it can be exposed at run time (it can in Node 20). */
function exposeGc(): (() => void) | undefined {
  try {
    v8.setFlagsFromString('--expose-gc');
    return vm.runInNewContext('gc') as () => void;
  } catch {
    return undefined;
  }
}
