/**
 * The one Content-Disposition parser and the one file-name cleaner (shared/), table by table:
 * the client, URL sources and the fake Zoho all read names through them.
 */
import { describe, expect, it } from 'vitest';
import {
  encodeExtendedValue,
  fileNameFromContentDisposition,
  parseHeaderValue,
} from '../../src/shared/content-disposition.js';
import { cleanFileName, MAX_FILE_NAME_LENGTH, sanitizeFileName } from '../../src/shared/file-name.js';

/** Header bytes as Node hands them over: decoded as Latin-1. */
const asReceived = (text: string, encoding: BufferEncoding = 'utf8') => Buffer.from(text, encoding).toString('latin1');

describe('fileNameFromContentDisposition', () => {
  it.each([
    // plain, quoted, bare, any letter case, no space after ';'
    ['attachment; filename="report.pdf"', 'report.pdf'],
    ['attachment; filename=report.pdf', 'report.pdf'],
    ['attachment;filename="spaced name.pdf"', 'spaced name.pdf'],
    ['ATTACHMENT; FILENAME="upper.pdf"', 'upper.pdf'],
    ['filename="no-disposition-type.pdf"', 'no-disposition-type.pdf'],
    // quoted strings may hold ';' and backslash escapes
    ['inline; filename="a;b.pdf"; size=3', 'a;b.pdf'],
    ['attachment; filename="a \\"quoted\\" name.pdf"', 'a "quoted" name.pdf'],
    ['attachment; filename="a\\"b;c.txt"', 'a"b;c.txt'],
    // filename* (RFC 8187) wins over filename, in either order, UTF-8 or ISO-8859-1
    ["attachment; filename*=UTF-8''%E2%82%AC%20rates.pdf", '€ rates.pdf'],
    ["attachment; filename*=utf-8'en'%E6%97%A5%E6%9C%AC%E8%AA%9E.txt", '日本語.txt'],
    ['attachment; filename*=UTF-8\'\'first.pdf; filename="second.pdf"', 'first.pdf'],
    ['attachment; filename="fallback.pdf"; filename*=UTF-8\'\'%C3%A9t%C3%A9.pdf', 'été.pdf'],
    ["attachment; filename*=iso-8859-1'en'%A3%20rates.pdf", '£ rates.pdf'],
    ["attachment; filename*=iso-8859-1''caf%E9.txt", 'café.txt'],
    ['attachment; filename*="UTF-8\'\'quoted-ext.pdf"', 'quoted-ext.pdf'],
    // a filename* that does not decode strictly falls back to filename (unknown charset, bad escape, invalid UTF-8, no quotes)
    ['attachment; filename*=KOI8-R\'\'%C1.pdf; filename="fallback.pdf"', 'fallback.pdf'],
    ['attachment; filename*=UTF-8\'\'%ZZ.pdf; filename="fallback.pdf"', 'fallback.pdf'],
    ['attachment; filename*=UTF-8\'\'%FF%FE.pdf; filename="fallback.pdf"', 'fallback.pdf'],
    ['attachment; filename*=no-quotes.pdf; filename="fallback.pdf"', 'fallback.pdf'],
    ['attachment; filename="ok.txt"; filename*=UTF-8\'\'%E2%ZZ', 'ok.txt'],
    // raw UTF-8 that arrived as Latin-1 is read as UTF-8; genuine Latin-1 stays as it is
    [`attachment; filename="${asReceived('résumé.pdf')}"`, 'résumé.pdf'],
    [`attachment; filename="${asReceived('résumé.pdf', 'latin1')}"`, 'résumé.pdf'],
    [asReceived('attachment; filename="日本.txt"'), '日本.txt'],
    // the first of a repeated parameter counts
    ['attachment; filename="first.pdf"; filename="second.pdf"', 'first.pdf'],
    // the name comes back as sent, path and all: cleanFileName (below) keeps only its last segment
    ["attachment; filename*=UTF-8''..%2F..%2Fsecret.txt", '../../secret.txt'],
  ])('%s → %s', (header, name) => {
    expect(fileNameFromContentDisposition(header)).toBe(name);
  });

  it.each([undefined, '', 'inline', 'attachment', 'attachment; filename=""'])('%s names no file', (header) => {
    expect(fileNameFromContentDisposition(header)).toBeUndefined();
  });

  it('splits a multipart part header into its value and parameters (what the fake Zoho reads)', () => {
    const { value, params } = parseHeaderValue('form-data; name="file"; filename="a;b.txt"');
    expect([value, Object.fromEntries(params)]).toEqual(['form-data', { name: 'file', filename: 'a;b.txt' }]);
  });

  it('encodes RFC 8187 values: the characters encodeURIComponent leaves but attr-char forbids too', () => {
    expect(encodeExtendedValue("it's (a) *test*")).toBe('it%27s%20%28a%29%20%2Atest%2A');
    expect(
      fileNameFromContentDisposition(`attachment; filename*=UTF-8''${encodeExtendedValue("€ it's (1).pdf")}`),
    ).toBe("€ it's (1).pdf");
  });
});

describe('cleanFileName and sanitizeFileName', () => {
  // Where the two old cleaners disagreed, the safer rule won: control characters become `_` (the
  // sources' cleaner dropped them, joining the parts), and separators end a path (the client's
  // replaced them with `_`, keeping `..` parts in the name).
  it.each([
    ['report.pdf', 'report.pdf'],
    ['Überweisung €.pdf', 'Überweisung €.pdf'],
    ['日本語の資料.docx', '日本語の資料.docx'],
    ["a 'quoted' name.txt", "a 'quoted' name.txt"],
    ['a "quoted" name.txt', "a 'quoted' name.txt"],
    ['cafe\u0301.txt', 'caf\u00e9.txt'],
    ['a\r\nContent-Type: evil.txt', 'a__Content-Type: evil.txt'],
    ['bad\u0007\u001bname.pdf', 'bad__name.pdf'],
    ['nul\u0000byte', 'nul_byte'],
    ['invoice\u202Efdp.exe', 'invoicefdp.exe'],
    ['../../etc/passwd', 'passwd'],
    ['..\\..\\boot.ini', 'boot.ini'],
    ['C:\\docs\\a.pdf', 'a.pdf'],
    ['  a/b/c.pdf  ', 'c.pdf'],
    ['.hidden', '.hidden'],
    [' spaced .pdf ', 'spaced .pdf'],
  ])('%j → %j', (raw, clean) => {
    expect(cleanFileName(raw)).toBe(clean);
    expect(sanitizeFileName(raw)).toBe(clean);
  });

  it.each(['', '   ', '.', '..', 'dir/', '\u200B'])(
    '%j leaves nothing: undefined, or "attachment" where a name must exist',
    (raw) => {
      expect(cleanFileName(raw)).toBeUndefined();
      expect(sanitizeFileName(raw)).toBe('attachment');
    },
  );

  it('shortens names over 250 UTF-16 units between graphemes, keeping a short extension', () => {
    const short = sanitizeFileName(`${'a'.repeat(300)}.pdf`);
    expect([short.length, short.endsWith('.pdf')]).toEqual([MAX_FILE_NAME_LENGTH, true]);
    expect(sanitizeFileName(`${'b'.repeat(250)}.txt`).length).toBe(250);
    expect(sanitizeFileName('c'.repeat(250))).toBe('c'.repeat(250));
    const emoji = sanitizeFileName(`${'😀'.repeat(200)}.png`);
    expect(emoji.slice(0, -4)).toBe('😀'.repeat(123));
    expect(emoji).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
    // "notes. xxx…" has no extension worth keeping: a long tail after a dot is not one.
    expect(sanitizeFileName(`notes. ${'x'.repeat(300)}`)).toMatch(/^notes\. x{243}$/);
  });

  it('is idempotent: a name sent and the same name read back from Zoho clean the same', () => {
    for (const name of ['a\r\nb.txt', `${'é'.repeat(300)}.txt`, ' spaced .pdf ', '😀'.repeat(300), '../x/"y".pdf']) {
      const once = sanitizeFileName(name);
      expect(sanitizeFileName(once)).toBe(once);
    }
  });
});
