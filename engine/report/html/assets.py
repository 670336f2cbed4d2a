"""report.html's style sheet and script, inline: the page fetches nothing (no file, no
network), so it opens the same from a mail attachment, a shared drive or a CI artifact.

The script reads the account table from ``<script type="application/json" id="tb-table">``
(columns, each an array; columns decided per firing path are kept once per path, with each
account's path index) and the embedded traces from ``id="tb-traces"``, and shows one page
of rows at a time: searching, filtering, sorting and paging run over column arrays, so a
table of 100,000 accounts stays responsive.  Data is put in the page with ``textContent``,
never parsed as HTML.
"""

from __future__ import annotations

CSS = """
:root { --ink: #1d2330; --muted: #5b6475; --line: #d8dce4; --band: #f4f6f9;
  --accent: #2f5fb3; --good: #1e7b45; --bad: #b3261e; --warn: #8a5a00; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: var(--ink); margin: 0; background: #fff; }
header.top { padding: 16px 24px; border-bottom: 1px solid var(--line); background: var(--band); }
header.top h1 { margin: 0 0 4px; font-size: 20px; }
header.top p { margin: 2px 0; color: var(--muted); }
nav.toc { padding: 8px 24px; border-bottom: 1px solid var(--line); font-size: 13px; }
nav.toc a { margin-right: 14px; color: var(--accent); text-decoration: none; }
main { padding: 8px 24px 40px; max-width: 1400px; }
section { margin: 22px 0; }
h2 { font-size: 17px; margin: 0 0 8px; border-bottom: 1px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 14px; margin: 14px 0 6px; }
p.note { color: var(--muted); margin: 4px 0 8px; }
table { border-collapse: collapse; margin: 6px 0 10px; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: var(--band); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.pass { color: var(--good); font-weight: 600; }
.fail { color: var(--bad); font-weight: 600; }
.waived, .over { color: var(--warn); font-weight: 600; }
.charts { display: flex; flex-wrap: wrap; gap: 18px; }
figure { margin: 4px 0; }
figcaption { font-size: 12px; color: var(--muted); }
svg text { font: 11px system-ui, sans-serif; fill: var(--ink); }
.kpis { display: flex; flex-wrap: wrap; gap: 10px; margin: 8px 0; }
.kpi { border: 1px solid var(--line); border-radius: 6px; padding: 6px 12px; min-width: 130px; }
.kpi b { display: block; font-size: 18px; }
.kpi span { color: var(--muted); font-size: 12px; }
button.acct { border: 0; background: none; color: var(--accent); cursor: pointer; padding: 0;
  font: inherit; text-decoration: underline; }
.controls { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin: 6px 0; }
.controls input[type=search] { width: 260px; padding: 4px 6px; }
#tb-accounts-table th { cursor: pointer; user-select: none; white-space: nowrap; }
#tb-accounts-table th[aria-sort=ascending]::after { content: " \\25B2"; }
#tb-accounts-table th[aria-sort=descending]::after { content: " \\25BC"; }
#tb-accounts-table tbody tr { cursor: pointer; }
#tb-accounts-table tbody tr:hover { background: #eef3fb; }
#tb-accounts-table tbody tr.open { background: #dfe9f8; }
.scroll { overflow-x: auto; }
#tb-trace { border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; margin: 8px 0;
  background: var(--band); }
#tb-trace pre { white-space: pre-wrap; font: 12px/1.4 ui-monospace, Menlo, Consolas, monospace;
  margin: 6px 0; }
#tb-trace[hidden] { display: none; }
code { font: 12px ui-monospace, Menlo, Consolas, monospace; background: var(--band); padding: 0 3px; }
.heat td.num { min-width: 60px; }
.print-only { display: none; }
@media print {
  .print-only { display: block; }
  nav.toc, .controls, .pager, button.close { display: none !important; }
  main { max-width: none; padding: 0; }
  section { break-inside: auto; }
  table, figure, .kpis { break-inside: avoid; }
  h2 { break-after: avoid; }
  #tb-accounts-table tbody tr { cursor: default; }
  a { color: inherit; text-decoration: none; }
  body { font-size: 11px; }
}
"""

JS = r"""
(function () {
  "use strict";
  var holder = document.getElementById("tb-table");
  if (!holder) { return; }
  var T = JSON.parse(holder.textContent);
  var tracesEl = document.getElementById("tb-traces");
  var traces = tracesEl ? JSON.parse(tracesEl.textContent) : {};
  var n = T.path_of ? T.path_of.length : (T.columns.length ? T.cols[T.columns[0]].length : 0);
  function cell(i, c) {
    if (T.cols[c]) { return T.cols[c][i]; }
    return T.decided[c][T.path_of[i]];
  }
  function shown(v) {
    if (v === null || v === undefined) { return ""; }
    if (Array.isArray(v)) { return v.join("; "); }
    if (typeof v === "number") {
      return Math.abs(v) >= 1000 ? v.toLocaleString("en-US", {maximumFractionDigits: 2})
        : String(Math.round(v * 10000) / 10000);
    }
    if (typeof v === "boolean") { return v ? "true" : "false"; }
    return String(v);
  }
  var idCol = T.columns[0];
  var table = document.getElementById("tb-accounts-table");
  var tbody = table.querySelector("tbody");
  var search = document.getElementById("tb-search");
  var filters = Array.prototype.slice.call(document.querySelectorAll("select[data-filter]"));
  var tracedOnly = document.getElementById("tb-traced");
  var pageInfo = document.getElementById("tb-page");
  var panel = document.getElementById("tb-trace");
  var state = {sort: null, dir: 1, page: 0, size: T.page_size || 50, order: null};
  var heads = table.querySelectorAll("thead th");
  var lower = {};
  function lowered(c) {
    if (!lower[c]) {
      var out = new Array(n);
      for (var i = 0; i < n; i++) { out[i] = shown(cell(i, c)).toLowerCase(); }
      lower[c] = out;
    }
    return lower[c];
  }
  function matches() {
    var q = (search.value || "").trim().toLowerCase();
    var cols = T.search;
    var keep = [];
    var active = filters.filter(function (f) { return f.value !== ""; });
    var only = tracedOnly && tracedOnly.checked;
    for (var i = 0; i < n; i++) {
      var ok = true;
      for (var k = 0; k < active.length && ok; k++) {
        var v = cell(i, active[k].getAttribute("data-filter"));
        ok = Array.isArray(v) ? v.indexOf(active[k].value) >= 0 : shown(v) === active[k].value;
      }
      if (ok && only) { ok = Object.prototype.hasOwnProperty.call(traces, cell(i, idCol)); }
      if (ok && q) {
        ok = false;
        for (var j = 0; j < cols.length && !ok; j++) { ok = lowered(cols[j])[i].indexOf(q) >= 0; }
      }
      if (ok) { keep.push(i); }
    }
    if (state.sort !== null) {
      var c = state.sort, dir = state.dir;
      keep.sort(function (a, b) {
        var x = cell(a, c), y = cell(b, c);
        if (Array.isArray(x)) { x = x.length; y = y.length; }
        if (x === y) { return a - b; }
        if (x === null || x === undefined) { return 1; }
        if (y === null || y === undefined) { return -1; }
        return (x < y ? -1 : 1) * dir;
      });
    }
    return keep;
  }
  function render() {
    var keep = state.order = matches();
    var pages = Math.max(1, Math.ceil(keep.length / state.size));
    if (state.page >= pages) { state.page = pages - 1; }
    var start = state.page * state.size;
    var rows = keep.slice(start, start + state.size);
    var frag = document.createDocumentFragment();
    rows.forEach(function (i) {
      var tr = document.createElement("tr");
      tr.setAttribute("data-account", shown(cell(i, idCol)));
      T.columns.forEach(function (c) {
        var td = document.createElement("td");
        var v = cell(i, c);
        if (typeof v === "number") { td.className = "num"; }
        td.textContent = shown(v);
        tr.appendChild(td);
      });
      frag.appendChild(tr);
    });
    tbody.textContent = "";
    tbody.appendChild(frag);
    pageInfo.textContent = keep.length.toLocaleString("en-US") + " of " +
      n.toLocaleString("en-US") + " accounts · page " + (state.page + 1) + " of " + pages;
  }
  function rowOf(id) {
    for (var i = 0; i < n; i++) { if (shown(cell(i, idCol)) === id) { return i; } }
    return -1;
  }
  function open(id) {
    var i = rowOf(id);
    panel.hidden = false;
    panel.textContent = "";
    var h = document.createElement("h3");
    var hasTier = T.cols.tier !== undefined || (T.decided && T.decided.tier !== undefined);
    h.textContent = id + (i >= 0 && hasTier ? ": " + shown(cell(i, "tier")) : "");
    panel.appendChild(h);
    var close = document.createElement("button");
    close.className = "close";
    close.textContent = "close";
    close.addEventListener("click", function () { panel.hidden = true; });
    panel.appendChild(close);
    if (T.group) {
      var lines = [];
      for (var r = 0; r < n; r++) {
        if (shown(cell(r, idCol)) === id) {
          lines.push(T.group.map(function (c) { return c + ": " + shown(cell(r, c)); }).join("\n"));
        }
      }
      var g = document.createElement("pre");
      g.textContent = lines.join("\n\n");
      panel.appendChild(g);
    }
    var pre = document.createElement("pre");
    pre.className = "trace";
    if (Object.prototype.hasOwnProperty.call(traces, id)) {
      pre.textContent = traces[id];
    } else {
      pre.textContent = (T.untraced || "") + "\n  " + T.command.replace("{id}", id);
    }
    panel.appendChild(pre);
    Array.prototype.forEach.call(tbody.querySelectorAll("tr.open"), function (tr) {
      tr.classList.remove("open");
    });
    Array.prototype.forEach.call(tbody.querySelectorAll("tr"), function (tr) {
      if (tr.getAttribute("data-account") === id) { tr.classList.add("open"); }
    });
    panel.scrollIntoView({block: "nearest"});
  }
  Array.prototype.forEach.call(heads, function (th, k) {
    th.addEventListener("click", function () {
      var c = T.columns[k];
      if (state.sort === c) { state.dir = -state.dir; } else { state.sort = c; state.dir = 1; }
      Array.prototype.forEach.call(heads, function (o) { o.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", state.dir > 0 ? "ascending" : "descending");
      state.page = 0;
      render();
    });
  });
  search.addEventListener("input", function () { state.page = 0; render(); });
  filters.forEach(function (f) { f.addEventListener("change", function () { state.page = 0; render(); }); });
  if (tracedOnly) { tracedOnly.addEventListener("change", function () { state.page = 0; render(); }); }
  document.getElementById("tb-prev").addEventListener("click", function () {
    if (state.page > 0) { state.page--; render(); }
  });
  document.getElementById("tb-next").addEventListener("click", function () {
    if ((state.page + 1) * state.size < state.order.length) { state.page++; render(); }
  });
  tbody.addEventListener("click", function (e) {
    var tr = e.target.closest("tr");
    if (tr) { open(tr.getAttribute("data-account")); }
  });
  document.addEventListener("click", function (e) {
    var b = e.target.closest("button.acct");
    if (b) {
      search.value = b.getAttribute("data-account");
      state.page = 0;
      render();
      open(b.getAttribute("data-account"));
    }
  });
  render();
})();
"""
