/**
 * Configuration is read here, once, from the environment, validated, and passed down
 * typed and frozen. Nothing below `config/` reads `process.env`.
 */
import path from 'node:path';
import { ZohoAttachError } from '../shared/errors.js';
import { redactUrl } from '../shared/redact.js';
import { parseRunWindows, type RunWindow } from './run-windows.js';

/** Zoho data centres and their endpoints (contract §4). */
export const DATA_CENTRES = {
  us: { accountsUrl: 'https://accounts.zoho.com', apiDomain: 'https://www.zohoapis.com' },
  eu: { accountsUrl: 'https://accounts.zoho.eu', apiDomain: 'https://www.zohoapis.eu' },
  in: { accountsUrl: 'https://accounts.zoho.in', apiDomain: 'https://www.zohoapis.in' },
  au: { accountsUrl: 'https://accounts.zoho.com.au', apiDomain: 'https://www.zohoapis.com.au' },
  cn: { accountsUrl: 'https://accounts.zoho.com.cn', apiDomain: 'https://www.zohoapis.com.cn' },
  jp: { accountsUrl: 'https://accounts.zoho.jp', apiDomain: 'https://www.zohoapis.jp' },
  ca: { accountsUrl: 'https://accounts.zohocloud.ca', apiDomain: 'https://www.zohoapis.ca' },
  sa: { accountsUrl: 'https://accounts.zoho.sa', apiDomain: 'https://www.zohoapis.sa' },
} as const;

/** A Zoho data centre name. */
export type DataCentre = keyof typeof DATA_CENTRES;

/** How to reach and authenticate with Zoho. */
export interface ZohoConfig {
  dataCentre: DataCentre;
  accountsUrl: string;
  apiDomain: string;
  /**
   * True when `ZOHO_API_DOMAIN` was set: then it wins over the `api_domain` a token
   * refresh returns; otherwise the token's `api_domain` wins.
   */
  apiDomainOverridden: boolean;
  apiVersion: string;
  clientId: string | undefined;
  clientSecret: string | undefined;
  refreshToken: string | undefined;
  /** A fixed access token, used instead of refreshing. */
  accessToken: string | undefined;
  requestTimeoutMs: number;
}

/** How the queue and workers behave. */
export interface QueueConfig {
  /** Queue name; also the prefix of every key the tool writes. May be a `{hash-tag}`. */
  name: string;
  /** Uploads in flight across every worker process (where no run window says otherwise). */
  concurrency: number;
  /** `ZOHO_ATTACH_WINDOWS`: the uploads in flight by local time (see run-windows.ts); undefined: always `concurrency`. */
  windows?: RunWindow[] | undefined;
  /**
   * Rows kept as BullMQ jobs (waiting or running) at a time, all workers together; the rest wait
   * in the compact backlog until a slot frees (see queue/backlog-feeder.ts).
   */
  feedWindow: number;
  /** Attempts per row for transient failures before it is dead-lettered. */
  attempts: number;
  /** Base of the exponential backoff between attempts, in ms. */
  backoffMs: number;
  /**
   * How long a worker's hold on a job lasts without renewal. A worker killed mid-upload
   * loses its hold after this long, and its job is recovered by another worker.
   */
  lockDurationMs: number;
  /** On SIGTERM/SIGINT, how long a worker waits for in-flight uploads before it gives up. */
  shutdownTimeoutMs: number;
  /** Below this many Zoho API credits left, uploads are spaced out. */
  creditsReserve: number;
  /** `ZOHO_ATTACH_CREDIT_BUDGET`: the most API credits a batch spends in any 24 hours; undefined: no budget. */
  creditBudget?: number | undefined;
  /** Pause of every worker after a 429; it doubles while 429s keep coming (up to a minute). */
  rateLimitPauseMs: number;
  /**
   * How long after an ambiguous row's success the record is listed again to find and delete
   * copies that Zoho stored late (after the client gave up) or listed late.
   */
  settleMs: number;
  /** How far Zoho's clock may be behind ours when a `Created_Time` is compared with an attempt's start. */
  clockSkewMs: number;
}

/** Where workers may read from. */
export interface SourcesConfig {
  /** Absolute, resolved folders that local files must lie under. */
  fileRoots: string[];
  /** Lets URL sources reach loopback, private and link-local addresses. */
  allowPrivateUrls: boolean;
  /** Lets local files be dotfiles or lie in dot-directories below a root (`.env`, `.git/config`). */
  allowDotfiles: boolean;
  /** Refuses local files with more than one hard link (a link inside a root to a file elsewhere). */
  refuseHardLinks: boolean;
  /** The longest a URL download may take in all (`ZOHO_ATTACH_URL_DEADLINE_MS`); undefined: derived from the 100 MB cap. */
  urlDeadlineMs: number | undefined;
}

/** A Redis node's address. */
export interface RedisNode {
  host: string;
  port: number;
}

/** Where Redis is: one server, a Redis Cluster, or a primary that Sentinel watches. */
export interface RedisConfig {
  /**
   * `REDIS_URL`: the server; with a cluster or Sentinel, it still gives the user, password,
   * database and TLS (`rediss://`) for every node it leads to.
   */
  url: string;
  /** `REDIS_CLUSTER_NODES` (`host:port,host:port,…`): seed nodes of a Redis Cluster. */
  clusterNodes?: RedisNode[] | undefined;
  /** `REDIS_SENTINELS` (`host:port,…`) and `REDIS_SENTINEL_NAME`: the Sentinels, and the name of the primary they watch. */
  sentinel?: { nodes: RedisNode[]; name: string } | undefined;
  /** `REDIS_TLS_CA`: a PEM file with the certificate authority that signed the servers' certificates (a private CA). */
  tlsCaFile?: string | undefined;
  /**
   * `REDIS_WAIT_REPLICAS`: replicas that must hold a posting lease before the upload it guards
   * is sent (Redis `WAIT`). A primary that fails over loses what it had not yet passed on; a lost
   * lease would let the row be posted again without looking first.
   * @defaultValue 1 with Sentinel, else 0
   */
  waitReplicas: number;
}

/** Zoho CRM editions, with their daily API credits (contract §5): a base, plus so many per user, up to a cap. */
export const EDITION_CREDITS = {
  free: { base: 5_000, perUser: 0, max: 5_000 },
  standard: { base: 50_000, perUser: 250, max: 100_000 },
  professional: { base: 50_000, perUser: 500, max: Infinity },
  enterprise: { base: 50_000, perUser: 1_000, max: Infinity },
  ultimate: { base: 50_000, perUser: 2_000, max: Infinity },
} as const;

/** One of {@link EDITION_CREDITS}' editions. */
export type Edition = keyof typeof EDITION_CREDITS;

/** What the org may spend in a rolling 24 hours, for `zoho-attach plan`. */
export interface CreditsConfig {
  /** `ZOHO_DAILY_CREDITS`, or derived from `ZOHO_EDITION` and `ZOHO_USERS`; undefined when none is set. */
  daily: number | undefined;
  /** Where `daily` came from, for the plan to say. */
  source: string | undefined;
}

/** Everything the tool reads from the environment. */
export interface Config {
  zoho: ZohoConfig;
  credits: CreditsConfig;
  redis: RedisConfig;
  queue: QueueConfig;
  sources: SourcesConfig;
  logLevel: string;
}

/** Every configuration problem found, each naming its variable. */
export class ConfigError extends ZohoAttachError {
  override name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super('CONFIG_INVALID', `${problems.length} configuration problem(s):\n  - ${problems.join('\n  - ')}`);
  }
}

/** The variables this tool reads, with their defaults: the README's table is written from this. */
export const CONFIG_DEFAULTS = {
  ZOHO_DC: 'us',
  ZOHO_API_VERSION: 'v2.1',
  ZOHO_REQUEST_TIMEOUT_MS: 120_000,
  REDIS_URL: 'redis://127.0.0.1:6379',
  ZOHO_CONCURRENCY: 10,
  ZOHO_ATTACH_QUEUE: 'zoho-attach',
  ZOHO_ATTACH_ATTEMPTS: 8,
  ZOHO_ATTACH_BACKOFF_MS: 2_000,
  ZOHO_ATTACH_LOCK_DURATION_MS: 30_000,
  ZOHO_ATTACH_SHUTDOWN_TIMEOUT_MS: 60_000,
  ZOHO_ATTACH_CREDITS_RESERVE: 1_000,
  ZOHO_ATTACH_RATE_LIMIT_PAUSE_MS: 1_000,
  ZOHO_ATTACH_SETTLE_MS: 120_000,
  ZOHO_ATTACH_CLOCK_SKEW_MS: 30_000,
  ZOHO_ATTACH_ALLOW_PRIVATE_URLS: false,
  ZOHO_ATTACH_FILE_ROOTS: './files',
  ZOHO_ATTACH_ALLOW_DOTFILES: false,
  ZOHO_ATTACH_REFUSE_HARD_LINKS: false,
  LOG_LEVEL: 'info',
} as const;

type Env = Record<string, string | undefined>;

/**
 * Reads and validates the configuration.
 * @param env usually `process.env`
 * @param cwd the folder `ZOHO_ATTACH_FILE_ROOTS` defaults to and relative roots resolve against
 * @throws {ConfigError} listing every problem at once
 */
export function loadConfig(env: Env, cwd: string = process.cwd()): Config {
  const problems: string[] = [];
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === undefined || value === '' ? undefined : value;
  };

  const dcRaw = (read('ZOHO_DC') ?? CONFIG_DEFAULTS.ZOHO_DC).toLowerCase();
  let dataCentre: DataCentre = 'us';
  if (dcRaw in DATA_CENTRES) dataCentre = dcRaw as DataCentre;
  else problems.push(`ZOHO_DC: "${dcRaw}" is not a data centre; use one of ${Object.keys(DATA_CENTRES).join('|')}`);

  const accountsUrl =
    readUrl('ZOHO_ACCOUNTS_URL', read('ZOHO_ACCOUNTS_URL'), problems) ?? DATA_CENTRES[dataCentre].accountsUrl;
  const apiDomainOverride = readUrl('ZOHO_API_DOMAIN', read('ZOHO_API_DOMAIN'), problems);

  const apiVersion = read('ZOHO_API_VERSION') ?? CONFIG_DEFAULTS.ZOHO_API_VERSION;
  if (!/^v\d+(\.\d+)?$/.test(apiVersion))
    problems.push(`ZOHO_API_VERSION: "${apiVersion}" is not a version like v2.1 or v8`);

  const clientId = read('ZOHO_CLIENT_ID');
  const clientSecret = read('ZOHO_CLIENT_SECRET');
  const refreshToken = read('ZOHO_REFRESH_TOKEN');
  const accessToken = read('ZOHO_ACCESS_TOKEN');
  const refreshParts = { ZOHO_CLIENT_ID: clientId, ZOHO_CLIENT_SECRET: clientSecret, ZOHO_REFRESH_TOKEN: refreshToken };
  const given = Object.entries(refreshParts).filter(([, v]) => v !== undefined);
  if (given.length > 0 && given.length < 3) {
    const missing = Object.entries(refreshParts)
      .filter(([, v]) => v === undefined)
      .map(([k]) => k);
    problems.push(
      `${missing.join(', ')}: missing; a refresh needs ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET and ZOHO_REFRESH_TOKEN together`,
    );
  }

  const requestTimeoutMs = readInt(
    'ZOHO_REQUEST_TIMEOUT_MS',
    read('ZOHO_REQUEST_TIMEOUT_MS'),
    CONFIG_DEFAULTS.ZOHO_REQUEST_TIMEOUT_MS,
    1,
    3_600_000,
    problems,
  );

  const redisUrl = read('REDIS_URL') ?? CONFIG_DEFAULTS.REDIS_URL;
  if (!/^rediss?:\/\//.test(redisUrl))
    problems.push(`REDIS_URL: "${redactUrl(redisUrl)}" must start with redis:// or rediss://`);
  const clusterNodes = readNodes('REDIS_CLUSTER_NODES', read('REDIS_CLUSTER_NODES'), problems);
  const sentinelNodes = readNodes('REDIS_SENTINELS', read('REDIS_SENTINELS'), problems);
  const sentinelName = read('REDIS_SENTINEL_NAME');
  if (sentinelNodes !== undefined && sentinelName === undefined)
    problems.push('REDIS_SENTINEL_NAME: missing; with REDIS_SENTINELS it names the primary the Sentinels watch');
  if (sentinelNodes === undefined && sentinelName !== undefined)
    problems.push('REDIS_SENTINELS: missing; REDIS_SENTINEL_NAME needs the Sentinels (host:port,…)');
  if (clusterNodes !== undefined && sentinelNodes !== undefined)
    problems.push('REDIS_CLUSTER_NODES and REDIS_SENTINELS: set one or the other (a cluster fails over by itself)');
  const waitReplicas = readInt(
    'REDIS_WAIT_REPLICAS',
    read('REDIS_WAIT_REPLICAS'),
    sentinelNodes === undefined ? 0 : 1,
    0,
    100,
    problems,
  );
  const tlsCaFile = read('REDIS_TLS_CA');
  if (tlsCaFile !== undefined && !redisUrl.startsWith('rediss://'))
    problems.push('REDIS_TLS_CA: set, but REDIS_URL does not start with rediss:// (TLS)');

  const queueNameRead = read('ZOHO_ATTACH_QUEUE') ?? CONFIG_DEFAULTS.ZOHO_ATTACH_QUEUE;
  // In a cluster, every key of the tool (BullMQ's and the ledger's) must hash to one slot, so that
  // every script's keys live on one node: the queue name, the prefix of every key, is a {hash tag}.
  const queueName =
    clusterNodes !== undefined && !/\{[^}]+\}/.test(queueNameRead) ? `{${queueNameRead}}` : queueNameRead;
  // BullMQ joins key parts with ':'; a name containing one would collide with its own keys.
  if (!/^[A-Za-z0-9_.{}-]+$/.test(queueName)) {
    problems.push(`ZOHO_ATTACH_QUEUE: "${queueName}" may hold only letters, digits, _ . - and a {hash-tag}`);
  }
  const concurrency = readInt(
    'ZOHO_CONCURRENCY',
    read('ZOHO_CONCURRENCY'),
    CONFIG_DEFAULTS.ZOHO_CONCURRENCY,
    1,
    1000,
    problems,
  );
  const budgetText = read('ZOHO_ATTACH_CREDIT_BUDGET');
  const creditBudget =
    budgetText === undefined
      ? undefined
      : readInt('ZOHO_ATTACH_CREDIT_BUDGET', budgetText, 0, 1, 100_000_000, problems);
  const windowsText = read('ZOHO_ATTACH_WINDOWS');
  let windows: RunWindow[] | undefined;
  if (windowsText !== undefined) {
    const parsed = parseRunWindows(windowsText);
    problems.push(...parsed.problems.map((problem) => `ZOHO_ATTACH_WINDOWS: ${problem}`));
    windows = parsed.windows;
  }
  // Four jobs per slot: each finished job has three more ready behind it while the feeders refill.
  const feedWindow = readInt(
    'ZOHO_ATTACH_FEED_WINDOW',
    read('ZOHO_ATTACH_FEED_WINDOW'),
    4 * concurrency,
    1,
    100_000,
    problems,
  );
  const attempts = readInt(
    'ZOHO_ATTACH_ATTEMPTS',
    read('ZOHO_ATTACH_ATTEMPTS'),
    CONFIG_DEFAULTS.ZOHO_ATTACH_ATTEMPTS,
    1,
    100,
    problems,
  );
  const backoffMs = readInt(
    'ZOHO_ATTACH_BACKOFF_MS',
    read('ZOHO_ATTACH_BACKOFF_MS'),
    CONFIG_DEFAULTS.ZOHO_ATTACH_BACKOFF_MS,
    0,
    3_600_000,
    problems,
  );
  const lockDurationMs = readInt(
    'ZOHO_ATTACH_LOCK_DURATION_MS',
    read('ZOHO_ATTACH_LOCK_DURATION_MS'),
    CONFIG_DEFAULTS.ZOHO_ATTACH_LOCK_DURATION_MS,
    1_000,
    3_600_000,
    problems,
  );
  const shutdownTimeoutMs = readInt(
    'ZOHO_ATTACH_SHUTDOWN_TIMEOUT_MS',
    read('ZOHO_ATTACH_SHUTDOWN_TIMEOUT_MS'),
    CONFIG_DEFAULTS.ZOHO_ATTACH_SHUTDOWN_TIMEOUT_MS,
    0,
    3_600_000,
    problems,
  );
  const rateLimitPauseMs = readInt(
    'ZOHO_ATTACH_RATE_LIMIT_PAUSE_MS',
    read('ZOHO_ATTACH_RATE_LIMIT_PAUSE_MS'),
    CONFIG_DEFAULTS.ZOHO_ATTACH_RATE_LIMIT_PAUSE_MS,
    1,
    60_000,
    problems,
  );
  const urlDeadlineRaw = read('ZOHO_ATTACH_URL_DEADLINE_MS');
  const urlDeadlineMs =
    urlDeadlineRaw === undefined
      ? undefined
      : readInt('ZOHO_ATTACH_URL_DEADLINE_MS', urlDeadlineRaw, 0, 1_000, 86_400_000, problems);
  const settleMs = readInt(
    'ZOHO_ATTACH_SETTLE_MS',
    read('ZOHO_ATTACH_SETTLE_MS'),
    CONFIG_DEFAULTS.ZOHO_ATTACH_SETTLE_MS,
    0,
    86_400_000,
    problems,
  );
  const clockSkewMs = readInt(
    'ZOHO_ATTACH_CLOCK_SKEW_MS',
    read('ZOHO_ATTACH_CLOCK_SKEW_MS'),
    CONFIG_DEFAULTS.ZOHO_ATTACH_CLOCK_SKEW_MS,
    0,
    3_600_000,
    problems,
  );
  const creditsReserve = readInt(
    'ZOHO_ATTACH_CREDITS_RESERVE',
    read('ZOHO_ATTACH_CREDITS_RESERVE'),
    CONFIG_DEFAULTS.ZOHO_ATTACH_CREDITS_RESERVE,
    0,
    10_000_000,
    problems,
  );

  const rootsRaw = read('ZOHO_ATTACH_FILE_ROOTS');
  // No roots configured: ./files, never the working directory (it holds .env, .git and the manifests).
  const fileRoots = (
    rootsRaw ? rootsRaw.split(':').filter((r) => r.length > 0) : [CONFIG_DEFAULTS.ZOHO_ATTACH_FILE_ROOTS]
  ).map((r) => path.resolve(cwd, r));
  if (rootsRaw !== undefined && fileRoots.length === 0) problems.push('ZOHO_ATTACH_FILE_ROOTS: names no folder');
  const allowPrivateUrls = readBool(
    'ZOHO_ATTACH_ALLOW_PRIVATE_URLS',
    read('ZOHO_ATTACH_ALLOW_PRIVATE_URLS'),
    CONFIG_DEFAULTS.ZOHO_ATTACH_ALLOW_PRIVATE_URLS,
    problems,
  );
  const allowDotfiles = readBool(
    'ZOHO_ATTACH_ALLOW_DOTFILES',
    read('ZOHO_ATTACH_ALLOW_DOTFILES'),
    CONFIG_DEFAULTS.ZOHO_ATTACH_ALLOW_DOTFILES,
    problems,
  );
  const refuseHardLinks = readBool(
    'ZOHO_ATTACH_REFUSE_HARD_LINKS',
    read('ZOHO_ATTACH_REFUSE_HARD_LINKS'),
    CONFIG_DEFAULTS.ZOHO_ATTACH_REFUSE_HARD_LINKS,
    problems,
  );

  const credits = readCredits(read('ZOHO_DAILY_CREDITS'), read('ZOHO_EDITION'), read('ZOHO_USERS'), problems);

  const logLevel = (read('LOG_LEVEL') ?? CONFIG_DEFAULTS.LOG_LEVEL).toLowerCase();
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    problems.push(`LOG_LEVEL: "${logLevel}" is not one of fatal|error|warn|info|debug|trace|silent`);
  }

  if (problems.length > 0) throw new ConfigError(problems);

  return deepFreeze({
    zoho: {
      dataCentre,
      accountsUrl: stripSlash(accountsUrl),
      apiDomain: stripSlash(apiDomainOverride ?? DATA_CENTRES[dataCentre].apiDomain),
      apiDomainOverridden: apiDomainOverride !== undefined,
      apiVersion,
      clientId,
      clientSecret,
      refreshToken,
      accessToken,
      requestTimeoutMs,
    },
    credits,
    redis: {
      url: redisUrl,
      clusterNodes,
      sentinel:
        sentinelNodes === undefined || sentinelName === undefined
          ? undefined
          : { nodes: sentinelNodes, name: sentinelName },
      tlsCaFile: tlsCaFile === undefined ? undefined : path.resolve(cwd, tlsCaFile),
      waitReplicas,
    },
    queue: {
      name: queueName,
      concurrency,
      windows,
      feedWindow,
      attempts,
      backoffMs,
      lockDurationMs,
      shutdownTimeoutMs,
      creditsReserve,
      creditBudget,
      rateLimitPauseMs,
      settleMs,
      clockSkewMs,
    },
    sources: { fileRoots, allowPrivateUrls, allowDotfiles, refuseHardLinks, urlDeadlineMs },
    logLevel,
  });
}

function readUrl(name: string, value: string | undefined, problems: string[]): string | undefined {
  if (value === undefined) return undefined;
  try {
    const url = new URL(value);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('protocol');
    return value;
  } catch {
    problems.push(`${name}: "${redactUrl(value)}" is not an http(s) URL`);
    return undefined;
  }
}

/** Daily credits: `ZOHO_DAILY_CREDITS` as given, else the edition's base plus its per-user share (contract §5). */
function readCredits(
  dailyRaw: string | undefined,
  editionRaw: string | undefined,
  usersRaw: string | undefined,
  problems: string[],
): CreditsConfig {
  if (dailyRaw !== undefined) {
    const daily = readInt('ZOHO_DAILY_CREDITS', dailyRaw, 0, 1, 100_000_000, problems);
    return { daily, source: 'ZOHO_DAILY_CREDITS' };
  }
  if (editionRaw === undefined) {
    if (usersRaw !== undefined)
      problems.push('ZOHO_USERS: set, but ZOHO_EDITION is not (free|standard|professional|enterprise|ultimate)');
    return { daily: undefined, source: undefined };
  }
  const edition = editionRaw.toLowerCase();
  if (!(edition in EDITION_CREDITS)) {
    problems.push(`ZOHO_EDITION: "${editionRaw}" is not one of ${Object.keys(EDITION_CREDITS).join('|')}`);
    return { daily: undefined, source: undefined };
  }
  const users = usersRaw === undefined ? 0 : readInt('ZOHO_USERS', usersRaw, 0, 0, 1_000_000, problems);
  const { base, perUser, max } = EDITION_CREDITS[edition as Edition];
  return {
    daily: Math.min(base + perUser * users, max),
    source: `ZOHO_EDITION=${edition}${usersRaw === undefined ? '' : `, ZOHO_USERS=${users}`}`,
  };
}

/** `host:port,host:port` → nodes; undefined when unset. */
function readNodes(name: string, value: string | undefined, problems: string[]): RedisNode[] | undefined {
  if (value === undefined) return undefined;
  const nodes: RedisNode[] = [];
  for (const part of value
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')) {
    const match = /^(\[[0-9a-fA-F:]+\]|[^:\s]+):(\d{1,5})$/.exec(part);
    const port = match ? Number(match[2]) : NaN;
    if (!match || port < 1 || port > 65535) {
      problems.push(`${name}: "${part}" is not host:port`);
      continue;
    }
    nodes.push({ host: (match[1] as string).replace(/^\[|\]$/g, ''), port });
  }
  if (nodes.length === 0 && !problems.some((p) => p.startsWith(name)))
    problems.push(`${name}: names no node (host:port,host:port,…)`);
  return nodes;
}

function readInt(
  name: string,
  value: string | undefined,
  fallback: number,
  min: number,
  max: number,
  problems: string[],
): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) {
    problems.push(`${name}: "${value}" must be a whole number from ${min} to ${max}`);
    return fallback;
  }
  return Number(value);
}

function readBool(name: string, value: string | undefined, fallback: boolean, problems: string[]): boolean {
  if (value === undefined) return fallback;
  const v = value.toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  problems.push(`${name}: "${value}" must be true or false`);
  return fallback;
}

function stripSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
