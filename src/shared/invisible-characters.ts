/**
 * Characters that change how text looks without being seen: bidi overrides and isolates
 * (`evil\u202Etxt.exe` shows as `evilexe.txt`), zero-width spaces and joiners, the byte-order
 * mark. Titles that hold one are refused; file names lose them; and the executable-extension
 * check looks at a name without them. Decided here, once.
 */

/** Bidi embeddings, overrides and isolates, LRM/RLM/ALM, zero-width space/joiners, word joiner, BOM. */
export const INVISIBLE_FORMAT_CHARACTER = /[\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/u;

const ALL_INVISIBLE = new RegExp(INVISIBLE_FORMAT_CHARACTER.source, 'gu');

/** `text` without any {@link INVISIBLE_FORMAT_CHARACTER}. */
export function stripInvisible(text: string): string {
  return text.replace(ALL_INVISIBLE, '');
}

/**
 * A file name as a file manager would judge its type: invisible characters removed, and the
 * trailing dots and spaces Windows drops (`evil.exe.`, `evil.exe  ` are `evil.exe`).
 */
export function effectiveFileName(fileName: string): string {
  return stripInvisible(fileName).replace(/[.\s]+$/u, '');
}
