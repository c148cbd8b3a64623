/**
 * URL sources against real HTTP servers on loopback (allowPrivateUrls: true, since the
 * servers are on 127.0.0.1): sizes, hashes, spooling, limits, timeouts, redirects, names.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { inspectSource, openSource, SourceError, type SourceLimits } from '../../src/sources/index.js';
import {
  closedPort,
  installLoopbackTripwire,
  startHttpServer,
  startRawServer,
  type TestServer,
} from './sources-helpers.js';
import { openDescriptorsUnder } from '../helpers/open-descriptors.js';

const tripwire = installLoopbackTripwire();
let spoolDir: string;
let limits: SourceLimits;
const servers: TestServer[] = [];

beforeAll(async () => {
  spoolDir = await fs.mkdtemp(path.join(os.tmpdir(), 'za-sources-spool-'));
  limits = { fileRoots: [], allowPrivateUrls: true, timeoutMs: 2_000, spoolDir };
});

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
  expect(tripwire.violations.splice(0)).toEqual([]);
});

afterAll(async () => {
  tripwire.uninstall();
  await fs.rm(spoolDir, { recursive: true, force: true });
});

async function serve(handler: Parameters<typeof startHttpServer>[0]): Promise<TestServer> {
  const server = await startHttpServer(handler);
  servers.push(server);
  return server;
}

async function serveRaw(respond: Parameters<typeof startRawServer>[0]): Promise<TestServer> {
  const server = await startRawServer(respond);
  servers.push(server);
  return server;
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

function expectSourceError(error: unknown, code: string, classification = 'permanent'): SourceError {
  expect(error).toBeInstanceOf(SourceError);
  const sourceError = error as SourceError;
  expect({ code: sourceError.code, classification: sourceError.classification }).toEqual({ code, classification });
  return sourceError;
}

/** Byte equality without a deep-equal walk over every element (slow for large buffers). */
function expectSameBytes(actual: Buffer, expected: Buffer): void {
  expect(actual.length).toBe(expected.length);
  expect(actual.equals(expected)).toBe(true);
}

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Descriptors of this process that point into the spool folder (Linux). */
function spoolDescriptors(): string[] {
  return openDescriptorsUnder(spoolDir);
}

const payload = Buffer.alloc(300 * 1024);
for (let i = 0; i < payload.length; i++) payload[i] = (i * 7 + 3) & 0xff;

describe('URL sources: bodies', () => {
  it('streams a body with a Content-Length, asking for it unencoded', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': payload.length });
      res.end(payload);
    });
    const source = await openSource({ kind: 'url', url: `${server.origin}/files/report%20Q3.pdf?sig=secret` }, limits);
    expect(source.fileName).toBe('report Q3.pdf');
    expect(source.size).toBe(payload.length);
    expect(() => source.sha256()).toThrow();
    expectSameBytes(await readAll(source.stream), payload);
    expect(source.sha256()).toBe(sha256(payload));
    expect(server.requests[0]?.headers['accept-encoding']).toBe('identity');
    await source.close();
    await source.close();
  });

  it('spools a chunked body to a temporary file that never outlives close()', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/pdf' });
      for (let offset = 0; offset < payload.length; offset += 10_000)
        res.write(payload.subarray(offset, offset + 10_000));
      res.end();
    });
    const source = await openSource({ kind: 'url', url: `${server.origin}/chunked.bin` }, limits);
    expect(source.size).toBe(payload.length);
    // Unlinked at once, alive only through the open handle until close().
    expect(await fs.readdir(spoolDir)).toEqual([]);
    expect(spoolDescriptors()).toHaveLength(1);
    expectSameBytes(await readAll(source.stream), payload);
    expect(source.sha256()).toBe(sha256(payload));
    await source.close();
    expect(spoolDescriptors()).toHaveLength(0);
  });

  it('passes a gzip-encoded body through as served, without decompressing', async () => {
    const gzipped = gzipSync(Buffer.alloc(5 * 1024 * 1024));
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-encoding': 'gzip', 'content-length': gzipped.length });
      res.end(gzipped);
    });
    const source = await openSource(
      { kind: 'url', url: `${server.origin}/zeros.bin.gz` },
      { ...limits, maxBytes: 100_000 },
    );
    expect(source.size).toBe(gzipped.length);
    expectSameBytes(await readAll(source.stream), gzipped);
    expect(source.sha256()).toBe(sha256(gzipped));
    await source.close();
  });

  it('inspects the size from Content-Length, or by reading a chunked body', async () => {
    const server = await serve((req, res) => {
      if (req.url === '/declared') res.writeHead(200, { 'content-length': payload.length });
      else res.writeHead(200);
      res.end(payload);
    });
    expect(await inspectSource({ kind: 'url', url: `${server.origin}/declared` }, limits)).toEqual({
      fileName: 'declared',
      size: payload.length,
    });
    expect(await inspectSource({ kind: 'url', url: `${server.origin}/chunked` }, limits)).toEqual({
      fileName: 'chunked',
      size: payload.length,
    });
  });

  it('releases the connection when closed before the body is read', async () => {
    let connectionClosed = false;
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': 10 * 1024 * 1024 });
      res.write(payload);
      res.on('close', () => {
        connectionClosed = true;
      });
    });
    const source = await openSource({ kind: 'url', url: `${server.origin}/big` }, limits);
    await source.close();
    await expect.poll(() => connectionClosed, { timeout: 2_000 }).toBe(true);
  });
});

describe('URL sources: limits', () => {
  it('refuses a declared Content-Length over maxBytes before reading', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': 10 * 1024 * 1024 });
      res.write(payload);
    });
    const error = await caught(openSource({ kind: 'url', url: `${server.origin}/big` }, { ...limits, maxBytes: 1024 }));
    expectSourceError(error, 'SOURCE_TOO_LARGE');
  });

  it('stops an endless body at maxBytes and leaves no spool file', async () => {
    let writes = 0;
    const server = await serve((_req, res) => {
      res.writeHead(200);
      const chunk = Buffer.alloc(16 * 1024, 1);
      const pump = (): void => {
        while (!res.destroyed) {
          writes++;
          if (!res.write(chunk)) break;
        }
        if (!res.destroyed) res.once('drain', pump);
      };
      pump();
    });
    const error = await caught(
      openSource({ kind: 'url', url: `${server.origin}/endless` }, { ...limits, maxBytes: 256 * 1024 }),
    );
    expectSourceError(error, 'SOURCE_TOO_LARGE');
    expect(await fs.readdir(spoolDir)).toEqual([]);
    expect(spoolDescriptors()).toHaveLength(0);
    // The server got far enough to prove the body was endless, and no further than backpressure allows.
    expect(writes).toBeGreaterThan(16);
  });

  it('fails with SOURCE_LENGTH_MISMATCH (transient) when the server sends fewer bytes than declared', async () => {
    const server = await serveRaw((socket) => {
      socket.end('HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\nonly a few bytes');
    });
    const source = await openSource({ kind: 'url', url: `${server.origin}/short` }, limits);
    expect(source.size).toBe(1000);
    expectSourceError(await caught(readAll(source.stream)), 'SOURCE_LENGTH_MISMATCH', 'transient');
    expect(() => source.sha256()).toThrow();
    await source.close();
  });

  it('takes exactly the declared bytes when the server sends more than it declared', async () => {
    // HTTP/1.1 framing ends the body at Content-Length: the excess is not part of the
    // answer, so the upload gets the declared bytes and a hash that matches them.
    const server = await serveRaw((socket) => {
      socket.end('HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: close\r\n\r\nhello and then some more');
    });
    const source = await openSource({ kind: 'url', url: `${server.origin}/long` }, limits);
    expect(source.size).toBe(5);
    expect((await readAll(source.stream)).toString()).toBe('hello');
    expect(source.sha256()).toBe(sha256(Buffer.from('hello')));
    await source.close();
  });
});

describe('URL sources: timeouts and network faults', () => {
  it('times out a server that never answers', async () => {
    const server = await serveRaw(() => undefined);
    const error = await caught(
      openSource({ kind: 'url', url: `${server.origin}/silent` }, { ...limits, timeoutMs: 200 }),
    );
    expectSourceError(error, 'SOURCE_URL_TIMEOUT', 'transient');
  });

  it('times out a slowloris body (chunked, so while spooling)', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200);
      res.write('x');
      const timer = setInterval(() => res.write('x'), 5_000);
      res.on('close', () => clearInterval(timer));
    });
    const started = Date.now();
    const error = await caught(
      openSource({ kind: 'url', url: `${server.origin}/slow` }, { ...limits, timeoutMs: 300 }),
    );
    expectSourceError(error, 'SOURCE_URL_TIMEOUT', 'transient');
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(await fs.readdir(spoolDir)).toEqual([]);
  });

  it('times out a slowloris body with a Content-Length while it is streamed', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200, { 'content-length': 1000 });
      res.write('x');
      const timer = setInterval(() => res.write('x'), 5_000);
      res.on('close', () => clearInterval(timer));
    });
    const source = await openSource({ kind: 'url', url: `${server.origin}/slow` }, { ...limits, timeoutMs: 300 });
    expectSourceError(await caught(readAll(source.stream)), 'SOURCE_URL_TIMEOUT', 'transient');
    await source.close();
  });

  it('reports a refused connection as a transient network error', async () => {
    const port = await closedPort();
    const error = await caught(openSource({ kind: 'url', url: `http://127.0.0.1:${port}/x` }, limits));
    expectSourceError(error, 'SOURCE_URL_NETWORK', 'transient');
  });

  it('reports a connection reset mid-body as a transient network error', async () => {
    const server = await serve((_req, res) => {
      res.writeHead(200);
      res.write(payload.subarray(0, 1000), () => res.socket?.destroy());
    });
    const error = await caught(openSource({ kind: 'url', url: `${server.origin}/reset` }, limits));
    expectSourceError(error, 'SOURCE_URL_NETWORK', 'transient');
  });
});

describe('URL sources: HTTP status and redirects', () => {
  it('treats 404 as permanent, 503 and 429 as transient, with the status in the message', async () => {
    const server = await serve((req, res) => {
      res.writeHead(Number(req.url?.slice(1)));
      res.end('no');
    });
    for (const [status, classification] of [
      [404, 'permanent'],
      [503, 'transient'],
      [429, 'transient'],
    ] as const) {
      const error = expectSourceError(
        await caught(openSource({ kind: 'url', url: `${server.origin}/${status}` }, limits)),
        'SOURCE_URL_HTTP_ERROR',
        classification,
      );
      expect(error.httpStatus).toBe(status);
      expect(error.message).toContain(`HTTP ${status}`);
    }
  });

  it('follows redirects up to maxRedirects and names the file after the last URL', async () => {
    const server = await serve((req, res) => {
      const hop = Number(/^\/hop\/(\d+)$/.exec(req.url ?? '')?.[1] ?? -1);
      if (hop > 0) {
        res.writeHead(hop % 2 === 0 ? 302 : 307, { location: `/hop/${hop - 1}` });
        res.end();
      } else if (hop === 0) {
        res.writeHead(301, { location: '/final/report.pdf' });
        res.end();
      } else {
        res.writeHead(200, { 'content-length': payload.length });
        res.end(payload);
      }
    });
    const source = await openSource({ kind: 'url', url: `${server.origin}/hop/2` }, { ...limits, maxRedirects: 3 });
    expect(source.fileName).toBe('report.pdf');
    expectSameBytes(await readAll(source.stream), payload);
    await source.close();
    expect(server.requests.map((req) => req.url)).toEqual(['/hop/2', '/hop/1', '/hop/0', '/final/report.pdf']);
  });

  it('gives up after maxRedirects, without repeating signed query strings', async () => {
    const server = await serve((req, res) => {
      res.writeHead(302, { location: `${(req.url ?? '/').split('?')[0]}x?sig=topsecret` });
      res.end();
    });
    const error = await caught(openSource({ kind: 'url', url: `${server.origin}/` }, { ...limits, maxRedirects: 3 }));
    expect(expectSourceError(error, 'SOURCE_URL_TOO_MANY_REDIRECTS').message).not.toContain('topsecret');
    expect(server.requests).toHaveLength(4);
  });

  it('applies the default of 5 redirects', async () => {
    const server = await serve((req, res) => {
      res.writeHead(302, { location: `${req.url ?? '/'}x` });
      res.end();
    });
    expectSourceError(
      await caught(openSource({ kind: 'url', url: `${server.origin}/` }, limits)),
      'SOURCE_URL_TOO_MANY_REDIRECTS',
    );
    expect(server.requests).toHaveLength(6);
  });

  it('refuses a redirect without Location, or to something other than http(s)', async () => {
    const server = await serve((req, res) => {
      if (req.url === '/file') res.writeHead(302, { location: 'file:///etc/passwd' });
      else res.writeHead(302);
      res.end();
    });
    expectSourceError(
      await caught(openSource({ kind: 'url', url: `${server.origin}/none` }, limits)),
      'SOURCE_URL_HTTP_ERROR',
    );
    expectSourceError(
      await caught(openSource({ kind: 'url', url: `${server.origin}/file` }, limits)),
      'SOURCE_URL_INVALID',
    );
  });

  it('refuses URLs that are not http(s), malformed, or carry credentials', async () => {
    for (const url of ['not a url', 'ftp://127.0.0.1/x', 'file:///etc/passwd', 'http://user:pw@127.0.0.1/x']) {
      expectSourceError(await caught(openSource({ kind: 'url', url }, limits)), 'SOURCE_URL_INVALID');
    }
  });
});

describe('URL sources: file names', () => {
  async function nameServedAs(headers: Record<string, string>, urlPath = '/dl'): Promise<string> {
    const server = await serve((_req, res) => {
      res.writeHead(200, { ...headers, 'content-length': 2 });
      res.end('ok');
    });
    const source = await openSource({ kind: 'url', url: `${server.origin}${urlPath}` }, limits);
    await source.close();
    return source.fileName;
  }

  it('prefers filename* (RFC 5987) over filename', async () => {
    expect(
      await nameServedAs({
        'content-disposition': `attachment; filename="rates.pdf"; filename*=UTF-8''%E2%82%AC%20r%C3%A4tes.pdf`,
      }),
    ).toBe('€ rätes.pdf');
  });

  it('reads filename, and never a path', async () => {
    expect(await nameServedAs({ 'content-disposition': 'attachment; filename="plain name.docx"' })).toBe(
      'plain name.docx',
    );
    expect(await nameServedAs({ 'content-disposition': 'attachment; filename="../../etc/passwd"' })).toBe('passwd');
  });

  it('recovers raw UTF-8 bytes in filename, and keeps a genuine Latin-1 name', async () => {
    const server = await serveRaw((socket, head) => {
      const name = head.startsWith('GET /utf8 ')
        ? Buffer.from('résumé.pdf', 'utf8')
        : Buffer.from('résumé.pdf', 'latin1');
      socket.end(
        Buffer.concat([
          Buffer.from(
            'HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\ncontent-disposition: attachment; filename="',
          ),
          name,
          Buffer.from('"\r\n\r\nok'),
        ]),
      );
    });
    for (const urlPath of ['/utf8', '/latin1']) {
      const source = await openSource({ kind: 'url', url: `${server.origin}${urlPath}` }, limits);
      await source.close();
      expect(source.fileName).toBe('résumé.pdf');
    }
  });

  it('falls back to the percent-decoded last path segment, then to "download"', async () => {
    expect(await nameServedAs({}, '/a/r%C3%A9sum%C3%A9.pdf')).toBe('résumé.pdf');
    expect(await nameServedAs({}, '/')).toBe('download');
  });

  it('refuses an .exe named by Content-Disposition or by the path', async () => {
    const server = await serve((req, res) => {
      res.writeHead(200, req.url === '/dl' ? { 'content-disposition': 'attachment; filename="setup.Exe"' } : {});
      res.end('MZ');
    });
    expectSourceError(
      await caught(openSource({ kind: 'url', url: `${server.origin}/dl` }, limits)),
      'SOURCE_FORBIDDEN_TYPE',
    );
    expectSourceError(
      await caught(openSource({ kind: 'url', url: `${server.origin}/tool.EXE` }, limits)),
      'SOURCE_FORBIDDEN_TYPE',
    );
  });
});
