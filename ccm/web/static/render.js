// Drawing the dependency graph as SVG: nodes by kind, alerts as badges, a root-cause chain
// over it, or an action's blast radius as a fill by probability. Every text from the graph
// is set with textContent (it is data, never markup).

import { dependencyGraph, layeredLayout, placeExtra } from "./layout.js";

const NS = "http://www.w3.org/2000/svg";
const X = 230, Y = 64, R = 11;
// the impact scale (ColorBrewer YlOrRd), 0 to 1
const SCALE = ["#ffffcc", "#fed976", "#fd8d3c", "#e31a1c", "#800026"];

export function impactColour(p) {
  const x = Math.max(0, Math.min(1, p)) * (SCALE.length - 1);
  const i = Math.min(SCALE.length - 2, Math.floor(x));
  const mix = (a, b, f) => Math.round(a + (b - a) * f);
  const rgb = (h) => [1, 3, 5].map((k) => parseInt(h.slice(k, k + 2), 16));
  const [a, b] = [rgb(SCALE[i]), rgb(SCALE[i + 1])];
  return `rgb(${a.map((v, k) => mix(v, b[k], x - i)).join(",")})`;
}

function el(name, attrs = {}, parent = null) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) node.setAttribute(k, String(v));
  if (parent) parent.appendChild(node);
  return node;
}

function text(parent, content, attrs) {
  const t = el("text", attrs, parent);
  t.textContent = content;
  return t;
}

function marker(defs, id, colour) {
  const m = el("marker", { id, viewBox: "0 0 10 10", refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto-start-reverse" }, defs);
  el("path", { d: "M0,0 L10,5 L0,10 z", fill: colour }, m);
}

function curve(a, b, bend) {
  const dx = b.x - a.x, dy = b.y - a.y, len = Math.hypot(dx, dy) || 1;
  const ux = dx / len, uy = dy / len;
  const s = { x: a.x + ux * (R + 2), y: a.y + uy * (R + 2) };
  const e = { x: b.x - ux * (R + 4), y: b.y - uy * (R + 4) };
  const c = { x: (s.x + e.x) / 2 - uy * bend * len, y: (s.y + e.y) / 2 + ux * bend * len };
  return `M${s.x.toFixed(1)},${s.y.toFixed(1)} Q${c.x.toFixed(1)},${c.y.toFixed(1)} ${e.x.toFixed(1)},${e.y.toFixed(1)}`;
}

function nameOf(ref, node) {
  const name = node ? node.name : ref.slice(ref.indexOf(":") + 1);
  return ref.startsWith("config:") ? name.slice(name.indexOf("/") + 1) : name;
}

function tooltip(ref, node, extra) {
  const lines = [ref];
  const attrs = (node && node.attrs) || {};
  for (const k of ["tier", "zone", "replicas", "rps", "entrypoint", "value", "change_kind", "description", "version"]) {
    if (attrs[k] !== undefined) lines.push(`${k}: ${typeof attrs[k] === "object" ? JSON.stringify(attrs[k]) : attrs[k]}`);
  }
  if (extra) lines.push(extra);
  return lines.join("\n");
}

// view: {graph, alerts: Map(ref -> [alert nodes]), chain: {nodes, links} | null,
//        impact: {probs: {ref: p}, seeds: [refs]} | null}
export function renderGraph(svg, view) {
  svg.replaceChildren();
  const byRef = new Map(view.graph.nodes.map((n) => [n.ref, n]));
  const dep = dependencyGraph(view.graph);
  const pos = layeredLayout(dep);
  const extras = [];
  const chain = view.chain ? view.chain.nodes : [];
  const seeds = view.impact ? view.impact.seeds : [];
  // extra nodes a chain or an action brings (changes, config keys), hung from their neighbour
  for (const ref of [...chain.slice().reverse(), ...seeds]) {
    if (pos.has(ref)) continue;
    const i = chain.indexOf(ref);
    const anchor = [chain[i + 1], chain[i - 1], ref.startsWith("config:") ? `service:${ref.slice(7).split("/")[0]}` : null]
      .find((a) => a && pos.has(a));
    if (!anchor) continue;
    pos.set(ref, placeExtra(pos, anchor));
    extras.push(ref);
  }
  const xs = [...pos.values()].map((p) => p.x), ys = [...pos.values()].map((p) => p.y);
  const minX = Math.min(0, ...xs), maxX = Math.max(0, ...xs), minY = Math.min(0, ...ys), maxY = Math.max(0, ...ys);
  const px = (p) => ({ x: 40 + (p.x - minX) * X, y: 40 + (p.y - minY) * Y });
  svg.setAttribute("viewBox", `0 0 ${80 + (maxX - minX) * X + 190} ${80 + (maxY - minY) * Y}`);

  const defs = el("defs", {}, svg);
  marker(defs, "arrow", "#9aa3ad");
  marker(defs, "arrow-chain", "#c62828");
  const involved = new Set([...chain, ...Object.keys(view.impact ? view.impact.probs : {}).filter((r) => view.impact.probs[r] > 0), ...seeds]);
  const focus = Boolean(view.chain || view.impact);

  const gEdges = el("g", { class: "edges" }, svg);
  for (const e of dep.edges) {
    const dim = focus && !(involved.has(e.src) && involved.has(e.dst));
    const path = el("path", { d: curve(px(pos.get(e.src)), px(pos.get(e.dst)), 0.06), class: `edge${dim ? " dim" : ""}`,
      "marker-end": "url(#arrow)", "data-from": e.src, "data-to": e.dst }, gEdges);
    const bits = [`${e.src} depends on ${e.dst}`];
    for (const k of ["hard", "fallback", "async", "calls_per_s", "timeout_ms"]) if (e.attrs[k] !== undefined) bits.push(`${k}: ${e.attrs[k]}`);
    el("title", {}, path).textContent = bits.join("\n");
  }
  for (const ref of extras) {  // the edge from a change or key to its neighbour on the chain
    const i = chain.indexOf(ref);
    const next = i >= 0 ? chain[i + 1] : `service:${ref.slice(7).split("/")[0]}`;
    if (next && pos.has(next)) el("path", { d: curve(px(pos.get(next)), px(pos.get(ref)), 0), class: "edge extra-edge", "marker-end": "url(#arrow)" }, gEdges);
  }
  if (view.chain) {
    const gChain = el("g", { class: "chain-links" }, svg);
    for (let i = 0; i + 1 < chain.length; i += 1) {
      if (!pos.has(chain[i]) || !pos.has(chain[i + 1])) continue;
      const link = (view.chain.links || [])[i];
      const path = el("path", { d: curve(px(pos.get(chain[i])), px(pos.get(chain[i + 1])), 0.18), class: "chain-link",
        "marker-end": "url(#arrow-chain)", "data-from": chain[i], "data-to": chain[i + 1] }, gChain);
      if (link) el("title", {}, path).textContent = `${link.why} (p ${link.p.toFixed(2)})`;
    }
  }

  const gNodes = el("g", { class: "nodes" }, svg);
  for (const [ref, p] of pos) {
    const node = byRef.get(ref);
    const kind = node ? node.kind : ref.slice(0, ref.indexOf(":"));
    const at = px(p);
    const prob = view.impact ? view.impact.probs[ref] || 0 : null;
    const classes = ["node", `kind-${kind}`];
    if (chain.includes(ref)) classes.push("on-chain");
    if (seeds.includes(ref)) classes.push("seed");
    if (focus && !involved.has(ref)) classes.push("dim");
    if (prob !== null && prob > 0) classes.push("impacted");
    const g = el("g", { class: classes.join(" "), "data-ref": ref, transform: `translate(${at.x.toFixed(1)},${at.y.toFixed(1)})`, tabindex: 0 }, gNodes);
    const circle = el("circle", { r: R }, g);
    if (prob !== null) circle.style.fill = prob > 0 ? impactColour(prob) : "#f1f3f5";  // CSSOM: allowed by the CSP
    const label = text(g, nameOf(ref, node), { x: R + 6, y: 4, class: "label" });
    if (prob !== null && prob > 0) {
      const ts = el("tspan", { class: "prob", dx: 6 }, label);
      ts.textContent = `${Math.round(prob * 100)}%`;
      g.setAttribute("data-probability", prob.toFixed(4));
    }
    const firing = view.alerts.get(ref) || [];
    if (firing.length) {
      const badge = el("g", { class: "alert-badge", transform: `translate(${R - 2},${-R + 1})` }, g);
      el("circle", { r: 7 }, badge);
      text(badge, String(firing.length), { y: 3.5 });
      g.classList.add("alerting");
    }
    el("title", {}, g).textContent = tooltip(ref, node, firing.length
      ? `firing: ${firing.map((a) => `${a.attrs.alertname || a.name} (${a.attrs.signal})`).join(", ")}` : null);
  }
  return { drawn: pos.size, components: dep.nodes.size };
}
