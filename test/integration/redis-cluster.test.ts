/**
 * zoho-attach on a Redis Cluster: a private 3-node cluster on loopback, the CLI as a user runs
 * it with REDIS_CLUSTER_NODES, and the fake Zoho. Every key lands in one slot (the queue name's
 * hash tag), so BullMQ's scripts and the ledger's run on one node.
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createPipelineWorld, parseCsv, runCli, spawnCli, collect, type PipelineWorld } from '../helpers/pipeline.js';
import { nodeHolding, replicasOf, startRedisCluster, type RedisCluster } from '../../bench/redis-cluster.js';
import { loadConfig } from '../../src/config/config.js';
import { createWorkerConnection } from '../../src/queue/connections.js';

let world: PipelineWorld | undefined;
let cluster: RedisCluster | undefined;
afterEach(async () => {
  await world?.cleanup();
  await cluster?.stop();
  [world, cluster] = [undefined, undefined];
});

describe('on a Redis Cluster', () => {
  it('enqueues, uploads every row exactly once with two worker processes, and reports, with every key in one slot', async () => {
    cluster = await startRedisCluster();
    world = await createPipelineWorld({
      env: { REDIS_CLUSTER_NODES: cluster.nodesList, REDIS_URL: `redis://127.0.0.1:${cluster.nodes[0]!.port}` },
    });
    const lines = ['module,record_id,file,link_url'];
    for (let i = 1; i <= 30; i++) {
      await world.writeFile(`f${i}.txt`, `file ${i}`);
      lines.push(`Leads,${i},f${i}.txt,`);
    }
    lines.push('Leads,99,,https://example.com/wiki', 'Widgets,100,f1.txt,');
    const manifest = await world.writeFile('m.csv', lines.join('\n'));
    world.fake.faults.add({ match: { path: 'upload' }, kind: 'error500', times: 3 });

    expect((await runCli(['enqueue', manifest, '--batch', 'clustered'], world.env, world.dir)).code).toBe(0);
    const workers = [
      spawnCli(['worker', '--until-idle'], world.env, world.dir),
      spawnCli(['worker', '--until-idle'], world.env, world.dir),
    ];
    for (const exit of await Promise.all(workers.map((w) => collect(w, 60_000))))
      expect(exit.code, exit.stderr).toBe(0);

    const status = JSON.parse(
      (await runCli(['status', '--batch', 'clustered', '--json'], world.env, world.dir)).stdout,
    );
    expect(status.batches[0]).toMatchObject({ uploaded: 31, dead: 1, pending: 0 });
    const stored = world.fake.inspect().attachments;
    expect(stored).toHaveLength(31);
    expect(new Set(stored.map((a) => `${a.recordId}`)).size).toBe(31);
    const report = parseCsv((await runCli(['report', '--batch', 'clustered'], world.env, world.dir)).stdout);
    expect(
      report
        .filter((r) => r.status === 'uploaded')
        .map((r) => r.attachment_id)
        .sort(),
    ).toEqual(stored.map((a) => a.id).sort());
    expect((await runCli(['dlq', 'list', '--json'], world.env, world.dir)).stdout).toContain('INVALID_MODULE');

    // Every key the run wrote is on one node, under the queue name's hash tag.
    const keysByNode = await Promise.all(
      cluster.nodes.map(async (node) => {
        const redis = new Redis({ host: '127.0.0.1', port: node.port, lazyConnect: true });
        try {
          await redis.connect();
          return await redis.keys('*');
        } finally {
          redis.disconnect();
        }
      }),
    );
    const holding = keysByNode.filter((keys) => keys.length > 0);
    expect(holding).toHaveLength(1);
    expect(holding[0]!.every((key) => key.startsWith(`{${world!.queueName}}:`))).toBe(true);

    const doctor = await runCli(['doctor'], world.env, world.dir);
    expect(doctor.stdout).toMatch(/✓ Redis reachable/);
    // Every master is checked, by name: the queue's slot may move to any of them.
    for (const node of cluster.nodes)
      expect(doctor.stdout).toMatch(
        new RegExp(`✓ Redis maxmemory-policy \\(127\\.0\\.0\\.1:${node.port}\\): noeviction`),
      );
  });

  it('with REDIS_WAIT_REPLICAS, posts only once the replica of the master holding the queue has the lease', async () => {
    cluster = await startRedisCluster({ replicasPerMaster: 1 });
    world = await createPipelineWorld({
      env: {
        REDIS_CLUSTER_NODES: cluster.nodesList,
        REDIS_URL: `redis://127.0.0.1:${cluster.nodes[0]!.port}`,
        REDIS_WAIT_REPLICAS: '1',
      },
    });
    const lines = ['module,record_id,file'];
    for (let i = 1; i <= 5; i++) {
      await world.writeFile(`f${i}.txt`, `file ${i}`);
      lines.push(`Leads,${i},f${i}.txt`);
    }
    const manifest = await world.writeFile('m.csv', lines.join('\n'));
    expect((await runCli(['enqueue', manifest, '--batch', 'waited'], world.env, world.dir)).code).toBe(0);

    // The other masters keep their replicas: asked there, WAIT would let every row be posted.
    const holder = await nodeHolding(cluster, `{${world.queueName}}`);
    const [replica] = await replicasOf(cluster, holder);
    await replica!.kill('SIGKILL');
    const doctor = await runCli(['doctor'], world.env, world.dir);
    expect(doctor.stdout).toMatch(/✗ Redis replicas: 0 replica\(s\) connected, but REDIS_WAIT_REPLICAS asks for 1/);

    const worker = spawnCli(['worker'], world.env, world.dir);
    const exited = collect(worker, 60_000);
    try {
      await new Promise((resolve) => setTimeout(resolve, 5_000));
      expect(world.fake.inspect().attachments).toHaveLength(0);
      await replica!.restart();
      for (let i = 0; i < 200 && world.fake.inspect().attachments.length < 5; i++)
        await new Promise((resolve) => setTimeout(resolve, 100));
      expect(new Set(world.fake.inspect().attachments.map((a) => a.recordId)).size).toBe(5);
      expect(world.fake.inspect().attachments).toHaveLength(5);
    } finally {
      worker.kill('SIGTERM');
      await exited;
    }
    expect((await runCli(['doctor'], world.env, world.dir)).stdout).toMatch(
      /✓ Redis replicas: 1 replica\(s\) connected/,
    );
  }, 90_000);

  it("a worker's connection waits while the node holding the queue restarts, as it would for one server", async () => {
    cluster = await startRedisCluster({ appendOnly: true });
    const config = loadConfig({ REDIS_CLUSTER_NODES: cluster.nodesList, ZOHO_ATTACH_QUEUE: 'waits' }, process.cwd());
    const holder = await nodeHolding(cluster, `{waits}`);
    const connection = createWorkerConnection(config.redis, 'waits-test');
    connection.on('error', () => {});
    try {
      await connection.set('{waits}:key', 'kept');
      await holder.kill('SIGTERM');
      // Down for longer than the cluster's node timeout (2 s): the other nodes mark it failed, and
      // the cluster answers CLUSTERDOWN for its slots until it is back (ioredis gave up after 1.6 s).
      const read = connection.get('{waits}:key');
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      await holder.restart();
      await expect(read).resolves.toBe('kept');
    } finally {
      connection.disconnect();
    }
  }, 60_000);
});
