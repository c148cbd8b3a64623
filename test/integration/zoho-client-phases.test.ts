/**
 * The phases of zoho/errors.ts FAILURE_TABLE through the real client over real HTTP: a call that
 * failed before its first body byte left is "not stored"; after it, every failure is ambiguous
 * (the next attempt lists the record before it posts again), whatever its code.
 */
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { StaticTokenProvider } from '../../src/zoho/static-token-provider.js';
import { ZohoClient } from '../../src/zoho/index.js';
import { zohoTestConfig } from '../helpers/zoho.js';
import { zohoFailure } from '../helpers/zoho-failure.js';

let server: Server | undefined;
let client: ZohoClient | undefined;
afterEach(async () => {
  await client?.close();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  [server, client] = [undefined, undefined];
});

/** A raw TCP server that does `onConnection` with each socket. */
async function rawServer(onConnection: (socket: import('node:net').Socket) => void): Promise<string> {
  server = createServer(onConnection);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A closed port on loopback. */
async function closedPortUrl(): Promise<string> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

function clientFor(apiDomain: string, requestTimeoutMs = 2_000): ZohoClient {
  client = new ZohoClient({
    config: zohoTestConfig(apiDomain, { apiDomain, credentials: false, accessToken: '1000.abc', requestTimeoutMs }),
    tokens: new StaticTokenProvider('1000.abc', apiDomain),
  });
  return client;
}

const upload = (zoho: ZohoClient, signal?: AbortSignal) =>
  zoho.uploadFile({
    module: 'Leads',
    recordId: '1',
    open: async () => ({ stream: Readable.from([Buffer.alloc(64 * 1024, 0x61)]), size: 64 * 1024, fileName: 'a.txt' }),
    ...(signal ? { signal } : {}),
  });

describe('a failed upload, by phase', () => {
  it('connection refused: not stored', async () => {
    expect(await zohoFailure(upload(clientFor(await closedPortUrl())))).toMatchObject({
      code: 'NETWORK_ERROR',
      ambiguous: false,
    });
  });

  it('aborted before anything was sent: not stored', async () => {
    const url = await rawServer((socket) => socket.destroy());
    expect(await zohoFailure(upload(clientFor(url), AbortSignal.abort()))).toMatchObject({
      code: 'ABORTED',
      ambiguous: false,
    });
  });

  it('the connection dropped after part of the body arrived: ambiguous', async () => {
    const url = await rawServer((socket) => {
      let received = 0;
      socket.on('data', (chunk: Buffer) => {
        received += chunk.length;
        // Headers and the first part of the body are in: drop the connection mid-body.
        if (received > 2_048) socket.destroy();
      });
    });
    expect(await zohoFailure(upload(clientFor(url)))).toMatchObject({ code: 'NETWORK_ERROR', ambiguous: true });
  });

  it("an unreachable host after the body started (here the source's, mid-file) is ambiguous, whatever the code says", async () => {
    const url = await rawServer((socket) => socket.resume());
    const unreachable = Object.assign(new Error('connect EHOSTUNREACH'), { code: 'EHOSTUNREACH' });
    async function* breaksMidFile() {
      yield Buffer.alloc(16 * 1024, 0x61);
      throw unreachable;
    }
    const error = await zohoFailure(
      clientFor(url).uploadFile({
        module: 'Leads',
        recordId: '1',
        open: async () => ({ stream: Readable.from(breaksMidFile()), size: 64 * 1024, fileName: 'a.txt' }),
      }),
    );
    expect(error).toMatchObject({ code: 'NETWORK_ERROR', ambiguous: true });
    expect(error.cause).toBe(unreachable);
  });

  it('a link upload refused at connect: not stored', async () => {
    const error = await zohoFailure(
      clientFor(await closedPortUrl()).uploadLink({ module: 'Leads', recordId: '1', url: 'https://example.com/a' }),
    );
    expect(error).toMatchObject({ code: 'NETWORK_ERROR', ambiguous: false });
  });

  it('a link upload whose connection dropped once its body arrived: ambiguous', async () => {
    const url = await rawServer((socket) => {
      let received = '';
      socket.on('data', (chunk: Buffer) => {
        received += chunk.toString('latin1');
        // Headers and the start of the form are in: drop the connection without answering.
        if (received.includes('attachmentUrl')) socket.destroy();
      });
    });
    const error = await zohoFailure(
      clientFor(url).uploadLink({ module: 'Leads', recordId: '1', url: 'https://example.com/a' }),
    );
    expect(error).toMatchObject({ code: 'NETWORK_ERROR', ambiguous: true });
  });

  it('no answer after the body was sent: ambiguous', async () => {
    const url = await rawServer((socket) => socket.resume());
    expect(await zohoFailure(upload(clientFor(url, 500)))).toMatchObject({ code: 'TIMEOUT', ambiguous: true });
  });
});
