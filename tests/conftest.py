"""Shared fixtures: an injected clock, and a `store` over both backends.

Neo4j tests run against a real Neo4j 5.26 server: ``NEO4J_URI`` when set, else one
this session starts from Maven Central's jars (see ccm.devserver.neo4j). With
``CI=true`` a Neo4j that cannot start fails the run; elsewhere its tests are
skipped with one line saying how to enable them.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from ccm.store import EmbeddedStore
from graph_schema import parse_time
from graph_schema.timeutil import ManualClock

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
T0 = parse_time("2026-04-01T00:00:00Z")


class FakeClock(ManualClock):
    """An injected clock: starts at 2026-04-01, moves only when told."""

    def __init__(self, start: int = T0) -> None:
        super().__init__(start)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


class _Neo4jSession:
    def __init__(self) -> None:
        self.uri: str | None = os.environ.get("NEO4J_URI") or None
        self.server = None
        self.error: str | None = None
        self.tried = False

    def get(self) -> str:
        if self.uri:
            return self.uri
        if not self.tried:
            self.tried = True
            from ccm.devserver.neo4j import LocalNeo4j, Neo4jUnavailable

            try:
                self.server = LocalNeo4j().start()
                self.uri = self.server.uri
            except Neo4jUnavailable as exc:
                self.error = str(exc)
        if self.uri:
            return self.uri
        msg = (f"Neo4j tests need a Neo4j server: {self.error}. Install Java 17 and Maven, "
               "or set NEO4J_URI=bolt://host:7687 (with NEO4J_USER, NEO4J_PASSWORD).")
        if IN_CI:
            pytest.fail("CI=true and " + msg, pytrace=False)
        pytest.skip(msg)

    def stop(self) -> None:
        if self.server is not None:
            self.server.stop()


_NEO4J = _Neo4jSession()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _NEO4J.stop()


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # type: ignore[no-untyped-def]
    if _NEO4J.error and not IN_CI:
        terminalreporter.write_line(
            "Neo4j tests were skipped: " + _NEO4J.error.splitlines()[0]
            + " (install Java 17 + Maven, or set NEO4J_URI, to run them)")


@pytest.fixture(scope="session")
def neo4j_uri() -> str:
    return _NEO4J.get()


def wipe_neo4j(uri: str) -> None:
    """Empty the test server's database (even one a newer schema wrote)."""
    import neo4j

    with neo4j.GraphDatabase.driver(uri) as driver, driver.session() as session:
        session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
                    ).consume()


def _neo4j_store(uri: str, clock: FakeClock):  # type: ignore[no-untyped-def]
    from ccm.store.neo4j import Neo4jStore

    wipe_neo4j(uri)
    return Neo4jStore(uri, clock=clock)


@pytest.fixture(params=["embedded", pytest.param("neo4j", marks=pytest.mark.neo4j)])
def store(request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock) -> Iterator:
    """A fresh, empty store of each backend, on the injected clock."""
    if request.param == "embedded":
        s = EmbeddedStore(tmp_path / "ccm.sqlite", clock=clock)
    else:
        s = _neo4j_store(request.getfixturevalue("neo4j_uri"), clock)
    yield s
    s.close()


@pytest.fixture
def embedded(tmp_path: Path, clock: FakeClock) -> Iterator[EmbeddedStore]:
    s = EmbeddedStore(tmp_path / "ccm.sqlite", clock=clock)
    yield s
    s.close()


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedStore]:
    """The bundled Online Boutique demo, loaded once per session (read-only use)."""
    from ccm.cli.demo import load_demo

    s = load_demo(tmp_path_factory.mktemp("demo") / "demo.sqlite")
    yield s
    s.close()
