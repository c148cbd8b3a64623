/** Every URL the dashboard serves, in one place for the routes, the pages' links and the tests. */
export const DASHBOARD_PATHS = {
  overview: '/',
  deadLetters: '/dead-letters',
  /** POST: retry one group of dead letters. */
  retryDeadLetters: '/dead-letters/retry',
  /** GET: one group of dead letters as a CSV manifest. */
  exportDeadLetters: '/dead-letters/export',
  health: '/health',
  /** POST */
  pause: '/queue/pause',
  /** POST */
  resume: '/queue/resume',
  statusApi: '/api/status',
  deadLettersApi: '/api/dead-letters',
  stylesheet: '/assets/dashboard.css',
  /** bull-board's UI and API live under this path. */
  bullBoard: '/queues',
} as const;

/** `path?key=value…`, leaving out undefined values. */
export function withQuery(path: string, params: Record<string, string | number | undefined>): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined) query.set(key, String(value));
  const text = query.toString();
  return text === '' ? path : `${path}?${text}`;
}
