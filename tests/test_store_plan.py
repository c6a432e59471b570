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


#: stored versions are identified by these hashes: they must not drift across Python,
#: orjson or library versions (a store written today is read by the next release)
GOLDEN = [
    ({}, "{}", "01e7b720ff566d53"),
    ({"a": 1}, '{"a":1}', "1f8c00645b7df6ce"),
    ({"b": "é", "a": [1, 2.5, None, True]}, '{"a":[1,2.5,null,true],"b":"é"}',
     "c4326604ce5203b5"),
    ({"x": 1e-7, "y": 0.00001}, '{"x":1e-07,"y":1e-05}', "50af978e6debe28c"),
    ({"big": 2**70}, '{"big":1180591620717411303424}', "368441503eb1e891"),
    ({"nested": {"z": {"k": "v"}, "a": []}}, '{"nested":{"a":[],"z":{"k":"v"}}}',
     "12a040293855db08"),
    ({"f": 1.0, "g": -0.0, "h": 1e300}, '{"f":1.0,"g":-0.0,"h":1e+300}', "7d19aadb3d0637ca"),
    ({"s": "quote\" backslash\\ newline\n tab\t ctrl\u0001 emoji\U0001f600"},
     '{"s":"quote\\" backslash\\\\ newline\\n tab\\t ctrl\\u0001 emoji\U0001f600"}',
     "71f48f0cd1235057"),
]


@pytest.mark.parametrize(("attrs", "text", "digest"), GOLDEN)
def test_canonical_text_and_hash_of_stored_attrs_never_drift(attrs, text, digest):
    assert canonical_attrs(attrs) == (text, digest)


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
