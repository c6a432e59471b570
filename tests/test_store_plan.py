"""Planning a batch write: canonical attrs text, and rejections naming the first bad edge."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ccm.errors import BatchRejected
from ccm.store.plan import canonical_attrs, split_edge_id
from graph_schema import EdgeFact, NodeFact

_scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**80), max_value=2**80)
            | st.floats(allow_nan=False, allow_infinity=False) | st.text())
_values = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4)
                       | st.dictionaries(st.text(max_size=6), inner, max_size=4), max_leaves=12)


def _stdlib(attrs):
    return json.dumps(attrs, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@settings(max_examples=400, deadline=None)
@given(st.dictionaries(st.text(max_size=8), _values, min_size=1, max_size=5))
def test_canonical_attrs_are_exactly_the_standard_library_text(attrs):
    text, _ = canonical_attrs(attrs)
    assert text == _stdlib(attrs)


@pytest.mark.parametrize("value", [1e-7, 1.5e-5, -0.00001234, 1e16, 1e22, 2**64, -(2**63) - 1,
                                   0.1, -0.0, "0.0000 e-1", "é\u2028\x01"])
def test_values_that_orjson_writes_differently_keep_the_standard_text(value):
    attrs = {"b": [value], "a": value}
    text, digest = canonical_attrs(attrs)
    assert text == _stdlib(attrs)
    assert canonical_attrs(json.loads(text)) == (text, digest)


def test_empty_attrs_have_one_fixed_hash():
    assert canonical_attrs({}) == canonical_attrs(None) == ("{}", canonical_attrs({})[1])
    assert canonical_attrs({})[0] == "{}"


def test_an_edge_id_splits_into_its_ends_and_kind():
    assert split_edge_id("service:a|DEPENDS_ON|datastore:b") == (
        "service:a", "DEPENDS_ON", "datastore:b")


def test_the_first_edge_to_an_unknown_node_names_the_rejection(embedded):
    embedded.write([NodeFact("service", "a", {}, 0)])
    batch = [NodeFact("service", "b", {}, 0),
             EdgeFact("DEPENDS_ON", "service:a", "service:b", {}, 0, origin="f.jsonl:2"),
             EdgeFact("DEPENDS_ON", "service:a", "service:zz", {}, 0, origin="f.jsonl:3"),
             EdgeFact("DEPENDS_ON", "service:yy", "service:a", {}, 0, origin="f.jsonl:4")]
    with pytest.raises(BatchRejected) as exc:
        embedded.write(batch)
    assert (exc.value.where, exc.value.field, exc.value.value, exc.value.index) == (
        "f.jsonl:3", "to", "service:zz", 2)
    assert embedded.refs("service") == ["service:a"]  # nothing of the batch was written


def test_attrs_encoded_by_the_caller_are_stored_as_encoded_and_carried_ones_kept(embedded):
    fid = "service:a|DEPENDS_ON|service:b"
    nodes = [NodeFact("service", "a", {}, 0), NodeFact("service", "b", {}, 0)]
    embedded.write(nodes + [EdgeFact("DEPENDS_ON", "service:a", "service:b",
                                     {"hard": True, "propagation": 0.3}, 0)])
    restated = EdgeFact("DEPENDS_ON", "service:a", "service:b", {"hard": False}, 10)
    r = embedded.write([restated], validated=True, canon=[canonical_attrs(restated.attrs)])
    assert r.added == 1
    v = embedded.graph(20).edges[fid]
    # the carried attribute is added to what the caller encoded, and encoded again
    assert v.attrs == {"hard": False, "propagation": 0.3}
    assert v.hash == canonical_attrs({"hard": False, "propagation": 0.3})[1]
    fresh = NodeFact("service", "c", {"replicas": 2}, 0)
    embedded.write([fresh], validated=True, canon=[canonical_attrs(fresh.attrs)])
    assert embedded.graph(20).nodes["service:c"].hash == canonical_attrs({"replicas": 2})[1]
