// A layered layout of the dependency graph: callers left of what they call (layers by
// longest dependency path; a cycle shares a layer), rows ordered to keep edges short.
// The same algorithm as ccm.viz.layered_layout, turned sideways for a wide screen.

export const COMPONENT_KINDS = new Set(["service", "datastore", "cache", "queue", "gateway", "external"]);

// Components and their DEPENDS_ON edges (caller -> callee), from a graph the API returned.
export function dependencyGraph(graph) {
  const nodes = new Map();
  for (const n of graph.nodes) if (COMPONENT_KINDS.has(n.kind)) nodes.set(n.ref, n);
  const seen = new Set();
  const edges = [];
  for (const e of graph.edges) {
    const key = `${e.from}|${e.to}`;
    if (e.kind !== "DEPENDS_ON" || !nodes.has(e.from) || !nodes.has(e.to) || seen.has(key)) continue;
    if (e.from === e.to) continue;
    seen.add(key);
    edges.push({ src: e.from, dst: e.to, attrs: e.attrs || {} });
  }
  return { nodes, edges };
}

function components(refs, succ) {
  // Tarjan's strongly connected components, iteratively.
  let index = 0;
  const idx = new Map(), low = new Map(), onStack = new Set(), stack = [], comp = new Map();
  let count = 0;
  for (const root of refs) {
    if (idx.has(root)) continue;
    const work = [[root, 0]];
    while (work.length) {
      const frame = work[work.length - 1];
      const [v, i] = frame;
      if (i === 0 && !idx.has(v)) {
        idx.set(v, index); low.set(v, index); index += 1; stack.push(v); onStack.add(v);
      }
      const next = succ.get(v) || [];
      if (i < next.length) {
        frame[1] += 1;
        const w = next[i];
        if (!idx.has(w)) work.push([w, 0]);
        else if (onStack.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
        continue;
      }
      work.pop();
      if (work.length) {
        const parent = work[work.length - 1][0];
        low.set(parent, Math.min(low.get(parent), low.get(v)));
      }
      if (low.get(v) === idx.get(v)) {
        let w;
        do { w = stack.pop(); onStack.delete(w); comp.set(w, count); } while (w !== v);
        count += 1;
      }
    }
  }
  return comp;
}

function layers(refs, edges) {
  const succ = new Map(refs.map((r) => [r, []]));
  for (const e of edges) succ.get(e.src).push(e.dst);
  const comp = components(refs, succ);
  // longest path over the condensation (Tarjan numbers components in reverse topological order)
  const order = [...new Set(refs.map((r) => comp.get(r)))].sort((a, b) => b - a);
  const cpred = new Map(order.map((c) => [c, new Set()]));
  for (const e of edges) {
    const a = comp.get(e.src), b = comp.get(e.dst);
    if (a !== b) cpred.get(b).add(a);
  }
  const depth = new Map();
  for (const c of order) {
    let d = 0;
    for (const p of cpred.get(c)) d = Math.max(d, depth.get(p) + 1);
    depth.set(c, d);
  }
  return new Map(refs.map((r) => [r, depth.get(comp.get(r))]));
}

function orderRows(refs, edges, layer, sweeps = 4) {
  const rows = new Map();
  for (const r of [...refs].sort()) {
    if (!rows.has(layer.get(r))) rows.set(layer.get(r), []);
    rows.get(layer.get(r)).push(r);
  }
  const near = new Map(refs.map((r) => [r, []]));
  for (const e of edges) { near.get(e.src).push(e.dst); near.get(e.dst).push(e.src); }
  const deepest = Math.max(0, ...rows.keys());
  for (let s = 0; s < sweeps; s += 1) {
    const down = s % 2 === 0;
    const range = [];
    if (down) for (let i = 1; i <= deepest; i += 1) range.push(i);
    else for (let i = deepest - 1; i >= 0; i -= 1) range.push(i);
    for (const i of range) {
      const ref = rows.get(down ? i - 1 : i + 1) || [];
      if (!ref.length || !rows.has(i)) continue;
      const at = new Map(ref.map((r, k) => [r, k]));
      const centre = (n) => {
        const ks = near.get(n).filter((m) => at.has(m)).map((m) => at.get(m));
        return ks.length ? ks.reduce((a, b) => a + b, 0) / ks.length : ref.length / 2;
      };
      rows.set(i, rows.get(i).slice().sort((a, b) => centre(a) - centre(b) || a.localeCompare(b)));
    }
  }
  return rows;
}

// Positions in layout units: x = layer (callers left), y = row (centred).
export function layeredLayout(dep) {
  const refs = [...dep.nodes.keys()];
  const layer = layers(refs, dep.edges);
  const rows = orderRows(refs, dep.edges, layer);
  const widest = Math.max(1, ...[...rows.values()].map((r) => r.length));
  const pos = new Map();
  for (const [d, row] of rows) {
    const spread = Math.min(1.6, widest / row.length);
    row.forEach((n, k) => pos.set(n, { x: d, y: (k - (row.length - 1) / 2) * spread }));
  }
  return pos;
}

// Where an extra node (a change, a config key) hangs from its anchor: further right (they
// are what the anchor depends on) and a little down, clear of every other node.
export function placeExtra(pos, anchor) {
  const at = pos.get(anchor);
  const tries = [[0.5, 0.6], [0.5, -0.6], [1, 0.6], [1, -0.6], [0.5, 1.2], [0.5, -1.2], [1, 1.2], [1, -1.2]];
  for (const [dx, dy] of tries) {
    const spot = { x: at.x + dx, y: at.y + dy };
    let clear = true;
    for (const p of pos.values()) if (Math.abs(p.x - spot.x) < 0.45 && Math.abs(p.y - spot.y) < 0.5) clear = false;
    if (clear) return spot;
  }
  return { x: at.x + 0.5, y: at.y + 0.6 };
}
