"""The web view in a real browser: headless Chromium (Debian's package, driven by
Playwright) against a running ``ccm serve`` on the demo data.

Screenshots go to ``$CCM_SCREENSHOT_DIR`` when set (else the test's temporary folder).
Without /usr/bin/chromium these tests are skipped, except under ``CI=true`` (where
``.ci/run`` installs it), where that is a failure.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ccm.api.auth import hash_token
from graph_schema import COMPONENT_KINDS
from tests.api_support import ccm_serve
from tests.conftest import IN_CI

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
#: a read-only SRE token (fixed: no random values in fixtures)
TOKEN = "ccm_test-web-browser-token"
READ_SCOPES = ["graph:read", "rca:read", "impact:read", "actions:read"]
ALERTS_AT = "2026-03-05T10:00:00Z"
QUIET_AT = "2026-03-01T12:00:00Z"


def _need_chromium() -> None:
    missing = None if CHROMIUM.exists() else f"{CHROMIUM} is missing (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing = missing or "the playwright package is missing (pip install -e '.[test]')"
    if missing:
        if IN_CI:
            pytest.fail(f"CI=true and {missing}", pytrace=False)
        pytest.skip(missing)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The demo store (``ccm demo``), a token for it, and the environment to serve it."""
    _need_chromium()
    folder = tmp_path_factory.mktemp("web")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CCM_")}
    env.update(COLUMNS="200", XDG_CONFIG_HOME=str(folder / "config"),
               CCM_API_TOKENS=json.dumps([{"sha256": hash_token(TOKEN), "identity": "web-test",
                                           "role": "sre", "scopes": READ_SCOPES}]))
    store = folder / "demo.sqlite"
    subprocess.run([sys.executable, "-m", "ccm", "demo", "--store", str(store)], env=env,
                   check=True, capture_output=True, timeout=300)
    token_file = folder / "web.token"
    token_file.write_text(TOKEN)
    token_file.chmod(0o600)
    return {"folder": folder, "env": env, "store": store, "token_file": token_file}


def _serve(demo: dict[str, Any], *extra: str) -> Iterator[str]:
    with ccm_serve(["--store", str(demo["store"]), *extra], demo["env"]) as server:
        yield server.url


@pytest.fixture(scope="module")
def server(demo: dict[str, Any]) -> Iterator[str]:
    """``ccm serve`` on the demo data; the page asks for a token."""
    yield from _serve(demo)


@pytest.fixture(scope="module")
def handout_server(demo: dict[str, Any]) -> Iterator[str]:
    """``ccm serve --web-token-file``: the page is handed the read-only token."""
    yield from _serve(demo, "--web-token-file", str(demo["token_file"]))


@pytest.fixture
def page(tmp_path: Path) -> Iterator[Any]:
    """A page in headless Chromium with a fresh profile; fails the test on a page error."""
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=str(CHROMIUM), headless=True,
            args=FLAGS, viewport={"width": 1500, "height": 900})
        pg = context.pages[0] if context.pages else context.new_page()
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        pg.set_default_timeout(30_000)
        yield pg
        context.close()
    assert not errors, errors


def shot(page: Any, tmp_path: Path, name: str) -> Path:
    folder = Path(os.environ.get("CCM_SCREENSHOT_DIR") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.png"
    page.screenshot(path=str(path))
    assert path.stat().st_size > 10_000
    return path


def api(url: str, method: str, path: str, **kw: Any) -> Any:
    resp = httpx.request(method, f"{url}{path}", headers={"Authorization": f"Bearer {TOKEN}"},
                         timeout=60, **kw)
    resp.raise_for_status()
    return resp.json()


def components_at(url: str, at: str) -> set[str]:
    graph = api(url, "GET", "/v1/graph", params={"at": at})
    return {n["ref"] for n in graph["nodes"] if n["kind"] in COMPONENT_KINDS}


def drawn(page: Any, selector: str = "#graph g.node") -> list[str]:
    return page.eval_on_selector_all(selector, "els => els.map(e => e.dataset.ref)")


def move_slider(page: Any, at: str) -> None:
    """Move the time slider as a pointer would (value, then input and change events)."""
    page.eval_on_selector("#time", """(el, at) => {
        el.value = String(Date.parse(at));
        el.dispatchEvent(new Event("input", {bubbles: true}));
        el.dispatchEvent(new Event("change", {bubbles: true}));
    }""", at)
    page.wait_for_function("at => document.getElementById('time-text').value === at "
                           "&& document.getElementById('alerts-when').textContent.includes("
                           "at.slice(0, 16).replace('T', ' '))", arg=at)


def test_a_person_pastes_a_token_moves_through_time_and_opens_a_root_cause_chain(
        server, page, tmp_path):
    page.goto(server)
    page.wait_for_selector("#token:visible")
    assert drawn(page) == [] and "paste" in page.inner_text("#auth-state")
    page.fill("#token", TOKEN)
    page.click("#token-use")
    page.wait_for_selector("#graph g.node")
    start = page.input_value("#time-text")
    assert set(drawn(page)) == components_at(server, start)
    assert page.is_hidden("#token") and "this tab only" in page.inner_text("#auth-state")

    move_slider(page, QUIET_AT)
    assert page.inner_text("#alerts") == "none at this time"
    assert set(drawn(page)) == components_at(server, QUIET_AT)
    assert drawn(page, "#graph g.node.alerting") == []

    move_slider(page, ALERTS_AT)
    assert "3 alerts firing" in page.inner_text("#time-summary")
    assert page.locator("#alerts button.pick").count() == 3
    assert set(drawn(page, "#graph g.node.alerting")) == {
        "service:cartservice", "service:frontend", "service:checkoutservice"}
    # alert text is data: the injected instruction in one summary is shown as text
    assert "ignore previous instructions" in page.inner_text("#alerts")

    page.click("#explain-all")
    page.wait_for_selector("#chains button.pick")
    expected = api(server, "POST", "/v1/rca", json={"at": ALERTS_AT, "k": 5})["chains"]
    assert page.locator("#chains button.pick").count() == len(expected)
    page.click("#chains button.pick >> nth=0")
    page.wait_for_selector("#graph g.node.on-chain")
    top = expected[0]["chain"]
    assert top[:2] == ["change:chg-102", "config:cartservice/REDIS_ADDR"]
    assert set(drawn(page, "#graph g.node.on-chain")) == set(top)
    assert page.locator("#graph path.chain-link").count() == len(top) - 1
    assert page.locator("#links li").count() == len(top) - 1
    assert "change:chg-102" in page.inner_text("#caption")
    print("screenshot:", shot(page, tmp_path, "web-chain"))

    page.click("#actions button.pick:has(.d-refuse)")
    page.wait_for_selector("#verdict .verdict-word")
    assert page.inner_text("#verdict .verdict-word") == "REFUSE"
    reason = page.inner_text("#verdict li[data-rule=blast_radius]")
    assert reason.startswith("REFUSE") and "p95 impacted traffic" in reason
    impacted = drawn(page, "#graph g.node.impacted")
    assert "service:recommendationservice" in impacted and "service:frontend" in impacted
    print("screenshot:", shot(page, tmp_path, "web-refused-action"))


def test_a_handed_out_token_connects_at_once_and_a_dry_run_shows_its_verdict(
        handout_server, page, tmp_path):
    page.goto(handout_server)
    page.wait_for_selector("#graph g.node")
    assert page.is_hidden("#token") and "handed out" in page.inner_text("#auth-state")
    page.eval_on_selector("#time-text", "(el, at) => { el.value = at; }", ALERTS_AT)
    page.press("#time-text", "Enter")
    page.wait_for_function("() => document.getElementById('time-summary').textContent"
                           ".includes('3 alerts firing')")
    page.click("#whatif summary")
    page.select_option("#wi-action", "config_change")
    page.select_option("#wi-target", "service:cartservice")
    inputs = json.loads(page.input_value("#wi-inputs"))
    assert inputs["key"] == "REDIS_ADDR" and "syncTimeout=50" in inputs["previous_value"]
    inputs["value"] = "redis-cart:6379,syncTimeout=10"
    page.fill("#wi-inputs", json.dumps(inputs))
    page.click("#whatif-form button[type=submit]")
    page.wait_for_selector("#verdict h3:has-text('what if')")
    assert page.inner_text("#verdict .verdict-word") == "REFUSE"
    rules = page.inner_text("#verdict .rules")
    assert "identity_binding" in rules and "not signed" in rules and "blast_radius" in rules
    probs = page.eval_on_selector_all(
        "#graph g.node.impacted", "els => Object.fromEntries(els.map("
        "e => [e.dataset.ref, Number(e.dataset.probability)]))")
    assert probs["config:cartservice/REDIS_ADDR"] == 1.0 and 0 < probs["service:frontend"] < 1
    assert drawn(page, "#graph g.node.seed") == ["service:cartservice",
                                                   "config:cartservice/REDIS_ADDR"]
    print("screenshot:", shot(page, tmp_path, "web-what-if"))


def test_the_page_layout_puts_callers_left_and_a_cycle_in_one_layer(server, page):
    page.goto(server)
    page.wait_for_selector("#token:visible")
    pos = page.evaluate("""async () => {
        const { dependencyGraph, layeredLayout } = await import("/web/static/layout.js");
        const node = (ref) => ({ ref, kind: ref.split(":")[0], name: ref.split(":")[1] });
        const edge = (a, b) => ({ kind: "DEPENDS_ON", from: a, to: b, attrs: {} });
        const graph = {
            nodes: ["service:web", "service:cart", "cache:redis", "service:search",
                    "datastore:index", "change:c1"].map(node),
            edges: [edge("service:web", "service:cart"), edge("service:cart", "cache:redis"),
                    edge("service:web", "service:search"), edge("service:search", "datastore:index"),
                    edge("datastore:index", "service:search"), edge("service:web", "service:web")]};
        return Object.fromEntries(layeredLayout(dependencyGraph(graph)));
    }""")
    assert set(pos) == {"service:web", "service:cart", "cache:redis", "service:search",
                        "datastore:index"}  # components only
    assert pos["service:web"]["x"] < pos["service:cart"]["x"] < pos["cache:redis"]["x"]
    assert pos["service:search"]["x"] == pos["datastore:index"]["x"] == 1
