// The page at / of the metrics server: the job's dataflow graph, operators in columns by their
// distance from the sources, each box with its records in and out per second, watermark,
// state and late records, refreshed every second from /metrics.json. Plain HTML, SVG and
// JavaScript in one string: nothing to install, nothing fetched from elsewhere.
#include "metrics/metrics.h"

namespace flow {

const std::string& metrics_web_page() {
  static const std::string page = R"PAGE(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>flowc job</title>
<style>
  body { font: 14px system-ui, sans-serif; margin: 16px; color: #222; }
  h1 { font-size: 18px; margin: 0 0 4px; }
  #summary { color: #555; margin-bottom: 12px; }
  svg text { font: 12px system-ui, sans-serif; }
  .box { fill: #fff; stroke-width: 2; }
  .active { stroke: #2a9d3c; }
  .idle { stroke: #999; }
  .ended { stroke: #3b6fb6; }
  .held { stroke: #d1342c; fill: #fdecea; }
  .edge { stroke: #777; fill: none; marker-end: url(#arrow); }
  .kind { font-weight: 600; }
  #error { color: #b00; }
</style>
</head>
<body>
<h1 id="title">flowc job</h1>
<div id="summary">waiting for the first reading…</div>
<div id="error"></div>
<svg id="graph" width="100" height="100" role="img" aria-label="dataflow graph">
  <defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto">
    <path d="M0,0 L10,5 L0,10 z" fill="#777"/></marker></defs>
  <g id="edges"></g><g id="nodes"></g>
</svg>
<script>
const W = 250, H = 92, GAPX = 70, GAPY = 24;
function rate(r) {
  if (r === undefined) return "";
  if (r >= 1e6) return (r / 1e6).toFixed(2) + "M/s";
  if (r >= 1e3) return (r / 1e3).toFixed(1) + "k/s";
  return r.toFixed(0) + "/s";
}
function time(ms) {
  if (ms === undefined) return "none yet";
  if (ms === "end") return "end of input";
  return new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, "");
}
function columns(job) {
  const depth = {}, incoming = {};
  job.operators.forEach(o => { depth[o.id] = 0; incoming[o.id] = 0; });
  job.edges.forEach(e => incoming[e.to]++);
  for (let round = 0; round < job.operators.length; round++)
    job.edges.forEach(e => { depth[e.to] = Math.max(depth[e.to], depth[e.from] + 1); });
  return depth;
}
function draw(job) {
  document.getElementById("title").textContent = "flowc job " + job.job + " (" + job.status + ")";
  const c = job.checkpoints;
  const waiting = job.status === "running" && job.reading_age_s > 2
    ? " (no new reading for " + job.reading_age_s.toFixed(0) + " s: the job is waiting for input)" : "";
  document.getElementById("summary").textContent = "up " + job.uptime_s.toFixed(1) + " s" + waiting +
    (c.enabled ? "; checkpoints " + c.taken + ", last pause " + c.last_pause_ms.toFixed(1) + " ms, last " +
                 c.last_duration_ms.toFixed(1) + " ms in all" : "");
  // Column by column, each operator goes as near to the operators feeding it as it can, so
  // that few edges cross.
  const depth = columns(job), rows = {}, at = {}, row = {};
  const deepest = Math.max(...Object.values(depth), 0);
  for (let d = 0; d <= deepest; d++) {
    const column = job.operators.filter(o => depth[o.id] === d);
    const wish = o => {
      const from = job.edges.filter(e => e.to === o.id && row[e.from] !== undefined).map(e => row[e.from]);
      return from.length ? from.reduce((a, b) => a + b, 0) / from.length : column.indexOf(o);
    };
    column.map(o => [wish(o), o]).sort((a, b) => a[0] - b[0]).forEach(([, o], i) => {
      row[o.id] = i;
      at[o.id] = { x: 10 + d * (W + GAPX), y: 10 + i * (H + GAPY) };
    });
    rows[d] = column.length;
  }
  const svg = document.getElementById("graph");
  svg.setAttribute("width", 20 + (Math.max(...Object.values(depth), 0) + 1) * (W + GAPX));
  svg.setAttribute("height", 20 + Math.max(...Object.values(rows), 1) * (H + GAPY));
  const ns = "http://www.w3.org/2000/svg";
  const edges = document.getElementById("edges"), nodes = document.getElementById("nodes");
  edges.replaceChildren(); nodes.replaceChildren();
  job.edges.forEach(e => {
    const a = at[e.from], b = at[e.to];
    if (!a || !b) return;
    const p = document.createElementNS(ns, "path");
    const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2;
    p.setAttribute("d", `M${x1},${y1} C${x1 + GAPX / 2},${y1} ${x2 - GAPX / 2},${y2} ${x2},${y2}`);
    p.setAttribute("class", "edge");
    edges.appendChild(p);
  });
  job.operators.forEach(o => {
    const g = document.createElementNS(ns, "g"), p = at[o.id];
    g.setAttribute("transform", `translate(${p.x},${p.y})`);
    g.setAttribute("data-operator", o.id);
    const moving = (o.rate_in || 0) > 0 || (o.rate_out || 0) > 0;
    const r = document.createElementNS(ns, "rect");
    r.setAttribute("width", W); r.setAttribute("height", H); r.setAttribute("rx", 6);
    // Backpressure (parallel jobs): a source held back more than half of the time is red.
    const held = (o.backpressured_ratio || 0) > 0.5;
    r.setAttribute("class", "box " + (job.status !== "running" ? "ended" : held ? "held" : moving ? "active" : "idle"));
    g.appendChild(r);
    const lines = [[o.kind + " " + o.id.split("-").pop(), "kind"], [o.label, ""]];
    let io = [];
    if (o.records_in !== undefined) io.push("in " + o.records_in + " " + rate(o.rate_in));
    if (o.records_out !== undefined) io.push("out " + o.records_out + " " + rate(o.rate_out));
    lines.push([io.join("  "), "records"]);
    let more = [];
    if (o.watermark_ms !== undefined || o.kind === "window" || o.kind === "join") more.push("wm " + time(o.watermark_ms));
    if (o.bytes_total) more.push(Math.floor(100 * o.bytes_read / o.bytes_total) + "% read");
    if (o.state_rows !== undefined) more.push("state " + o.state_rows);
    if (o.late_dropped) more.push("late " + o.late_dropped);
    if (o.backpressured_ratio !== undefined)
      more.push("busy " + Math.round(100 * o.busy_ratio) + "% held " + Math.round(100 * o.backpressured_ratio) + "%");
    lines.push([more.join("  "), ""]);
    lines.forEach(([text, cls], i) => {
      const t = document.createElementNS(ns, "text");
      t.setAttribute("x", 8); t.setAttribute("y", 20 + i * 19);
      if (cls) t.setAttribute("class", cls);
      t.textContent = text.length > 38 ? text.slice(0, 37) + "…" : text;
      g.appendChild(t);
    });
    nodes.appendChild(g);
  });
}
async function refresh() {
  try {
    const reply = await fetch("/metrics.json", { cache: "no-store" });
    draw(await reply.json());
    document.getElementById("error").textContent = "";
  } catch (e) {
    document.getElementById("error").textContent = "the job does not answer (it may have ended)";
  }
}
refresh();
setInterval(refresh, 1000);
</script>
</body>
</html>
)PAGE";
  return page;
}

}  // namespace flow
