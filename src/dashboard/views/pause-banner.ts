/** The banner that says the queue is paused, why, and what to fix: on the overview and the health page. */
import type { ZohoHealth } from '../dashboard-view.js';
import { DASHBOARD_PATHS } from '../paths.js';
import { formatTime } from './format.js';
import { html, type SafeHtml } from './html.js';

/**
 * Nothing while the queue runs.
 * @param linkToHealth add a link to the health page, where the queue is resumed (not on that page itself)
 */
export function renderPauseBanner(health: ZohoHealth, linkToHealth: boolean): SafeHtml {
  if (!health.paused) return html``;
  const reason = health.pauseReason;
  if (!reason) {
    return html`<div class="banner warn">
      <strong>The queue is paused</strong> (no reason recorded: paused from bull-board or BullMQ
      directly).${linkToHealth && html` <a href="${DASHBOARD_PATHS.health}">Resume it on the health page.</a>`}
    </div>`;
  }
  return html`<div class="banner ${health.systemicPause ? 'bad' : 'warn'}">
    <strong>The queue is paused${health.systemicPause ? ' because every upload would fail the same way' : ''}</strong>
    since ${formatTime(reason.at)}: <code>${reason.code}</code> ${reason.message}
    <div>What to do: ${reason.hint}${linkToHealth && html` · <a href="${DASHBOARD_PATHS.health}">Zoho health</a>`}</div>
  </div>`;
}
