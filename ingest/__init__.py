"""ingest: adapters that turn real-world production context into graph facts.

>>> from ingest import ingest_paths            # doctest: +SKIP
>>> report = ingest_paths(store, ["manifests/"])  # doctest: +SKIP
"""

from ingest.core import (
    Adapter,
    Batch,
    Context,
    FileReport,
    IngestError,
    IngestReport,
    Resolver,
    ingest_paths,
    registry,
)

__all__ = ["Adapter", "Batch", "Context", "FileReport", "IngestError", "IngestReport",
           "Resolver", "ingest_paths", "registry"]
