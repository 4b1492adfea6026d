/**
 * The status page's stylesheet, served as /assets/status.css (the page allows no inline styles). Plain CSS with
 * custom properties for the tones, a light and a dark scheme, one column on a phone.
 */
export const STATUS_CSS = `
:root {
  --bg: #f6f7f9; --panel: #fff; --text: #1d2330; --muted: #5b6474; --line: #dde1e7;
  --done: #2e7d32; --moving: #1565c0; --waiting: #8a6d00; --failed: #c62828; --idle: #6b7280;
  --soak: #7cb342; --rollout: #1e88e5; --banner: #fff3cd; --banner-text: #5c4400;
  --approval: #2e7d32; --force: #ef6c00; --freeze: #0288d1; --failure: #c62828; --retry: #f9a825; --rollback: #6a1b9a;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
@media (prefers-color-scheme: dark) {
  :root { --bg: #12151b; --panel: #1b2029; --text: #e6e9ef; --muted: #9aa3b2; --line: #2c3340; --banner: #3d3200; --banner-text: #ffe69c; }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--text); line-height: 1.4; }
a { color: var(--moving); }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.92em; overflow-wrap: anywhere; }
header.top { display: flex; align-items: center; gap: 0.75rem; padding: 0.6rem 1rem; background: var(--panel); border-bottom: 1px solid var(--line); flex-wrap: wrap; }
.brand { font-weight: 700; font-size: 1.15rem; text-decoration: none; color: var(--text); }
.subtitle { color: var(--muted); }
.live-indicator { margin-left: auto; font-size: 0.85rem; color: var(--muted); }
.live-indicator[data-state="live"]::before { content: "● "; color: var(--done); }
.live-indicator[data-state="reconnecting"]::before { content: "● "; color: var(--waiting); }
.signout button { font: inherit; font-size: 0.85rem; background: none; border: 1px solid var(--line); border-radius: 4px; color: var(--text); padding: 0.15rem 0.5rem; cursor: pointer; }
.banner { padding: 0.6rem 1rem; border-bottom: 1px solid var(--line); }
.banner.simulated { background: var(--banner); color: var(--banner-text); }
main { max-width: 1000px; margin: 0 auto; padding: 0.5rem 1rem 2rem; }
h1 { font-size: 1.35rem; margin: 1rem 0 0.3rem; overflow-wrap: anywhere; }
h2 { font-size: 1.05rem; margin: 1.5rem 0 0.5rem; color: var(--muted); text-transform: uppercase; letter-spacing: 0.04em; }
.meta, .reason, .as-of, .empty { color: var(--muted); overflow-wrap: anywhere; }
.as-of { font-size: 0.85rem; }
.badge { display: inline-block; padding: 0.05rem 0.5rem; border-radius: 999px; font-size: 0.85rem; font-weight: 600; border: 1px solid currentColor; white-space: nowrap; }
.tone-done .badge, .badge.tone-done { color: var(--done); }
.tone-moving .badge, .badge.tone-moving { color: var(--moving); }
.tone-waiting .badge, .badge.tone-waiting { color: var(--waiting); }
.tone-failed .badge, .badge.tone-failed { color: var(--failed); }
.tone-idle .badge { color: var(--idle); }
ol.rings { list-style: none; margin: 0; padding: 0; display: grid; gap: 0.6rem; }
li.ring { background: var(--panel); border: 1px solid var(--line); border-left: 5px solid var(--idle); border-radius: 6px; padding: 0.6rem 0.8rem; min-width: 0; }
li.ring.tone-done { border-left-color: var(--done); }
li.ring.tone-moving { border-left-color: var(--moving); }
li.ring.tone-waiting { border-left-color: var(--waiting); }
li.ring.tone-failed { border-left-color: var(--failed); }
.ring-head { display: flex; align-items: baseline; gap: 0.6rem; flex-wrap: wrap; }
.ring-name { font-weight: 700; font-size: 1.05rem; overflow-wrap: anywhere; }
.priority { color: var(--muted); font-size: 0.85rem; }
.ring-head .badge { margin-left: auto; }
.versions, .progress, .soak, .approval, .forced, .doing, .started { margin: 0.25rem 0 0; overflow-wrap: anywhere; }
.progress { display: flex; align-items: center; gap: 0.5rem; flex-wrap: wrap; color: var(--muted); }
.progress progress { width: 10rem; max-width: 100%; height: 0.7rem; accent-color: var(--moving); }
.approval { color: var(--waiting); font-weight: 600; }
.tone-done .approval { color: var(--done); }
.forced { color: var(--force); }
ul.holds { margin: 0.3rem 0 0; padding-left: 1.1rem; color: var(--text); overflow-wrap: anywhere; }
ul.groups { list-style: none; margin: 0.35rem 0 0; padding: 0.3rem 0 0; border-top: 1px dashed var(--line); font-size: 0.88rem; color: var(--muted); }
ul.groups li { overflow-wrap: anywhere; }
.group-name { color: var(--text); }
li.group.tone-failed .state, li.group .reason { color: var(--failed); }
li.group.tone-moving .state { color: var(--moving); }
.timeline-figure { margin: 0; background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 0.4rem; }
.timeline-scroll { overflow-x: auto; max-width: 100%; }
svg.timeline { display: block; font-size: 12px; }
svg.timeline .row-bg { fill: transparent; }
svg.timeline .row.odd .row-bg { fill: var(--line); fill-opacity: 0.35; }
svg.timeline .row-label { fill: var(--text); }
svg.timeline .row-ring .row-label { font-weight: 700; }
svg.timeline .row-group .row-label { fill: var(--muted); }
svg.timeline .tick line { stroke: var(--line); }
svg.timeline .tick text { fill: var(--muted); font-size: 11px; }
svg.timeline .bar-rollout { fill: var(--rollout); }
svg.timeline .bar-soak { fill: var(--soak); }
svg.timeline .bar-rollback { fill: var(--rollback); }
svg.timeline .bar-failed { fill: var(--failed); }
svg.timeline .bar-running { fill-opacity: 0.75; stroke: var(--text); stroke-dasharray: 3 2; stroke-width: 1; }
svg.timeline .marker circle { stroke: var(--panel); stroke-width: 1.5; }
svg.timeline .marker text { fill: #fff; font-size: 10px; font-weight: 700; }
svg.timeline .marker-approval circle { fill: var(--approval); }
svg.timeline .marker-force circle { fill: var(--force); }
svg.timeline .marker-freeze circle { fill: var(--freeze); }
svg.timeline .marker-failure circle { fill: var(--failure); }
svg.timeline .marker-retry circle { fill: var(--retry); }
svg.timeline .marker-rollback circle { fill: var(--rollback); }
svg.timeline .now line { stroke: var(--failed); stroke-width: 1.5; }
svg.timeline .now text { fill: var(--failed); font-size: 11px; }
ul.legend { list-style: none; display: flex; flex-wrap: wrap; gap: 0.4rem 1rem; margin: 0.4rem 0.2rem 0; padding: 0; font-size: 0.85rem; color: var(--muted); }
.swatch { display: inline-block; width: 1.2rem; height: 0.6rem; border-radius: 2px; vertical-align: middle; }
.swatch.bar-rollout { background: var(--rollout); }
.swatch.bar-soak { background: var(--soak); }
.swatch.bar-failed { background: var(--failed); }
.legend .glyph { display: inline-block; width: 1.1rem; height: 1.1rem; line-height: 1.1rem; text-align: center; border-radius: 50%; color: #fff; font-size: 0.7rem; font-weight: 700; }
.legend .marker-approval { background: var(--approval); }
.legend .marker-force { background: var(--force); }
.legend .marker-freeze { background: var(--freeze); }
.legend .marker-failure { background: var(--failure); }
.legend .marker-retry { background: var(--retry); }
.legend .marker-rollback { background: var(--rollback); }
.table-scroll { overflow-x: auto; }
table.recent { width: 100%; border-collapse: collapse; background: var(--panel); border: 1px solid var(--line); border-radius: 6px; font-size: 0.92rem; }
table.recent th, table.recent td { text-align: left; padding: 0.4rem 0.6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
table.recent th { color: var(--muted); font-weight: 600; }
table.recent tr.current { background: var(--bg); }
table.recent .reason { font-size: 0.85rem; }
form.login { max-width: 24rem; margin: 2rem auto; background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 1rem 1.2rem; display: grid; gap: 0.5rem; }
form.login input[type="password"] { font: inherit; padding: 0.4rem; border: 1px solid var(--line); border-radius: 4px; background: var(--bg); color: var(--text); }
form.login button { font: inherit; padding: 0.45rem; border: none; border-radius: 4px; background: var(--moving); color: #fff; cursor: pointer; }
.error { color: var(--failed); font-weight: 600; }
footer.bottom { max-width: 1000px; margin: 0 auto; padding: 0 1rem 2rem; color: var(--muted); font-size: 0.85rem; }
@media (max-width: 600px) {
  main { padding: 0.25rem 0.6rem 1.5rem; }
  h1 { font-size: 1.15rem; }
  .ring-head .badge { margin-left: 0; }
  table.recent { font-size: 0.85rem; }
}
`;

/** The tab icon: three rings. */
export const FAVICON_SVG = '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><g fill="none" stroke-width="3"><circle cx="16" cy="16" r="13" stroke="#1e88e5"/><circle cx="16" cy="16" r="8" stroke="#7cb342"/><circle cx="16" cy="16" r="3" stroke="#2e7d32"/></g></svg>';
