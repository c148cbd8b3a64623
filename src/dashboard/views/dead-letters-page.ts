/**
 * Dead letters grouped by error code: the messages, one sample row, and per group a button
 * to retry it and a link to export it as a CSV manifest.
 */
import type { DeadLetter, DeadLetterGroup } from '../../queue/dead-letters.js';
import { CSRF_FORM_FIELD } from '../security/csrf.js';
import { DASHBOARD_PATHS, withQuery } from '../paths.js';
import { formatCount, formatTime } from './format.js';
import { html, type SafeHtml } from './html.js';
import { renderLayout } from './layout.js';

/** What {@link renderDeadLettersPage} shows. */
export interface DeadLettersPageModel {
  queueName: string;
  groups: DeadLetterGroup[];
  /** Only this batch's dead letters, when set. */
  batch: string | undefined;
  /** How many rows the last retry re-enqueued, to confirm it. */
  retried: number | undefined;
  readOnly: boolean;
  csrfToken: string;
}

/** The dead-letters page. */
export function renderDeadLettersPage(model: DeadLettersPageModel): SafeHtml {
  const total = model.groups.reduce((sum, g) => sum + g.count, 0);
  const body = html`<h1>Dead letters${model.batch !== undefined && html` of batch <code>${model.batch}</code>`}</h1>
    ${model.retried !== undefined && html`<div class="banner ok">Re-enqueued ${formatCount(model.retried)} dead letter(s): workers will upload them again.</div>`}
    <p class="muted">
      ${total === 0 ? 'No dead letters.' : `${formatCount(total)} row(s) in ${model.groups.length} group(s).`} Rows that
      cannot succeed as they are (a permanent Zoho error, a missing file) or that ran out of attempts. Fix the cause,
      then retry the group — or export it as a manifest, correct it and enqueue it again.
      ${model.batch !== undefined && html`<a href="${DASHBOARD_PATHS.deadLetters}">Show every batch.</a>`}
    </p>
    ${model.groups.map((group) => renderGroup(group, model))}`;
  return renderLayout({
    title: 'Dead letters',
    page: 'dead-letters',
    queueName: model.queueName,
    readOnly: model.readOnly,
    body,
  });
}

function renderGroup(group: DeadLetterGroup, model: DeadLettersPageModel): SafeHtml {
  const filter = { code: group.code, batch: model.batch };
  const retry = model.readOnly
    ? html`<button type="button" disabled title="the dashboard is read-only">Retry ${formatCount(group.count)}</button>`
    : html`<form class="inline" method="post" action="${DASHBOARD_PATHS.retryDeadLetters}">
        <input type="hidden" name="${CSRF_FORM_FIELD}" value="${model.csrfToken}" />
        <input type="hidden" name="code" value="${group.code}" />
        ${model.batch !== undefined && html`<input type="hidden" name="batch" value="${model.batch}" />`}
        <button type="submit">Retry ${formatCount(group.count)}</button>
      </form>`;
  return html`<article class="group" data-code="${group.code}">
    <header>
      <h2><code>${group.code}</code></h2>
      <span class="badge bad">${formatCount(group.count)} row(s)</span>
      <div class="actions">
        ${retry}
        <a class="button secondary" href="${withQuery(DASHBOARD_PATHS.exportDeadLetters, filter)}">Export CSV</a>
      </div>
    </header>
    <ul>
      ${group.messages.map((m) => html`<li><strong>${formatCount(m.count)} ×</strong> ${m.message}</li>`)}
    </ul>
    ${renderSample(group.sample)}
  </article>`;
}

function renderSample(letter: DeadLetter): SafeHtml {
  const facts: Array<[string, string | SafeHtml | undefined]> = [
    ['sample row', html`batch <code>${letter.batch}</code>, manifest line ${letter.line}`],
    ['record', html`<code>${letter.module}</code> / <code>${letter.recordId}</code>`],
    [letter.kind === 'link' ? 'link' : `source (${letter.kind})`, html`<span class="mono">${letter.location}</span>`],
    ['title', letter.title],
    ['HTTP status', letter.httpStatus === undefined ? undefined : String(letter.httpStatus)],
    [
      'details',
      letter.details === undefined ? undefined : html`<span class="mono">${JSON.stringify(letter.details)}</span>`,
    ],
    ['attempts', String(letter.attempts)],
    ['failed at', letter.failedAt === undefined ? undefined : formatTime(letter.failedAt)],
  ];
  const rows = facts
    .filter(([, value]) => value !== undefined && value !== '')
    .map(
      ([label, value]) =>
        html`<tr>
          <th>${label}</th>
          <td>${value}</td>
        </tr>`,
    );
  return html`<table class="sample">
    <tbody>
      ${rows}
    </tbody>
  </table>`;
}
