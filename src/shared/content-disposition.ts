/**
 * `Content-Disposition` and `Content-Type` header values (RFC 6266, RFC 7578 §4.2) and their
 * extended `name*=charset'lang'value` parameters (RFC 8187, formerly RFC 5987): the one parser
 * the client (download names), URL sources (a server's suggested name) and the fake Zoho
 * (multipart part headers) all use, and the one encoder for writing such values.
 */

/** A header value split into its leading token (lower case) and its parameters (names in lower case). */
export interface HeaderValue {
  value: string;
  params: Map<string, string>;
}

/**
 * Splits `form-data; name="file"; filename="a;b.txt"` into its parts. Quoted strings may hold
 * `;` and backslash escapes. The first of a repeated parameter counts (a later one is how a
 * malformed or hostile header tries to override it). Malformed pieces are skipped, not fatal.
 */
export function parseHeaderValue(header: string): HeaderValue {
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
 * (RFC 8187 §4.2: a recipient that understands it uses it); the plain form's raw UTF-8, which
 * Node hands over as Latin-1, is read as UTF-8 when it is valid UTF-8.
 */
export function extendedParameter(params: ReadonlyMap<string, string>, name: string): string | undefined {
  const extended = params.get(`${name}*`);
  const decoded = extended === undefined ? undefined : decodeExtendedValue(extended);
  if (decoded !== undefined && decoded !== '') return decoded;
  const plain = params.get(name);
  return plain === undefined || plain === '' ? undefined : recoverUtf8(plain);
}

/**
 * The file name a `Content-Disposition` header carries, not yet cleaned: pass it through
 * `cleanFileName` (shared/file-name.ts) before using it.
 * @returns undefined when the header is missing or names no file
 */
export function fileNameFromContentDisposition(header: string | undefined): string | undefined {
  if (header === undefined || header === '') return undefined;
  // Some servers leave out the disposition type: the header then starts with a parameter.
  const withType = /^[^;=]*=/.test(header) ? `attachment;${header}` : header;
  return extendedParameter(parseHeaderValue(withType).params, 'filename');
}

/**
 * Decodes `UTF-8''%E2%82%AC%20rates.txt`: the bytes must be valid in the charset (UTF-8 or
 * ISO-8859-1) and every `%` must start an escape; undefined otherwise.
 */
function decodeExtendedValue(extended: string): string | undefined {
  const match = /^([A-Za-z0-9!#$%&+^_`{}~-]+)'[^']*'(.*)$/s.exec(extended);
  if (!match) return undefined;
  const charset = (match[1] as string).toLowerCase();
  const encoding = charset === 'utf-8' ? 'utf-8' : charset === 'iso-8859-1' ? 'latin1' : undefined;
  if (encoding === undefined) return undefined;
  const bytes = percentDecodeBytes(match[2] as string);
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
 * Many servers put raw UTF-8 bytes in `filename="…"`; decoded as Latin-1 they read as mojibake
 * (`rÃ©sumÃ©.pdf`). When the bytes form valid UTF-8 that is almost certainly what was meant; a
 * genuine Latin-1 name (`r\xe9sum\xe9.pdf`) is not valid UTF-8 and stays as it is.
 */
function recoverUtf8(value: string): string {
  if (!/[\u0080-\u00ff]/.test(value) || /[^\u0000-\u00ff]/.test(value)) return value;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(value, 'latin1'));
  } catch {
    return value;
  }
}

/** Percent-encodes a value for an RFC 8187 `ext-value` (`UTF-8''…`): only attr-chars stay as they are. */
export function encodeExtendedValue(value: string): string {
  // encodeURIComponent leaves ' ( ) * unescaped, which attr-char does not allow.
  return encodeURIComponent(value).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}
