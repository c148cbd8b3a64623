import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  likelyMisspelledField,
  MANIFEST_LIMITS,
  validateRow,
  type ManifestRow,
  type RowRejection,
} from '../../src/manifest/index.js';

const BASE_DIR = '/data/manifests';
const VALID = { module: 'Accounts', record_id: '4150868000000224001', file: 'files/contract.pdf' };

function accepted(raw: Record<string, unknown>): ManifestRow {
  const result = validateRow(raw, 7, BASE_DIR);
  if (!result.ok)
    throw new Error(`expected the row to be accepted, got: ${result.rejection.field}: ${result.rejection.reason}`);
  return result.row;
}

/** The rejection without the row's fields (one test below checks those). */
function rejected(raw: Record<string, unknown>): RowRejection {
  const result = validateRow(raw, 7, BASE_DIR);
  if (result.ok) throw new Error(`expected a rejection, got ${JSON.stringify(result.row)}`);
  const { raw: _fields, ...rejection } = result.rejection;
  return rejection;
}

describe('validateRow: a valid row', () => {
  it('resolves a relative file against the base folder and keeps other columns as extra', () => {
    expect(accepted({ ...VALID, title: 'Master agreement', legacy_id: 'ACME-001' })).toStrictEqual({
      line: 7,
      module: 'Accounts',
      recordId: '4150868000000224001',
      file: path.join(BASE_DIR, 'files/contract.pdf'),
      title: 'Master agreement',
      extra: { legacy_id: 'ACME-001' },
    });
  });

  it('keeps an absolute path and normalises . and ..', () => {
    expect(accepted({ ...VALID, file: '/srv/files/a.pdf' }).file).toBe('/srv/files/a.pdf');
    expect(accepted({ ...VALID, file: './x/../b.pdf' }).file).toBe(path.join(BASE_DIR, 'b.pdf'));
  });

  it('keeps an http(s) file URL as written', () => {
    const url = 'HTTPS://files.example.com/a%20b.pdf?sig=abc&x=1';
    expect(accepted({ ...VALID, file: url }).file).toBe(url);
  });

  it('accepts a link instead of a file', () => {
    const row = accepted({ module: 'Deals', record_id: '1', link_url: 'https://example.com/wiki/acme' });
    expect(row.linkUrl).toBe('https://example.com/wiki/acme');
    expect(row).not.toHaveProperty('file');
  });

  it('matches column names ignoring case, spaces, underscores and hyphens', () => {
    const row = accepted({ ' MODULE ': 'Leads', 'Record ID': '42', linkUrl: 'http://example.com/', 'Title ': 'T' });
    expect(row).toMatchObject({ module: 'Leads', recordId: '42', linkUrl: 'http://example.com/', title: 'T' });
    expect(row.extra).toEqual({});
    expect(accepted({ module: 'Leads', 'record-id': '42', file: 'a' }).recordId).toBe('42');
  });

  it('trims known fields, treats blank ones as not given, and keeps pass-through values exactly', () => {
    const row = accepted({
      module: ' Leads ',
      record_id: ' 42 ',
      file: ' a.pdf ',
      link_url: '  ',
      title: '   ',
      ' Notes ': '  as written  ',
    });
    expect(row).toStrictEqual({
      line: 7,
      module: 'Leads',
      recordId: '42',
      file: path.join(BASE_DIR, 'a.pdf'),
      extra: { Notes: '  as written  ' },
    });
  });

  it('accepts a tab in a title, and a title of 255 UTF-16 code units (as the Zoho client counts)', () => {
    expect(accepted({ ...VALID, title: 'a\tb' }).title).toBe('a\tb');
    const emoji = `${'😀'.repeat(127)}x`;
    expect(emoji).toHaveLength(MANIFEST_LIMITS.maxTitleLength);
    expect(accepted({ ...VALID, title: emoji }).title).toBe(emoji);
  });

  it('accepts a link_url of exactly the maximum length', () => {
    const url = `https://example.com/${'a'.repeat(MANIFEST_LIMITS.maxLinkUrlLength - 20)}`;
    expect(url).toHaveLength(MANIFEST_LIMITS.maxLinkUrlLength);
    expect(accepted({ module: 'Leads', record_id: '1', link_url: url }).linkUrl).toBe(url);
  });
});

describe('validateRow: value types (JSONL and library rows)', () => {
  it('accepts a record_id given as a safe integer, or a bigint', () => {
    expect(accepted({ ...VALID, record_id: 4150868000 }).recordId).toBe('4150868000');
    expect(accepted({ ...VALID, record_id: 4150868000000224001n }).recordId).toBe('4150868000000224001');
  });

  it('rejects a record_id number beyond 2^53: its digits are already wrong', () => {
    // eslint-disable-next-line no-loss-of-precision -- the lost digits are what this test is about
    expect(rejected({ ...VALID, record_id: 4150868000000224001 })).toMatchObject({
      line: 7,
      field: 'record_id',
      reason: expect.stringContaining('write it as a string'),
    });
  });

  it('rejects fractions, negatives, booleans, arrays and objects, naming the field', () => {
    expect(rejected({ ...VALID, record_id: 1.5 })).toMatchObject({
      field: 'record_id',
      reason: 'must be text or a whole number, got 1.5',
    });
    expect(rejected({ ...VALID, record_id: -5 })).toMatchObject({
      field: 'record_id',
      reason: '"-5" must be 1 to 19 digits',
    });
    expect(rejected({ ...VALID, title: true })).toMatchObject({
      field: 'title',
      reason: 'must be text, got a boolean',
    });
    expect(rejected({ ...VALID, file: ['a', 'b'] })).toMatchObject({
      field: 'file',
      reason: 'must be text, got an array',
    });
    expect(rejected({ ...VALID, legacy: { id: 1 } })).toMatchObject({
      field: 'legacy',
      reason: 'must be text, got an object',
    });
  });

  it('treats null as not given, and turns whole numbers in pass-through columns into text', () => {
    expect(accepted({ ...VALID, link_url: null, title: null, legacy_id: 1004, gone: null }).extra).toStrictEqual({
      legacy_id: '1004',
    });
  });
});

describe('validateRow: rejections', () => {
  it("keep the row's fields as written, for the report: values as text, nested values named, long ones cut", () => {
    const result = validateRow(
      { module: 'Leads', record_id: 'x1', file: 'a.pdf', Legacy: 42, deep: { a: [1] }, long: 'y'.repeat(5000) },
      7,
      BASE_DIR,
    );
    expect(result.ok).toBe(false);
    const { raw } = (result as { rejection: RowRejection }).rejection;
    expect(raw).toMatchObject({ module: 'Leads', record_id: 'x1', file: 'a.pdf', Legacy: '42', deep: '(an object)' });
    expect(raw!.long).toMatch(/^y{4096}… \(cut: 5000 characters\)$/);
  });

  it.each([
    ['missing', {}, 'is required'],
    ['empty', { module: '' }, 'is required'],
    [
      'starting with a digit',
      { module: '1Leads' },
      '"1Leads" is not a module API name (letters, digits and _, starting with a letter)',
    ],
    [
      'with a hyphen',
      { module: 'My-Module' },
      '"My-Module" is not a module API name (letters, digits and _, starting with a letter)',
    ],
  ])('module %s', (_name, patch, reason) => {
    const raw: Record<string, unknown> = { ...VALID, module: undefined, ...patch };
    expect(rejected(raw)).toEqual({ line: 7, field: 'module', reason });
  });

  it.each([
    ['with a letter', '12a', '"12a" must be 1 to 19 digits'],
    ['of 20 digits', '12345678901234567890', '"12345678901234567890" must be 1 to 19 digits'],
    ['with inner spaces', '12 34', '"12 34" must be 1 to 19 digits'],
  ])('record_id %s', (_name, recordId, reason) => {
    expect(rejected({ ...VALID, record_id: recordId })).toEqual({ line: 7, field: 'record_id', reason });
  });

  it('a record named by a field instead: lookup_field and lookup_value, both, alone, and valid', () => {
    const { record_id: _omitted, ...withoutId } = VALID;
    const result = validateRow({ ...withoutId, lookup_field: 'Legacy_Id', lookup_value: " O'Brien-7 " }, 7, '/base');
    expect(result).toMatchObject({
      ok: true,
      row: { recordId: '', lookup: { field: 'Legacy_Id', value: "O'Brien-7" } },
    });
    expect(rejected({ ...withoutId, lookup_field: 'Legacy_Id', lookup_value: 'a\\b' }).reason).toMatch(
      /holds a backslash or a control character, which COQL cannot look up/,
    );
    expect(rejected({ ...withoutId, lookup_field: 'select', lookup_value: 'x' })).toMatchObject({
      field: 'lookup_field',
    });
  });

  it('record_id missing, and record_id in scientific notation with a hint', () => {
    expect(rejected({ module: 'Leads', file: 'a' })).toEqual({
      line: 7,
      field: 'record_id',
      reason: 'is required (or lookup_field and lookup_value, to find the record by a field)',
    });
    expect(rejected({ ...VALID, record_id: '4.15087E+18' }).reason).toMatch(
      /scientific notation.*format the column as text/,
    );
  });

  it('needs exactly one of file and link_url', () => {
    expect(rejected({ module: 'Leads', record_id: '1' })).toEqual({
      line: 7,
      field: 'file',
      reason: 'is required (or link_url, to attach a link)',
    });
    expect(rejected({ ...VALID, link_url: 'https://example.com/' })).toEqual({
      line: 7,
      field: 'link_url',
      reason: 'cannot be given with file: give exactly one of them',
    });
  });

  it.each([
    ['ftp://example.com/a.pdf', 'only local paths and http(s) URLs can be uploaded'],
    ['file:///etc/passwd', 'only local paths and http(s) URLs can be uploaded'],
    ['http:/example.com/a.pdf', 'is not a URL: write it as http(s)://host/path'],
    ['https://user:secret@example.com/a.pdf', 'must not contain a user name or password'],
    ['https://example.com/my file.pdf', 'contains a space: percent-encode it'],
    ['https://exa\tmple.com/a.pdf', 'contains a tab (U+0009)'],
    ['https://[::1/a.pdf', 'is not a valid URL'],
    ['files/a\nb.pdf', 'contains a line break (U+000A): a path is one line of text'],
    ['files/a\u0000.pdf', 'contains a NUL character (U+0000)'],
  ])('file %j', (file, reason) => {
    expect(rejected({ ...VALID, file })).toMatchObject({ field: 'file', reason: expect.stringContaining(reason) });
  });

  it.each([
    ['javascript:alert(1)', 'is not an http(s) URL'],
    ['www.example.com', 'is not an http(s) URL'],
    ['https://', 'is not a valid URL'],
    ['https://example.com/\r\nX-Injected: 1', 'contains a line break (U+000D)'],
    [
      `https://example.com/${'a'.repeat(MANIFEST_LIMITS.maxLinkUrlLength)}`,
      `Zoho takes at most ${MANIFEST_LIMITS.maxLinkUrlLength}`,
    ],
  ])('link_url %j', (linkUrl, reason) => {
    expect(rejected({ module: 'Leads', record_id: '1', link_url: linkUrl })).toMatchObject({
      field: 'link_url',
      reason: expect.stringContaining(reason),
    });
  });

  it.each([
    ['a line feed', 'Line one\nline two', 'contains a line break (U+000A): a title is one line of text'],
    ['a carriage return', 'Line one\rline two', 'contains a line break (U+000D): a title is one line of text'],
    ['a NUL', 'Nul\u0000here', 'contains a NUL character (U+0000): a title is one line of text'],
    ['an escape', 'Esc\u001b[31m', 'contains a control character (U+001B): a title is one line of text'],
    ['too many characters', 'x'.repeat(256), 'is 256 characters long (an emoji counts as two); Zoho takes at most 255'],
    ['128 emoji', '😀'.repeat(128), 'is 256 characters long (an emoji counts as two); Zoho takes at most 255'],
  ])('title with %s', (_name, title, reason) => {
    expect(rejected({ ...VALID, title })).toEqual({ line: 7, field: 'title', reason });
  });

  it('rejects text that was not valid UTF-8 (holds U+FFFD), in any field', () => {
    expect(rejected({ ...VALID, title: 'M\uFFFDnchen' })).toMatchObject({
      field: 'title',
      reason: expect.stringContaining('not valid UTF-8'),
    });
    expect(rejected({ ...VALID, Notes: 'caf\uFFFD' })).toMatchObject({
      field: 'Notes',
      reason: expect.stringContaining('not valid UTF-8'),
    });
  });

  it('rejects a field larger than the field limit, counting UTF-8 bytes', () => {
    const limit = MANIFEST_LIMITS.maxFieldBytes;
    expect(rejected({ ...VALID, notes: 'x'.repeat(limit + 1) })).toEqual({
      line: 7,
      field: 'notes',
      reason: 'is larger than 64 KiB',
    });
    expect(rejected({ ...VALID, notes: 'é'.repeat(limit / 2 + 1) })).toMatchObject({
      field: 'notes',
      reason: 'is larger than 64 KiB',
    });
    expect(accepted({ ...VALID, notes: 'x'.repeat(limit) }).extra.notes).toHaveLength(limit);
  });

  it('rejects two keys that name the same column, and an empty key', () => {
    expect(rejected({ ...VALID, recordId: '1' })).toEqual({
      line: 7,
      reason: 'columns "record_id" and "recordId" are the same column (record_id)',
    });
    expect(rejected({ ...VALID, Notes: 'a', notes: 'b' })).toEqual({
      line: 7,
      reason: 'columns "Notes" and "notes" are the same column',
    });
    expect(rejected({ ...VALID, '': 'x' })).toEqual({ line: 7, reason: 'column 4 has no name' });
  });

  it('reports the first problem in field order, and quotes long values briefly', () => {
    expect(rejected({ module: '9', record_id: 'x', title: '\n' }).field).toBe('module');
    const reason = rejected({ ...VALID, record_id: '9'.repeat(5000) }).reason;
    expect(reason.length).toBeLessThan(150);
    expect(reason).toContain('(5000 characters)');
  });
});

describe('validateRow: hostile input', () => {
  it.each([
    [null, 'null'],
    [['Leads', '1', 'a'], 'an array'],
    ['module,record_id', 'a string'],
  ])('rejects a row that is not an object (%j)', (raw, found) => {
    expect(validateRow(raw as unknown as Record<string, unknown>, 3, BASE_DIR)).toEqual({
      ok: false,
      rejection: {
        line: 3,
        reason: `the row is not an object (it is ${found}): a row is an object keyed by column name`,
      },
    });
  });

  it('keeps a __proto__ column as a plain pass-through value', () => {
    const raw = JSON.parse(`{"module":"Leads","record_id":"1","file":"a","__proto__":"x","constructor":"y"}`) as Record<
      string,
      unknown
    >;
    const row = accepted(raw);
    expect(Object.getPrototypeOf(row.extra)).toBe(Object.prototype);
    expect(Object.keys(row.extra)).toEqual(['__proto__', 'constructor']);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});

describe('likelyMisspelledField', () => {
  it.each([
    ['titel', 'title'],
    ['Tilte', 'title'],
    ['moduel', 'module'],
    ['record_idd', 'record_id'],
    ['recrod id', 'record_id'],
    ['link-ulr', 'link_url'],
    ['files', 'file'],
  ] as const)('"%s" is probably %s', (name, field) => {
    expect(likelyMisspelledField(name)).toBe(field);
  });

  it.each(['title', 'Record ID', 'notes', 'name', 'time', 'legacy_id', 'owner', 'id', 'modules_list'])(
    '"%s" is not a misspelt field',
    (name) => {
      expect(likelyMisspelledField(name)).toBeUndefined();
    },
  );
});
