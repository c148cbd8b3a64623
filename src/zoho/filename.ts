/**
 * File names on their way into, and out of, a Content-Disposition header. A name keeps its
 * unicode in both `filename="…"` (raw UTF-8, as browsers and Zoho's own samples send it, and as
 * RFC 7578 asks) and, for non-ASCII names, RFC 5987 `filename*=UTF-8''…` — the same name in both,
 * so whichever one Zoho reads, it stores what the adoption check later looks for. Nothing in a
 * name can break the header it sits in.
 */
import { encodeExtendedValue } from '../shared/content-disposition.js';

export { MAX_FILE_NAME_LENGTH, sanitizeFileName } from '../shared/file-name.js';

/**
 * The `filename` parameters of a Content-Disposition header for `name` (written into the
 * multipart body as UTF-8): the quoted name, plus `filename*` for a non-ASCII name.
 * @param name a name already passed through `sanitizeFileName` (no `"`, `\\`, CR or LF)
 * @returns e.g. `filename="café.pdf"; filename*=UTF-8''caf%C3%A9.pdf`
 */
export function fileNameParameters(name: string): string {
  const plain = `filename="${name}"`;
  return /^[\x20-\x7e]*$/.test(name) ? plain : `${plain}; filename*=UTF-8''${encodeExtendedValue(name)}`;
}
