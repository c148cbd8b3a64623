import { describe, expect, it } from 'vitest';
import {
  MAX_FILE_NAME_LENGTH,
  encodeRfc5987,
  fileNameParameters,
  parseContentDispositionFileName,
  sanitizeFileName,
} from '../../src/zoho/filename.js';
import { MAX_TITLE_LENGTH, sanitizeTitle } from '../../src/zoho/title.js';

describe('sanitizeFileName', () => {
  it('keeps unicode and plain names as they are', () => {
    expect(sanitizeFileName('report.pdf')).toBe('report.pdf');
    expect(sanitizeFileName('Überweisung €.pdf')).toBe('Überweisung €.pdf');
    expect(sanitizeFileName('日本語の資料.docx')).toBe('日本語の資料.docx');
    expect(sanitizeFileName("a 'quoted' name.txt")).toBe("a 'quoted' name.txt");
    // A double quote would end the quoted filename parameter: it becomes an apostrophe.
    expect(sanitizeFileName('a "quoted" name.txt')).toBe("a 'quoted' name.txt");
  });

  it('normalises to NFC', () => {
    expect(sanitizeFileName('cafe\u0301.txt')).toBe('caf\u00e9.txt');
  });

  it('replaces control characters, CR/LF and separators, and drops bidi overrides', () => {
    expect(sanitizeFileName('a\r\nContent-Type: evil.txt')).toBe('a__Content-Type: evil.txt');
    expect(sanitizeFileName('../../etc/passwd')).toBe('.._.._etc_passwd');
    expect(sanitizeFileName('dir\\file.txt')).toBe('dir_file.txt');
    expect(sanitizeFileName('nul\u0000byte')).toBe('nul_byte');
    expect(sanitizeFileName('invoice\u202Efdp.exe')).toBe('invoicefdp.exe');
  });

  it('never returns an empty name', () => {
    expect(sanitizeFileName('')).toBe('attachment');
    expect(sanitizeFileName('   ')).toBe('attachment');
    expect(sanitizeFileName('..')).toBe('attachment');
  });

  it('shortens names over 250 UTF-16 units keeping the extension', () => {
    const long = `${'a'.repeat(300)}.pdf`;
    const short = sanitizeFileName(long);
    expect(short.length).toBe(MAX_FILE_NAME_LENGTH);
    expect(short.endsWith('.pdf')).toBe(true);
    expect(sanitizeFileName(`${'b'.repeat(250)}.txt`).length).toBe(250);
    expect(sanitizeFileName('c'.repeat(250))).toBe('c'.repeat(250));
  });

  it('does not split a surrogate pair or grapheme when shortening', () => {
    const short = sanitizeFileName(`${'😀'.repeat(200)}.png`);
    expect(short.length).toBeLessThanOrEqual(MAX_FILE_NAME_LENGTH);
    expect(short.endsWith('.png')).toBe(true);
    expect(short).not.toMatch(/[\ud800-\udbff](?![\udc00-\udfff])/);
    expect(short.slice(0, -4)).toBe('😀'.repeat(123));
  });

  it('does not take a long tail after a dot for an extension', () => {
    const name = `notes. ${'x'.repeat(300)}`;
    expect(sanitizeFileName(name).length).toBe(250);
    expect(sanitizeFileName(name).startsWith('notes. ')).toBe(true);
  });

  it('is idempotent (callers compare cleaned names with what Zoho lists)', () => {
    for (const name of ['a\r\nb.txt', `${'é'.repeat(300)}.txt`, ' spaced .pdf ', '😀'.repeat(300)]) {
      const once = sanitizeFileName(name);
      expect(sanitizeFileName(once)).toBe(once);
    }
  });
});

describe('Content-Disposition filename parameters', () => {
  it('gives only a quoted filename for safe ASCII names', () => {
    expect(fileNameParameters('report.pdf')).toBe('filename="report.pdf"');
  });

  it('keeps unicode in the quoted filename (as Zoho\'s samples send it) and adds RFC 5987 filename*', () => {
    expect(fileNameParameters('café €.pdf')).toBe(`filename="café €.pdf"; filename*=UTF-8''caf%C3%A9%20%E2%82%AC.pdf`);
  });

  it('a cleaned name cannot end the quoted parameter or the header line', () => {
    const params = fileNameParameters(sanitizeFileName('say "hi"\r\nContent-Type: x\\ 100%.txt'));
    expect(params).toBe(`filename="say 'hi'__Content-Type: x_ 100%.txt"`);
    expect(params).not.toMatch(/[\r\n]/);
  });

  it('encodes the characters encodeURIComponent leaves but attr-char forbids', () => {
    expect(encodeRfc5987("it's (a) *test*")).toBe('it%27s%20%28a%29%20%2Atest%2A');
  });

});

describe('parseContentDispositionFileName', () => {
  it('prefers filename* (UTF-8) over filename', () => {
    expect(parseContentDispositionFileName(`attachment; filename="cafe.pdf"; filename*=UTF-8''caf%C3%A9.pdf`)).toBe('café.pdf');
    expect(parseContentDispositionFileName(`attachment; filename*=utf-8'en'%E2%82%AC%20rates.txt; filename="x"`)).toBe('€ rates.txt');
  });

  it('decodes ISO-8859-1 ext-values', () => {
    expect(parseContentDispositionFileName(`attachment; filename*=iso-8859-1''caf%E9.txt`)).toBe('café.txt');
  });

  it('reads quoted filenames with escapes and semicolons', () => {
    expect(parseContentDispositionFileName('attachment; filename="a\\"b;c.txt"')).toBe('a"b;c.txt');
  });

  it('reads bare filenames', () => {
    expect(parseContentDispositionFileName('attachment; filename=plain.txt')).toBe('plain.txt');
  });

  it('repairs raw UTF-8 that arrived as latin1', () => {
    const mangled = Buffer.from('attachment; filename="日本.txt"', 'utf8').toString('latin1');
    expect(parseContentDispositionFileName(mangled)).toBe('日本.txt');
  });

  it('falls back to filename when filename* is malformed', () => {
    expect(parseContentDispositionFileName(`attachment; filename="ok.txt"; filename*=UTF-8''%E2%ZZ`)).toBe('ok.txt');
  });

  it('returns undefined when there is no name', () => {
    expect(parseContentDispositionFileName(undefined)).toBeUndefined();
    expect(parseContentDispositionFileName('attachment')).toBeUndefined();
  });
});

describe('sanitizeTitle', () => {
  it('turns line breaks and control characters into spaces', () => {
    expect(sanitizeTitle('Line one\r\nLine\ttwo\u0000')).toBe('Line one Line two');
  });

  it('omits empty titles', () => {
    expect(sanitizeTitle(undefined)).toBeUndefined();
    expect(sanitizeTitle(' \r\n ')).toBeUndefined();
  });

  it('cuts to 255 UTF-16 units between graphemes', () => {
    expect(sanitizeTitle('t'.repeat(400))).toHaveLength(MAX_TITLE_LENGTH);
    const emoji = sanitizeTitle('👍'.repeat(200)) ?? '';
    expect(emoji.length).toBeLessThanOrEqual(MAX_TITLE_LENGTH);
    expect(emoji).toBe('👍'.repeat(127));
  });

  it('keeps unicode and quotes', () => {
    expect(sanitizeTitle('Zoho "Kaizen" — 日本')).toBe('Zoho "Kaizen" — 日本');
  });
});
