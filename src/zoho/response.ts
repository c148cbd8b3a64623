/**
 * Reading Zoho's answers: bounded body reads that always leave the connection reusable,
 * JSON that keeps 19-digit ids exact, and the credits header.
 */
import type { Dispatcher } from 'undici';

/** The most we read of any JSON answer; a list page of 200 rows is well under 1 MB. */
export const MAX_JSON_BYTES = 8 * 1024 * 1024;

/**
 * Reads a body as UTF-8, up to `limit` bytes. Past the limit the body is destroyed (the
 * connection is dropped rather than left half-read) and an error is thrown.
 * @param limit @defaultValue {@link MAX_JSON_BYTES}
 */
export async function readBodyText(
  body: Dispatcher.ResponseData['body'],
  limit: number = MAX_JSON_BYTES,
): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    const buffer = chunk as Buffer;
    total += buffer.length;
    if (total > limit) {
      body.destroy();
      throw new Error(`answer larger than ${limit} bytes`);
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * Discards whatever is left of a body so the connection goes back to the pool. Safe to call
 * on a body that was already read or destroyed.
 */
export async function discardBody(body: Dispatcher.ResponseData['body']): Promise<void> {
  try {
    await body.dump({ limit: 64 * 1024 });
  } catch {
    // dump() destroys the body when it cannot finish: the connection is closed, not leaked.
  }
}

/**
 * JSON.parse that keeps long integers exact. Zoho ids are 19 digits — beyond 2^53 — and
 * should arrive as strings, but an integer literal of 16+ digits is turned into a string
 * before parsing so that none is ever rounded.
 * @returns undefined when the text is not JSON
 */
export function parseJson(text: string): unknown {
  // Outside string literals only: each match is either a whole string literal (kept) or a
  // bare long integer after `:`, `[` or `,` (quoted).
  const safe = text.replace(
    /"(?:[^"\\]|\\.)*"|([:[,]\s*)(-?\d{16,})(?=\s*[,\]}])/g,
    (match, prefix: string | undefined, digits: string | undefined) =>
      digits === undefined ? match : `${prefix}"${digits}"`,
  );
  try {
    return JSON.parse(safe);
  } catch {
    return undefined;
  }
}

/** `X-API-CREDITS-REMAINING` as a number, when Zoho sent it. */
export function creditsRemaining(headers: Dispatcher.ResponseData['headers']): number | undefined {
  const raw = headers['x-api-credits-remaining'];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined || !/^\s*\d+\s*$/.test(value)) return undefined;
  return Number(value);
}
