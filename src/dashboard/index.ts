/**
 * The web dashboard: bull-board for the upload queue, and pages of our own — batch progress
 * with rates and ETAs, dead letters grouped by error with retry and export, Zoho health with
 * pause and resume — behind basic auth, CSRF and Origin checks, and an optional read-only mode.
 */
export {
  DASHBOARD_DEFAULTS,
  DASHBOARD_ENV,
  DashboardStartError,
  type DashboardOptions,
  type RunningDashboard,
} from './options.js';
export { startDashboard } from './start-dashboard.js';
export { DASHBOARD_PATHS } from './paths.js';
export type { DashboardView } from './dashboard-view.js';
export type { DashboardCredentials } from './security/basic-auth.js';
export { isLoopbackHost } from './security/loopback.js';
