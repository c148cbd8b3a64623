/**
 * Where Redis `WAIT` must be asked: it counts the replicas that hold what *this connection*
 * wrote, so on a cluster it goes to the connection to the master serving the queue's slot (any
 * other node would answer for writes it never saw).
 */
import { Cluster, type Redis } from 'ioredis';

/**
 * The connection that wrote `key`: on a cluster, the one to the master serving its slot
 * (undefined while the cluster knows no master for it); elsewhere `redis` itself.
 */
export async function connectionWriting(redis: Redis, key: string): Promise<Redis | undefined> {
  const cluster: unknown = redis;
  if (!(cluster instanceof Cluster)) return redis;
  const slot = Number(await cluster.cluster('KEYSLOT', key));
  const master = cluster.slots[slot]?.[0];
  return cluster.nodes('master').find((node) => `${node.options.host}:${node.options.port}` === master);
}
