/**
 * The Prometheus registry a process serves: its own, never prom-client's global one, so a
 * worker and a dashboard in one process (or tests running side by side) cannot collide.
 */
import { collectDefaultMetrics, Registry } from 'prom-client';

/**
 * A registry with Node's default process metrics (CPU, memory, event loop lag, GC, handles).
 * They keep their standard names (`process_cpu_seconds_total`, `nodejs_heap_size_used_bytes`, …)
 * so that stock Node.js dashboards and alerts work on them; the tool's own metrics are
 * prefixed `zoho_attach_`.
 */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}
