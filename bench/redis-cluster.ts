/**
 * A private 3-master Redis Cluster on loopback (no Docker): `redis-server --cluster-enabled yes`
 * nodes joined by `redis-cli --cluster create`, masters only or with replicas. Its keys are its own: stop() kills
 * the servers and removes their folders. The tests run the pipeline on it, and the chaos run
 * (`npm run chaos -- --cluster`) its whole scenario.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { startPrivateRedis, type PrivateRedis } from '../src/demo/private-redis.js';

const run = promisify(execFile);

/** A running cluster. */
export interface RedisCluster {
  /** `127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3`, as REDIS_CLUSTER_NODES takes it. */
  nodesList: string;
  nodes: PrivateRedis[];
  stop(): Promise<void>;
}

/** A node of `cluster` and the hash slot it serves `key` from. */
export async function nodeHolding(cluster: RedisCluster, key: string): Promise<PrivateRedis> {
  const any = new Redis({ port: cluster.nodes[0]!.port, host: '127.0.0.1', lazyConnect: true });
  try {
    await any.connect();
    const slot = Number(await any.cluster('KEYSLOT', key));
    const range = (await any.cluster('SLOTS')).find(([from, to]) => slot >= from && slot <= to);
    const node = cluster.nodes.find((n) => n.port === range?.[2]?.[1]);
    if (!node) throw new Error(`no node of the cluster serves slot ${slot}`);
    return node;
  } finally {
    any.disconnect();
  }
}

/**
 * The nodes of `cluster` that replicate `master`, from the master's own `INFO replication` (its
 * replication links): its `CLUSTER NODES` can still show a new replica as a master until gossip
 * catches up.
 */
export async function replicasOf(cluster: RedisCluster, master: PrivateRedis): Promise<PrivateRedis[]> {
  const client = new Redis({ port: master.port, host: '127.0.0.1', lazyConnect: true });
  try {
    await client.connect();
    const replication = await client.info('replication');
    const ports = [...replication.matchAll(/^slave\d+:.*\bport=(\d+)/gm)].map((m) => Number(m[1]));
    return cluster.nodes.filter((node) => ports.includes(node.port));
  } finally {
    client.disconnect();
  }
}

/**
 * Starts the cluster and waits until every node reports `cluster_state:ok`. With `appendOnly`,
 * every node fsyncs each write (a node killed and restarted keeps what it acknowledged).
 */
export async function startRedisCluster(
  options: { appendOnly?: boolean; replicasPerMaster?: number } = {},
): Promise<RedisCluster> {
  const replicas = options.replicasPerMaster ?? 0;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'za-redis-cluster-'));
  const nodes: PrivateRedis[] = [];
  try {
    for (const port of await clusterPorts(3 * (1 + replicas))) {
      const nodeDir = path.join(dir, String(port));
      await mkdir(nodeDir);
      nodes.push(
        await startPrivateRedis({
          port,
          dir: nodeDir,
          ...(options.appendOnly ? { appendOnly: true, appendFsync: 'always' as const } : {}),
          extraArgs: [
            '--cluster-enabled',
            'yes',
            '--cluster-config-file',
            `nodes-${port}.conf`,
            '--cluster-node-timeout',
            '2000',
          ],
        }),
      );
    }
    const addresses = nodes.map((node) => `127.0.0.1:${node.port}`);
    await run(
      'redis-cli',
      ['--cluster', 'create', ...addresses, '--cluster-replicas', String(replicas), '--cluster-yes'],
      { timeout: 30_000 },
    );
    for (const node of nodes) await waitForClusterOk(node.port, replicas);
    return {
      nodesList: addresses.join(','),
      nodes,
      async stop() {
        await Promise.all(nodes.map((node) => node.kill()));
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await Promise.all(nodes.map((node) => node.kill()));
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** `count` ports that are free, each with its cluster bus port (+10000) free too. */
async function clusterPorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  while (ports.length < count) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    if (ports.includes(port) || ports.includes(port + 10_000) || ports.includes(port - 10_000)) continue;
    if ((await isFree(port)) && (await isFree(port + 10_000))) ports.push(port);
  }
  return ports;
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** Waits for `cluster_state:ok` and, on a master, for its `replicas` to be connected. */
async function waitForClusterOk(port: number, replicas = 0): Promise<void> {
  const redis = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    for (let i = 0; i < 400; i++) {
      const replication = await redis.info('replication');
      const connected = Number(/connected_slaves:(\d+)/.exec(replication)?.[1] ?? 0);
      const ready = !replication.includes('role:master') || connected >= replicas;
      if (ready && String(await redis.cluster('INFO')).includes('cluster_state:ok')) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`the cluster node on port ${port} never reported cluster_state:ok with its replicas`);
  } finally {
    redis.disconnect();
  }
}
