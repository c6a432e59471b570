// Times: the API speaks ISO 8601 (UTC, "Z"); the page keeps milliseconds since the epoch.

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;

export function parseIso(text) {
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? null : ms;
}

export function iso(ms) {
  return new Date(ms).toISOString().replace(/\.000Z$/, "Z");
}

export function short(ms) {
  return iso(ms).replace("T", " ").replace(/:00Z$/, "Z");
}

// Moments the graph changed, from a graph as the API returns it: every version's
// valid_from and valid_to (the beginning of time excluded), typed for the timeline.
export function eventsOf(graph) {
  const out = [];
  const add = (text, kind, ref) => {
    const t = text ? parseIso(text) : null;
    if (t !== null && t > 0) out.push({ t, kind, ref });
  };
  for (const n of graph.nodes) {
    const kind = n.kind === "change" || n.kind === "alert" ? n.kind : "fact";
    add(n.valid_from, kind, n.ref);
    add(n.valid_to, n.kind === "alert" ? "resolved" : "fact", n.ref);
  }
  for (const e of graph.edges) {
    if (e.kind === "SYMPTOM_OF" || e.kind === "CHANGED") continue;
    add(e.valid_from, "fact", `${e.from} -> ${e.to}`);
    add(e.valid_to, "fact", `${e.from} -> ${e.to}`);
  }
  return out;
}

// Merge events into a sorted list of distinct (time, kind, ref).
export function mergeEvents(known, more) {
  const seen = new Set(known.map((e) => `${e.t}|${e.kind}|${e.ref}`));
  const all = known.slice();
  for (const e of more) {
    const key = `${e.t}|${e.kind}|${e.ref}`;
    if (!seen.has(key)) { seen.add(key); all.push(e); }
  }
  return all.sort((a, b) => a.t - b.t || a.ref.localeCompare(b.ref));
}

// The slider's span: the events with some room on either side.
export function span(events) {
  if (!events.length) {
    const now = Date.now();
    return [now - 24 * HOUR, now];
  }
  const first = events[0].t;
  const last = events[events.length - 1].t;
  const pad = Math.max(HOUR, (last - first) * 0.03);
  return [Math.floor((first - pad) / MINUTE) * MINUTE, Math.ceil((last + pad) / MINUTE) * MINUTE];
}

// The next distinct event time after (dir 1) or before (dir -1) t.
export function step(events, t, dir) {
  const times = [...new Set(events.map((e) => e.t))];
  if (dir > 0) return times.find((x) => x > t) ?? null;
  return times.reverse().find((x) => x < t) ?? null;
}
