/** The frame every dashboard page shares: head, navigation, read-only badge. */
import { DASHBOARD_PATHS } from '../paths.js';
import { html, type SafeHtml } from './html.js';

/** Which navigation entry is the current page. */
export type PageName = 'overview' | 'dead-letters' | 'health';

/** What {@link renderLayout} needs. */
export interface LayoutOptions {
  title: string;
  page: PageName;
  queueName: string;
  readOnly: boolean;
  body: SafeHtml;
  /** Reload the page every this many seconds (the overview stays live without any script). */
  refreshSeconds?: number;
  /** A line for the footer (e.g. when the data was read). */
  footer?: string;
}

const NAV: Array<{ page: PageName; label: string; href: string }> = [
  { page: 'overview', label: 'Overview', href: DASHBOARD_PATHS.overview },
  { page: 'dead-letters', label: 'Dead letters', href: DASHBOARD_PATHS.deadLetters },
  { page: 'health', label: 'Zoho health', href: DASHBOARD_PATHS.health },
];

/** A whole HTML document. */
export function renderLayout(options: LayoutOptions): SafeHtml {
  const links = NAV.map(
    (entry) =>
      html`<a href="${entry.href}" ${entry.page === options.page ? html` aria-current="page"` : ''}>${entry.label}</a>`,
  );
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        ${options.refreshSeconds !== undefined && html`<meta http-equiv="refresh" content="${options.refreshSeconds}" />`}
        <title>${options.title} · zoho-attach</title>
        <link rel="stylesheet" href="${DASHBOARD_PATHS.stylesheet}" />
        <link rel="icon" href="data:," />
      </head>
      <body>
        <header class="top">
          <div class="brand">zoho-attach <small>queue ${options.queueName}</small></div>
          <nav>${links}<a href="${DASHBOARD_PATHS.bullBoard}/">Jobs (bull-board)</a></nav>
          ${options.readOnly && html`<span class="badge" title="every write is refused">read-only</span>`}
        </header>
        <main>${options.body}</main>
        ${options.footer !== undefined && html`<footer>${options.footer}</footer>`}
      </body>
    </html> `;
}
