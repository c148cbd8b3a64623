/**
 * Never a type Zoho refuses (the cleaning of a name is shared/file-name.ts's).
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
