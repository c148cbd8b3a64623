/**
 * The file name a server suggests in `Content-Disposition` (RFC 6266). `filename*`
 * (RFC 8187, formerly RFC 5987: `UTF-8''%E2%82%AC%20rates.pdf`) wins over `filename`, as
 * the RFC says, because it is the only form that can carry non-ASCII names reliably.
 */
import { sanitizeFileName } from './file-name.js';

// `; name = value` where value is a quoted-string (with backslash escapes) or a token.
const PARAMETER = /;\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)/g;
// RFC 8187 ext-value: charset'language'percent-encoded-bytes
const EXT_VALUE = /^([A-Za-z0-9!#$%&+^_`{}~-]+)'[^']*'(.*)$/;

/**
 * The file name in a `Content-Disposition` header, cleaned to one path segment.
 * @param header the header value as received (undici decodes header bytes as Latin-1)
 * @returns undefined when the header is missing or names no usable file
 */
export function fileNameFromContentDisposition(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  const parameters = new Map<string, string>();
  for (const [, name, value] of header.matchAll(PARAMETER)) {
    if (name === undefined || value === undefined) continue;
    const key = name.toLowerCase();
    // The first occurrence counts: a repeated parameter is malformed and should not override.
    if (!parameters.has(key)) parameters.set(key, unquote(value.trim()));
  }
  const extended = parameters.get('filename*');
  const fromExtended = extended === undefined ? undefined : decodeExtValue(extended);
  if (fromExtended !== undefined) {
    const name = sanitizeFileName(fromExtended);
    if (name !== undefined) return name;
  }
  const plain = parameters.get('filename');
  return plain === undefined ? undefined : sanitizeFileName(recoverUtf8(plain));
}

function unquote(value: string): string {
  return value.startsWith('"') && value.endsWith('"') && value.length >= 2 ? value.slice(1, -1).replace(/\\(.)/g, '$1') : value;
}

function decodeExtValue(value: string): string | undefined {
  const match = EXT_VALUE.exec(value);
  if (match === null) return undefined;
  const charset = (match[1] ?? '').toLowerCase();
  const encoding = charset === 'utf-8' ? 'utf-8' : charset === 'iso-8859-1' ? 'latin1' : undefined;
  if (encoding === undefined) return undefined;
  const bytes = percentDecodeBytes(match[2] ?? '');
  if (bytes === undefined) return undefined;
  try {
    return new TextDecoder(encoding, { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

function percentDecodeBytes(text: string): Uint8Array | undefined {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (text[i] === '%') {
      const hex = text.slice(i + 1, i + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return undefined;
      bytes.push(parseInt(hex, 16));
      i += 2;
    } else if (char < 0x80) {
      bytes.push(char);
    } else {
      return undefined;
    }
  }
  return Uint8Array.from(bytes);
}

/**
 * Many servers put raw UTF-8 bytes in `filename="…"`; decoded as Latin-1 they read as
 * mojibake (`rÃ©sumÃ©.pdf`). When the bytes form valid UTF-8 that is almost certainly what
 * was meant; a genuine Latin-1 name (`r\xe9sum\xe9.pdf`) is not valid UTF-8 and stays as is.
 */
function recoverUtf8(value: string): string {
  if (!/[\u0080-\u00ff]/.test(value) || /[^\u0000-\u00ff]/.test(value)) return value;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(value, 'latin1'));
  } catch {
    return value;
  }
}
