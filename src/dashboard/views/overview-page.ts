/** The overview: the queue at a glance, the upload rate over time, and each batch's progress. */
import type { BatchView, DashboardView } from '../dashboard-view.js';
import { DASHBOARD_PATHS, withQuery } from '../paths.js';
import { formatBytes, formatCount, formatDuration, formatPercent, formatRate, formatTime } from './format.js';
import { html, type SafeHtml } from './html.js';
import { renderLayout } from './layout.js';
import { renderPauseBanner } from './pause-banner.js';
import { renderRateChart } from './sparkline.js';

/** Seconds between reloads of the overview. */
const REFRESH_SECONDS = 10;

/** The overview page. */
export function renderOverviewPage(view: DashboardView, options: { readOnly: boolean }): SafeHtml {
  const { health, queue } = view;
  const body = html`<h1>Overview</h1>
    ${renderPauseBanner(health, true)}
    <div class="tiles">
      ${tile('In flight', html`${formatCount(health.inFlight)} <small>/ ${formatCount(health.concurrencyLimit)}</small>`, DASHBOARD_PATHS.health)}
      ${tile('Waiting', html`${formatCount(queue.waiting)}${queue.delayed > 0 && html` <small>+ ${formatCount(queue.delayed)} delayed</small>`}`)}
      ${tile('Backlog', html`${formatCount(queue.backlog)} <small>rows not yet queued</small>`)}
      ${tile('Dead letters', formatCount(queue.failed), DASHBOARD_PATHS.deadLetters)}
      ${tile('429 answers', formatCount(health.rateLimited), DASHBOARD_PATHS.health)}
      ${tile('Credits spent, 24 h', html`${formatCount(view.creditsSpent.last24h)}${view.creditsSpent.budget !== undefined && html` <small>/ ${formatCount(view.creditsSpent.budget)} budget</small>`}`)}
      ${tile('Credits left', health.credits ? formatCount(health.credits.remaining) : html`<small>not reported yet</small>`, DASHBOARD_PATHS.health)}
      ${tile('Queue', health.paused ? html`<span class="badge bad">paused</span>` : html`<span class="badge ok">running</span>`, DASHBOARD_PATHS.health)}
    </div>
    <section>
      <h2>
        Upload
        rate${view.chartedBatches.length > 0 && html` <small class="muted">${view.chartedBatches.join(', ')}, since the first upload finished</small>`}
      </h2>
      ${renderRateChart(view.rateHistory)}
    </section>
    <section>
      <h2>Batches</h2>
      ${view.batches.length === 0 ? html`<p class="muted">No batch yet: <code>zoho-attach enqueue manifest.csv</code> makes one.</p>` : renderBatchTable(view.batches)}
    </section>`;
  return renderLayout({
    title: 'Overview',
    page: 'overview',
    queueName: view.queueName,
    readOnly: options.readOnly,
    body,
    refreshSeconds: REFRESH_SECONDS,
    footer: `Read at ${formatTime(view.sampledAt)}; this page reloads every ${REFRESH_SECONDS} s. Rates are averaged over the last 30 s.`,
  });
}

function tile(label: string, value: SafeHtml | string, href?: string): SafeHtml {
  const content = html`<div class="label">${label}</div>
    <div class="value">${value}</div>`;
  return href === undefined
    ? html`<div class="tile">${content}</div>`
    : html`<a class="tile" href="${href}">${content}</a>`;
}

function renderBatchTable(batches: BatchView[]): SafeHtml {
  const rows = batches.map((b) => {
    const finished = b.total > 0 && b.pending === 0;
    return html`<tr>
    <td><strong>${b.name}</strong>${b.source !== undefined && html`<div class="muted mono">${b.source}</div>`}</td>
    <td><progress${finished ? html` class="finished"` : ''} max="${Math.max(b.total, 1)}" value="${b.total === 0 ? 1 : b.done}"></progress></td>
    <td class="num">${formatCount(b.done)} / ${formatCount(b.total)} <span class="muted">(${formatPercent(b.done, b.total)})</span></td>
    <td class="num">${formatCount(b.uploaded)}</td>
    <td class="num">${formatCount(b.backlog)}</td>
    <td class="num">${b.dead > 0 ? html`<a href="${withQuery(DASHBOARD_PATHS.deadLetters, { batch: b.name })}">${formatCount(b.dead)}</a>` : '0'}</td>
    <td class="num">${formatCount(b.rejected)}</td>
    <td class="num">${formatCount(b.credits)}</td>
    <td class="num">${formatRate(b.uploadsPerSecond)} <div class="muted">${formatBytes(b.bytesPerSecond)}/s</div></td>
    <td class="num">${finished ? html`<span class="badge ok">done</span>` : b.held !== undefined ? html`<span class="badge bad" title="${`credit budget spent: ${b.held.credits} of ${b.held.budget} in 24 h; goes on at ${formatTime(b.held.freesAt)}`}">held</span>` : formatDuration(b.etaSeconds)}</td>
    <td>${renderLastCheck(b)}</td>
  </tr>`;
  });
  return html`<table>
    <thead>
      <tr>
        <th>batch</th>
        <th>progress</th>
        <th class="num">done / total</th>
        <th class="num">uploaded</th>
        <th class="num" title="rows waiting to be fed to the queue as jobs">backlog</th>
        <th class="num">dead</th>
        <th class="num" title="rows refused at enqueue">rejected</th>
        <th class="num" title="API credits spent for the batch: every request sent for it">credits</th>
        <th class="num">rate</th>
        <th class="num">ETA</th>
        <th title="the last zoho-attach check of the batch against Zoho">checked</th>
      </tr>
    </thead>
    <tbody>
      ${rows}
    </tbody>
  </table>`;
}

/** The last `zoho-attach check`: passed, or what differed; when; and the API calls it spent. */
function renderLastCheck(b: BatchView): SafeHtml | string {
  const check = b.lastCheck;
  if (check === undefined) return html`<span class="muted">never</span>`;
  const differing = ['missing', 'extra', 'mismatch', 'unchecked']
    .filter((status) => (check.counts[status] ?? 0) > 0)
    .map((status) => `${formatCount(check.counts[status] ?? 0)} ${status}`)
    .join(', ');
  const calls = check.apiCalls.listings + check.apiCalls.downloads;
  return html`${check.passed ? html`<span class="badge ok">passed</span>` : html`<span class="badge bad">${differing}</span>`}
    <div class="muted">${formatTime(check.at)}${check.deep ? ' · deep' : ''} · ${formatCount(calls)} API calls</div>`;
}
