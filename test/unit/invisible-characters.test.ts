/** Bidi overrides and zero-width characters, and the executable-extension check that they (and trailing dots) must not get past. */
import { describe, expect, it } from 'vitest';
import { validateRow } from '../../src/manifest/index.js';
import { effectiveFileName, stripInvisible } from '../../src/shared/invisible-characters.js';
import { isForbiddenFileName } from '../../src/sources/file-name.js';
import { sanitizeFileName } from '../../src/zoho/filename.js';

describe('the executable-extension check', () => {
  it.each([
    'evil.exe',
    'EVIL.EXE',
    'evil.exe.',
    'evil.exe...',
    'evil.exe  ',
    'evil.exe . ',
    'evil.ex\u200Be',
    'evil.\u200Dexe',
    'evil.exe\uFEFF',
    'evil.e\u2060xe',
    'evil.exe\u202E',
  ])('refuses %j', (name) => {
    expect(isForbiddenFileName(name)).toBe(true);
  });

  it.each(['report.pdf', 'exe', 'notes.exe.txt', 'evil\u202Etxt.exe'.replace('.exe', '.pdf')])(
    'lets %j through',
    (name) => {
      expect(isForbiddenFileName(name)).toBe(false);
    },
  );

  it('judges a name as a file manager would', () => {
    expect(effectiveFileName('a.ex\u200Be. ')).toBe('a.exe');
    expect(stripInvisible('a\u202Eb\u200Bc')).toBe('abc');
  });
});

describe('file names sent to Zoho', () => {
  it('lose zero-width and bidi characters, so what Zoho shows is what the file is', () => {
    expect(sanitizeFileName('invoice\u202Efdp.exe')).toBe('invoicefdp.exe');
    expect(sanitizeFileName('scan\u200B\u200C\u200D\u2060\uFEFF.pdf')).toBe('scan.pdf');
    expect(sanitizeFileName('\u200B')).toBe('attachment');
  });
});

describe('titles', () => {
  it.each([
    ['Contract\u202Efdp.exe', 'U+202E'],
    ['Con\u200Btract', 'U+200B'],
    ['\u2066isolated\u2069', 'U+2066'],
  ])('refuses %j, naming the character', (title, code) => {
    const result = validateRow({ module: 'Leads', record_id: '1', link_url: 'https://example.com/', title }, 7, '/');
    expect(result.ok).toBe(false);
    if (!result.ok)
      expect(result.rejection).toMatchObject({ line: 7, field: 'title', reason: expect.stringContaining(code) });
  });

  it('keeps ordinary unicode', () => {
    expect(
      validateRow(
        { module: 'Leads', record_id: '1', link_url: 'https://example.com/', title: 'Überweisung – 契約 ✓' },
        1,
        '/',
      ).ok,
    ).toBe(true);
  });
});
