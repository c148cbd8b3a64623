/**
 * zoho-attach over TLS: a private redis-server with only a TLS port, a certificate signed by a
 * private CA made for the test (openssl), REDIS_URL=rediss://… and REDIS_TLS_CA. The CLI as a
 * user runs it, against the fake Zoho.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { createPipelineWorld, runCli, type PipelineWorld } from '../helpers/pipeline.js';
import { freePort } from '../../src/demo/private-redis.js';

const run = promisify(execFile);

let world: PipelineWorld | undefined;
let server: { child: ChildProcess; dir: string } | undefined;
afterEach(async () => {
  await world?.cleanup();
  if (server) {
    server.child.kill('SIGKILL');
    await rm(server.dir, { recursive: true, force: true });
  }
  [world, server] = [undefined, undefined];
});

/** A CA, a certificate for localhost signed by it, and a redis-server that speaks only TLS with them. */
async function startTlsRedis(): Promise<{ url: string; caFile: string }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'za-redis-tls-'));
  const file = (name: string) => path.join(dir, name);
  await run('openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.crt'),
    '-days',
    '2',
    '-subj',
    '/CN=zoho-attach test CA',
  ]);
  await run('openssl', [
    'req',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    file('server.key'),
    '-out',
    file('server.csr'),
    '-subj',
    '/CN=localhost',
  ]);
  await writeFile(file('ext.cnf'), 'subjectAltName=DNS:localhost\n');
  await run('openssl', [
    'x509',
    '-req',
    '-in',
    file('server.csr'),
    '-CA',
    file('ca.crt'),
    '-CAkey',
    file('ca.key'),
    '-CAcreateserial',
    '-out',
    file('server.crt'),
    '-days',
    '2',
    '-extfile',
    file('ext.cnf'),
  ]);
  const port = await freePort();
  const child = spawn(
    'redis-server',
    [
      '--port',
      '0',
      '--tls-port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--tls-cert-file',
      file('server.crt'),
      '--tls-key-file',
      file('server.key'),
      '--tls-ca-cert-file',
      file('ca.crt'),
      '--tls-auth-clients',
      'no',
      '--save',
      '',
      '--appendonly',
      'no',
      '--maxmemory-policy',
      'noeviction',
      '--dir',
      dir,
    ],
    { stdio: 'ignore' },
  );
  server = { child, dir };
  const url = `rediss://localhost:${port}`;
  await expect
    .poll(
      async () =>
        (
          await run('redis-cli', [
            '--tls',
            '--cacert',
            file('ca.crt'),
            '-h',
            'localhost',
            '-p',
            String(port),
            'PING',
          ]).catch(() => ({ stdout: '' }))
        ).stdout.trim(),
      {
        timeout: 10_000,
        interval: 100,
      },
    )
    .toBe('PONG');
  return { url, caFile: file('ca.crt') };
}

describe('Redis over TLS', () => {
  it('runs the pipeline over rediss:// trusting REDIS_TLS_CA, and refuses the server without it, saying why', async () => {
    const tls = await startTlsRedis();
    world = await createPipelineWorld({ env: { REDIS_URL: tls.url, REDIS_TLS_CA: tls.caFile } });
    await world.writeFile('a.txt', 'a');
    await world.writeFile('b.txt', 'b');
    const manifest = await world.writeFile('m.csv', 'module,record_id,file\nLeads,1,a.txt\nLeads,2,b.txt\n');

    const untrusted = await runCli(
      ['enqueue', manifest, '--batch', 'tls'],
      { ...world.env, REDIS_TLS_CA: '' },
      world.dir,
    );
    expect(untrusted.code).toBe(1);
    expect(untrusted.stderr).toMatch(
      /cannot reach Redis at rediss:\/\/localhost:\d+: .*(self-signed|self signed|unable to verify)/i,
    );

    expect((await runCli(['enqueue', manifest, '--batch', 'tls'], world.env, world.dir)).code).toBe(0);
    const worker = await runCli(['worker', '--until-idle'], world.env, world.dir);
    expect(worker.code, worker.stderr).toBe(0);
    const status = JSON.parse((await runCli(['status', '--batch', 'tls', '--json'], world.env, world.dir)).stdout);
    expect(status.batches[0]).toMatchObject({ uploaded: 2, pending: 0, dead: 0 });
    expect(world.fake.inspect().attachments).toHaveLength(2);
    expect((await runCli(['doctor'], world.env, world.dir)).stdout).toMatch(
      /✓ Redis reachable: Redis answers at rediss:\/\/localhost/,
    );
  });
});
