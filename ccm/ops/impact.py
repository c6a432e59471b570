"""A dry run of a proposal for the front doors (API, MCP): the control layer's
:meth:`~ccm.actions.lifecycle.Controller.dry_run`, re-exported here."""

from __future__ import annotations

from ccm.actions.dryrun import DryRun
from ccm.actions.lifecycle import Controller
from ccm.policy.proposal import Proposal

__all__ = ["DryRun", "dry_run"]


def dry_run(ctl: Controller, p: Proposal, at: int | None = None) -> DryRun:
    """Evaluate ``p`` as :meth:`Controller.propose` would, recording nothing (see
    :meth:`Controller.dry_run`)."""
    return ctl.dry_run(p, at)
