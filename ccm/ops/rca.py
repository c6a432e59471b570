"""Root causes for symptoms, alerts, or the alerts firing at a time: what the front doors
ask the engine (with the caller's tenant's memory as priors)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ccm.engine import RootCauses, Symptom, root_causes
from ccm.engine.snapshot import Snapshot
from ccm.errors import InvalidRequest, NotFound
from ccm.ops.names import resolve_name
from ccm.ops.singleflight import SingleFlight
from ccm.store import Store
from graph_schema import parse_time

__all__ = ["RcaQuery", "SymptomSpec", "alert_symptoms", "explain", "find_root_causes"]


@dataclass(frozen=True, slots=True)
class SymptomSpec:
    """A symptom as a caller gives it: a node, a signal, and (optionally) its onset."""

    ref: str
    signal: str = "errors"
    time: int | None = None


def alert_symptoms(store: Store, snap: Snapshot, alert_refs: Sequence[str]) -> list[Symptom]:
    """The symptoms behind the given alerts (``alert:<id>`` or a bare id).

    An alert firing at the snapshot's time comes from the snapshot; one that is not
    (resolved since, or recorded later) from its latest recorded version.
    """
    table = snap.alerts
    firing = {table.refs[i]: i for i in range(len(table))}
    out: list[Symptom] = []
    for raw in alert_refs:
        ref = raw if raw.startswith("alert:") else f"alert:{raw}"
        i = firing.get(ref)
        if i is not None:
            out.append(Symptom(snap.refs[table.target[i]], table.signal[i],
                               int(table.time[i])))
            continue
        versions = store.history(ref).node  # NotFound when there is no such alert
        if not versions:
            raise NotFound(f"no alert {ref!r} in the store")
        attrs = versions[-1].attrs
        service, signal = attrs.get("service"), attrs.get("signal", "errors")
        if not isinstance(service, str) or ":" not in service:
            raise InvalidRequest(f"alert {ref!r} names no node it is a symptom of")
        onset = attrs.get("starts_at", versions[-1].valid_from)
        out.append(Symptom(service, str(signal), int(onset) if isinstance(onset, int)
                           else parse_time(onset)))
    return out


def find_root_causes(store: Store, *, at: int, known_at: int | None = None,
                     symptoms: Sequence[SymptomSpec] = (), alerts: Sequence[str] = (),
                     window: int | None = None, k: int = 5,
                     priors: Any = None) -> RootCauses:
    """The top ``k`` chains explaining ``symptoms`` and ``alerts`` at time ``at``; with
    neither, the alerts firing at ``at``. A symptom without a time began at ``at``; its
    node may be any name the graph knows (:func:`ccm.ops.names.resolve_name`).
    ``priors`` are memory's (the engine's :class:`~ccm.engine.Priors` protocol)."""
    snap = store.snapshot(at, known_at, window)
    given: list[Symptom] | None = None
    if symptoms or alerts:
        given = [Symptom(resolve_name(store, s.ref), s.signal, at if s.time is None else s.time)
                 for s in symptoms]
        given += alert_symptoms(store, snap, alerts)
        for s in given:
            snap.node(s.ref)  # NotFound naming the node and the time
    return root_causes(snap, given, window=window, k=k, priors=priors)


@dataclass(frozen=True)
class RcaQuery:
    """A root-cause question, its times parsed: what to explain, at which time."""

    at: int
    known_at: int | None = None
    symptoms: tuple[SymptomSpec, ...] = ()
    alerts: tuple[str, ...] = ()
    window: int | None = None
    k: int = 5


#: identical questions on the same store revision arriving together
RCA_FLIGHTS = SingleFlight()


def explain(ctl: Any, tenant: str, q: RcaQuery) -> RootCauses:
    """Answer ``q`` on the controller's store with ``tenant``'s memory as priors; the
    same question for the same tenant asked while it is being answered, on the same
    store revision, shares that answer (:class:`~ccm.ops.singleflight.SingleFlight`)."""
    key = (id(ctl), tenant, q, ctl.store.revision())
    return RCA_FLIGHTS.do(key, lambda: _explain(ctl, tenant, q))


def _explain(ctl: Any, tenant: str, q: RcaQuery) -> RootCauses:
    priors = ctl.memory(tenant).priors(q.at)
    return find_root_causes(ctl.store, at=q.at, known_at=q.known_at, symptoms=q.symptoms,
                            alerts=q.alerts, window=q.window, k=q.k, priors=priors)
