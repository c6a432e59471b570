// The side panels: firing alerts, ranked chains with their evidence, proposed actions and
// a verdict with every rule's reason. Built with DOM calls and textContent only.

import { short } from "./time.js";

export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") node.className = v;
    else if (k.startsWith("data-")) node.setAttribute(k, v);
    else if (k === "onclick") node.addEventListener("click", v);
    else node[k] = v;
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : String(c));
  return node;
}

const pct = (p) => `${(100 * p).toFixed(p < 0.1 ? 1 : 0)}%`;

export function renderAlerts(list, alerts, onPick, selected) {
  list.replaceChildren();
  if (!alerts.length) {
    list.append(h("li", { class: "empty" }, "none at this time"));
    return;
  }
  for (const a of alerts) {
    const at = a.attrs || {};
    list.append(h("li", {},
      h("button", { type: "button", class: a.ref === selected ? "pick selected" : "pick", "data-ref": a.ref, onclick: () => onPick(a) },
        h("span", { class: `sev sev-${at.severity || "none"}` }, at.severity || "alert"),
        h("b", {}, at.alertname || a.name), " on ", h("code", {}, at.service || "?"),
        h("span", { class: "signal" }, at.signal || ""),
        h("small", {}, `since ${short(Date.parse(a.valid_from))}`),
        at.summary ? h("span", { class: "summary" }, at.summary) : null)));
  }
}

export function renderChains(list, chains, onPick, selected) {
  list.replaceChildren();
  if (!chains.length) {
    list.append(h("li", { class: "empty" }, "no hypothesis reaches these symptoms"));
    return;
  }
  for (const c of chains) {
    list.append(h("li", {},
      h("button", { type: "button", class: c.rank === selected ? "pick selected" : "pick", "data-rank": String(c.rank), onclick: () => onPick(c) },
        h("span", { class: "posterior" }, pct(c.score)),
        h("b", {}, c.root), h("span", { class: "cause" }, c.cause),
        h("span", { class: "chain-text" }, c.chain.join(" \u2192 ")))));
  }
}

export function renderLinks(box, chain) {
  box.replaceChildren();
  box.hidden = !chain;
  if (!chain) return;
  box.append(h("h3", {}, "The evidence, link by link"));
  for (const l of chain.links) {
    box.append(h("li", {},
      h("span", { class: "link-ends" }, h("code", {}, l.from), " \u2192 ", h("code", {}, l.to)),
      h("span", { class: "link-p" }, `p ${l.p.toFixed(2)}`),
      h("span", { class: "why" }, l.why)));
  }
}

export function renderActions(list, actions, onPick, selected, note) {
  list.replaceChildren();
  if (note) {
    list.append(h("li", { class: "empty" }, note));
    return;
  }
  if (!actions.length) {
    list.append(h("li", { class: "empty" }, "no proposed actions"));
    return;
  }
  for (const a of actions.slice().reverse()) {
    const v = a.verdict || {};
    list.append(h("li", {},
      h("button", { type: "button", class: a.id === selected ? "pick selected" : "pick", "data-id": a.id, onclick: () => onPick(a) },
        h("span", { class: `decision d-${v.decision || "none"}` }, v.decision || a.state),
        h("b", {}, a.proposal.action), " ", h("code", {}, a.proposal.target),
        h("small", {}, `${a.state} \u00b7 by ${a.proposal.agent}${a.proposed_at ? ` \u00b7 ${short(a.proposed_at / 1000)}` : ""}`))));
  }
}

const ORDER = { refuse: 0, review: 1, proceed: 2 };

export function renderVerdict(box, title, verdict, note) {
  box.hidden = false;
  box.replaceChildren();
  box.append(h("h3", {}, title));
  box.append(h("p", { class: `verdict-line d-${verdict.decision}` }, h("span", { class: "verdict-word" }, verdict.decision.toUpperCase()),
    verdict.decision === "review" ? ` needs ${verdict.needs.approvals || 1} approval(s)${verdict.needs.human ? ", one human" : ""}${verdict.needs.signature ? ", signed" : ""}` : ""));
  const imp = verdict.impact;
  if (imp) {
    box.append(h("dl", { class: "figures" },
      h("dt", {}, "p(fail)"), h("dd", {}, pct(imp.p_fail)),
      h("dt", {}, "p95 traffic if it fails"), h("dd", {}, pct(imp.traffic_p95)),
      h("dt", {}, "p95 services if it fails"), h("dd", {}, String(imp.services_p95))));
  }
  if (note) box.append(h("p", { class: "note" }, note));
  const rules = verdict.results.slice().sort((a, b) => ORDER[a.decision] - ORDER[b.decision] || a.rule.localeCompare(b.rule));
  box.append(h("ul", { class: "rules" }, rules.map((r) => h("li", { class: `d-${r.decision}`, "data-rule": r.rule },
    h("span", { class: "decision" }, r.decision), " ", h("b", {}, r.rule), h("span", { class: "reason" }, r.reason)))));
}

export function renderLegend(box, mode) {
  box.replaceChildren();
  const kinds = ["service", "gateway", "datastore", "cache", "queue", "external"];
  box.append(...kinds.map((k) => h("span", { class: `key kind-${k}` }, k)));
  if (mode === "chain") box.append(h("span", { class: "key chain" }, "root-cause chain (the way the failure went)"));
  if (mode === "impact") box.append(h("span", { class: "key scale" }, "P(impacted | the action fails): 0 ", h("i", { class: "gradient" }), " 1"));
  box.append(h("span", { class: "key alerting" }, "firing alerts"));
}
