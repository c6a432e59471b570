"""Reading sources safely: bounded lines, encodings, binary data, YAML documents."""

from __future__ import annotations

import json

import pytest

from graph_schema import FactError
from ingest.source import (
    MAX_LINE_BYTES,
    IngestError,
    Source,
    check_expansion,
    iter_json_records,
    iter_lines,
    iter_yaml_documents,
    read_head,
    read_text,
)


def test_a_payload_and_a_file_with_the_same_bytes_read_the_same(tmp_path):
    data = b'{"a": 1}\n{"b": 2}\n'
    (tmp_path / "x.jsonl").write_bytes(data)
    from_file = list(iter_lines(Source.from_path(tmp_path / "x.jsonl")))
    from_bytes = list(iter_lines(Source.from_bytes(data, "x.jsonl")))
    assert from_file == from_bytes == [(1, '{"a": 1}\n'), (2, '{"b": 2}\n')]


def test_a_file_source_is_keyed_by_its_absolute_path(tmp_path, monkeypatch):
    (tmp_path / "m.yaml").write_text("a: 1\n")
    monkeypatch.chdir(tmp_path)
    assert Source.from_path("m.yaml").key == str(tmp_path / "m.yaml")
    assert Source.from_bytes(b"", "webhook").key == "webhook"


def test_a_line_over_the_limit_is_an_error_for_that_line_only():
    data = b"ok\n" + b"x" * (MAX_LINE_BYTES + 10) + b"\nafter\n"
    out = list(iter_lines(Source.from_bytes(data, "big.jsonl")))
    assert out[0] == (1, "ok\n")
    assert isinstance(out[1][1], FactError) and "longer than" in out[1][1].problem
    assert out[2] == (3, "after\n")


@pytest.mark.parametrize("raw, problem", [
    (b"caf\xe9\n", "not valid UTF-8"),
    (b"a\x00b\n", "binary data"),
])
def test_bad_bytes_in_a_line_are_named_with_the_line(raw, problem):
    (n, err), = list(iter_lines(Source.from_bytes(raw, "f.jsonl")))
    assert n == 1 and isinstance(err, FactError) and problem in err.problem
    assert "f.jsonl:1" in str(err)


def test_utf16_text_is_named_as_such():
    data = "hello\n".encode("utf-16")
    with pytest.raises(IngestError, match="UTF-16"):
        list(iter_lines(Source.from_bytes(data, "u.jsonl")))
    with pytest.raises(IngestError, match="UTF-16"):
        read_text(Source.from_bytes(data, "u.json"))
    assert read_head(Source.from_bytes(data, "u.json")) == ""


def test_a_utf8_bom_is_tolerated():
    assert list(iter_lines(Source.from_bytes(b"\xef\xbb\xbfa\n", "b.jsonl"))) == [(1, "a\n")]
    assert read_text(Source.from_bytes(b"\xef\xbb\xbf{}", "b.json")) == "{}"


def test_whole_file_reads_are_size_bounded():
    with pytest.raises(IngestError, match="over the 0 MiB limit"):
        read_text(Source.from_bytes(b"x" * 10, "f.json"), limit=5)


def test_json_records_are_lines_or_one_document():
    lines = list(iter_json_records(Source.from_bytes(b'{"a":1}\n\n{"b":2}\n', "l.jsonl")))
    assert lines == [("l.jsonl:1", {"a": 1}), ("l.jsonl:3", {"b": 2})]
    pretty = list(iter_json_records(Source.from_bytes(b'{\n "a": 1\n}\n', "p.json")))
    assert pretty == [("p.json", {"a": 1})]
    listed = list(iter_json_records(Source.from_bytes(b'[\n {"a": 1},\n {"b": 2}\n]', "x.json")))
    assert listed == [("x.json[0]", {"a": 1}), ("x.json[1]", {"b": 2})]


def test_a_truncated_json_line_is_an_error_that_names_it():
    out = list(iter_json_records(Source.from_bytes(b'{"a":1}\n{"b": [1, 2\n', "t.jsonl")))
    assert out[0] == ("t.jsonl:1", {"a": 1})
    where, err = out[1]
    assert where == "t.jsonl:2" and isinstance(err, FactError) and "not JSON" in err.problem


def test_yaml_documents_load_one_by_one_with_their_lines():
    text = b"# header only\n---\na: 1\n---\n\n---\nb: [2\n---\nc: 3\n"
    docs = list(iter_yaml_documents(Source.from_bytes(text, "m.yaml")))
    assert [(d.index, d.line, d.value) for d in docs if d.error is None] == [
        (1, 2, {"a": 1}), (3, 8, {"c": 3})]
    bad = [d for d in docs if d.error is not None]
    assert len(bad) == 1 and bad[0].line == 6 and "not YAML" in bad[0].error.problem
    assert "m.yaml: document 2 (line 6)" in str(bad[0].error)


def test_a_billion_laughs_document_is_refused_quickly():
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i, name in enumerate("bcdefghi"):
        prev = "abcdefghi"[i]
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    doc, = list(iter_yaml_documents(Source.from_bytes("\n".join(lines).encode(), "bomb.yaml")))
    assert doc.error is not None and "alias bomb" in doc.error.problem


def test_a_recursive_yaml_alias_is_refused():
    doc, = list(iter_yaml_documents(Source.from_bytes(b"a: &x [1, *x]\n", "r.yaml")))
    assert doc.error is not None and doc.error.problem in (
        "YAML value contains itself (recursive alias)", "YAML nested deeper than 100 levels")


def test_deeply_nested_yaml_is_refused():
    text = ("[" * 5000 + "]" * 5000).encode()
    doc, = list(iter_yaml_documents(Source.from_bytes(text, "deep.yaml")))
    assert doc.value is None and doc.error is not None and doc.error.field == "(yaml)"
    assert doc.error.where.startswith("deep.yaml")


def test_expansion_counts_shared_values_each_time_they_are_reached():
    shared = list(range(10))
    check_expansion([shared] * 10, "w", limit=200)
    with pytest.raises(FactError, match="expand too far"):
        check_expansion([shared] * 10, "w", limit=50)


@pytest.mark.parametrize("text", [
    '{"a": NaN, "b": Infinity}', "[1e400]", "18446744073709551616", "-9223372036854775809",
    "[1234567890123456789, 12345678901234567890]", '"\\ud800"', '{"a": 1, "a": 2}',
    '{"type": "edge", "from": "a", "to": "b", "attrs": {"x": 1.5e-7}}', '"é"'])
def test_json_lines_parse_exactly_as_the_standard_library_parses_them(text):
    from ingest.source import loads

    ours, theirs = loads(text), json.loads(text)
    assert repr(ours) == repr(theirs)
    assert type(ours) is type(theirs)


@pytest.mark.parametrize("text", ["[1,]", "{'a': 1}", '"a\tb"', "[1] [2]", ""])
def test_json_the_standard_library_refuses_is_refused(text):
    from ingest.source import loads

    with pytest.raises(ValueError):
        loads(text)
