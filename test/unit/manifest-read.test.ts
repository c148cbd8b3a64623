import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import {
  ManifestError,
  readManifest,
  type ManifestRowResult,
  type ReadManifestOptions,
} from '../../src/manifest/index.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'manifest-read-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileCount = 0;
/** Writes a manifest into the test folder and returns its path. */
function manifest(content: string | Buffer, extension = '.csv'): string {
  const filePath = path.join(dir, `m${++fileCount}${extension}`);
  writeFileSync(filePath, content);
  return filePath;
}

async function readAll(filePath: string, options?: ReadManifestOptions): Promise<ManifestRowResult[]> {
  const results: ManifestRowResult[] = [];
  for await (const result of readManifest(filePath, options)) results.push(result);
  return results;
}

/** Reads until the reader throws; returns what it yielded and the error. */
async function readUntilError(
  filePath: string,
  options?: ReadManifestOptions,
): Promise<{ results: ManifestRowResult[]; error: ManifestError }> {
  const results: ManifestRowResult[] = [];
  try {
    for await (const result of readManifest(filePath, options)) results.push(result);
  } catch (error) {
    expect(error).toBeInstanceOf(ManifestError);
    return { results, error: error as ManifestError };
  }
  throw new Error(`expected a ManifestError; the reader yielded ${results.length} results`);
}

/** `line:recordId` for accepted rows, `line!field` for rejections: a compact view of a read. */
function summary(results: ManifestRowResult[]): string[] {
  return results.map((r) =>
    r.ok ? `${r.row.line}:${r.row.recordId}` : `${r.rejection.line}!${r.rejection.field ?? ''}`,
  );
}

const HEADER = 'module,record_id,file,title\n';

describe('readManifest: CSV', () => {
  it('reads rows with their line numbers, resolving files against the manifest folder', async () => {
    const filePath = manifest(`${HEADER}Accounts,1,a.pdf,First\nContacts,2,https://example.com/b.pdf,\n`);
    expect(await readAll(filePath)).toStrictEqual([
      {
        ok: true,
        row: { line: 2, module: 'Accounts', recordId: '1', file: path.join(dir, 'a.pdf'), title: 'First', extra: {} },
      },
      { ok: true, row: { line: 3, module: 'Contacts', recordId: '2', file: 'https://example.com/b.pdf', extra: {} } },
    ]);
  });

  it('resolves files against options.baseDir when given', async () => {
    const [result] = await readAll(manifest(`${HEADER}Accounts,1,a.pdf,\n`), { baseDir: '/srv/uploads' });
    expect(result).toMatchObject({ ok: true, row: { file: '/srv/uploads/a.pdf' } });
  });

  it('ignores a UTF-8 byte order mark and handles CRLF line endings', async () => {
    const filePath = manifest(
      Buffer.concat([
        Buffer.from([0xef, 0xbb, 0xbf]),
        Buffer.from('Module,Record_ID,File\r\nAccounts,1,a.pdf\r\nAccounts,2,b.pdf'),
      ]),
    );
    expect(summary(await readAll(filePath))).toEqual(['2:1', '3:2']);
  });

  it('reads quoted fields with commas, doubled quotes and line breaks, giving the line each row starts on', async () => {
    const csv =
      'module,record_id,file,notes\n' +
      'Accounts,1,"files/a, b.pdf","He said ""hi"""\n' +
      'Accounts,2,b.pdf,"multi\nline\nnote"\n' + // starts on line 3, spans 3 lines
      'Accounts,3,c.pdf,"crlf\r\ninside"\r\n' + // line 6, spans 2 (a CRLF inside quotes is one line break)
      'Accounts,4,d.pdf,"lone\rcr"\n' + // line 8, spans 2
      'Accounts,5,e.pdf,last\n'; // line 10
    const results = await readAll(manifest(csv));
    expect(summary(results)).toEqual(['2:1', '3:2', '6:3', '8:4', '10:5']);
    expect(results[0]).toMatchObject({
      ok: true,
      row: { file: path.join(dir, 'files/a, b.pdf'), extra: { notes: 'He said "hi"' } },
    });
    expect(results[1]).toMatchObject({ ok: true, row: { extra: { notes: 'multi\nline\nnote' } } });
    expect(results[2]).toMatchObject({ ok: true, row: { extra: { notes: 'crlf\r\ninside' } } });
  });

  it('skips blank lines, whitespace-only lines and rows of empty cells, and keeps counting lines', async () => {
    const csv = `\n\n${HEADER}\nAccounts,1,a.pdf,\n   \n,,,\n\r\n ,\t, ,\nAccounts,2,b.pdf,\n\n`;
    expect(summary(await readAll(manifest(csv)))).toEqual(['5:1', '10:2']);
  });

  it('yields a rejection for a bad row and goes on with the next', async () => {
    const csv = `${HEADER}Accounts,12a,a.pdf,\nAccounts,2,b.pdf,"two\nlines"\nAccounts,3,c.pdf,\n`;
    const results = await readAll(manifest(csv));
    expect(results).toMatchObject([
      { ok: false, rejection: { line: 2, field: 'record_id', reason: '"12a" must be 1 to 19 digits' } },
      {
        ok: false,
        rejection: { line: 3, field: 'title', reason: 'contains a line break (U+000A): a title is one line of text' },
      },
      expect.objectContaining({ ok: true, row: expect.objectContaining({ line: 5, recordId: '3' }) }),
    ]);
  });

  it('rejects a row with more or fewer fields than the header', async () => {
    const csv = `${HEADER}Accounts,1,a.pdf,Renewal, 2024\nAccounts,2,b.pdf\nAccounts,3,c.pdf,ok\n`;
    const results = await readAll(manifest(csv));
    expect(results.slice(0, 2)).toMatchObject([
      {
        ok: false,
        rejection: { line: 2, reason: 'the row has 5 fields and the header 4: is a comma in a value not quoted?' },
      },
      { ok: false, rejection: { line: 3, reason: 'the row has 3 fields and the header 4: is a field missing?' } },
    ]);
    expect(summary(results)[2]).toBe('4:3');
  });

  it('keeps pass-through columns under their header names, as written', async () => {
    const csv = 'Legacy ID,module,record_id,file, Notes \nL-1,Accounts,1,a.pdf,  spaced  \n';
    const [result] = await readAll(manifest(csv));
    expect(result).toMatchObject({ ok: true, row: { extra: { 'Legacy ID': 'L-1', Notes: '  spaced  ' } } });
  });

  it('needs only a link_url column when there is no file column', async () => {
    const results = await readAll(manifest('module,record_id,link_url\nLeads,1,https://example.com/x\n'));
    expect(results).toMatchObject([{ ok: true, row: { linkUrl: 'https://example.com/x' } }]);
  });

  it('reads a stray quote as a character, as spreadsheets do', async () => {
    const results = await readAll(
      manifest(`${HEADER}Accounts,1,a.pdf,12" vinyl\nAccounts,2,b.pdf,"quoted"then more\nAccounts,3,c.pdf,\n`),
    );
    expect(results.map((r) => r.ok && r.row.title)).toEqual(['12" vinyl', '"quoted"then more', undefined]);
    expect(summary(results)[2]).toBe('4:3');
  });

  it('rejects a field that is not valid UTF-8, naming its line and field', async () => {
    const csv = Buffer.concat([
      Buffer.from(`${HEADER}Accounts,1,a.pdf,ok\nAccounts,2,b.pdf,M`),
      Buffer.from([0xfc]),
      Buffer.from('nchen\nAccounts,3,c.pdf,\n'),
    ]);
    const results = await readAll(manifest(csv));
    expect(results[1]).toMatchObject({
      ok: false,
      rejection: { line: 3, field: 'title', reason: expect.stringContaining('not valid UTF-8') },
    });
    expect(summary(results)).toEqual(['2:1', '3!title', '4:3']);
  });

  it('reads an empty manifest with only a header as no rows', async () => {
    expect(await readAll(manifest(HEADER))).toEqual([]);
  });
});

describe('readManifest: CSV header problems are fatal', () => {
  it.each([
    ['no record_id column', 'module,file\nLeads,a.pdf\n', ['no record_id column', 'Columns found: "module", "file"']],
    ['no module column', 'record_id,file\n1,a.pdf\n', ['no module column']],
    ['no file or link_url column', 'module,record_id,title\nLeads,1,x\n', ['no file or link_url column']],
    [
      'two columns that are one',
      'module,record_id,file,Record ID\n',
      ['columns "record_id" and "Record ID" are the same column (record_id)'],
    ],
    [
      'duplicate pass-through columns',
      'module,record_id,file,notes,notes\n',
      ['columns "notes" and "notes" are the same column'],
    ],
    ['a column without a name', 'module,record_id,file,\n', ['column 4 has no name']],
    [
      'a column name that is not UTF-8',
      Buffer.from([...Buffer.from('module,record_id,file,n'), 0xff]),
      ['is not valid UTF-8'],
    ],
    [
      'semicolons',
      'module;record_id;file\nLeads;1;a.pdf\n',
      ['no module column', 'separated by something other than commas'],
    ],
  ])('%s', async (_name, content, fragments) => {
    const { results, error } = await readUntilError(manifest(content));
    expect(results).toEqual([]);
    expect(error.code).toBe('MANIFEST_BAD_HEADER');
    expect(error.line).toBe(1);
    for (const fragment of fragments) expect(error.message).toContain(fragment);
  });

  it('reports every header problem at once', async () => {
    const { error } = await readUntilError(manifest('title,title\n'));
    expect(error.message).toMatch(
      /same column.*no module column; no record_id column \(nor lookup_field and lookup_value\); no file or link_url column/,
    );
  });

  it('names the header line when blank lines come first', async () => {
    const { error } = await readUntilError(manifest('\n\nmodule,file\n'));
    expect(error.line).toBe(3);
    expect(error.message).toMatch(/^\[MANIFEST_BAD_HEADER\] .*m\d+\.csv line 3: bad header: no record_id column/);
  });

  it.each([
    ['an empty file', ''],
    ['only blank lines', '\n \r\n\t\n'],
    ['only a byte order mark', '\uFEFF'],
  ])('refuses %s: there is no header', async (_name, content) => {
    const { error } = await readUntilError(manifest(content));
    expect(error.code).toBe('MANIFEST_BAD_HEADER');
    expect(error.message).toContain('the manifest is empty');
  });
});

describe('readManifest: JSONL', () => {
  it('reads one object per line with the same keys as CSV, skipping blank lines', async () => {
    const jsonl = [
      '{"module":"Contacts","record_id":"1","file":"a.pdf","title":"A","legacy_id":"C-1"}',
      '',
      '   ',
      '{"Module":"Contacts","Record ID":2,"link_url":"https://example.com/x"}',
    ].join('\r\n');
    expect(await readAll(manifest(jsonl, '.jsonl'))).toStrictEqual([
      {
        ok: true,
        row: {
          line: 1,
          module: 'Contacts',
          recordId: '1',
          file: path.join(dir, 'a.pdf'),
          title: 'A',
          extra: { legacy_id: 'C-1' },
        },
      },
      { ok: true, row: { line: 4, module: 'Contacts', recordId: '2', linkUrl: 'https://example.com/x', extra: {} } },
    ]);
  });

  it('rejects lines that are not JSON objects, and goes on', async () => {
    const lines = [
      '{"module":"Leads"',
      '[1,2]',
      '"text"',
      '42',
      'null',
      'true',
      '{"module":"Leads","record_id":"9","file":"a"}',
    ];
    const results = await readAll(manifest(lines.join('\n'), '.ndjson'));
    const notAnObject = (found: string) =>
      `the row is not an object (it is ${found}): a row is an object keyed by column name`;
    expect(results.slice(0, 6).map((r) => !r.ok && r.rejection.reason)).toEqual([
      expect.stringMatching(/^not valid JSON: /),
      notAnObject('an array'),
      notAnObject('a string'),
      notAnObject('a number'),
      notAnObject('null'),
      notAnObject('a boolean'),
    ]);
    expect(summary(results)).toEqual(['1!', '2!', '3!', '4!', '5!', '6!', '7:9']);
  });

  it('rejects wrong value types, naming the field', async () => {
    const lines = [
      '{"module":"Leads","record_id":4150868000000301004,"file":"a"}',
      '{"module":"Leads","record_id":["1"],"file":"a"}',
      '{"module":"Leads","record_id":"1","file":"a","title":false}',
      '{"module":"Leads","record_id":123,"file":"a","legacy":{"id":1}}',
      '{"module":"Leads","record_id":123,"file":"a","recordId":"5"}',
    ];
    const results = await readAll(manifest(lines.join('\n'), '.jsonl'));
    expect(results.map((r) => !r.ok && `${r.rejection.field}: ${r.rejection.reason}`)).toEqual([
      expect.stringMatching(/^record_id: 4150868000000301000 is too large .*write it as a string$/),
      'record_id: must be text, got an array',
      'title: must be text, got a boolean',
      'legacy: must be text, got an object',
      'undefined: columns "record_id" and "recordId" are the same column (record_id)',
    ]);
  });

  it('rejects a string that is not valid UTF-8, naming the field', async () => {
    const jsonl = Buffer.concat([
      Buffer.from('{"module":"Leads","record_id":"1","file":"a","title":"M'),
      Buffer.from([0xfc]),
      Buffer.from('nchen"}\n'),
    ]);
    const [result] = await readAll(manifest(jsonl, '.jsonl'));
    expect(result).toMatchObject({
      ok: false,
      rejection: { line: 1, field: 'title', reason: expect.stringContaining('not valid UTF-8') },
    });
  });

  it('ignores a byte order mark, and reads a last line without a line break', async () => {
    const jsonl = '\uFEFF{"module":"Leads","record_id":"1","file":"a"}\n{"module":"Leads","record_id":"2","file":"b"}';
    expect(summary(await readAll(manifest(jsonl, '.jsonl')))).toEqual(['1:1', '2:2']);
  });

  it('reads an empty JSONL file as no rows', async () => {
    expect(await readAll(manifest('', '.jsonl'))).toEqual([]);
  });
});

describe('readManifest: format', () => {
  const JSONL_ROW = '{"module":"Leads","record_id":"1","file":"a"}\n';
  const CSV_ROWS = 'module,record_id,file\nLeads,1,a\n';

  it('sniffs files with other extensions: JSONL when the first non-blank character is {', async () => {
    expect(summary(await readAll(manifest(`\r\n\n  \t${JSONL_ROW}`, '.txt')))).toEqual(['3:1']);
    expect(summary(await readAll(manifest(`\uFEFF${JSONL_ROW}`, '')))).toEqual(['1:1']);
    expect(summary(await readAll(manifest(CSV_ROWS, '.txt')))).toEqual(['2:1']);
  });

  it('goes by the extension, case-insensitively, over the content', async () => {
    const { error } = await readUntilError(manifest(JSONL_ROW, '.CSV'));
    expect(error.code).toBe('MANIFEST_BAD_HEADER');
    expect(summary(await readAll(manifest(CSV_ROWS, '.JSONL')))).toEqual(['1!', '2!']);
  });

  it('lets options.format override the extension', async () => {
    expect(summary(await readAll(manifest(JSONL_ROW, '.csv'), { format: 'jsonl' }))).toEqual(['1:1']);
    expect(summary(await readAll(manifest(CSV_ROWS, '.jsonl'), { format: 'csv' }))).toEqual(['2:1']);
  });

  it('refuses UTF-16 with a clear error', async () => {
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(CSV_ROWS, 'utf16le')]);
    const { error } = await readUntilError(manifest(utf16));
    expect(error.code).toBe('MANIFEST_UNSUPPORTED_ENCODING');
    expect(error.message).toContain('save the manifest as UTF-8');
  });
});

describe('readManifest: files', () => {
  it('throws MANIFEST_UNREADABLE for a missing file, from the iteration rather than the call', async () => {
    const missing = path.join(dir, 'missing.csv');
    const iterable = readManifest(missing);
    const { error } = await readUntilError(missing);
    expect(iterable).toBeDefined();
    expect(error).toMatchObject({ code: 'MANIFEST_UNREADABLE', classification: 'permanent', filePath: missing });
    expect(error.message).toBe(`[MANIFEST_UNREADABLE] ${missing}: cannot read the manifest: no such file`);
    expect((error.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
  });

  it('throws MANIFEST_UNREADABLE for a directory', async () => {
    const { error } = await readUntilError(dir);
    expect(error.code).toBe('MANIFEST_UNREADABLE');
    expect(error.message).toContain('it is a directory');
  });

  it.runIf(process.platform === 'linux')('closes the file when the consumer stops early', async () => {
    const openFiles = () => readdirSync('/proc/self/fd').length;
    const filePath = manifest(HEADER + 'Accounts,1,a.pdf,\n'.repeat(50_000));
    const before = openFiles();
    for await (const result of readManifest(filePath)) {
      expect(result.ok).toBe(true);
      expect(openFiles()).toBeGreaterThan(before);
      break;
    }
    // The stream closes its descriptor asynchronously.
    await vi.waitFor(() => expect(openFiles()).toBe(before), { timeout: 2_000, interval: 10 });
  });
});
