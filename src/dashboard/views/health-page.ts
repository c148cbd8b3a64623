/** Zoho health: uploads in flight against the cap, 429s, credits, and the pause state with its controls. */
import type { DashboardView } from '../dashboard-view.js';
import { DASHBOARD_PATHS } from '../paths.js';
import { CSRF_FORM_FIELD } from '../security/csrf.js';
import { formatCount, formatTime } from './format.js';
import { html, type SafeHtml } from './html.js';
import { renderLayout } from './layout.js';
import { renderPauseBanner } from './pause-banner.js';

/** The health page. */
export function renderHealthPage(view: DashboardView, options: { readOnly: boolean; csrfToken: string }): SafeHtml {
  const { health } = view;
  const credits = health.credits;
  const body = html`<h1>Zoho health</h1>
    ${renderPauseBanner(health, false)}
    <section>
      <h2>Load</h2>
      <dl class="facts">
        <dt>Uploads in flight</dt>
        <dd>
          <meter min="0" max="${Math.max(health.concurrencyLimit, 1)}" value="${health.inFlight}"></meter>
          <strong>${formatCount(health.inFlight)}</strong> of ${formatCount(health.concurrencyLimit)}
          <span class="muted">(ZOHO_CONCURRENCY: the cap across every worker)</span>
        </dd>
        <dt>429 answers</dt>
        <dd>
          <strong>${formatCount(health.rateLimited)}</strong>
          <span class="muted">all batches; each one slowed every worker down for a moment</span>
        </dd>
        <dt>API credits left</dt>
        <dd>
          ${
            credits
              ? html`<strong>${formatCount(credits.remaining)}</strong>
                  <span class="muted"
                    >as of ${formatTime(credits.at)}; below ${formatCount(health.creditsReserve)} uploads are spaced
                    out</span
                  >
                  ${credits.remaining < health.creditsReserve && html` <span class="badge warn">below the reserve</span>`}`
              : html`<span class="muted"
                  >not reported yet (Zoho sends the figure once half the day's credits are spent)</span
                >`
          }
        </dd>
        <dt>Jobs</dt>
        <dd>
          ${formatCount(view.queue.waiting)} waiting · ${formatCount(view.queue.delayed)} delayed ·
          ${formatCount(view.queue.failed)} dead letters
        </dd>
      </dl>
    </section>
    <section>
      <h2>Queue</h2>
      <dl class="facts">
        <dt>State</dt>
        <dd>
          ${health.paused ? html`<span class="badge bad">paused</span>` : html`<span class="badge ok">running</span>`}
        </dd>
        ${
          health.pauseReason !== undefined &&
          html`<dt>Reason</dt>
            <dd><code>${health.pauseReason.code}</code> ${health.pauseReason.message}</dd>
            <dt>What to do</dt>
            <dd>${health.pauseReason.hint}</dd>
            <dt>Since</dt>
            <dd>${formatTime(health.pauseReason.at)}</dd>`
        }
      </dl>
      <div class="controls">${renderQueueControl(health.paused, options)}</div>
    </section>`;
  return renderLayout({
    title: 'Zoho health',
    page: 'health',
    queueName: view.queueName,
    readOnly: options.readOnly,
    body,
    footer: `Read at ${formatTime(view.sampledAt)}.`,
  });
}

function renderQueueControl(paused: boolean, options: { readOnly: boolean; csrfToken: string }): SafeHtml {
  const label = paused ? 'Resume the queue' : 'Pause the queue';
  if (options.readOnly) {
    return html`<button type="button" disabled>${label}</button>
      <span class="muted"
        >This dashboard is read-only: use <code>zoho-attach ${paused ? 'resume' : 'pause'}</code>.</span
      >`;
  }
  return html`<form class="inline" method="post" action="${paused ? DASHBOARD_PATHS.resume : DASHBOARD_PATHS.pause}">
      <input type="hidden" name="${CSRF_FORM_FIELD}" value="${options.csrfToken}" />
      <button type="submit" ${paused ? '' : html` class="danger"`}>${label}</button>
    </form>
    <span class="muted"
      >${paused ? 'Workers take jobs again.' : 'Workers finish their in-flight uploads and take no new job until resumed.'}</span
    >`;
}
