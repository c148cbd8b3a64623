/**
 * The fake's streaming multipart parser: fed in every possible split of a body, with
 * boundary look-alikes inside a file, and over HTTP one byte per chunk.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeZoho, type FakeZoho } from '../../src/fake-zoho/index.js';
import { MultipartError, multipartBoundary, parseMultipart, type PartInfo } from '../../src/fake-zoho/multipart.js';
import { attachmentsUrl, auth, multipart, send, BOUNDARY } from '../helpers/fake-zoho-requests.js';

interface ParsedPart extends PartInfo {
  content: string;
}

/** Parses `chunks` as one body and collects every part. */
async function parse(chunks: Buffer[], boundary = BOUNDARY): Promise<ParsedPart[]> {
  const parts: ParsedPart[] = [];
  await parseMultipart(Readable.from(chunks), boundary, (info) => {
    const received: Buffer[] = [];
    return {
      write: (chunk) => {
        received.push(Buffer.from(chunk));
      },
      end: () => {
        parts.push({ ...info, content: Buffer.concat(received).toString('latin1') });
      },
    };
  });
  return parts;
}

// The file holds a line that starts like the boundary, and a CR LF "--" right before the real one.
const TRICKY_FILE = `line one\r\n--${BOUNDARY.slice(0, -1)}X not a boundary\r\n--\r\n-`;
const { body: SAMPLE } = multipart([
  { name: 'title', content: 'Quarterly report' },
  { name: 'file', fileName: 'q.txt', contentType: 'text/plain', content: TRICKY_FILE },
  { name: 'attachmentUrl', content: '' },
]);
const EXPECTED: ParsedPart[] = [
  { name: 'title', fileName: undefined, contentType: undefined, content: 'Quarterly report' },
  { name: 'file', fileName: 'q.txt', contentType: 'text/plain', content: TRICKY_FILE },
  { name: 'attachmentUrl', fileName: undefined, contentType: undefined, content: '' },
];

describe('parseMultipart', () => {
  it('parses a body in one chunk', async () => {
    expect(await parse([SAMPLE])).toEqual(EXPECTED);
  });

  it('parses a body split in two at every position', async () => {
    for (let at = 0; at <= SAMPLE.length; at += 1) {
      const parts = await parse([SAMPLE.subarray(0, at), SAMPLE.subarray(at)]);
      expect(parts, `split at ${at}`).toEqual(EXPECTED);
    }
  });

  it('parses a body fed one byte at a time', async () => {
    const bytes = [...SAMPLE].map((byte) => Buffer.from([byte]));
    expect(await parse(bytes)).toEqual(EXPECTED);
  });

  it('skips a preamble and an epilogue, and allows blanks after a boundary', async () => {
    const body = Buffer.from(
      `This is the preamble.\r\n--${BOUNDARY}  \t\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n` +
        `--${BOUNDARY}--\r\nThis is the epilogue.`,
    );
    expect(await parse([body])).toEqual([{ name: 'a', fileName: undefined, contentType: undefined, content: '1' }]);
  });

  it('takes a part without headers', async () => {
    const body = Buffer.from(`--${BOUNDARY}\r\n\r\nbare\r\n--${BOUNDARY}--`);
    expect(await parse([body])).toEqual([
      { name: undefined, fileName: undefined, contentType: undefined, content: 'bare' },
    ]);
  });

  it('reads quoted names with semicolons and escapes, and prefers filename*', async () => {
    const body = Buffer.from(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a;b \\"c\\".txt"\r\n\r\nx\r\n` +
        `--${BOUNDARY}\r\ncontent-disposition: form-data; name=file; filename=plain.txt; ` +
        `filename*=utf-8'en'%C3%A9t%C3%A9.txt\r\n\r\ny\r\n` +
        `--${BOUNDARY}--\r\n`,
    );
    const parts = await parse([body]);
    expect(parts.map((part) => part.fileName)).toEqual(['a;b "c".txt', 'été.txt']);
  });

  it('falls back to filename when filename* does not decode', async () => {
    const body = Buffer.from(
      `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="ok.txt"; filename*=UTF-8''%E2%82\r\n` +
        `\r\nx\r\n--${BOUNDARY}--`,
    );
    expect((await parse([body]))[0]!.fileName).toBe('ok.txt');
  });

  it('fails on a body that ends before its closing boundary', async () => {
    const truncated = SAMPLE.subarray(0, SAMPLE.length - 10);
    await expect(parse([truncated])).rejects.toBeInstanceOf(MultipartError);
    await expect(parse([Buffer.alloc(0)])).rejects.toBeInstanceOf(MultipartError);
  });

  it('fails on an endless part header block', async () => {
    const body = Buffer.from(`--${BOUNDARY}\r\nX-Long: ${'a'.repeat(20_000)}`);
    await expect(parse([body])).rejects.toThrow(/header block is too large/);
  });

  it('stops when a sink throws, leaving the stream undestroyed', async () => {
    const stream = Readable.from([SAMPLE]);
    const failure = new Error('stop');
    await expect(
      parseMultipart(stream, BOUNDARY, () => {
        throw failure;
      }),
    ).rejects.toBe(failure);
    expect(stream.destroyed).toBe(false);
  });
});

describe('multipartBoundary', () => {
  it('reads a plain or quoted boundary and ignores other types', () => {
    expect(multipartBoundary('multipart/form-data; boundary=abc')).toBe('abc');
    expect(multipartBoundary('Multipart/Form-Data; charset=utf-8; boundary="a b:c"')).toBe('a b:c');
    expect(multipartBoundary('application/json')).toBeUndefined();
    expect(multipartBoundary(undefined)).toBeUndefined();
  });

  it('refuses a missing or over-long boundary', () => {
    expect(() => multipartBoundary('multipart/form-data')).toThrow(MultipartError);
    expect(() => multipartBoundary(`multipart/form-data; boundary=${'b'.repeat(71)}`)).toThrow(MultipartError);
  });
});

describe('over HTTP', () => {
  let fake: FakeZoho;
  beforeAll(async () => {
    fake = await startFakeZoho();
  });
  afterAll(async () => {
    await fake.close();
  });

  it('stores the exact bytes of a file sent one byte per chunk', async () => {
    const token = fake.issueAccessToken();
    const { body, contentType } = multipart([{ name: 'file', fileName: 'q.txt', content: TRICKY_FILE }]);
    const reply = await send(attachmentsUrl(fake), {
      method: 'POST',
      headers: { ...auth(token), 'content-type': contentType },
      body: Readable.from([...body].map((byte) => Buffer.from([byte]))),
    });
    expect(reply.status).toBe(200);

    const id = reply.json.data[0].details.id;
    const download = await send(attachmentsUrl(fake, {}, `/${id}`), { headers: auth(token) });
    expect(download.text).toBe(TRICKY_FILE);
    expect(fake.inspect().attachments[0]!.sha256).toBe(createHash('sha256').update(TRICKY_FILE).digest('hex'));
  });

  it('answers 400 INVALID_DATA for a multipart Content-Type without a boundary', async () => {
    const reply = await send(attachmentsUrl(fake), {
      method: 'POST',
      headers: { ...auth(fake.issueAccessToken()), 'content-type': 'multipart/form-data' },
      body: 'whatever',
    });
    expect(reply.status).toBe(400);
    expect(reply.json.code).toBe('INVALID_DATA');
  });
});
