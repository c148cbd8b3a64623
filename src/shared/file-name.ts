/**
 * File names as Zoho will store them, from wherever they come (a local path, a server's
 * Content-Disposition or URL, Zoho's own listing): one set of rules, so a name the tool sends
 * and the name it later looks for in Zoho's list are cleaned the same way.
 */
import { stripInvisible } from './invisible-characters.js';

/** Zoho's limit on attachment names (contract §1). */
export const MAX_FILE_NAME_LENGTH = 250;

/** Used when a name is empty once cleaned. */
const DEFAULT_FILE_NAME = 'attachment';

/**
 * An extension worth keeping when a name is shortened: a final `.xyz` of up to 16 characters
 * with no spaces (so "Report v2. Final draft…" is not mistaken for one).
 */
const EXTENSION = /\.[^.\s]{1,16}$/u;

/** Control characters (C0, DEL, C1) and line/paragraph separators (invisible format characters are removed first). */
const UNSAFE_CHARS = /[\p{Cc}\u2028\u2029\u202a-\u202e\u2066-\u2069]/gu;

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * Cleans a file name: its last path segment (a server must not name a file `../../x`, and
 * `C:\docs\a.pdf` means `a.pdf`), without invisible format characters, NFC, control characters
 * replaced by `_`, `"` by `'` (it would end a quoted header parameter), trimmed, and at most
 * `maxLength` UTF-16 code units (Zoho's Java side counts those), shortened between graphemes and
 * keeping the extension.
 * @param raw the name as the source gave it (untrusted)
 * @param maxLength @defaultValue {@link MAX_FILE_NAME_LENGTH}
 * @returns the cleaned name, or undefined when nothing usable is left (empty, `.` or `..`)
 */
export function cleanFileName(raw: string, maxLength: number = MAX_FILE_NAME_LENGTH): string | undefined {
  const lastSegment = raw.split(/[/\\]/).pop() ?? '';
  const cleaned = stripInvisible(lastSegment).normalize('NFC').replace(UNSAFE_CHARS, '_').replace(/"/g, "'").trim();
  if (cleaned === '' || cleaned === '.' || cleaned === '..') return undefined;
  return shorten(cleaned, maxLength);
}

/** {@link cleanFileName}, with `attachment` when nothing usable is left: for a name that must exist. */
export function sanitizeFileName(raw: string, maxLength: number = MAX_FILE_NAME_LENGTH): string {
  return cleanFileName(raw, maxLength) ?? DEFAULT_FILE_NAME;
}

/** Cuts `name` to `maxLength` UTF-16 code units between graphemes, keeping a short extension. */
function shorten(name: string, maxLength: number): string {
  if (name.length <= maxLength) return name;
  const extension = EXTENSION.exec(name)?.[0] ?? '';
  const keepExtension = extension.length > 0 && extension.length < maxLength;
  const stem = keepExtension ? name.slice(0, -extension.length) : name;
  const budget = maxLength - (keepExtension ? extension.length : 0);
  let cut = '';
  for (const { segment } of graphemes.segment(stem)) {
    if (cut.length + segment.length > budget) break;
    cut += segment;
  }
  const shortened = cut.trimEnd() + (keepExtension ? extension : '');
  return shortened === '' ? DEFAULT_FILE_NAME : shortened;
}
