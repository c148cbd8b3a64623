/** File names from Content-Disposition, and the file-name rules shared by every source. */
import { describe, expect, it } from 'vitest';
import { fileNameFromContentDisposition } from '../../src/sources/content-disposition.js';
import { isForbiddenFileName, sanitizeFileName } from '../../src/sources/file-name.js';

describe('fileNameFromContentDisposition', () => {
  it.each([
    ['attachment; filename="report.pdf"', 'report.pdf'],
    ['attachment; filename=report.pdf', 'report.pdf'],
    ['attachment;filename="spaced name.pdf"', 'spaced name.pdf'],
    ['ATTACHMENT; FILENAME="upper.pdf"', 'upper.pdf'],
    ['inline; filename="a;b.pdf"; size=3', 'a;b.pdf'],
    ['attachment; filename="a \\"quoted\\" name.pdf"', 'a "quoted" name.pdf'],
    ["attachment; filename*=UTF-8''%E2%82%AC%20rates.pdf", '€ rates.pdf'],
    ["attachment; filename*=utf-8'en'%E6%97%A5%E6%9C%AC%E8%AA%9E.txt", '日本語.txt'],
    ["attachment; filename*=UTF-8''first.pdf; filename=\"second.pdf\"", 'first.pdf'],
    ["attachment; filename=\"fallback.pdf\"; filename*=UTF-8''%C3%A9t%C3%A9.pdf", 'été.pdf'],
    ["attachment; filename*=iso-8859-1'en'%A3%20rates.pdf", '£ rates.pdf'],
    ["attachment; filename*=\"UTF-8''quoted-ext.pdf\"", 'quoted-ext.pdf'],
  ])('%s -> %s', (header, name) => {
    expect(fileNameFromContentDisposition(header)).toBe(name);
  });

  it('falls back to filename when filename* cannot be decoded', () => {
    const fallback = 'fallback.pdf';
    expect(fileNameFromContentDisposition(`attachment; filename*=KOI8-R''%C1.pdf; filename="${fallback}"`)).toBe(fallback);
    expect(fileNameFromContentDisposition(`attachment; filename*=UTF-8''%ZZ.pdf; filename="${fallback}"`)).toBe(fallback);
    expect(fileNameFromContentDisposition(`attachment; filename*=UTF-8''%FF%FE.pdf; filename="${fallback}"`)).toBe(fallback);
    expect(fileNameFromContentDisposition(`attachment; filename*=no-quotes.pdf; filename="${fallback}"`)).toBe(fallback);
  });

  it('re-reads raw UTF-8 bytes that arrived as Latin-1, and leaves genuine Latin-1 alone', () => {
    const asReceived = (bytes: Buffer): string => `attachment; filename="${bytes.toString('latin1')}"`;
    expect(fileNameFromContentDisposition(asReceived(Buffer.from('résumé.pdf', 'utf8')))).toBe('résumé.pdf');
    expect(fileNameFromContentDisposition(asReceived(Buffer.from('résumé.pdf', 'latin1')))).toBe('résumé.pdf');
  });

  it('keeps only the last path segment and drops control characters', () => {
    expect(fileNameFromContentDisposition('attachment; filename="../../etc/passwd"')).toBe('passwd');
    expect(fileNameFromContentDisposition('attachment; filename="..\\\\..\\\\boot.ini"')).toBe('boot.ini');
    expect(fileNameFromContentDisposition("attachment; filename*=UTF-8''..%2F..%2Fsecret.txt")).toBe('secret.txt');
    expect(fileNameFromContentDisposition('attachment; filename="bad\u0007\u001bname.pdf"')).toBe('badname.pdf');
  });

  it('names nothing when there is no usable file name', () => {
    expect(fileNameFromContentDisposition(undefined)).toBeUndefined();
    expect(fileNameFromContentDisposition('inline')).toBeUndefined();
    expect(fileNameFromContentDisposition('attachment; filename=""')).toBeUndefined();
    expect(fileNameFromContentDisposition('attachment; filename=".."')).toBeUndefined();
    expect(fileNameFromContentDisposition('attachment; filename="dir/"')).toBeUndefined();
  });
});

describe('isForbiddenFileName', () => {
  it.each(['setup.exe', 'SETUP.EXE', 'a.b.Exe'])('refuses %s', (name) => {
    expect(isForbiddenFileName(name)).toBe(true);
  });
  it.each(['exe', 'setup.exe.pdf', 'setup.exec', 'notes.txt', 'noextension'])('accepts %s', (name) => {
    expect(isForbiddenFileName(name)).toBe(false);
  });
});

describe('sanitizeFileName', () => {
  it('trims and keeps one segment', () => {
    expect(sanitizeFileName('  a/b/c.pdf  ')).toBe('c.pdf');
    expect(sanitizeFileName('.hidden')).toBe('.hidden');
    expect(sanitizeFileName('.')).toBeUndefined();
    expect(sanitizeFileName('   ')).toBeUndefined();
  });
});
