/**
 * Parameters of `Content-Type` and `Content-Disposition` headers (RFC 7231 §3.1.1.1,
 * RFC 7578 §4.2) and the extended `name*=charset'lang'value` form (RFC 8187, ex RFC 5987).
 */

/** A header value split into its leading token (lower case) and its parameters (names in lower case). */
export interface ParsedHeaderValue {
  value: string;
  params: Map<string, string>;
}

/**
 * Splits `form-data; name="file"; filename="a;b.txt"` into its parts. Quoted strings may hold
 * `;` and backslash escapes. Malformed pieces are skipped, not fatal: the caller decides what
 * is missing.
 */
export function parseHeaderValue(header: string): ParsedHeaderValue {
  const params = new Map<string, string>();
  const firstSemicolon = header.indexOf(';');
  const value = (firstSemicolon === -1 ? header : header.slice(0, firstSemicolon)).trim().toLowerCase();
  let index = firstSemicolon === -1 ? header.length : firstSemicolon + 1;

  while (index < header.length) {
    const equals = header.indexOf('=', index);
    if (equals === -1) break;
    const name = header.slice(index, equals).trim().toLowerCase();
    index = equals + 1;
    while (header[index] === ' ' || header[index] === '\t') index += 1;

    let paramValue = '';
    if (header[index] === '"') {
      index += 1;
      while (index < header.length && header[index] !== '"') {
        if (header[index] === '\\' && index + 1 < header.length) index += 1;
        paramValue += header[index];
        index += 1;
      }
      const nextSemicolon = header.indexOf(';', index);
      index = nextSemicolon === -1 ? header.length : nextSemicolon + 1;
    } else {
      const nextSemicolon = header.indexOf(';', index);
      const end = nextSemicolon === -1 ? header.length : nextSemicolon;
      paramValue = header.slice(index, end).trim();
      index = end + 1;
    }
    if (name.length > 0 && !params.has(name)) params.set(name, paramValue);
  }
  return { value, params };
}

/**
 * The value of parameter `name`, preferring the extended `name*` form when it decodes
 * (RFC 8187 §4.2: a recipient that understands it uses it).
 */
export function extendedParam(params: Map<string, string>, name: string): string | undefined {
  const extended = params.get(`${name}*`);
  const decoded = extended === undefined ? undefined : decodeExtendedValue(extended);
  return decoded ?? params.get(name);
}

/** Decodes `UTF-8''%E2%82%AC%20rates.txt` (UTF-8 or ISO-8859-1); undefined when malformed. */
export function decodeExtendedValue(extended: string): string | undefined {
  const match = /^([^']*)'[^']*'(.*)$/s.exec(extended);
  if (!match) return undefined;
  const charset = match[1]!.toLowerCase();
  const encoded = match[2]!;
  if (charset === 'utf-8') {
    try {
      return decodeURIComponent(encoded);
    } catch {
      return undefined;
    }
  }
  if (charset === 'iso-8859-1') {
    return encoded.replace(/%([0-9a-f]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  }
  return undefined;
}

/**
 * `attachment; filename="<ASCII fallback>"; filename*=UTF-8''<percent-encoded>` so that old
 * and RFC 8187-aware clients both find the name.
 */
export function contentDispositionAttachment(fileName: string): string {
  const asciiFallback = fileName.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${asciiFallback}"; filename*=UTF-8''${encodeExtendedValue(fileName)}`;
}

/** Percent-encodes everything outside RFC 8187's attr-char set. */
function encodeExtendedValue(value: string): string {
  // encodeURIComponent leaves ' ( ) * unescaped, which attr-char does not allow.
  return encodeURIComponent(value).replace(
    /['()*]/g,
    (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}
