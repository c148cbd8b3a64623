/**
 * Baseline for large files: the bytes of each file (read from disk, or downloaded from a URL)
 * streamed straight into a multipart POST with undici, `concurrency` at a time. No hashing,
 * no size checks, no ledger: the ceiling of moving bytes from a source into the fake.
 * Spec: { zoho, uploads, concurrency }.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { createLimit } from './limit.js';
import { countStatus, measure, readSpec, type BaselineUpload, type BaselineZoho } from './spec.js';

const spec = readSpec<{ zoho: BaselineZoho; uploads: BaselineUpload[]; concurrency: number }>();
const limit = createLimit(spec.concurrency);

async function openContent(upload: BaselineUpload): Promise<Readable> {
  if (upload.path) return createReadStream(upload.path);
  const response = await request(upload.url as string);
  if (response.statusCode !== 200) throw new Error(`GET ${upload.url}: HTTP ${response.statusCode}`);
  return response.body;
}

async function copy(upload: BaselineUpload): Promise<number> {
  const content = await openContent(upload);
  const boundary = `----bench-${randomBytes(12).toString('hex')}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${upload.fileName}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  async function* body(): AsyncGenerator<Buffer> {
    yield head;
    for await (const chunk of content) yield chunk as Buffer;
    yield tail;
  }
  const response = await request(`${spec.zoho.apiDomain}/crm/v2.1/${upload.module}/${upload.recordId}/Attachments`, {
    method: 'POST',
    headers: {
      'content-type': `multipart/form-data; boundary=${boundary}`,
      'content-length': String(head.length + upload.size + tail.length),
      authorization: `Zoho-oauthtoken ${spec.zoho.accessToken}`,
    },
    body: Readable.from(body(), { objectMode: false }),
  });
  await response.body.text();
  return response.statusCode;
}

await measure(async () => {
  const statuses: Record<string, number> = {};
  let bytes = 0;
  await Promise.all(
    spec.uploads.map((upload) =>
      limit(async () => {
        try {
          const status = await copy(upload);
          countStatus(statuses, status);
          if (status === 200) bytes += upload.size;
        } catch {
          countStatus(statuses, 'error');
        }
      }),
    ),
  );
  return { uploads: spec.uploads.length, statuses, bytes };
});
