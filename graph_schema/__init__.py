"""graph_schema: the CCM graph's node and edge kinds, declared once, and facts about them.

>>> from graph_schema import NodeFact, validate
>>> validate(NodeFact("service", "cart", {"entrypoint": "true"})).attrs
{'entrypoint': True}
"""

from graph_schema.errors import FactError, SchemaError
from graph_schema.facts import (
    Close,
    EdgeFact,
    Fact,
    NodeFact,
    content_hash,
    edge_from_dict,
    edge_id,
    fact_hash,
    node_from_dict,
    parse_ref,
    present_attrs,
    ref,
    validate,
)
from graph_schema.kinds import (
    CHANGE_KINDS,
    COMPONENT_KINDS,
    EDGE_KIND_MAP,
    EDGE_KINDS,
    NODE_KIND_MAP,
    NODE_KINDS,
    SCHEMA_VERSION,
    SIGNALS,
)
from graph_schema.model import Attr, EdgeKind, NodeKind
from graph_schema.timeutil import (
    BEGINNING,
    OPEN,
    TimeParseError,
    format_time,
    parse_duration,
    parse_time,
)

__all__ = [
    "Attr", "BEGINNING", "CHANGE_KINDS", "COMPONENT_KINDS", "Close", "EDGE_KINDS",
    "EDGE_KIND_MAP", "EdgeFact", "EdgeKind", "Fact", "FactError", "NODE_KINDS",
    "NODE_KIND_MAP", "NodeFact", "NodeKind", "OPEN", "SCHEMA_VERSION", "SIGNALS",
    "SchemaError", "TimeParseError", "content_hash", "edge_from_dict", "edge_id",
    "fact_hash", "format_time", "node_from_dict", "parse_duration", "parse_ref",
    "parse_time", "present_attrs", "ref", "validate",
]
