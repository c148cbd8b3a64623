/**
 * The fake Zoho's Attachments API over real HTTP on loopback: uploads (file, link as form
 * fields or query), every error the contract's table lists that the fake produces on its
 * own, list paging, download and delete.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { connect } from 'node:net';
import { request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeZoho, type FakeZoho } from '../../src/fake-zoho/index.js';
import {
  attachmentsUrl,
  auth,
  mintToken,
  multipart,
  postMultipart,
  send,
  streamedFileBody,
  uploadFile,
  BOUNDARY,
} from '../helpers/fake-zoho-requests.js';

const NINETEEN_DIGITS = /^\d{19}$/;
const VERSIONS = ['v2', 'v2.1', 'v3', 'v4', 'v5', 'v6', 'v7', 'v8'];

let fake: FakeZoho;
let token: string;

beforeAll(async () => {
  fake = await startFakeZoho();
  token = await mintToken(fake);
});
beforeEach(async () => {
  await fake.reset();
});
afterAll(async () => {
  await fake.close();
});

describe('upload a file', () => {
  it('answers 200 with the contract shape and a 19-digit string id, and stores size and sha256', async () => {
    const reply = await uploadFile(fake, token, { fileName: 'report.txt', content: 'hello, zoho' });

    expect(reply.status).toBe(200);
    const [entry] = reply.json.data;
    expect(entry).toMatchObject({ code: 'SUCCESS', message: 'attachment uploaded successfully', status: 'success' });
    expect(Object.keys(entry.details)).toEqual(['Modified_Time', 'Modified_By', 'Created_Time', 'id', 'Created_By']);
    expect(entry.details.id).toMatch(NINETEEN_DIGITS);
    expect(entry.details.Created_Time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$/);
    expect(entry.details.Created_By).toEqual({ name: expect.any(String), id: expect.stringMatching(NINETEEN_DIGITS) });

    expect(fake.inspect().attachments).toEqual([
      {
        id: entry.details.id,
        module: 'Leads',
        recordId: '1000000231009',
        fileName: 'report.txt',
        size: 11,
        sha256: createHash('sha256').update('hello, zoho').digest('hex'),
        type: 'Attachment',
        createdTime: entry.details.Created_Time,
      },
    ]);
    expect(fake.inspect().counters).toEqual({ '200 SUCCESS': 1 });
  });

  it.each(VERSIONS)('takes uploads on %s', async (version) => {
    const reply = await uploadFile(fake, token, {}, { version });
    expect(reply.status).toBe(200);
  });

  it('reads the RFC 5987 filename* over the plain filename, and raw UTF-8 names', async () => {
    await postMultipart(fake, token, [
      {
        name: 'file',
        fileName: 'rates.txt',
        extraDisposition: "filename*=UTF-8''%E2%82%AC%20rates%20%282024%29.txt",
        content: 'x',
      },
    ]);
    await postMultipart(fake, token, [{ name: 'file', fileName: 'Übersicht.pdf', content: 'y' }]);
    expect(fake.inspect().attachments.map((attachment) => attachment.fileName)).toEqual([
      '€ rates (2024).txt',
      'Übersicht.pdf',
    ]);
  });

  it('accepts the same file twice as two attachments (duplicates are the client’s to prevent)', async () => {
    const first = await uploadFile(fake, token);
    const second = await uploadFile(fake, token);
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(first.json.data[0].details.id).not.toBe(second.json.data[0].details.id);
    expect(fake.inspect().attachments).toHaveLength(2);
  });

  it('keeps a title sent with a file', async () => {
    await postMultipart(fake, token, [
      { name: 'file', fileName: 'a.txt', content: 'a' },
      { name: 'title', content: 'Contract scan' },
    ]);
    expect(fake.inspect().attachments[0]).toMatchObject({ fileName: 'a.txt', title: 'Contract scan' });
  });

  it('accepts any module the contract lists and custom modules', async () => {
    for (const module of ['Price_Books', 'Sales_Orders', 'Appointments', 'CustomModule3', 'Site_Visits']) {
      expect((await uploadFile(fake, token, {}, { module })).status, module).toBe(200);
    }
  });
});

describe('upload a link', () => {
  const linkUrl = 'https://www.zohocorp.com/brochure.pdf';

  it('takes attachmentUrl and title as multipart form fields', async () => {
    const reply = await postMultipart(fake, token, [
      { name: 'attachmentUrl', content: linkUrl },
      { name: 'title', content: 'Brochure' },
    ]);
    expect(reply.status).toBe(200);
    expect(fake.inspect().attachments[0]).toMatchObject({
      id: reply.json.data[0].details.id,
      type: 'Link URL',
      linkUrl,
      title: 'Brochure',
      fileName: 'Brochure',
      size: 0,
    });
  });

  it('takes them as an urlencoded body', async () => {
    const reply = await send(attachmentsUrl(fake), {
      method: 'POST',
      headers: { ...auth(token), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ attachmentUrl: linkUrl, title: 'Brochure' }).toString(),
    });
    expect(reply.status).toBe(200);
    expect(fake.inspect().attachments[0]).toMatchObject({ type: 'Link URL', linkUrl, title: 'Brochure' });
  });

  it('takes them as query parameters on a body-less POST (as Zoho’s SDK sends them)', async () => {
    const query = new URLSearchParams({ attachmentUrl: linkUrl });
    const reply = await send(attachmentsUrl(fake, {}, `?${query.toString()}`), {
      method: 'POST',
      headers: auth(token),
    });
    expect(reply.status).toBe(200);
    expect(fake.inspect().attachments[0]).toMatchObject({ type: 'Link URL', linkUrl, fileName: linkUrl });
  });

  it('refuses the same link twice on one record with 400 DUPLICATE_DATA naming the existing id', async () => {
    const query = `?${new URLSearchParams({ attachmentUrl: linkUrl }).toString()}`;
    const first = await send(attachmentsUrl(fake, {}, query), { method: 'POST', headers: auth(token) });
    const second = await send(attachmentsUrl(fake, {}, query), { method: 'POST', headers: auth(token) });
    const otherRecord = await send(attachmentsUrl(fake, { recordId: '42' }, query), {
      method: 'POST',
      headers: auth(token),
    });

    expect(second.status).toBe(400);
    expect(second.json).toEqual({
      code: 'DUPLICATE_DATA',
      details: { api_name: 'attachmentUrl', id: first.json.data[0].details.id },
      message: 'Attachment link already exists',
      status: 'error',
    });
    expect(otherRecord.status).toBe(200);
  });

  it('refuses a file and a link together with 400 INVALID_DATA', async () => {
    const reply = await postMultipart(fake, token, [
      { name: 'file', fileName: 'a.txt', content: 'a' },
      { name: 'attachmentUrl', content: linkUrl },
    ]);
    expect(reply.status).toBe(400);
    expect(reply.json).toMatchObject({ code: 'INVALID_DATA', status: 'error' });
    expect(fake.inspect().attachments).toEqual([]);
  });

  it('refuses a file with a link in the query too', async () => {
    const { body, contentType } = multipart([{ name: 'file', fileName: 'a.txt', content: 'a' }]);
    const reply = await send(attachmentsUrl(fake, {}, `?attachmentUrl=${encodeURIComponent(linkUrl)}`), {
      method: 'POST',
      headers: { ...auth(token), 'content-type': contentType },
      body,
    });
    expect(reply.status).toBe(400);
    expect(reply.json.code).toBe('INVALID_DATA');
    expect(fake.inspect().attachments).toEqual([]);
  });

  it('refuses a link longer than 3000 characters, a non-web link, and a title outside 1-255', async () => {
    const post = (params: Record<string, string>) =>
      send(attachmentsUrl(fake, {}, `?${new URLSearchParams(params).toString()}`), {
        method: 'POST',
        headers: auth(token),
      });

    const tooLong = await post({ attachmentUrl: `https://example.com/${'a'.repeat(2981)}` });
    const longest = await post({ attachmentUrl: `https://example.com/${'a'.repeat(2980)}` });
    const notWeb = await post({ attachmentUrl: 'javascript:alert(1)' });
    const longTitle = await post({ attachmentUrl: 'https://example.com/t', title: 't'.repeat(256) });
    const emptyTitle = await post({ attachmentUrl: 'https://example.com/e', title: '' });

    expect(longest.status).toBe(200);
    for (const [reply, field] of [
      [tooLong, 'attachmentUrl'],
      [notWeb, 'attachmentUrl'],
      [longTitle, 'title'],
      [emptyTitle, 'title'],
    ] as const) {
      expect(reply.status).toBe(400);
      expect(reply.json).toMatchObject({ code: 'INVALID_DATA', details: { api_name: field } });
    }
  });
});

describe('upload errors', () => {
  it('answers 413 FILE_SIZE_MORE_THAN_ALLOWED_SIZE while streaming a >100 MB chunked upload', async () => {
    const reply = await send(attachmentsUrl(fake), {
      method: 'POST',
      headers: { ...auth(token), 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
      body: streamedFileBody(104_857_600 + 1),
    });
    expect(reply.status).toBe(413);
    expect(reply.json).toEqual({
      code: 'FILE_SIZE_MORE_THAN_ALLOWED_SIZE',
      details: {},
      message: 'Please check if the size of the file is in the correct range',
      status: 'error',
    });
    expect(fake.inspect().attachments).toEqual([]);
    expect(await readdir(fake.contentDir!)).toEqual([]);
  });

  it('answers 413 from a Content-Length over the limit before any of the body is sent', async () => {
    const socket = connect(fake.port, '127.0.0.1');
    socket.write(
      'POST /crm/v2.1/Leads/1000000231009/Attachments HTTP/1.1\r\nHost: fake\r\n' +
        `Authorization: Zoho-oauthtoken ${token}\r\n` +
        `Content-Type: multipart/form-data; boundary=${BOUNDARY}\r\nContent-Length: 200000000\r\n\r\n`,
    );
    const answer = await new Promise<string>((resolve, reject) => {
      let received = '';
      socket.on('data', (chunk) => {
        received += chunk.toString('latin1');
        if (received.includes('"status":"error"}')) resolve(received);
      });
      socket.on('error', reject);
    });
    socket.destroy();
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).toContain('FILE_SIZE_MORE_THAN_ALLOWED_SIZE');
  });

  it('takes a file of exactly maxUploadBytes and refuses one byte more', async () => {
    const small = await startFakeZoho({ maxUploadBytes: 1000 });
    try {
      const smallToken = await mintToken(small);
      const atLimit = await uploadFile(small, smallToken, { content: Buffer.alloc(1000) });
      const overLimit = await uploadFile(small, smallToken, { content: Buffer.alloc(1001) });
      expect(atLimit.status).toBe(200);
      expect(overLimit.status).toBe(413);
      expect(small.inspect().attachments.map((attachment) => attachment.size)).toEqual([1000]);
    } finally {
      await small.close();
    }
  });

  it('drops the rest of a body refused mid-stream, so the client finishes sending and reuses the socket', async () => {
    const small = await startFakeZoho({ maxUploadBytes: 1000, storeContent: false });
    const socket = connect(small.port, '127.0.0.1');
    try {
      let received = '';
      socket.on('data', (chunk) => (received += chunk.toString('latin1')));
      const write = async (data: string | Buffer) => {
        if (!socket.write(data)) await once(socket, 'drain');
      };
      /** A raw HTTP/1.1 exchange: a 16 MB chunked upload, refused after 1000 bytes, then a list on the same socket. */
      const exchange = async () => {
        await write(
          'POST /crm/v2.1/Leads/1/Attachments HTTP/1.1\r\nHost: fake\r\nTransfer-Encoding: chunked\r\n' +
            `Authorization: Zoho-oauthtoken ${small.issueAccessToken()}\r\n` +
            `Content-Type: multipart/form-data; boundary=${BOUNDARY}\r\n\r\n`,
        );
        for await (const piece of streamedFileBody(16 * 1024 * 1024)) {
          await write(`${(piece as Buffer).length.toString(16)}\r\n`);
          await write(piece as Buffer);
          await write('\r\n');
        }
        await write('0\r\n\r\n');
        await write(
          'GET /crm/v2.1/Leads/1/Attachments HTTP/1.1\r\nHost: fake\r\nConnection: close\r\n' +
            `Authorization: Zoho-oauthtoken ${small.issueAccessToken()}\r\n\r\n`,
        );
        await once(socket, 'end');
      };
      // 16 MB is more than loopback socket buffers hold: unless the fake reads it all, sending stalls.
      const stalled = new Promise((_, reject) => setTimeout(() => reject(new Error('sending stalled')), 5000).unref());
      await Promise.race([exchange(), stalled]);

      expect(received.match(/HTTP\/1\.1 \d{3}/g)).toEqual(['HTTP/1.1 413', 'HTTP/1.1 204']);
    } finally {
      socket.destroy();
      await small.close();
    }
  });

  it('refuses .exe files with 400 INVALID_DATA naming the file type', async () => {
    const reply = await uploadFile(fake, token, { fileName: 'setup.EXE', content: 'MZ' });
    expect(reply.status).toBe(400);
    expect(reply.json).toMatchObject({ code: 'INVALID_DATA', details: { api_name: 'file' } });
    expect(reply.json.message).toContain('.exe');
    expect(fake.inspect().attachments).toEqual([]);
  });

  it('refuses a file name longer than 250 characters and takes one of 250', async () => {
    const longest = await uploadFile(fake, token, { fileName: `${'n'.repeat(246)}.txt` });
    const tooLong = await uploadFile(fake, token, { fileName: `${'n'.repeat(247)}.txt` });
    expect(longest.status).toBe(200);
    expect(tooLong.status).toBe(400);
    expect(tooLong.json).toMatchObject({ code: 'INVALID_DATA', details: { api_name: 'file' } });
  });

  it('refuses two files in one request', async () => {
    const reply = await postMultipart(fake, token, [
      { name: 'file', fileName: 'a.txt', content: 'a' },
      { name: 'file', fileName: 'b.txt', content: 'b' },
    ]);
    expect(reply.status).toBe(400);
    expect(reply.json.code).toBe('INVALID_DATA');
    expect(fake.inspect().attachments).toEqual([]);
  });

  it('answers 400 INVALID_MODULE with resource_path_index 0 for unknown and unsupported modules', async () => {
    const unknown = await uploadFile(fake, token, {}, { module: 'Leadz' });
    const unsupported = await uploadFile(fake, token, {}, { module: 'Documents' });
    expect(unknown.status).toBe(400);
    expect(unknown.json).toEqual({
      code: 'INVALID_MODULE',
      details: { resource_path_index: 0 },
      message: 'the module name given seems to be invalid',
      status: 'error',
    });
    expect(unsupported.json).toMatchObject({
      code: 'INVALID_MODULE',
      details: { resource_path_index: 0 },
      message: 'The given module is not supported in API',
    });
  });

  it.each(['abc', '12345678901234567890', '-1'])(
    'answers 400 INVALID_DATA with resource_path_index 1 for the record id %s',
    async (recordId) => {
      const reply = await uploadFile(fake, token, {}, { recordId });
      expect(reply.status).toBe(400);
      expect(reply.json).toEqual({
        code: 'INVALID_DATA',
        details: { resource_path_index: 1 },
        message: 'the related id given seems to be invalid',
        status: 'error',
      });
    },
  );

  it('answers 400 MANDATORY_NOT_FOUND without a file or a link', async () => {
    const bodyless = await send(attachmentsUrl(fake), { method: 'POST', headers: auth(token) });
    const titleOnly = await postMultipart(fake, token, [{ name: 'title', content: 'just a title' }]);
    const misnamedPart = await postMultipart(fake, token, [{ name: 'attachment', fileName: 'a.txt', content: 'a' }]);
    const json = await send(attachmentsUrl(fake), {
      method: 'POST',
      headers: { ...auth(token), 'content-type': 'application/json' },
      body: JSON.stringify({ attachmentUrl: 'https://example.com' }),
    });
    for (const reply of [bodyless, titleOnly, misnamedPart, json]) {
      expect(reply.status).toBe(400);
      expect(reply.json).toEqual({
        code: 'MANDATORY_NOT_FOUND',
        details: { api_name: 'file' },
        message: 'required field not found',
        status: 'error',
      });
    }
  });

  it('answers 400 INVALID_DATA for a malformed multipart body', async () => {
    const reply = await send(attachmentsUrl(fake), {
      method: 'POST',
      headers: { ...auth(token), 'content-type': `multipart/form-data; boundary=${BOUNDARY}` },
      body: `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nno closing boundary`,
    });
    expect(reply.status).toBe(400);
    expect(reply.json.code).toBe('INVALID_DATA');
    expect(reply.json.message).toContain('malformed multipart body');
    expect(await readdir(fake.contentDir!)).toEqual([]);
  });

  it('answers 400 INVALID_REQUEST_METHOD for a method the path does not take', async () => {
    const put = await send(attachmentsUrl(fake), { method: 'PUT', headers: auth(token) });
    const postOnItem = await send(attachmentsUrl(fake, {}, '/4150868000005000001'), {
      method: 'POST',
      headers: auth(token),
    });
    for (const reply of [put, postOnItem]) {
      expect(reply.status).toBe(400);
      expect(reply.json).toEqual({
        code: 'INVALID_REQUEST_METHOD',
        details: {},
        message: 'The http request method type is not a valid one',
        status: 'error',
      });
    }
  });

  it.each([
    '/crm/v2.1/Leads/1/Attachment',
    '/crm/v9/Leads/1/Attachments',
    '/crm/v2.1/Leads/Attachments',
    '/crm/v2.1/Leads/1/Attachments/2/extra',
    '/somewhere/else',
  ])('answers 404 INVALID_URL_PATTERN for %s', async (path) => {
    const reply = await send(`${fake.url}${path}`, { method: 'POST', headers: auth(token) });
    expect(reply.status).toBe(404);
    expect(reply.json).toEqual({
      code: 'INVALID_URL_PATTERN',
      details: {},
      message: 'Please check if the URL trying to access is a correct one',
      status: 'error',
    });
  });

  it('counts every answer under `${status} ${code}`', async () => {
    await uploadFile(fake, token);
    await uploadFile(fake, token, { fileName: 'x.exe' });
    await uploadFile(fake, token, { fileName: 'y.exe' });
    await send(`${fake.url}/nowhere`);
    expect(fake.inspect().counters).toEqual({
      '200 SUCCESS': 1,
      '400 INVALID_DATA': 2,
      '404 INVALID_URL_PATTERN': 1,
    });
    expect(fake.inspect().calls).toEqual({ upload: 3, list: 0, download: 0, delete: 0 });
  });
});

describe('list', () => {
  async function uploadMany(count: number, place = {}): Promise<string[]> {
    const ids: string[] = [];
    for (let index = 0; index < count; index += 1) {
      const reply = await uploadFile(fake, token, { fileName: `file-${index}.txt`, content: 'x'.repeat(index) }, place);
      ids.push(reply.json.data[0].details.id);
    }
    return ids;
  }

  it('pages with page and per_page; rows carry Size as a string; info says when more remain', async () => {
    const ids = await uploadMany(5);
    const pages = [];
    for (const page of [1, 2, 3]) {
      pages.push(await send(attachmentsUrl(fake, {}, `?page=${page}&per_page=2`), { headers: auth(token) }));
    }
    expect(pages.map((page) => page.json.info)).toEqual([
      { page: 1, per_page: 2, count: 2, more_records: true },
      { page: 2, per_page: 2, count: 2, more_records: true },
      { page: 3, per_page: 2, count: 1, more_records: false },
    ]);
    expect(pages.flatMap((page) => page.json.data.map((row: { id: string }) => row.id))).toEqual(ids);
    expect(pages[0]!.json.data[1]).toEqual({
      id: ids[1],
      File_Name: 'file-1.txt',
      Size: '1',
      Created_Time: expect.any(String),
      $link_url: null,
      $type: 'Attachment',
    });
  });

  it('answers 204 with no body for a record without attachments, and past the last page', async () => {
    const empty = await send(attachmentsUrl(fake, { recordId: '777' }), { headers: auth(token) });
    await uploadMany(1);
    const pastEnd = await send(attachmentsUrl(fake, {}, '?page=2&per_page=1'), { headers: auth(token) });
    for (const reply of [empty, pastEnd]) {
      expect(reply.status).toBe(204);
      expect(reply.text).toBe('');
    }
    expect(fake.inspect().counters['204 NO_CONTENT']).toBe(2);
  });

  it('answers 200 with data: [] when emptyListStyle is empty200', async () => {
    const other = await startFakeZoho({ emptyListStyle: 'empty200', storeContent: false });
    try {
      const reply = await send(attachmentsUrl(other), { headers: auth(await mintToken(other)) });
      expect(reply.status).toBe(200);
      expect(reply.json).toEqual({ data: [], info: { page: 1, per_page: 200, count: 0, more_records: false } });
    } finally {
      await other.close();
    }
  });

  it('needs fields from v3 on (400 REQUIRED_PARAM_MISSING) and returns only the fields asked for', async () => {
    await uploadMany(1);
    const withoutFields = await send(attachmentsUrl(fake, { version: 'v3' }), { headers: auth(token) });
    const withFields = await send(attachmentsUrl(fake, { version: 'v8' }, '?fields=File_Name,Size'), {
      headers: auth(token),
    });
    const v2 = await send(attachmentsUrl(fake, { version: 'v2' }), { headers: auth(token) });

    expect(withoutFields.status).toBe(400);
    expect(withoutFields.json).toMatchObject({ code: 'REQUIRED_PARAM_MISSING', details: { param_name: 'fields' } });
    expect(withFields.json.data).toEqual([{ id: expect.any(String), File_Name: 'file-0.txt', Size: '0' }]);
    expect(v2.status).toBe(200);
  });

  it('shows links with their $link_url and $type', async () => {
    const query = `?${new URLSearchParams({ attachmentUrl: 'https://example.com/a', title: 'A' }).toString()}`;
    await send(attachmentsUrl(fake, {}, query), { method: 'POST', headers: auth(token) });
    const reply = await send(attachmentsUrl(fake), { headers: auth(token) });
    expect(reply.json.data[0]).toMatchObject({ File_Name: 'A', $link_url: 'https://example.com/a', $type: 'Link URL' });
  });

  it.each(['per_page=201', 'per_page=0', 'page=0', 'page=x'])('refuses %s with 400 INVALID_DATA', async (query) => {
    const reply = await send(attachmentsUrl(fake, {}, `?${query}`), { headers: auth(token) });
    expect(reply.status).toBe(400);
    expect(reply.json.code).toBe('INVALID_DATA');
  });
});

describe('download', () => {
  it('returns the bytes with an RFC 5987 Content-Disposition', async () => {
    const content = Buffer.from([0, 1, 2, 250, 251, 252]);
    const upload = await uploadFile(fake, token, {
      fileName: '€ data (1).bin',
      content,
      contentType: 'application/x-demo',
    });
    const id = upload.json.data[0].details.id;

    const response = await request(attachmentsUrl(fake, {}, `/${id}`), { headers: auth(token) });
    const bytes = Buffer.from(await response.body.arrayBuffer());

    expect(response.statusCode).toBe(200);
    expect(bytes.equals(content)).toBe(true);
    expect(response.headers['content-type']).toBe('application/x-demo');
    expect(response.headers['content-disposition']).toBe(
      `attachment; filename="_ data (1).bin"; filename*=UTF-8''%E2%82%AC%20data%20%281%29.bin`,
    );
  });

  it('answers 400 INVALID_DATA with resource_path_index 3 for an id the record does not have', async () => {
    const upload = await uploadFile(fake, token);
    const id = upload.json.data[0].details.id;
    const unknown = await send(attachmentsUrl(fake, {}, '/4150868000999999999'), { headers: auth(token) });
    const otherRecord = await send(attachmentsUrl(fake, { recordId: '5' }, `/${id}`), { headers: auth(token) });
    for (const reply of [unknown, otherRecord]) {
      expect(reply.status).toBe(400);
      expect(reply.json).toMatchObject({ code: 'INVALID_DATA', details: { resource_path_index: 3 } });
    }
  });

  it('answers 400 NOT_SUPPORTED when the fake keeps no content', async () => {
    const other = await startFakeZoho({ storeContent: false });
    try {
      const otherToken = await mintToken(other);
      const upload = await uploadFile(other, otherToken);
      const reply = await send(attachmentsUrl(other, {}, `/${upload.json.data[0].details.id}`), {
        headers: auth(otherToken),
      });
      expect(other.contentDir).toBeUndefined();
      expect(other.inspect().attachments[0]!.size).toBe(11);
      expect(reply.status).toBe(400);
      expect(reply.json.code).toBe('NOT_SUPPORTED');
    } finally {
      await other.close();
    }
  });
});

describe('delete', () => {
  it('deletes one attachment and its stored bytes', async () => {
    const upload = await uploadFile(fake, token);
    const id = upload.json.data[0].details.id;
    expect(await readdir(fake.contentDir!)).toHaveLength(1);

    const reply = await send(attachmentsUrl(fake, {}, `/${id}`), { method: 'DELETE', headers: auth(token) });
    const again = await send(attachmentsUrl(fake, {}, `/${id}`), { method: 'DELETE', headers: auth(token) });

    expect(reply.status).toBe(200);
    expect(reply.json).toEqual({
      data: [{ code: 'SUCCESS', details: { id }, message: 'record deleted', status: 'success' }],
    });
    expect(again.status).toBe(400);
    expect(again.json).toMatchObject({ code: 'INVALID_DATA', details: { resource_path_index: 3 } });
    expect(fake.inspect().attachments).toEqual([]);
    expect(await readdir(fake.contentDir!)).toEqual([]);
  });

  it('deletes several with ?ids=, with an error entry for an id the record does not have', async () => {
    const ids = [];
    for (const name of ['a.txt', 'b.txt', 'c.txt']) {
      ids.push((await uploadFile(fake, token, { fileName: name })).json.data[0].details.id);
    }
    const reply = await send(attachmentsUrl(fake, {}, `?ids=${ids[0]},${ids[2]},123`), {
      method: 'DELETE',
      headers: auth(token),
    });
    expect(reply.status).toBe(200);
    expect(reply.json.data).toEqual([
      { code: 'SUCCESS', details: { id: ids[0] }, message: 'record deleted', status: 'success' },
      { code: 'SUCCESS', details: { id: ids[2] }, message: 'record deleted', status: 'success' },
      { code: 'INVALID_DATA', details: { id: '123' }, message: expect.any(String), status: 'error' },
    ]);
    expect(fake.inspect().attachments.map((attachment) => attachment.id)).toEqual([ids[1]]);
  });

  it('answers 400 REQUIRED_PARAM_MISSING for a mass delete without ids', async () => {
    const reply = await send(attachmentsUrl(fake), { method: 'DELETE', headers: auth(token) });
    expect(reply.status).toBe(400);
    expect(reply.json).toMatchObject({ code: 'REQUIRED_PARAM_MISSING', details: { param_name: 'ids' } });
  });
});

describe('close', () => {
  it('is idempotent, stops listening and removes the content dir', async () => {
    const other = await startFakeZoho();
    await uploadFile(other, await mintToken(other));
    const dir = other.contentDir!;
    expect(existsSync(dir)).toBe(true);

    await Promise.all([other.close(), other.close()]);
    await other.close();

    expect(existsSync(dir)).toBe(false);
    await expect(send(`${other.url}/crm/v2.1/Leads/1/Attachments`)).rejects.toThrow();
  });
});
