/**
 * File names on their way into, and out of, a Content-Disposition header. A name keeps its
 * unicode in both `filename="…"` (raw UTF-8, as browsers and Zoho's own samples send it, and as
 * RFC 7578 asks) and, for non-ASCII names, RFC 5987 `filename*=UTF-8''…` — the same name in both,
 * so whichever one Zoho reads, it stores what the adoption check later looks for. Nothing in a
 * name can break the header it sits in.
 */
import { stripInvisible } from '../shared/invisible-characters.js';

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
 * Cleans a file name for Zoho: NFC, no control characters or path separators, at most
 * {@link MAX_FILE_NAME_LENGTH} UTF-16 code units (Zoho's Java side counts those), shortened
 * between graphemes and keeping the extension. Never returns an empty name.
 * @param name the name as the source gave it (untrusted)
 * @param maxLength @defaultValue {@link MAX_FILE_NAME_LENGTH}
 */
export function sanitizeFileName(name: string, maxLength: number = MAX_FILE_NAME_LENGTH): string {
  const cleaned = stripInvisible(name)
    .normalize('NFC')
    .replace(UNSAFE_CHARS, '_')
    // A separator would make the name a path on whoever downloads it.
    .replace(/[/\\]/g, '_')
    // A double quote would end the quoted filename parameter; servers disagree on escapes.
    .replace(/"/g, "'")
    .trim();
  if (cleaned === '' || cleaned === '.' || cleaned === '..') return DEFAULT_FILE_NAME;
  return shorten(cleaned, maxLength);
}

/**
 * Percent-encodes a value for an RFC 5987 `ext-value` (`UTF-8''…`): only RFC 5987's
 * attr-chars stay as they are.
 */
export function encodeRfc5987(value: string): string {
  return encodeURIComponent(value).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * The `filename` parameters of a Content-Disposition header for `name` (written into the
 * multipart body as UTF-8): the quoted name, plus `filename*` for a non-ASCII name.
 * @param name a name already passed through {@link sanitizeFileName} (no `"`, `\\`, CR or LF)
 * @returns e.g. `filename="café.pdf"; filename*=UTF-8''caf%C3%A9.pdf`
 */
export function fileNameParameters(name: string): string {
  const plain = `filename="${name}"`;
  return /^[\x20-\x7e]*$/.test(name) ? plain : `${plain}; filename*=UTF-8''${encodeRfc5987(name)}`;
}

/**
 * The file name a Content-Disposition header carries: `filename*` (RFC 5987, UTF-8 or
 * ISO-8859-1) first, else `filename` (quoted or bare; raw UTF-8 bytes, which Node hands
 * over as latin1, are repaired). The result is not sanitized: pass it through
 * {@link sanitizeFileName} before using it as a path.
 * @returns undefined when the header names no file
 */
export function parseContentDispositionFileName(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const extended = /(?:^|;)\s*filename\*\s*=\s*"?([^';\s"]*)'[^']*'([^;\s"]+)"?/i.exec(header);
  if (extended) {
    const decoded = decodeExtValue(extended[1] ?? '', extended[2] ?? '');
    if (decoded !== undefined && decoded !== '') return decoded;
  }
  const quoted = /(?:^|;)\s*filename\s*=\s*"((?:[^"\\]|\\.)*)"/i.exec(header);
  const bare = quoted ? undefined : /(?:^|;)\s*filename\s*=\s*([^;\s"]+)/i.exec(header);
  const raw = quoted ? (quoted[1] ?? '').replace(/\\(.)/g, '$1') : bare?.[1];
  if (raw === undefined || raw === '') return undefined;
  return repairLatin1(raw);
}

function decodeExtValue(charset: string, encoded: string): string | undefined {
  try {
    if (/^utf-?8$/i.test(charset)) return decodeURIComponent(encoded);
    if (/^iso-8859-1$/i.test(charset)) {
      return encoded.replace(/%([0-9a-f]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
    }
  } catch {
    // A malformed escape: fall back to the plain filename parameter.
  }
  return undefined;
}

/** Node decodes header bytes as latin1; a server that put raw UTF-8 there meant UTF-8. */
function repairLatin1(value: string): string {
  if (!/[\x80-\xff]/.test(value) || /[^\x00-\xff]/.test(value)) return value;
  const utf8 = Buffer.from(value, 'latin1').toString('utf8');
  return utf8.includes('\ufffd') ? value : utf8;
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
