import { Readable } from 'node:stream';
import { Response } from 'undici';
import { describe, expect, it } from 'vitest';
import { ZohoError } from '../../src/zoho/errors.js';
import { MultipartBody } from '../../src/zoho/multipart.js';

async function collect(body: MultipartBody): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body.chunks()) chunks.push(chunk);
  return Buffer.concat(chunks);
}

function bytes(size: number, chunkSize = 1000): Readable {
  let left = size;
  return new Readable({
    read() {
      if (left === 0) return this.push(null);
      const n = Math.min(chunkSize, left);
      left -= n;
      this.push(Buffer.alloc(n, 0x61));
    },
  });
}

describe('MultipartBody', () => {
  it('frames fields and a file exactly, with a Content-Length that matches', async () => {
    const body = new MultipartBody(
      {
        fields: [{ name: 'title', value: 'Quarterly "report"' }],
        file: { name: 'file', fileName: 'é.txt', size: 5, stream: Readable.from([Buffer.from('hello')]) },
      },
      'BOUNDARY',
    );
    const sent = await collect(body);
    expect(sent.toString('utf8')).toBe(
      '--BOUNDARY\r\nContent-Disposition: form-data; name="title"\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nQuarterly "report"\r\n' +
        `--BOUNDARY\r\nContent-Disposition: form-data; name="file"; filename="é.txt"; filename*=UTF-8''%C3%A9.txt\r\n` +
        'Content-Type: application/octet-stream\r\n\r\nhello\r\n--BOUNDARY--\r\n',
    );
    expect(body.contentLength).toBe(sent.length);
    expect(body.contentType).toBe('multipart/form-data; boundary=BOUNDARY');
  });

  it('is read back correctly by an independent parser (undici 7 FormData, which reads filename*)', async () => {
    const body = new MultipartBody({
      fields: [{ name: 'title', value: 'line\r\n--not-a-boundary' }],
      file: { name: 'file', fileName: 'evil"\r\nX-Injected: 1.txt', size: 3000, stream: bytes(3000) },
    });
    const sent = await collect(body);
    expect(sent.length).toBe(body.contentLength);
    const form = await new Response(sent, { headers: { 'content-type': body.contentType } }).formData();
    expect(form.get('title')).toBe('line\r\n--not-a-boundary');
    const file = form.get('file') as File;
    expect(file.size).toBe(3000);
    // The CR/LF never reached the header and the quote became an apostrophe: the name stays one parameter.
    expect(file.name).toBe("evil'__X-Injected: 1.txt");
    expect([...form.keys()]).toEqual(['title', 'file']);
  });

  it('frames text fields alone (a link upload)', async () => {
    const body = new MultipartBody({ fields: [{ name: 'attachmentUrl', value: 'https://example.com/a?b=c' }] });
    const sent = await collect(body);
    expect(sent.length).toBe(body.contentLength);
    const form = await new Response(sent, { headers: { 'content-type': body.contentType } }).formData();
    expect(form.get('attachmentUrl')).toBe('https://example.com/a?b=c');
  });

  it('fails with BODY_SIZE_MISMATCH before the trailer when the file is shorter than its size', async () => {
    const body = new MultipartBody({ file: { name: 'file', fileName: 'a.bin', size: 5000, stream: bytes(4000) } }, 'B');
    const seen: Buffer[] = [];
    const error = await (async () => {
      for await (const chunk of body.chunks()) seen.push(chunk);
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ZohoError);
    expect(error).toMatchObject({ code: 'BODY_SIZE_MISMATCH', classification: 'transient', ambiguous: false });
    expect(Buffer.concat(seen).toString()).not.toContain('--B--');
  });

  it('fails before sending a single byte past the size when the file grew', async () => {
    const stream = bytes(10_000);
    const body = new MultipartBody({ file: { name: 'file', fileName: 'a.bin', size: 4500, stream } }, 'B');
    const seen: Buffer[] = [];
    const error = await (async () => {
      for await (const chunk of body.chunks()) seen.push(chunk);
    })().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'BODY_SIZE_MISMATCH', classification: 'transient' });
    const head = seen[0]?.length ?? 0;
    expect(Buffer.concat(seen).length - head).toBeLessThanOrEqual(4500);
    // The source is released, not left open.
    expect(stream.destroyed).toBe(true);
  });

  it('can be sent only once', async () => {
    const body = new MultipartBody({ fields: [{ name: 'a', value: 'b' }] });
    await collect(body);
    await expect(collect(body)).rejects.toThrow(/only once/);
  });
});
