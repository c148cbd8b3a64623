import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_DEFAULTS, ConfigError, loadConfig } from '../../src/config/config.js';

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const config = loadConfig({}, '/work/here');
    expect(config.zoho).toMatchObject({
      dataCentre: 'us',
      accountsUrl: 'https://accounts.zoho.com',
      apiDomain: 'https://www.zohoapis.com',
      apiDomainOverridden: false,
      apiVersion: 'v2.1',
      requestTimeoutMs: 120_000,
    });
    expect(config.redis).toEqual({
      url: CONFIG_DEFAULTS.REDIS_URL,
      clusterNodes: undefined,
      sentinel: undefined,
      tlsCaFile: undefined,
      waitReplicas: 0,
    });
    expect(config.queue).toMatchObject({ name: 'zoho-attach', concurrency: 10, attempts: 8, backoffMs: 2000 });
    // ./files, never the working directory itself (it holds .env, .git and the manifests).
    expect(config.sources).toEqual({
      fileRoots: ['/work/here/files'],
      allowPrivateUrls: false,
      allowDotfiles: false,
      refuseHardLinks: false,
      urlDeadlineMs: undefined,
    });
    expect(Object.isFrozen(config.zoho)).toBe(true);
  });

  it('reads a Redis Cluster, a Sentinel set, TLS and the replica wait; a cluster queue name becomes a {hash tag}', () => {
    const cluster = loadConfig(
      { REDIS_CLUSTER_NODES: '10.0.0.1:6379, redis-b:7000,[::1]:7001', ZOHO_ATTACH_QUEUE: 'za' },
      '/w',
    );
    expect(cluster.redis.clusterNodes).toEqual([
      { host: '10.0.0.1', port: 6379 },
      { host: 'redis-b', port: 7000 },
      { host: '::1', port: 7001 },
    ]);
    expect(cluster.queue.name).toBe('{za}');
    expect(loadConfig({ REDIS_CLUSTER_NODES: 'a:1', ZOHO_ATTACH_QUEUE: 'x{tag}' }, '/w').queue.name).toBe('x{tag}');
    const sentinel = loadConfig(
      {
        REDIS_SENTINELS: 's1:26379,s2:26379',
        REDIS_SENTINEL_NAME: 'mymaster',
        REDIS_URL: 'rediss://:pw@ignored:1',
        REDIS_TLS_CA: 'ca.pem',
      },
      '/w',
    );
    expect(sentinel.redis).toMatchObject({
      sentinel: {
        nodes: [
          { host: 's1', port: 26379 },
          { host: 's2', port: 26379 },
        ],
        name: 'mymaster',
      },
      tlsCaFile: '/w/ca.pem',
      waitReplicas: 1,
    });
    expect(sentinel.queue.name).toBe('zoho-attach');
    expect(
      loadConfig({ REDIS_SENTINELS: 's1:26379', REDIS_SENTINEL_NAME: 'm', REDIS_WAIT_REPLICAS: '0' }, '/w').redis
        .waitReplicas,
    ).toBe(0);
  });

  it('works out the daily credits from ZOHO_DAILY_CREDITS, or from the edition and its users (contract §5)', () => {
    const credits = (env: Record<string, string>) => loadConfig(env, '/w').credits;
    expect(credits({})).toEqual({ daily: undefined, source: undefined });
    expect(credits({ ZOHO_DAILY_CREDITS: '12345', ZOHO_EDITION: 'free' })).toEqual({
      daily: 12_345,
      source: 'ZOHO_DAILY_CREDITS',
    });
    expect(credits({ ZOHO_EDITION: 'Free' }).daily).toBe(5_000);
    expect(credits({ ZOHO_EDITION: 'standard', ZOHO_USERS: '10' })).toEqual({
      daily: 52_500,
      source: 'ZOHO_EDITION=standard, ZOHO_USERS=10',
    });
    expect(credits({ ZOHO_EDITION: 'standard', ZOHO_USERS: '1000' }).daily).toBe(100_000);
    expect(credits({ ZOHO_EDITION: 'professional', ZOHO_USERS: '20' }).daily).toBe(60_000);
    expect(credits({ ZOHO_EDITION: 'enterprise', ZOHO_USERS: '20' }).daily).toBe(70_000);
    expect(credits({ ZOHO_EDITION: 'ultimate', ZOHO_USERS: '20' }).daily).toBe(90_000);
    expect(() => loadConfig({ ZOHO_EDITION: 'gold' }, '/w')).toThrow(
      /ZOHO_EDITION: "gold" is not one of free\|standard/,
    );
    expect(() => loadConfig({ ZOHO_USERS: '5' }, '/w')).toThrow(/ZOHO_USERS: set, but ZOHO_EDITION is not/);
  });

  it('names each Redis setting that is wrong', () => {
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig(env, '/w');
        return [];
      } catch (error) {
        return (error as ConfigError).problems;
      }
    };
    expect(problems({ REDIS_CLUSTER_NODES: 'a:1,b' })).toEqual(['REDIS_CLUSTER_NODES: "b" is not host:port']);
    expect(problems({ REDIS_SENTINELS: 'a:1' })).toEqual([expect.stringMatching(/^REDIS_SENTINEL_NAME: missing/)]);
    expect(problems({ REDIS_SENTINEL_NAME: 'm' })).toEqual([expect.stringMatching(/^REDIS_SENTINELS: missing/)]);
    expect(problems({ REDIS_SENTINELS: 'a:1', REDIS_SENTINEL_NAME: 'm', REDIS_CLUSTER_NODES: 'b:2' })).toEqual([
      expect.stringMatching(/^REDIS_CLUSTER_NODES and REDIS_SENTINELS: set one or the other/),
    ]);
    expect(problems({ REDIS_TLS_CA: 'ca.pem' })).toEqual([
      expect.stringMatching(/^REDIS_TLS_CA: set, but REDIS_URL does not start with rediss:\/\//),
    ]);
    // On a cluster the posting lease waits for the replicas of the master that holds the queue.
    expect(problems({ REDIS_CLUSTER_NODES: 'a:1', REDIS_WAIT_REPLICAS: '1' })).toEqual([]);
  });

  it.each([
    ['eu', 'https://accounts.zoho.eu', 'https://www.zohoapis.eu'],
    ['au', 'https://accounts.zoho.com.au', 'https://www.zohoapis.com.au'],
    ['ca', 'https://accounts.zohocloud.ca', 'https://www.zohoapis.ca'],
    ['CN', 'https://accounts.zoho.com.cn', 'https://www.zohoapis.com.cn'],
  ])('ZOHO_DC=%s picks the data centre endpoints', (dc, accountsUrl, apiDomain) => {
    expect(loadConfig({ ZOHO_DC: dc }).zoho).toMatchObject({ accountsUrl, apiDomain });
  });

  it('explicit endpoints override the data centre, and an API domain override is marked as such', () => {
    const config = loadConfig({
      ZOHO_DC: 'eu',
      ZOHO_ACCOUNTS_URL: 'http://127.0.0.1:9/',
      ZOHO_API_DOMAIN: 'http://127.0.0.1:8',
    });
    expect(config.zoho).toMatchObject({
      accountsUrl: 'http://127.0.0.1:9',
      apiDomain: 'http://127.0.0.1:8',
      apiDomainOverridden: true,
    });
  });

  it('resolves file roots against the working directory', () => {
    const config = loadConfig({ ZOHO_ATTACH_FILE_ROOTS: 'data:/srv/files' }, '/work');
    expect(config.sources.fileRoots).toEqual([path.resolve('/work/data'), '/srv/files']);
  });

  it('reads booleans and numbers', () => {
    const config = loadConfig({
      ZOHO_ATTACH_ALLOW_PRIVATE_URLS: 'yes',
      ZOHO_CONCURRENCY: '25',
      ZOHO_ATTACH_QUEUE: '{migration}',
    });
    expect(config.sources.allowPrivateUrls).toBe(true);
    expect(config.queue.concurrency).toBe(25);
    expect(config.queue.name).toBe('{migration}');
  });

  it('reports every problem at once, each naming its variable', () => {
    let error: unknown;
    try {
      loadConfig({
        ZOHO_DC: 'mars',
        ZOHO_API_DOMAIN: 'ftp://x',
        ZOHO_API_VERSION: '2.1',
        ZOHO_CLIENT_ID: 'id-only',
        ZOHO_CONCURRENCY: '0',
        ZOHO_ATTACH_QUEUE: 'a:b',
        ZOHO_ATTACH_ALLOW_PRIVATE_URLS: 'maybe',
        REDIS_URL: 'localhost:6379',
        LOG_LEVEL: 'loud',
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems.join('\n');
    for (const name of [
      'ZOHO_DC',
      'ZOHO_API_DOMAIN',
      'ZOHO_API_VERSION',
      'ZOHO_CLIENT_SECRET',
      'ZOHO_REFRESH_TOKEN',
      'ZOHO_CONCURRENCY',
      'ZOHO_ATTACH_QUEUE',
      'ZOHO_ATTACH_ALLOW_PRIVATE_URLS',
      'REDIS_URL',
      'LOG_LEVEL',
    ]) {
      expect(problems).toContain(name);
    }
    expect((error as ConfigError).problems).toHaveLength(9);
  });

  it('never puts a secret into its error messages', () => {
    expect(() => loadConfig({ ZOHO_CLIENT_SECRET: 'super-secret-value', ZOHO_DC: 'nope' })).toThrow(ConfigError);
    try {
      loadConfig({ ZOHO_CLIENT_SECRET: 'super-secret-value', ZOHO_DC: 'nope' });
    } catch (error) {
      expect((error as Error).message).not.toContain('super-secret-value');
    }
  });
});
