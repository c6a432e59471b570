"""The control-plane part of ``ccm demo``: memory at work (see
:mod:`ccm.demo.memory_story`), printed step by step."""

from __future__ import annotations

from ccm.actions.records import ActionRecord
from ccm.audit import load_signer, verify_store
from ccm.audit.keys import Signer
from ccm.cli.common import console
from ccm.cli.control_common import COLOURS
from ccm.cli.rca_cmd import chains_table
from ccm.cli.render import when
from ccm.demo.memory_story import KEY, NEW, TARGET, run_memory_story
from ccm.store import Store


def _verdict(rec: ActionRecord) -> None:
    v = rec.verdict
    assert v is not None
    c = COLOURS[v.decision]
    p = f"p(fail) {v.impact.p_fail:.1%}" if v.impact else "no prediction"
    console.print(f"  verdict: [{c}][b]{v.decision.upper()}[/b][/{c}] ({p}; state {rec.state})")
    for r in v.results:
        if r.decision != "proceed" or r.rule == "blast_radius":
            rc = COLOURS[r.decision]
            console.print(f"    [{rc}]{r.rule}[/{rc}]: {r.reason}")


def show_memory_story(store: Store) -> None:
    """Run the memory scenario on the demo store and print it."""
    configured = load_signer()
    audit_key = configured or Signer.ephemeral()
    agent_key = Signer.ephemeral()
    console.rule("[b]Memory at work: the same change, before and after it went wrong[/b]")
    console.print("Audit key: " + ("CCM_AUDIT_KEY" if configured else
                                   "an ephemeral key made for this demo run (set "
                                   "CCM_AUDIT_KEY or CCM_AUDIT_KEY_FILE to use yours)")
                  + "; the agent 'shop-bot' signs with an ephemeral key too.")
    story = run_memory_story(store, audit_key=audit_key, agent_key=agent_key)
    first, second = story.first, story.second
    assert first is not None and second is not None
    console.print(f"\n[b]{when(first.doc['proposed_at'])}[/b] shop-bot proposes config_change "
                  f"{KEY}={NEW} on {TARGET} ({first.id})")
    _verdict(first)
    closed = story.first_closed
    if closed is not None:
        revert = closed.doc.get("revert") or {}
        console.print(f"  executed; 10 minutes later the outcome is [red]unhealthy[/red] "
                      f"(service:frontend impacted): reverted automatically by "
                      f"{revert.get('action_id')}; written to memory; the SRE resolves "
                      "incident:inc-demo-1 with its causal chain")
    failures, clean = story.failures_after
    console.print(f"  memory now: config_change on {TARGET}: {failures:g} failure(s), "
                  f"{clean:g} clean; learned propagation frontend <- recommendation: "
                  f"{story.propagation_after}")
    console.print(f"\n[b]{when(second.doc['proposed_at'])}[/b] shop-bot proposes the same "
                  f"change again ({second.id})")
    _verdict(second)
    if story.rca is not None:
        console.print(f"\n[b]{when(story.rca.valid_at)}[/b] a person made the same change by "
                      "hand (change:chg-201); alerts fire on recommendationservice and "
                      "frontend. Root causes (ccm rca):")
        console.print(chains_table(story.rca))
        for m in story.seen_before:
            console.print(f"  [b]{m.describe()}[/b]")
    report = verify_store(store, [audit_key.public_b64])
    console.print(f"\nAudit log: {report.entries} signed entries, chain "
                  f"{'verifies' if report.ok else 'BROKEN: ' + '; '.join(report.problems)}.")

