/**
 * File names as Zoho will see them: one clean path segment, and never a type Zoho refuses.
 */
import { effectiveFileName } from '../shared/invisible-characters.js';

/** Extensions Zoho refuses as attachments (lower case, without the dot). */
const FORBIDDEN_EXTENSIONS: ReadonlySet<string> = new Set(['exe']);

/**
 * True when Zoho would refuse an attachment of this name (`.exe`, any letter case), also when
 * disguised by a trailing dot or spaces or by invisible characters (`evil.ex\u200Be`).
 */
export function isForbiddenFileName(fileName: string): boolean {
  const name = effectiveFileName(fileName);
  const dot = name.lastIndexOf('.');
  return dot >= 0 && FORBIDDEN_EXTENSIONS.has(name.slice(dot + 1).toLowerCase());
}

/**
 * Reduces a name taken from a server (Content-Disposition, URL path) to one usable path
 * segment: a server must not be able to name a file `../../x` or smuggle control
 * characters into reports.
 * @returns the cleaned name, or undefined when nothing usable is left
 */
export function sanitizeFileName(raw: string): string | undefined {
  const lastSegment = raw.replace(/[\u0000-\u001f\u007f]/g, '').split(/[/\\]/).pop() ?? '';
  const name = lastSegment.trim();
  return name === '' || name === '.' || name === '..' ? undefined : name;
}
