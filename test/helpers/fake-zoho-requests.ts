/**
 * Plain HTTP helpers for the fake Zoho's own tests: real requests over loopback with
 * undici, multipart bodies built by hand, nothing mocked.
 */
import { Readable } from 'node:stream';
import { request } from 'undici';
import { FAKE_CREDENTIALS, type FakeZoho } from '../../src/fake-zoho/index.js';

/** A whole answer, read. */
export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  /** The parsed body when it was JSON, else undefined (`any`: each test asserts the shape it expects). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above
  json: any;
}

/** What {@link send} sends. */
export interface SendInit {
  method?: 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';
  headers?: Record<string, string>;
  body?: string | Buffer | Readable;
  signal?: AbortSignal;
}

/** Sends one request and reads the whole answer. */
export async function send(url: string, init: SendInit = {}): Promise<Reply> {
  const response = await request(url, {
    method: init.method ?? 'GET',
    headers: init.headers,
    body: init.body,
    signal: init.signal,
  });
  const text = await response.body.text();
  const isJson = String(response.headers['content-type'] ?? '').startsWith('application/json');
  return { status: response.statusCode, headers: response.headers, text, json: isJson ? JSON.parse(text) : undefined };
}

/** `Authorization: Zoho-oauthtoken <token>`. */
export function auth(token: string): Record<string, string> {
  return { authorization: `Zoho-oauthtoken ${token}` };
}

/** The URL of a record's Attachments (plus `suffix`, e.g. `/123` or `?page=2`). */
export function attachmentsUrl(
  fake: FakeZoho,
  place: { module?: string; recordId?: string; version?: string } = {},
  suffix = '',
): string {
  const { module = 'Leads', recordId = '1000000231009', version = 'v2.1' } = place;
  return `${fake.url}/crm/${version}/${module}/${recordId}/Attachments${suffix}`;
}

/** Refreshes through the token endpoint (parameters in the query) and returns the answer. */
export async function refresh(
  fake: FakeZoho,
  credentials: { clientId: string; clientSecret: string; refreshToken: string } = FAKE_CREDENTIALS,
): Promise<Reply> {
  const query = new URLSearchParams({
    grant_type: 'refresh_token',
    client_id: credentials.clientId,
    client_secret: credentials.clientSecret,
    refresh_token: credentials.refreshToken,
  });
  return send(`${fake.url}/oauth/v2/token?${query.toString()}`, { method: 'POST' });
}

/** A fresh access token from the token endpoint. */
export async function mintToken(fake: FakeZoho): Promise<string> {
  const reply = await refresh(fake);
  if (typeof reply.json?.access_token !== 'string') throw new Error(`no token: ${reply.text}`);
  return reply.json.access_token;
}

/** One part of a hand-built multipart body. */
export interface Part {
  name: string;
  /** Written as `filename="…"`. */
  fileName?: string;
  /** Written raw after the name's parameters, e.g. `filename*=UTF-8''%E2%82%AC.txt`. */
  extraDisposition?: string;
  contentType?: string;
  content: string | Buffer;
}

/** The boundary the helpers use. */
export const BOUNDARY = '----fake-zoho-test-7MA4YWxkTrZu0gW';

/** A multipart/form-data body and its Content-Type. */
export function multipart(parts: Part[], boundary = BOUNDARY): { body: Buffer; contentType: string } {
  const pieces: Buffer[] = [];
  for (const part of parts) {
    let disposition = `form-data; name="${part.name}"`;
    if (part.fileName !== undefined) disposition += `; filename="${part.fileName}"`;
    if (part.extraDisposition) disposition += `; ${part.extraDisposition}`;
    let head = `--${boundary}\r\nContent-Disposition: ${disposition}\r\n`;
    if (part.contentType) head += `Content-Type: ${part.contentType}\r\n`;
    pieces.push(Buffer.from(`${head}\r\n`), Buffer.from(part.content), Buffer.from('\r\n'));
  }
  pieces.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(pieces), contentType: `multipart/form-data; boundary=${boundary}` };
}

/** Posts a multipart body to a record's Attachments. */
export async function postMultipart(
  fake: FakeZoho,
  token: string,
  parts: Part[],
  place: { module?: string; recordId?: string; version?: string } = {},
): Promise<Reply> {
  const { body, contentType } = multipart(parts);
  return send(attachmentsUrl(fake, place), {
    method: 'POST',
    headers: { ...auth(token), 'content-type': contentType },
    body,
  });
}

/** Uploads one file as the part `file`. */
export async function uploadFile(
  fake: FakeZoho,
  token: string,
  file: { fileName?: string; content?: string | Buffer; contentType?: string } = {},
  place: { module?: string; recordId?: string; version?: string } = {},
): Promise<Reply> {
  const { fileName = 'report.txt', content = 'hello, zoho', contentType = 'text/plain' } = file;
  return postMultipart(fake, token, [{ name: 'file', fileName, contentType, content }], place);
}

/**
 * A multipart body with one file of `fileBytes` bytes, generated as it is read from one
 * reused 64 KiB buffer: a 100 MB upload never exists in memory.
 */
export function streamedFileBody(fileBytes: number, boundary = BOUNDARY): Readable {
  const block = Buffer.alloc(64 * 1024, 0x61);
  async function* generate(): AsyncGenerator<Buffer> {
    yield Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n` +
        'Content-Type: application/octet-stream\r\n\r\n',
    );
    for (let sent = 0; sent < fileBytes; sent += block.length) {
      yield block.subarray(0, Math.min(block.length, fileBytes - sent));
    }
    yield Buffer.from(`\r\n--${boundary}--\r\n`);
  }
  return Readable.from(generate());
}

/** Polls `condition` every 5 ms until it holds, failing after `timeoutMs`. */
export async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
