/**
 * The dashboard's defences, over real HTTP against a real Redis and the fake Zoho: basic
 * auth, refusing to listen beyond loopback without it, read-only mode, CSRF and Origin checks,
 * the Host check against DNS rebinding, security headers, escaping, and no secret on any page.
 */
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { dashboardCommand } from '../../src/cli/commands/dashboard.js';
import type { CliDeps } from '../../src/cli/command.js';
import { DASHBOARD_PATHS, isLoopbackHost, startDashboard, type RunningDashboard } from '../../src/dashboard/index.js';
import { FAKE_CREDENTIALS } from '../../src/fake-zoho/index.js';
import { UploadQueue } from '../../src/queue/upload-queue.js';
import {
  basicAuth,
  csrfTokenIn,
  enqueueManifest,
  HOSTILE_FILE,
  HOSTILE_TITLE,
  httpRequest,
  runWorkerUntilIdle,
  startTestDashboard,
  writeMixedManifest,
} from '../helpers/dashboard.js';
import { createPipelineWorld, type PipelineWorld } from '../helpers/pipeline.js';
import { testRedis } from '../helpers/redis.js';

const CREDENTIALS = { user: 'ops', password: 'correct horse battery staple' };

let world: PipelineWorld | undefined;
let dashboard: RunningDashboard | undefined;
let uploadQueue: UploadQueue | undefined;
afterEach(async () => {
  await dashboard?.close();
  await uploadQueue?.close();
  await world?.cleanup();
  dashboard = undefined;
  uploadQueue = undefined;
  world = undefined;
});

/** A world whose one batch has uploads and dead letters (INVALID_MODULE ×2, SOURCE_NOT_FOUND ×1). */
async function worldWithDeadLetters(): Promise<PipelineWorld> {
  const w = await createPipelineWorld();
  await enqueueManifest(w, await writeMixedManifest(w, 'mixed', { good: 2, widgets: 2 }), 'mixed');
  await runWorkerUntilIdle(w);
  return w;
}

/** The CSRF token from bull-board's cookie (pages in read-only mode have no forms to take it from). */
async function csrfTokenFromCookie(d: RunningDashboard, headers: Record<string, string> = {}): Promise<string> {
  const response = await httpRequest(`${d.url}${DASHBOARD_PATHS.bullBoard}/`, { headers });
  const cookie = String(response.headers['set-cookie'] ?? '');
  const match = /XSRF-TOKEN=([^;]+)/.exec(cookie);
  if (!match) throw new Error(`no XSRF-TOKEN cookie: ${cookie}`);
  return match[1] as string;
}

/** Runs the dashboard command in-process until `stop()`; resolves with its URL once it listens. */
async function runDashboardCommand(args: string[], env: Record<string, string>) {
  const stdout = new PassThrough();
  let printed = '';
  stdout.on('data', (chunk: Buffer) => (printed += chunk.toString()));
  let stop!: (signal: string) => void;
  const deps: CliDeps = {
    env,
    cwd: world!.dir,
    stdout,
    stderr: new PassThrough(),
    stopSignal: new Promise((resolve) => (stop = resolve)),
  };
  const exit = dashboardCommand.run(args, deps);
  const url = await new Promise<string>((resolve, reject) => {
    exit.catch(reject);
    const check = () => {
      const match = /listening at (http:\/\/\S+?)\/?(\s|$)/.exec(printed);
      if (match) resolve(match[1] as string);
      else setTimeout(check, 20);
    };
    check();
  });
  return { url, exit, stop: () => stop('SIGTERM') };
}

describe('the dashboard requires credentials', () => {
  it('asks every caller for them once configured, on loopback too, on our pages and bull-board alike', async () => {
    world = await createPipelineWorld();
    dashboard = await startTestDashboard(world, { credentials: CREDENTIALS });
    for (const path of [
      '/',
      DASHBOARD_PATHS.statusApi,
      `${DASHBOARD_PATHS.bullBoard}/`,
      `${DASHBOARD_PATHS.bullBoard}/api/queues`,
    ]) {
      const anonymous = await httpRequest(`${dashboard.url}${path}`);
      expect(anonymous.status, path).toBe(401);
      expect(anonymous.headers['www-authenticate']).toMatch(/^Basic realm=/);
    }
    expect((await httpRequest(`${dashboard.url}/`, { headers: basicAuth(CREDENTIALS.user, 'wrong') })).status).toBe(
      401,
    );
    expect(
      (await httpRequest(`${dashboard.url}/`, { headers: basicAuth('someone', CREDENTIALS.password) })).status,
    ).toBe(401);
    expect((await httpRequest(`${dashboard.url}/`, { headers: { authorization: 'Basic !!!' } })).status).toBe(401);
    expect(
      (await httpRequest(`${dashboard.url}/`, { headers: basicAuth(CREDENTIALS.user, CREDENTIALS.password) })).status,
    ).toBe(200);
    // Behind a TLS reverse proxy that keeps the public Host: fine, the credentials protect it.
    expect(
      (
        await httpRequest(`${dashboard.url}/`, {
          headers: { ...basicAuth(CREDENTIALS.user, CREDENTIALS.password), host: 'dashboard.example.com' },
        })
      ).status,
    ).toBe(200);
  });

  it('refuses to listen beyond loopback without them, naming both variables', async () => {
    world = await createPipelineWorld();
    for (const host of ['0.0.0.0', '::', '192.0.2.10']) {
      await expect(startDashboard({ config: world.config, host, port: 0 })).rejects.toThrow(
        /\[DASHBOARD_CREDENTIALS_REQUIRED\].*ZOHO_ATTACH_DASHBOARD_USER and ZOHO_ATTACH_DASHBOARD_PASSWORD/,
      );
    }
    await expect(runDashboardCommand(['--host', '0.0.0.0', '--port', '0'], world.env)).rejects.toThrow(
      /ZOHO_ATTACH_DASHBOARD_USER and ZOHO_ATTACH_DASHBOARD_PASSWORD/,
    );
    // One of the two is a configuration mistake, reported as such.
    await expect(
      runDashboardCommand(['--port', '0'], { ...world.env, ZOHO_ATTACH_DASHBOARD_USER: 'ops' }),
    ).rejects.toThrow(/ZOHO_ATTACH_DASHBOARD_PASSWORD is not set/);
  });

  it('refuses a password shorter than 12 characters beyond loopback, and allows it on loopback', async () => {
    world = await createPipelineWorld();
    const short = { user: 'ops', password: 'hunter2hunt' };
    await expect(
      startDashboard({ config: world.config, host: '0.0.0.0', port: 0, credentials: short }),
    ).rejects.toMatchObject({
      code: 'DASHBOARD_CREDENTIALS_REQUIRED',
      message: expect.stringMatching(
        /11-character password: ZOHO_ATTACH_DASHBOARD_PASSWORD must be at least 12 characters/,
      ),
    });
    expect(
      JSON.stringify(
        await startDashboard({ config: world.config, host: '0.0.0.0', port: 0, credentials: short }).catch(
          (e: Error) => e.message,
        ),
      ),
    ).not.toContain(short.password);
    dashboard = await startDashboard({ config: world.config, host: '127.0.0.1', port: 0, credentials: short });
    expect((await httpRequest(`${dashboard.url}/`, { headers: basicAuth(short.user, short.password) })).status).toBe(
      200,
    );
  });

  it('listens on every interface once they are set', async () => {
    world = await createPipelineWorld();
    dashboard = await startDashboard({ config: world.config, host: '0.0.0.0', port: 0, credentials: CREDENTIALS });
    const port = new URL(dashboard.url).port;
    expect((await httpRequest(`http://127.0.0.1:${port}/`)).status).toBe(401);
    expect(
      (await httpRequest(`http://127.0.0.1:${port}/`, { headers: basicAuth(CREDENTIALS.user, CREDENTIALS.password) }))
        .status,
    ).toBe(200);
  });

  it('the command reads them from its environment and serves until the stop signal', async () => {
    world = await createPipelineWorld();
    const env = {
      ...world.env,
      ZOHO_ATTACH_DASHBOARD_USER: CREDENTIALS.user,
      ZOHO_ATTACH_DASHBOARD_PASSWORD: CREDENTIALS.password,
    };
    const running = await runDashboardCommand(['--port', '0'], env);
    expect((await httpRequest(`${running.url}/`)).status).toBe(401);
    expect(
      (await httpRequest(`${running.url}/`, { headers: basicAuth(CREDENTIALS.user, CREDENTIALS.password) })).status,
    ).toBe(200);
    running.stop();
    expect(await running.exit).toBe(0);
    await expect(httpRequest(`${running.url}/`)).rejects.toThrow();
  });
});

describe('loopback', () => {
  it('tells loopback addresses from the rest', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', 'localhost', 'LOCALHOST', '::1', '[::1]', '::ffff:127.0.0.1'])
      expect(isLoopbackHost(host), host).toBe(true);
    for (const host of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.2', 'example.com', 'localhost.example.com', ''])
      expect(isLoopbackHost(host), host).toBe(false);
  });

  it('on loopback without credentials, answers only to loopback host names (DNS rebinding, a proxy exposing it)', async () => {
    world = await createPipelineWorld();
    dashboard = await startTestDashboard(world);
    const port = new URL(dashboard.url).port;
    expect((await httpRequest(`${dashboard.url}/`)).status).toBe(200);
    expect((await httpRequest(`${dashboard.url}/`, { headers: { host: `localhost:${port}` } })).status).toBe(200);
    expect((await httpRequest(`${dashboard.url}/`, { headers: { host: `attacker.example:${port}` } })).status).toBe(
      403,
    );
    expect(
      (await httpRequest(`${dashboard.url}${DASHBOARD_PATHS.statusApi}`, { headers: { host: `attacker.example` } }))
        .status,
    ).toBe(403);
  });
});

describe('writes', () => {
  it("are all refused with 403 in read-only mode, ours and bull-board's, and change nothing", async () => {
    world = await worldWithDeadLetters();
    dashboard = await startTestDashboard(world, { readOnly: true });
    uploadQueue = await UploadQueue.open(world.config);
    const token = await csrfTokenFromCookie(dashboard);
    const sameOrigin = { origin: dashboard.url, 'x-csrf-token': token };

    for (const path of [DASHBOARD_PATHS.pause, DASHBOARD_PATHS.resume, DASHBOARD_PATHS.retryDeadLetters]) {
      const response = await httpRequest(`${dashboard.url}${path}`, {
        method: 'POST',
        headers: sameOrigin,
        form: { _csrf: token, code: 'INVALID_MODULE' },
      });
      expect(response.status, path).toBe(403);
      expect(response.body).toMatch(/read-only/);
    }
    for (const path of [
      '/api/queues/pause',
      '/api/queues/uploads/pause',
      '/api/queues/uploads/retry/failed',
      '/api/queues/uploads/clean/failed',
    ]) {
      const response = await httpRequest(`${dashboard.url}${DASHBOARD_PATHS.bullBoard}${path}`, {
        method: 'PUT',
        headers: { ...sameOrigin, 'x-xsrf-token': token },
        json: {},
      });
      expect(response.status, path).toBe(403);
    }
    expect((await uploadQueue.pauseControl.status()).paused).toBe(false);
    expect(await uploadQueue.queue.getFailedCount()).toBe(3);

    // The pages offer no action, and bull-board is told it is read-only.
    for (const path of ['/', DASHBOARD_PATHS.deadLetters, DASHBOARD_PATHS.health]) {
      const page = await httpRequest(`${dashboard.url}${path}`);
      expect(page.body, path).not.toMatch(/<form/);
      expect(page.body).toMatch(/read-only/);
    }
    const queues = JSON.parse((await httpRequest(`${dashboard.url}${DASHBOARD_PATHS.bullBoard}/api/queues`)).body) as {
      queues: Array<{ readOnlyMode: boolean }>;
    };
    expect(queues.queues[0]?.readOnlyMode).toBe(true);
  });

  it('are read-only when ZOHO_ATTACH_DASHBOARD_READ_ONLY=true', async () => {
    world = await createPipelineWorld();
    const running = await runDashboardCommand(['--port', '0'], {
      ...world.env,
      ZOHO_ATTACH_DASHBOARD_READ_ONLY: 'true',
    });
    try {
      const token = await csrfTokenFromCookie({ url: running.url, close: async () => {} });
      const response = await httpRequest(`${running.url}${DASHBOARD_PATHS.pause}`, {
        method: 'POST',
        headers: { origin: running.url },
        form: { _csrf: token },
      });
      expect(response.status).toBe(403);
    } finally {
      running.stop();
      await running.exit;
    }
  });

  it('need the CSRF token and, when the browser says where they come from, our own origin', async () => {
    world = await createPipelineWorld();
    dashboard = await startTestDashboard(world);
    uploadQueue = await UploadQueue.open(world.config);
    const token = csrfTokenIn((await httpRequest(`${dashboard.url}${DASHBOARD_PATHS.health}`)).body);
    const pauseUrl = `${dashboard.url}${DASHBOARD_PATHS.pause}`;
    const pause = (form: Record<string, string>, headers: Record<string, string> = {}) =>
      httpRequest(pauseUrl, { method: 'POST', form, headers });

    expect((await pause({})).status).toBe(403);
    expect((await pause({ _csrf: 'not-the-token' })).status).toBe(403);
    expect((await pause({ _csrf: `${token}x` })).status).toBe(403);
    expect((await pause({ _csrf: token }, { origin: 'http://attacker.example' })).status).toBe(403);
    expect((await pause({ _csrf: token }, { origin: 'null' })).status).toBe(403);
    expect((await pause({ _csrf: token }, { referer: 'http://attacker.example/page' })).status).toBe(403);
    expect((await pause({ _csrf: token }, { origin: `http://localhost:${new URL(dashboard.url).port}9` })).status).toBe(
      403,
    );
    // GET never changes state: the write paths do not answer it at all.
    expect((await httpRequest(`${dashboard.url}${DASHBOARD_PATHS.pause}?_csrf=${token}`)).status).toBe(404);
    expect((await uploadQueue.pauseControl.status()).paused).toBe(false);

    const accepted = await pause(
      { _csrf: token },
      { origin: dashboard.url, referer: `${dashboard.url}${DASHBOARD_PATHS.health}` },
    );
    expect(accepted.status).toBe(303);
    expect((await uploadQueue.pauseControl.status()).paused).toBe(true);

    // bull-board's writes: its UI sends the token from the XSRF-TOKEN cookie as X-XSRF-TOKEN.
    const resume = `${dashboard.url}${DASHBOARD_PATHS.bullBoard}/api/queues/uploads/resume`;
    expect((await httpRequest(resume, { method: 'PUT', headers: { origin: dashboard.url }, json: {} })).status).toBe(
      403,
    );
    expect(
      (
        await httpRequest(resume, {
          method: 'PUT',
          headers: { origin: 'http://attacker.example', 'x-xsrf-token': token },
          json: {},
        })
      ).status,
    ).toBe(403);
    expect((await uploadQueue.pauseControl.status()).paused).toBe(true);
    // With the token, bull-board still writes nothing: it is read-only (its writes would bypass the ledger).
    const cookieToken = await csrfTokenFromCookie(dashboard);
    expect(
      (
        await httpRequest(resume, {
          method: 'PUT',
          headers: { origin: dashboard.url, 'x-xsrf-token': cookieToken },
          json: {},
        })
      ).status,
    ).toBe(405);
    expect((await uploadQueue.pauseControl.status()).paused).toBe(true);
  });

  it("bull-board cannot retry a dead letter or add a job behind the ledger's back, and its answers are never cached", async () => {
    world = await createPipelineWorld();
    await world.writeFile('a.txt', 'a');
    world.fake.faults.add({ match: { path: 'upload' }, kind: 'noPermission', times: 1 });
    const manifest = await world.writeFile('m.csv', 'module,record_id,file\nLeads,1,a.txt\n');
    await enqueueManifest(world, manifest, 'b');
    await runWorkerUntilIdle(world);
    dashboard = await startTestDashboard(world);
    uploadQueue = await UploadQueue.open(world.config);
    const token = await csrfTokenFromCookie(dashboard);
    const write = (path: string, method: 'PUT' | 'POST' | 'PATCH', json: unknown = {}) =>
      httpRequest(`${dashboard!.url}${DASHBOARD_PATHS.bullBoard}/api/queues/uploads${path}`, {
        method,
        headers: { origin: dashboard!.url, 'x-xsrf-token': token },
        json,
      });
    const [failed] = await uploadQueue.queue.getFailed();
    // 405 QUEUE_READ_ONLY from bull-board itself: the request passed our CSRF and Origin checks.
    expect((await write(`/${failed!.id}/retry`, 'PUT')).status).toBe(405);
    expect(
      (await write(`/${failed!.id}/update-data`, 'PATCH', { jobData: { module: 'Leads', recordId: '2' } })).status,
    ).toBe(405);
    expect((await write('/retry/failed', 'PUT')).status).toBe(405);
    expect(
      (
        await write('/add', 'POST', {
          name: 'upload',
          data: { module: 'Leads', recordId: '2', target: { kind: 'link', url: 'javascript:alert(1)' } },
        })
      ).status,
    ).toBe(405);
    expect(await uploadQueue.queue.getJobState(failed!.id!)).toBe('failed');
    expect((await uploadQueue.queue.getJob(failed!.id!))!.data).toEqual(failed!.data);
    expect(await uploadQueue.queue.count()).toBe(0);
    const api = await httpRequest(`${dashboard.url}${DASHBOARD_PATHS.bullBoard}/api/queues`);
    expect(api.headers['cache-control']).toBe('no-store');
  });
});

describe('pages', () => {
  it('carry security headers: a strict CSP on ours, one fitted to bull-board on its routes', async () => {
    world = await createPipelineWorld();
    dashboard = await startTestDashboard(world);
    for (const path of [
      '/',
      DASHBOARD_PATHS.deadLetters,
      DASHBOARD_PATHS.health,
      DASHBOARD_PATHS.statusApi,
      '/no-such-page',
    ]) {
      const { headers } = await httpRequest(`${dashboard.url}${path}`);
      expect(headers['content-security-policy'], path).toMatch(/default-src 'none'/);
      expect(headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
      expect(headers['content-security-policy']).not.toMatch(/unsafe-inline|unsafe-eval/);
      expect(headers['x-content-type-options']).toBe('nosniff');
      expect(headers['x-frame-options']).toBe('DENY');
      expect(headers['x-powered-by']).toBeUndefined();
    }
    for (const path of [`${DASHBOARD_PATHS.bullBoard}/`, `${DASHBOARD_PATHS.bullBoard}/api/queues`]) {
      const { headers } = await httpRequest(`${dashboard.url}${path}`);
      expect(headers['content-security-policy'], path).toMatch(/script-src 'self'/);
      expect(headers['content-security-policy']).toMatch(/frame-ancestors 'none'/);
      expect(headers['content-security-policy']).not.toMatch(/unsafe-eval/);
      expect(headers['x-content-type-options']).toBe('nosniff');
      expect(headers['x-powered-by']).toBeUndefined();
    }
  });

  it('escape hostile titles, file names and pause reasons', async () => {
    world = await worldWithDeadLetters();
    dashboard = await startTestDashboard(world);
    uploadQueue = await UploadQueue.open(world.config);
    await uploadQueue.pauseControl.pause({
      code: 'AUTHENTICATION_FAILURE',
      message: '<b onmouseover=alert(2)>bad</b>',
      hint: '<iframe src=//attacker.example>',
    });

    const deadLetters = (await httpRequest(`${dashboard.url}${DASHBOARD_PATHS.deadLetters}`)).body;
    expect(deadLetters).toContain('&lt;script&gt;alert(&quot;title&quot;)&lt;/script&gt;');
    expect(deadLetters).toContain('&lt;img src=x onerror=alert(1)&gt;');
    for (const path of ['/', DASHBOARD_PATHS.deadLetters, DASHBOARD_PATHS.health]) {
      const page = (await httpRequest(`${dashboard.url}${path}`)).body;
      expect(page, path).not.toContain(HOSTILE_TITLE);
      expect(page).not.toContain('<img src=x');
      expect(page).not.toContain('<b onmouseover');
      expect(page).not.toContain('<iframe');
      expect(page).not.toMatch(/<script/i);
    }
    const health = (await httpRequest(`${dashboard.url}${DASHBOARD_PATHS.health}`)).body;
    expect(health).toContain('&lt;b onmouseover=alert(2)&gt;bad&lt;/b&gt;');
    expect(health).toContain('&lt;iframe src=//attacker.example&gt;');
    // The JSON keeps the raw text, served as JSON (never sniffed as HTML).
    const api = await httpRequest(`${dashboard.url}${DASHBOARD_PATHS.deadLettersApi}`);
    expect(api.headers['content-type']).toMatch(/^application\/json/);
    expect(api.body).toContain(HOSTILE_FILE.split('/')[1]);
  });

  it('never show a secret: pages, JSON, bull-board and the CSV export after a run', async () => {
    world = await worldWithDeadLetters();
    dashboard = await startTestDashboard(world);
    const redis = testRedis();
    let accessToken: string;
    try {
      accessToken =
        (JSON.parse((await redis.get(`${world.queueName}:oauth:token`)) ?? '{}') as { accessToken?: string })
          .accessToken ?? '';
    } finally {
      redis.disconnect();
    }
    // The run did use a token: the test would prove nothing otherwise.
    expect(accessToken.length).toBeGreaterThan(10);

    const queue = `${DASHBOARD_PATHS.bullBoard}/api/queues?activeQueue=uploads&page=1&jobsPerPage=50`;
    // Finished jobs leave BullMQ at once; a dead letter's job stays, with the data and logs of its attempts.
    const jobs = JSON.parse((await httpRequest(`${dashboard.url}${queue}&status=failed`)).body) as {
      queues: Array<{ name: string; jobs: Array<{ id: string }> }>;
    };
    const jobId = jobs.queues.find((q) => q.name === 'uploads')?.jobs[0]?.id;
    expect(jobId).toBeDefined();
    const paths = [
      '/',
      DASHBOARD_PATHS.deadLetters,
      DASHBOARD_PATHS.health,
      DASHBOARD_PATHS.statusApi,
      DASHBOARD_PATHS.deadLettersApi,
      DASHBOARD_PATHS.exportDeadLetters,
      `${queue}&status=completed`,
      `${queue}&status=failed`,
      `${DASHBOARD_PATHS.bullBoard}/api/queues/uploads/${jobId}`,
      `${DASHBOARD_PATHS.bullBoard}/api/queues/uploads/${jobId}/logs`,
    ];
    let seen = '';
    for (const path of paths) {
      const response = await httpRequest(`${dashboard.url}${path}`);
      expect(response.status, path).toBe(200);
      seen += response.body;
    }
    expect(seen).toContain('INVALID_MODULE'); // the bodies are the real content, not error pages
    for (const secret of [FAKE_CREDENTIALS.clientSecret, FAKE_CREDENTIALS.refreshToken, accessToken])
      expect(seen).not.toContain(secret);
  });
});
