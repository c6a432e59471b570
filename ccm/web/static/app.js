// The web view: pick a time, see the dependency graph as of then; pick an alert, see the
// ranked root-cause chains; pick a proposed action (or ask "what if"), see its blast radius
// and the verdict. Everything comes from the public API (docs/api.md, docs/web.md).

import { Api, ApiError } from "./api.js";
import { h, renderActions, renderAlerts, renderChains, renderLegend, renderLinks, renderVerdict } from "./panels.js";
import { renderGraph } from "./render.js";
import { eventsOf, iso, mergeEvents, MINUTE, parseIso, short, span, step } from "./time.js";
import { COMPONENT_KINDS } from "./layout.js";

const $ = (id) => document.getElementById(id);
const api = new Api();
const TOKEN_KEY = "ccm-web-token";
// what the page draws or lists: components, their config keys, changes and alerts
const KINDS = [...COMPONENT_KINDS, "config", "change", "alert"];
const state = {
  mode: "paste", events: [], t: null, graph: null, alerts: [], alertPick: null, chains: [],
  chain: null, impact: null, actions: [], actionsNote: null, actionPick: null, registry: [], seq: 0,
};

function status(message, isError = false) {
  const bar = $("status");
  bar.textContent = message;
  bar.classList.toggle("error", isError);
}

function fail(err) {
  if (err instanceof ApiError && err.status === 401) {
    needToken(state.mode === "handout" ? "the server's web token was refused" : "the token was refused: paste a valid one");
    return;
  }
  status(err instanceof ApiError ? `${err.status}: ${err.message}` : String(err), true);
}

function needToken(why) {
  $("auth-state").textContent = why;
  $("token").hidden = false;
  $("token-use").hidden = false;
  $("token-forget").hidden = true;
  document.body.classList.add("no-token");
}

function connected() {
  document.body.classList.remove("no-token");
  const how = { handout: "token handed out by the server (read-only)", "insecure-dev": "insecure dev mode (no token)", paste: "token kept for this tab only" };
  $("auth-state").textContent = `connected: ${how[api.token ? (state.mode === "handout" ? "handout" : "paste") : "insecure-dev"]}`;
  $("token").hidden = true;
  $("token-use").hidden = true;
  $("token-forget").hidden = state.mode === "handout" || !api.token;
}

// -- time -------------------------------------------------------------------------------
function setRange() {
  const [lo, hi] = span(state.events);
  const slider = $("time");
  slider.min = String(Math.min(lo, state.t ?? lo));
  slider.max = String(Math.max(hi, state.t ?? hi));
  drawTicks();
}

function drawTicks() {
  const svg = $("ticks");
  svg.replaceChildren();
  const lo = Number($("time").min), hi = Number($("time").max);
  const colour = { change: "tick-change", alert: "tick-alert", resolved: "tick-resolved", fact: "tick-fact" };
  for (const e of state.events) {
    const x = ((e.t - lo) / (hi - lo || 1)) * 100;
    const line = document.createElementNS("http://www.w3.org/2000/svg", "line");
    for (const [k, v] of Object.entries({ x1: `${x}%`, x2: `${x}%`, y1: e.kind === "fact" ? 9 : 2, y2: 16, class: colour[e.kind] })) line.setAttribute(k, v);
    const title = document.createElementNS("http://www.w3.org/2000/svg", "title");
    title.textContent = `${short(e.t)} ${e.kind}: ${e.ref}`;
    line.append(title);
    svg.append(line);
  }
}

let pending = null;
function timeChosen(t, now = false) {
  state.t = t;
  $("time").value = String(t);
  $("time-text").value = iso(t);
  clearTimeout(pending);
  pending = setTimeout(() => showTime(t).catch(fail), now ? 0 : 150);
}

async function showTime(t, keep = false) {
  const seq = ++state.seq;
  const graph = await api.get("/v1/graph", { at: iso(t), kind: KINDS });
  if (seq !== state.seq) return;  // a later time was picked meanwhile
  state.graph = graph;
  state.events = mergeEvents(state.events, eventsOf(graph));
  setRange();
  $("time").value = String(t);
  $("time-text").value = iso(t);
  state.alerts = graph.nodes.filter((n) => n.kind === "alert");
  state.alertPick = null; state.chains = []; state.chain = null;  // chains belong to a time
  $("chains-panel").hidden = true;
  if (!keep) {
    state.impact = null; state.actionPick = null;
    $("verdict").hidden = true;
  }
  const components = graph.nodes.filter((n) => COMPONENT_KINDS.has(n.kind)).length;
  const changes = graph.nodes.filter((n) => n.kind === "change").length;
  $("time-summary").textContent = `${components} components \u00b7 ${state.alerts.length} alerts firing \u00b7 ${changes} changes so far`;
  $("alerts-when").textContent = `at ${short(t)}`;
  $("explain-all").disabled = !state.alerts.length;
  fillTargets();
  draw();
  status(`the graph as it was at ${iso(t)}${graph.truncated ? " (truncated: CCM_GRAPH_LIMIT)" : ""}`);
}

// -- drawing ----------------------------------------------------------------------------
function draw() {
  if (!state.graph) return;
  const byNode = new Map();
  for (const a of state.alerts) {
    const on = (a.attrs || {}).service;
    if (!byNode.has(on)) byNode.set(on, []);
    byNode.get(on).push(a);
  }
  const drawn = renderGraph($("graph"), { graph: state.graph, alerts: byNode, chain: state.chain, impact: state.impact });
  renderLegend($("legend"), state.chain ? "chain" : state.impact ? "impact" : null);
  caption();
  $("canvas-note").textContent = drawn.components ? "" : "no components at this time";
  renderAlerts($("alerts"), state.alerts, pickAlert, state.alertPick);
  renderChains($("chains"), state.chains, pickChain, state.chain ? state.chain.rank : null);
  renderActions($("actions"), state.actions, pickAction, state.actionPick, state.actionsNote);
}

function caption() {
  const box = $("caption");
  box.replaceChildren();
  const when = `as of ${short(state.t)}`;
  if (state.chain) box.append("Root-cause chain ", h("b", {}, `#${state.chain.rank}`), `, the way the failure travelled (${when}): `, h("b", {}, state.chain.nodes.join(" \u2192 ")));
  else if (state.impact) box.append("Blast radius of ", h("b", {}, state.impact.title), `: each node's probability of being impacted if the action fails (${when})`);
  else box.append(`The dependency graph ${when}: callers on the left, what they depend on to the right; hover a node or an edge for its attributes.`);
}

// -- root causes ------------------------------------------------------------------------
async function explain(alertRefs, label) {
  status("ranking root causes\u2026");
  const body = { at: iso(state.t), k: 5 };
  if (alertRefs) body.alerts = alertRefs;
  const res = await api.post("/v1/rca", body);
  state.chains = res.chains;
  state.chain = null;
  state.impact = null;
  $("chains-panel").hidden = false;
  $("chains-for").textContent = label;
  renderLinks($("links"), null);
  $("verdict").hidden = true;
  draw();
  status(`${res.chains.length} chains from ${res.hypotheses} hypotheses for ${res.symptoms.length} symptom(s)`);
}

function pickAlert(alert) {
  state.alertPick = alert.ref;
  explain([alert.ref], `for ${alert.ref}`).catch(fail);
}

function pickChain(chain) {
  state.chain = { rank: chain.rank, nodes: chain.chain, links: chain.links };
  state.impact = null;
  state.actionPick = null;
  $("verdict").hidden = true;
  renderLinks($("links"), chain);
  draw();
  status(`chain ${chain.rank}: ${chain.chain.join(" \u2192 ")}`);
}

// -- actions ----------------------------------------------------------------------------
function seedsOf(proposal) {
  const key = (proposal.inputs || {}).key;
  return [proposal.target, ...(proposal.action === "config_change" && typeof key === "string"
    ? [`config:${proposal.target.slice(proposal.target.indexOf(":") + 1)}/${key}`] : [])];
}

async function loadActions() {
  try {
    state.actions = (await api.get("/v1/actions", { limit: 50 })).actions;
    state.actionsNote = null;
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 403) throw err;
    state.actions = [];
    state.actionsNote = "this token cannot read proposed actions (scope actions:read)";
  }
}

async function pickAction(action) {
  state.chain = null;
  const t = action.proposed_at ? Math.floor(action.proposed_at / 1000) : state.t;
  state.t = t;
  await showTime(t, true);
  state.actionPick = action.id;
  showVerdict(`${action.proposal.action} ${action.proposal.target} (${action.state})`, action.verdict, action.proposal,
    action.impact_note || null);
}

function showVerdict(title, verdict, proposal, note) {
  state.chain = null;
  renderLinks($("links"), null);
  if (!verdict) {
    status("this action has no verdict yet");
    return;
  }
  state.impact = verdict.impact ? { probs: verdict.impact.node_probabilities || {}, seeds: seedsOf(proposal), title } : null;
  renderVerdict($("verdict"), title, verdict, note);
  draw();
  $("verdict").scrollIntoView({ block: "nearest" });
  status(`${title}: ${verdict.decision}`);
}

async function loadRegistry() {
  try {
    state.registry = (await api.get("/v1/registry")).actions;
  } catch (err) {
    state.registry = [];
    if (!(err instanceof ApiError) || err.status !== 403) throw err;
  }
  const select = $("wi-action");
  select.replaceChildren(...state.registry.map((a) => h("option", { value: a.name }, a.name)));
  select.value = state.registry.some((a) => a.name === "config_change") ? "config_change" : select.value;
  $("whatif").hidden = !state.registry.length;
}

function fillTargets() {
  const spec = state.registry.find((a) => a.name === $("wi-action").value);
  if (!spec || !state.graph) return;
  const kinds = new Set(spec.target_kinds || []);
  const current = $("wi-target").value;
  const refs = state.graph.nodes.filter((n) => kinds.has(n.kind)).map((n) => n.ref).sort();
  $("wi-target").replaceChildren(...refs.map((r) => h("option", { value: r }, r)));
  if (refs.includes(current)) $("wi-target").value = current;
  fillInputs();
}

function fillInputs() {
  const spec = state.registry.find((a) => a.name === $("wi-action").value);
  if (!spec || !state.graph) return;
  const target = $("wi-target").value;
  const owner = target.slice(target.indexOf(":") + 1);
  const key = state.graph.nodes.find((n) => n.kind === "config" && n.name.startsWith(`${owner}/`));
  const schema = spec.inputs || {};
  const out = {};
  for (const name of schema.required || []) {
    const type = ((schema.properties || {})[name] || {}).type;
    if (name === "key" && key) out.key = key.name.slice(owner.length + 1);
    else if ((name === "value" || name === "previous_value") && key) out[name] = String(key.attrs.value ?? "");
    else out[name] = type === "integer" || type === "number" ? 1 : type === "boolean" ? false : type === "array" ? [] : "";
  }
  $("wi-inputs").value = JSON.stringify(out, null, 1);
}

async function whatIf(event) {
  event.preventDefault();
  let inputs;
  try { inputs = JSON.parse($("wi-inputs").value || "{}"); } catch (err) {
    status(`inputs are not JSON: ${err.message}`, true);
    return;
  }
  const body = { action: $("wi-action").value, target: $("wi-target").value, inputs, at: iso(state.t) };
  status("predicting\u2026");
  const res = await api.post("/v1/impact", body);
  state.actionPick = null;
  showVerdict(`what if: ${body.action} ${body.target}`, res.verdict, res.proposal,
    "A dry run as your token's identity, unsigned: identity_binding and sandbox_grants answer for you, "
    + "not for an agent. blast_radius and network_boundary are about the action itself. Nothing was recorded."
    + (res.impact_note ? ` ${res.impact_note}` : ""));
}

// -- start ------------------------------------------------------------------------------
async function connect() {
  status("connecting\u2026");
  const now = await api.get("/v1/graph", { at: "now", kind: KINDS });
  connected();
  state.events = mergeEvents([], eventsOf(now));
  const times = state.events.map((e) => e.t);
  state.t = times.length ? Math.min(times[times.length - 1] + MINUTE, Date.now()) : Date.now();
  setRange();
  await Promise.all([loadRegistry(), loadActions()]);
  await showTime(state.t);
}

function wire() {
  $("time").addEventListener("input", () => timeChosen(Number($("time").value)));
  $("time").addEventListener("keydown", (e) => {
    if (e.key !== "PageUp" && e.key !== "PageDown") return;
    e.preventDefault();
    const t = step(state.events, state.t, e.key === "PageUp" ? 1 : -1);
    if (t !== null) timeChosen(t, true);
  });
  $("prev-event").addEventListener("click", () => { const t = step(state.events, state.t, -1); if (t !== null) timeChosen(t, true); });
  $("next-event").addEventListener("click", () => { const t = step(state.events, state.t, 1); if (t !== null) timeChosen(t, true); });
  $("time-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const t = parseIso($("time-text").value.trim());
    if (t === null) status(`not a time: ${$("time-text").value} (use ISO 8601, e.g. 2026-03-05T09:45:00Z)`, true);
    else timeChosen(t, true);
  });
  $("explain-all").addEventListener("click", () => {
    state.alertPick = null;
    explain(null, "for every firing alert").catch(fail);
  });
  $("wi-action").addEventListener("change", fillTargets);
  $("wi-target").addEventListener("change", fillInputs);
  $("whatif-form").addEventListener("submit", (e) => whatIf(e).catch(fail));
  $("token-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const token = $("token").value.trim();
    if (!token) return;
    $("token").value = "";
    api.token = token;
    sessionStorage.setItem(TOKEN_KEY, token);
    connect().catch(fail);
  });
  $("token-forget").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    api.token = null;
    needToken("token forgotten");
  });
}

async function start() {
  wire();
  const session = await api.session();
  state.mode = session.mode;
  if (session.mode === "handout") api.token = session.token;
  else api.token = sessionStorage.getItem(TOKEN_KEY);
  if (!api.token && session.mode !== "insecure-dev") {
    needToken("paste an SRE token to look around");
    return;
  }
  await connect();
}

start().catch(fail);
