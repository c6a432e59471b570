"""The bundled demo production (Google's Online Boutique with a few days of changes and
alerts, see ``ccm/demo/data/README.md``), loaded into a store."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ccm.store import EmbeddedStore
from ingest import ingest_paths

__all__ = ["demo_data_dir", "load_demo"]


def demo_data_dir() -> Path:
    """The folder of the demo's native JSONL files (package data)."""
    return Path(str(resources.files("ccm.demo") / "data"))


def load_demo(path: str | Path) -> EmbeddedStore:
    """A fresh embedded store at ``path`` (any store there is replaced) holding the demo
    production."""
    path = Path(path)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    store = EmbeddedStore(path)
    report = ingest_paths(store, sorted(demo_data_dir().glob("*.jsonl")))
    if not report.ok:  # the bundled data is tested; this would be a packaging bug
        store.close()
        raise RuntimeError("demo data failed to load: " + "; ".join(
            e for f in report.files for e in f.errors))
    return store
