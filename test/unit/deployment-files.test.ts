/**
 * docker-compose.yml, the Dockerfile and .env.example cannot drift from the code: the compose
 * file keeps Redis safe for BullMQ and the workers scalable, the image is built and run the way
 * the README says, and .env.example lists every variable the tool reads. No Docker needed.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CONFIG_DEFAULTS } from '../../src/config/config.js';
import { DASHBOARD_ENV } from '../../src/dashboard/index.js';
import { parse as parseYaml } from 'yaml';

const read = (relative: string) => readFileSync(fileURLToPath(new URL(`../../${relative}`, import.meta.url)), 'utf8');

/** What a YAML document holds, as far as these checks look. */
type YamlValue = string | number | boolean | null | YamlValue[] | { [key: string]: YamlValue };
type YamlMap = { [key: string]: YamlValue };
const asMap = (value: YamlValue | undefined, what: string): YamlMap => {
  if (value === null || value === undefined || typeof value !== 'object' || Array.isArray(value))
    throw new Error(`${what} is not a map`);
  return value;
};
const asList = (value: YamlValue | undefined, what: string): YamlValue[] => {
  if (!Array.isArray(value)) throw new Error(`${what} is not a list`);
  return value;
};

// The yaml package reads the whole YAML 1.2 language, so the compose file may use any of it.
const compose = asMap(parseYaml(read('docker-compose.yml')) as YamlValue, 'docker-compose.yml');
const services = asMap(compose.services, 'services');
const service = (name: string) => asMap(services[name], `services.${name}`);

/** `NAME=value` lines of .env.example (comments skipped). */
const envExample = new Map(
  read('.env.example')
    .split('\n')
    .map((line) => /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line))
    .filter((match): match is RegExpExecArray => match !== null)
    .map((match) => [match[1]!, match[2]!]),
);

/** The variables src/config/config.ts reads: every `read('NAME')`. */
const configVariables = [
  ...new Set([...read('src/config/config.ts').matchAll(/\bread\('([A-Z][A-Z0-9_]*)'\)/g)].map((m) => m[1]!)),
];

/** A scalar as text; a list or map (which would print as [object Object]) says what it is. */
function scalar(value: YamlValue | undefined): string {
  if (value !== null && typeof value === 'object') return Array.isArray(value) ? '(a list)' : '(a map)';
  return String(value);
}

/** Seconds of a compose duration such as `90s` or `2m`. */
function durationSeconds(value: YamlValue | undefined): number {
  const match = /^(\d+)(s|m)$/.exec(scalar(value));
  if (!match) throw new Error(`"${scalar(value)}" is not a duration like 90s or 2m`);
  return Number(match[1]) * (match[2] === 'm' ? 60 : 1);
}

describe('docker-compose.yml', () => {
  it('runs Redis 7 with AOF (appendfsync always, as RELIABILITY.md says) and noeviction, on a named volume', () => {
    const redis = service('redis');
    expect(scalar(redis.image)).toMatch(/^redis:7(\.|-|$)/);
    const command = asList(redis.command, 'redis.command').map(String);
    const setting = (name: string) => command[command.indexOf(name) + 1];
    expect(command[0]).toBe('redis-server');
    expect(setting('--appendonly')).toBe('yes');
    // What RELIABILITY.md recommends for a migration: no acknowledged write lost in a crash.
    expect(setting('--appendfsync')).toBe('always');
    expect(read('RELIABILITY.md')).toMatch(/run Redis with `appendfsync always`/);
    expect(read('RELIABILITY.md')).toMatch(/`docker-compose\.yml` runs Redis\s+with `appendfsync always`/);
    expect(read('README.md')).toMatch(/docker-compose\.yml` runs Redis 7 \(AOF with `appendfsync always`/);
    // Nothing that documents the deployment still promises everysec is enough.
    for (const file of ['RELIABILITY.md', 'README.md', '.env.example'])
      expect(read(file)).not.toMatch(/appendfsync everysec/);
    expect(setting('--maxmemory-policy')).toBe('noeviction');
    const dataVolume = asList(redis.volumes, 'redis.volumes')
      .map(String)
      .find((v) => v.endsWith(':/data'));
    expect(dataVolume).toBeDefined();
    expect(Object.keys(asMap(compose.volumes, 'volumes'))).toContain(dataVolume!.split(':')[0]);
  });

  it('has a worker that can be scaled: built here, no container name or host port, files read-only where ZOHO_ATTACH_FILE_ROOTS points', () => {
    const worker = service('worker');
    expect(worker.build).toBe('.');
    expect(worker.container_name).toBeUndefined();
    expect(worker.ports).toBeUndefined();
    expect(asList(worker.command, 'worker.command')[0]).toBe('worker');
    expect(asList(worker.env_file, 'worker.env_file')).toContain('.env');
    const environment = asMap(worker.environment, 'worker.environment');
    expect(environment.REDIS_URL).toBe('redis://redis:6379');
    const filesRoot = scalar(environment.ZOHO_ATTACH_FILE_ROOTS);
    expect(filesRoot).toMatch(/^\//);
    expect(asList(worker.volumes, 'worker.volumes').map(String)).toContainEqual(
      expect.stringMatching(new RegExp(`:${filesRoot}:ro$`)),
    );
    expect(asMap(asMap(worker.depends_on, 'worker.depends_on').redis, 'depends_on.redis').condition).toBe(
      'service_healthy',
    );
    // Docker must wait longer than the worker waits for its in-flight uploads.
    expect(durationSeconds(worker.stop_grace_period) * 1000).toBeGreaterThan(
      Number(envExample.get('ZOHO_ATTACH_SHUTDOWN_TIMEOUT_MS') || CONFIG_DEFAULTS.ZOHO_ATTACH_SHUTDOWN_TIMEOUT_MS),
    );
  });

  it('has a dashboard on 0.0.0.0:3000 inside the network, configured from .env', () => {
    const dashboard = service('dashboard');
    expect(dashboard.command).toEqual(['dashboard', '--host', '0.0.0.0', '--port', '3000']);
    expect(asList(dashboard.env_file, 'dashboard.env_file')).toContain('.env');
    expect(asMap(dashboard.environment, 'dashboard.environment').REDIS_URL).toBe('redis://redis:6379');
    expect(
      asList(dashboard.ports, 'dashboard.ports')
        .map(String)
        .every((p) => p.endsWith(':3000')),
    ).toBe(true);
  });

  it('takes every ${VARIABLE} it uses from .env.example', () => {
    const used = [...read('docker-compose.yml').matchAll(/\$\{([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]!);
    expect(used.length).toBeGreaterThan(0);
    for (const name of used)
      expect(envExample.has(name), `${name} is used in docker-compose.yml but missing from .env.example`).toBe(true);
  });
});

describe('Dockerfile', () => {
  const lines = read('Dockerfile')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));

  it('builds on node:20-slim with npm ci and npm run build, and runs the CLI as a non-root user', () => {
    const from = lines.filter((l) => l.startsWith('FROM '));
    expect(from.length).toBeGreaterThan(0);
    for (const line of from) expect(line).toMatch(/^FROM node:20-slim\b/);
    expect(lines).toContainEqual(expect.stringMatching(/^RUN npm ci\b/));
    expect(lines).toContainEqual(expect.stringMatching(/^RUN npm run build\b/));
    const user = lines.filter((l) => l.startsWith('USER ')).at(-1);
    expect(user).toBeDefined();
    expect(user!.slice(5).trim()).not.toMatch(/^(root|0)(:|$)/);
    expect(lines).toContain('ENTRYPOINT ["node", "dist/cli/main.js"]');
  });

  it('has a HEALTHCHECK that runs `zoho-attach health` (tested in test/e2e/redis-outage.test.ts)', () => {
    const healthcheck = lines.find((l) => l.startsWith('HEALTHCHECK '));
    expect(healthcheck).toMatch(/CMD \["node", "dist\/cli\/main\.js", "health"\]$/);
  });
});

describe('.env.example', () => {
  it("lists every variable src/config/config.ts reads, and the dashboard's", () => {
    // A guard against the check going vacuous if config.ts stops using read('…').
    expect(configVariables.length).toBeGreaterThanOrEqual(15);
    for (const name of [...configVariables, ...Object.values(DASHBOARD_ENV)]) {
      expect(envExample.has(name), `${name} is read by the tool but missing from .env.example`).toBe(true);
    }
  });

  it('lists nothing the tool or docker-compose.yml does not read', () => {
    const composeText = read('docker-compose.yml');
    const known = new Set<string>([...configVariables, ...Object.values(DASHBOARD_ENV)]);
    for (const name of envExample.keys()) {
      expect(
        known.has(name) || composeText.includes(`\${${name}`),
        `${name} is in .env.example but nothing reads it`,
      ).toBe(true);
    }
  });

  it('holds no secret, and only the real defaults', () => {
    for (const secret of [
      'ZOHO_CLIENT_ID',
      'ZOHO_CLIENT_SECRET',
      'ZOHO_REFRESH_TOKEN',
      'ZOHO_ACCESS_TOKEN',
      DASHBOARD_ENV.user,
      DASHBOARD_ENV.password,
    ]) {
      expect(envExample.get(secret), secret).toBe('');
    }
    for (const [name, fallback] of Object.entries(CONFIG_DEFAULTS)) {
      const value = envExample.get(name);
      if (value) expect(value, `${name} in .env.example differs from its default`).toBe(String(fallback));
    }
  });
});
