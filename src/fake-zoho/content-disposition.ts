/** The fake's answer header for a download: its own writer, Zoho's shape (the parser is shared/content-disposition.ts). */
import { encodeExtendedValue } from '../shared/content-disposition.js';

/**
 * `attachment; filename="<ASCII fallback>"; filename*=UTF-8''<percent-encoded>` so that old
 * and RFC 8187-aware clients both find the name.
 */
export function contentDispositionAttachment(fileName: string): string {
  const asciiFallback = fileName.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${asciiFallback}"; filename*=UTF-8''${encodeExtendedValue(fileName)}`;
}
