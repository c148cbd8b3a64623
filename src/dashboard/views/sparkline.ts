/** The overview's rate chart: an inline SVG of uploads per second over the charted batches' life. */
import type { RatePoint } from '../../queue/progress.js';
import { formatDuration, formatRate } from './format.js';
import { html, type SafeHtml } from './html.js';

/** The SVG's coordinate space; CSS scales it to the page. */
const WIDTH = 600;
const HEIGHT = 80;

/** The chart with its legend, or a note while fewer than two samples exist. */
export function renderRateChart(points: readonly RatePoint[]): SafeHtml {
  const first = points[0];
  const last = points[points.length - 1];
  if (!first || !last || last.at === first.at) {
    return html`<p class="muted">No upload has finished yet: the chart starts with the first.</p>`;
  }
  const peak = Math.max(...points.map((p) => p.uploadsPerSecond));
  // A flat line at zero still needs a scale; 1/s keeps an idle queue's line on the floor.
  const scale = peak > 0 ? peak : 1;
  const span = last.at - first.at;
  const coordinates = points.map((p) => {
    const x = ((p.at - first.at) / span) * WIDTH;
    const y = HEIGHT - (p.uploadsPerSecond / scale) * (HEIGHT - 4);
    return `${x.toFixed(1)},${y.toFixed(1)}`;
  });
  const line = coordinates.join(' ');
  const area = `0,${HEIGHT} ${line} ${WIDTH},${HEIGHT}`;
  const summary = `uploads per second over the ${formatDuration(span / 1000)} since the first finished: now ${formatRate(last.uploadsPerSecond)}, peak ${formatRate(peak)}`;
  return html`<div class="chart">
    <svg viewBox="0 0 ${WIDTH} ${HEIGHT}" preserveAspectRatio="none" role="img" aria-label="${summary}">
      <title>${summary}</title>
      <polygon class="area" points="${area}"></polygon>
      <polyline class="line" points="${line}"></polyline>
    </svg>
    <dl>
      <dt>now</dt>
      <dd>${formatRate(last.uploadsPerSecond)}</dd>
      <dt>peak</dt>
      <dd>${formatRate(peak)}</dd>
      <dt>span</dt>
      <dd>${formatDuration(span / 1000)}</dd>
    </dl>
  </div>`;
}
