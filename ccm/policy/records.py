"""Race-safe updates of control-plane records (optimistic ``expected_rev`` retries)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from ccm.errors import Conflict
from ccm.store import Store

MAX_RETRIES = 50


def update_record(store: Store, collection: str, key: str,
                  change: Callable[[dict[str, Any]], bool | None],
                  initial: dict[str, Any] | None = None) -> dict[str, Any]:
    """Apply ``change`` to a record's document (created from ``initial`` if missing)
    and store it only if nobody changed it meanwhile; retry otherwise.

    ``change`` edits the document in place and returns False to skip the write.
    """
    for _ in range(MAX_RETRIES):
        rec = store.get_record(collection, key)
        doc = copy.deepcopy(rec.doc) if rec else copy.deepcopy(initial or {})
        if change(doc) is False:
            return doc
        try:
            store.put_record(collection, key, doc, expected_rev=rec.rev if rec else 0)
            return doc
        except Conflict:
            continue
    raise Conflict(f"{collection}/{key} kept changing under {MAX_RETRIES} attempts: retry")
