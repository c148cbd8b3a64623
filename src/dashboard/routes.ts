/** The dashboard's own routes (bull-board brings its own under {@link DASHBOARD_PATHS.bullBoard}). */
import {
  deadLettersApi,
  deadLettersPage,
  exportDeadLettersCsv,
  healthPage,
  overviewPage,
  pauseQueue,
  resumeQueue,
  retryDeadLetterGroup,
  statusApi,
  stylesheet,
  type DashboardHandler,
} from './handlers.js';
import { DASHBOARD_PATHS } from './paths.js';

/** One route. Every POST is a write: the access guard checks it before the handler runs. */
export interface DashboardRoute {
  method: 'GET' | 'POST';
  path: string;
  handler: DashboardHandler;
}

/** Every route of the dashboard's own pages and API. */
export const DASHBOARD_ROUTES: readonly DashboardRoute[] = [
  { method: 'GET', path: DASHBOARD_PATHS.overview, handler: overviewPage },
  { method: 'GET', path: DASHBOARD_PATHS.deadLetters, handler: deadLettersPage },
  { method: 'GET', path: DASHBOARD_PATHS.exportDeadLetters, handler: exportDeadLettersCsv },
  { method: 'POST', path: DASHBOARD_PATHS.retryDeadLetters, handler: retryDeadLetterGroup },
  { method: 'GET', path: DASHBOARD_PATHS.health, handler: healthPage },
  { method: 'POST', path: DASHBOARD_PATHS.pause, handler: pauseQueue },
  { method: 'POST', path: DASHBOARD_PATHS.resume, handler: resumeQueue },
  { method: 'GET', path: DASHBOARD_PATHS.statusApi, handler: statusApi },
  { method: 'GET', path: DASHBOARD_PATHS.deadLettersApi, handler: deadLettersApi },
  { method: 'GET', path: DASHBOARD_PATHS.stylesheet, handler: stylesheet },
];
