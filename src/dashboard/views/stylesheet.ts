/**
 * The dashboard's stylesheet, served as /assets/dashboard.css. It lives in a module rather than
 * a .css file so that the TypeScript build alone produces a runnable dashboard, and an external
 * stylesheet lets the CSP forbid inline styles.
 */
export const DASHBOARD_CSS = `
:root {
  --bg: #f5f6f8; --card: #fff; --ink: #1d2430; --muted: #5f6b7a; --line: #dde1e7;
  --accent: #2463eb; --ok: #1a8a4a; --warn: #b86e00; --bad: #c62b2b;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--ink); background: var(--bg);
}
* { box-sizing: border-box; }
body { margin: 0; }
a { color: var(--accent); }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.92em; }
.top { display: flex; align-items: center; gap: 24px; padding: 10px 24px; background: #18202c; color: #e8ecf2; }
.top .brand { font-weight: 600; font-size: 16px; }
.top .brand small { font-weight: 400; color: #9aa6b5; margin-left: 6px; }
.top nav { display: flex; gap: 4px; flex: 1; }
.top nav a { color: #c9d2de; text-decoration: none; padding: 6px 10px; border-radius: 6px; }
.top nav a[aria-current="page"], .top nav a:hover { background: #2b3646; color: #fff; }
.badge { padding: 2px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; background: #e8ecf2; color: var(--ink); }
.badge.ok { background: #dff3e7; color: var(--ok); }
.badge.warn { background: #fdf0d9; color: var(--warn); }
.badge.bad { background: #fbe1e1; color: var(--bad); }
main { padding: 20px 24px 32px; max-width: 1280px; }
h1 { font-size: 20px; margin: 0 0 16px; }
h2 { font-size: 15px; margin: 0 0 10px; }
section, article { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 16px; margin-bottom: 16px; }
.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(150px, 1fr)); gap: 12px; margin-bottom: 16px; }
.tile { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; color: inherit; text-decoration: none; }
.tile .label { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: 0.04em; }
.tile .value { font-size: 22px; font-weight: 600; margin-top: 2px; }
.tile .value small { font-size: 13px; font-weight: 400; color: var(--muted); }
.banner { border-radius: 8px; padding: 12px 16px; margin-bottom: 16px; border: 1px solid; }
.banner.bad { background: #fdf1f1; border-color: #f0b9b9; }
.banner.warn { background: #fff8eb; border-color: #f1d39c; }
.banner.ok { background: #effaf3; border-color: #b5e2c5; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 7px 10px; border-bottom: 1px solid var(--line); vertical-align: middle; }
th { color: var(--muted); font-weight: 500; font-size: 12px; text-transform: uppercase; letter-spacing: 0.03em; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr:last-child td, tr:last-child th { border-bottom: 0; }
progress { width: 160px; height: 10px; vertical-align: middle; appearance: none; border: 0; border-radius: 5px; background: #e6e9ee; overflow: hidden; }
progress::-webkit-progress-bar { background: #e6e9ee; border-radius: 5px; }
progress::-webkit-progress-value { background: var(--accent); border-radius: 5px; }
progress::-moz-progress-bar { background: var(--accent); border-radius: 5px; }
progress.finished::-webkit-progress-value { background: var(--ok); }
progress.finished::-moz-progress-bar { background: var(--ok); }
meter { width: 200px; height: 14px; vertical-align: middle; }
.muted { color: var(--muted); }
.chart { display: flex; align-items: flex-end; gap: 24px; }
.chart svg { flex: 1; max-width: 760px; height: 90px; background: #fafbfc; border: 1px solid var(--line); border-radius: 6px; }
.chart .line { fill: none; stroke: var(--accent); stroke-width: 2; vector-effect: non-scaling-stroke; }
.chart .area { fill: rgba(36, 99, 235, 0.12); stroke: none; }
.chart dl { margin: 0; display: grid; grid-template-columns: auto auto; gap: 2px 12px; }
.chart dt { color: var(--muted); }
.chart dd { margin: 0; font-weight: 600; text-align: right; }
.group header { display: flex; align-items: center; gap: 12px; margin-bottom: 8px; }
.group header h2 { margin: 0; }
.group header .actions { margin-left: auto; display: flex; gap: 8px; align-items: center; }
.group ul { margin: 0 0 12px; padding-left: 18px; }
.group .sample th { width: 140px; text-transform: none; font-size: 13px; }
.group .sample td { word-break: break-all; }
button, .button { font: inherit; padding: 6px 14px; border-radius: 6px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; text-decoration: none; }
.button.secondary, button.secondary { background: #fff; color: var(--accent); }
button.danger { background: var(--bad); border-color: var(--bad); }
button:disabled { opacity: 0.45; cursor: not-allowed; }
form.inline { display: inline; margin: 0; }
.controls { display: flex; align-items: center; gap: 12px; margin-top: 14px; }
dl.facts { display: grid; grid-template-columns: 200px 1fr; gap: 8px 16px; margin: 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
footer { padding: 0 24px 24px; color: var(--muted); font-size: 12px; }
`;
