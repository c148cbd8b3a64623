import { describe, expect, it } from 'vitest';
/** What the client writes: the multipart part's filename parameters, and titles (names are cleaned in shared/file-name.ts, tested in content-disposition.test.ts). */
import { fileNameParameters, sanitizeFileName } from '../../src/zoho/filename.js';
import { MAX_TITLE_LENGTH, sanitizeTitle } from '../../src/zoho/title.js';

describe('Content-Disposition filename parameters', () => {
  it('gives only a quoted filename for safe ASCII names', () => {
    expect(fileNameParameters('report.pdf')).toBe('filename="report.pdf"');
  });

  it("keeps unicode in the quoted filename (as Zoho's samples send it) and adds RFC 5987 filename*", () => {
    expect(fileNameParameters('café €.pdf')).toBe(`filename="café €.pdf"; filename*=UTF-8''caf%C3%A9%20%E2%82%AC.pdf`);
  });

  it('a cleaned name cannot end the quoted parameter or the header line', () => {
    const params = fileNameParameters(sanitizeFileName('say "hi"\r\nContent-Type: x 100%.txt'));
    expect(params).toBe(`filename="say 'hi'__Content-Type: x 100%.txt"`);
    expect(params).not.toMatch(/[\r\n]/);
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
