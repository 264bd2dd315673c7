// The status page, one self-contained HTML string: inline CSS and JS, nothing loaded
// from anywhere else, so it works on a lab network with no internet and the
// Content-Security-Policy can forbid every external load. The script builds the DOM
// with createElement/textContent only: unit names, reasons and metadata come from
// etcd, and nothing from there is ever parsed as HTML.
import { createHash } from "crypto";

// Sized for a projector at the back of a room: big type, strong colours, and the
// state written out beside its colour for readers who cannot tell green from red.
export const PAGE_STYLE = `
:root { --ok: #1b7f3b; --wait: #f2b705; --bad: #c62828; --ink: #111; --dim: #666; }
* { box-sizing: border-box; }
body { margin: 0; padding: 1.2rem 1.6rem; font: 22px/1.35 system-ui, sans-serif; color: var(--ink); background: #fff; }
header { display: flex; align-items: baseline; gap: 1.2rem; flex-wrap: wrap; }
h1 { font-size: 1.6rem; margin: 0; }
h2 { font-size: 1.25rem; margin: 1.2rem 0 0.5rem; }
#status { font-weight: 700; padding: 0.1rem 0.7rem; border-radius: 0.4rem; }
#status[data-state="live"] { background: var(--ok); color: #fff; }
#status[data-state="down"] { background: var(--bad); color: #fff; }
#status[data-state="wait"] { background: var(--wait); color: #000; }
#updated, #error { color: var(--dim); }
#error:empty { display: none; }
#error { color: var(--bad); font-weight: 700; }
#machines { display: grid; grid-template-columns: repeat(auto-fill, minmax(17rem, 1fr)); gap: 1rem; }
.card { border: 3px solid var(--ink); border-radius: 0.6rem; padding: 0.7rem 0.9rem; }
.card.gone { border-style: dashed; color: var(--dim); }
.id { font: 700 1.4rem/1.2 ui-monospace, monospace; }
.badge { font-size: 0.8rem; font-weight: 700; border: 2px solid currentColor; border-radius: 0.3rem; padding: 0 0.3rem; margin-left: 0.4rem; vertical-align: middle; }
.ip { font-family: ui-monospace, monospace; }
.meta { color: var(--dim); font-size: 0.85rem; }
ul, ol { list-style: none; margin: 0.4rem 0 0; padding: 0; }
.unit { display: flex; flex-wrap: wrap; justify-content: space-between; gap: 0.1rem 0.6rem; padding: 0.25rem 0.3rem; border-top: 1px solid #ddd; }
.unit .name { font-weight: 600; overflow-wrap: anywhere; }
.unit.fresh { background: #fff1b8; }
.pill { white-space: nowrap; border-radius: 0.3rem; padding: 0 0.4rem; font-size: 0.85rem; font-weight: 700; align-self: center; }
.pill.ok { background: var(--ok); color: #fff; }
.pill.wait { background: var(--wait); color: #000; }
.pill.bad { background: var(--bad); color: #fff; }
.leaving { opacity: 0.6; font-style: italic; }
.empty { color: var(--dim); }
#moved li { padding: 0.2rem 0; border-top: 1px solid #ddd; }
#moved li[data-kind="moved"] { font-weight: 700; }
#moved time { font-family: ui-monospace, monospace; color: var(--dim); margin-right: 0.8rem; }
.columns { display: grid; grid-template-columns: 1fr 1.4fr; gap: 0 2rem; }
`;

export const PAGE_SCRIPT = `
"use strict";
const TONES = ["ok", "wait", "bad"];
function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = String(text);
  return e;
}
function hhmmss(ms) {
  const d = new Date(ms);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, "0")).join(":");
}
function unitRow(u, fresh) {
  const li = el("li", u.target === undefined ? "unit leaving" : fresh ? "unit fresh" : "unit");
  li.dataset.unit = u.name;
  const tone = TONES.includes(u.tone) ? u.tone : "wait";
  li.dataset.tone = tone;
  li.append(el("span", "name", u.name));
  const sd = u.systemd ? u.systemd.active + "/" + u.systemd.sub : "not reported";
  const what = u.target === undefined ? "leaving" : u.currentState;
  li.append(el("span", "pill " + tone, what + " · " + sd));
  return li;
}
function card(m, fresh) {
  const c = el("section", m.present ? "card" : "card gone");
  c.dataset.machine = m.id;
  c.dataset.present = String(m.present);
  const head = el("div", "id", m.shortId);
  if (m.leader) head.append(el("span", "badge", "leader"));
  if (!m.present) head.append(el("span", "badge", "gone"));
  c.append(head);
  c.append(el("div", "ip", m.present ? m.primaryIP : "lease expired"));
  const meta = Object.entries(m.metadata).map(([k, v]) => k + "=" + v).join(", ");
  if (meta) c.append(el("div", "meta", meta));
  const ul = el("ul");
  for (const u of m.units) ul.append(unitRow(u, fresh.has(u.name + " " + m.id)));
  if (m.units.length === 0) ul.append(el("li", "empty", "no units"));
  c.append(ul);
  return c;
}
function render(msg) {
  const v = msg.view;
  // Where a unit landed in the last minute is shaded, so the room sees where it went.
  const fresh = new Set(msg.history
    .filter((c) => c.to && c.at >= msg.readAt - 60000)
    .map((c) => c.unit + " " + c.to));
  document.getElementById("machines").replaceChildren(...v.machines.map((m) => card(m, fresh)));
  const un = document.getElementById("unplaced");
  un.replaceChildren(...v.unplaced.map((u) => {
    const li = el("li", "unit");
    li.dataset.unit = u.name;
    li.append(el("span", "name", u.name));
    li.append(el("span", "pill wait", u.desiredState + (u.reason ? " · " + u.reason : "")));
    return li;
  }));
  if (v.unplaced.length === 0) un.append(el("li", "empty", "every unit has a machine"));
  const mv = document.getElementById("moved");
  mv.replaceChildren(...msg.history.map((c) => {
    const li = el("li");
    li.dataset.kind = c.kind;
    if (c.unit) li.dataset.unit = c.unit;
    const t = el("time", "", hhmmss(c.at));
    t.dateTime = new Date(c.at).toISOString();
    li.append(t, el("span", "", c.text));
    return li;
  }));
  if (msg.history.length === 0) mv.append(el("li", "empty", "nothing yet"));
  document.getElementById("updated").textContent = "updated " + hhmmss(msg.readAt);
  document.getElementById("error").textContent = msg.error || "";
}
function status(state, text) {
  const s = document.getElementById("status");
  s.dataset.state = state;
  s.textContent = text;
}
let retryMs = 1000;
function connect() {
  const es = new EventSource("/events");
  es.onopen = () => { retryMs = 1000; };
  es.onmessage = (e) => {
    status("live", "live");
    render(JSON.parse(e.data));
  };
  es.onerror = () => {
    status("down", "disconnected — retrying");
    // A refused or non-stream answer closes an EventSource for good: reopen it ourselves.
    if (es.readyState === EventSource.CLOSED) {
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 15000);
    }
  };
}
connect();
`;

const hash = (text: string): string =>
  `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;

/**
 * Everything from this origin's own inline script and style and its /events stream;
 * nothing else, from anywhere (hashes, not 'unsafe-inline', so an injected script
 * would not run even if escaping failed).
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  `script-src ${hash(PAGE_SCRIPT)}`,
  `style-src ${hash(PAGE_STYLE)}`,
  "connect-src 'self'",
  "img-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>fleet cluster</title>
<style>${PAGE_STYLE}</style>
</head>
<body>
<header>
<h1>fleet cluster</h1>
<span id="status" data-state="wait">connecting…</span>
<span id="updated"></span>
<span id="error"></span>
</header>
<h2>Machines</h2>
<div id="machines"></div>
<div class="columns">
<div><h2>Not placed</h2><ul id="unplaced"></ul></div>
<div><h2>What moved</h2><ol id="moved"></ol></div>
</div>
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
