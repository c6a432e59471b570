"""ingest: adapters that turn real-world production context into graph facts.

>>> from ingest import ingest_paths                # doctest: +SKIP
>>> report = ingest_paths(store, ["manifests/"])   # doctest: +SKIP
>>> ingest_bytes(store, "alertmanager", body, "webhook")   # doctest: +SKIP
"""

from ingest.adapters import registry
from ingest.core import (
    Adapter,
    Batch,
    Context,
    FileReport,
    IngestError,
    IngestReport,
    Resolver,
    Source,
)
from ingest.pipeline import ingest_bytes, ingest_paths, ingest_sources

__all__ = ["Adapter", "Batch", "Context", "FileReport", "IngestError", "IngestReport",
           "Resolver", "Source", "ingest_bytes", "ingest_paths", "ingest_sources", "registry"]
