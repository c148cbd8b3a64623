/**
 * Attachment titles (Zoho: 1–255 characters). A title travels as a multipart field value,
 * so it cannot break a header, but a CR/LF or control character in it would still end up
 * in Zoho's UI and in reports: they become spaces.
 */

/** Zoho's limit on a title's length. */
export const MAX_TITLE_LENGTH = 255;

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * Cleans a title: NFC, control characters and line breaks turned into single spaces,
 * trimmed, cut between graphemes to {@link MAX_TITLE_LENGTH} UTF-16 code units.
 * @returns undefined when nothing is left (Zoho refuses an empty title, so none is sent)
 */
export function sanitizeTitle(title: string | undefined): string | undefined {
  if (title === undefined) return undefined;
  const cleaned = title
    .normalize('NFC')
    .replace(/[\p{Cc}\u2028\u2029]+/gu, ' ')
    .trim();
  if (cleaned === '') return undefined;
  if (cleaned.length <= MAX_TITLE_LENGTH) return cleaned;
  let cut = '';
  for (const { segment } of graphemes.segment(cleaned)) {
    if (cut.length + segment.length > MAX_TITLE_LENGTH) break;
    cut += segment;
  }
  return cut.trimEnd();
}
