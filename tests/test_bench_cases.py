"""Benchmark cases on disk: loading, and errors that name the case, the file and the field."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import yaml

from ccm.bench.cases import find_case_dirs, load_case, load_cases
from ccm.bench.truth import check_truths, load_truth
from ccm.errors import CaseInvalid
from graph_schema import parse_duration, parse_time
from tests.benchcases import QUESTION_TIME, write_case


def test_a_valid_case_loads_with_its_times_category_and_files(tmp_path):
    case = load_case(write_case(tmp_path))
    assert case.id == "cart-redis-timeout"
    assert case.question_time == parse_time(QUESTION_TIME)
    assert case.window == parse_duration("P7D")
    assert case.category == "config_change"
    assert [p.parent.name for p in case.files] == ["topology", "changes", "alerts"]


def test_the_truth_is_read_separately_for_scoring(tmp_path):
    truth = load_truth(load_case(write_case(tmp_path)))
    assert truth.root_cause == "change:chg-42"
    assert truth.chain[-1] == truth.symptom == "service:frontend"


def _error(folder: Path) -> CaseInvalid:
    with pytest.raises(CaseInvalid) as info:
        load_truth(load_case(folder))
    return info.value


def test_a_missing_truth_file_is_named(tmp_path):
    folder = write_case(tmp_path)
    (folder / "truth.yaml").unlink()
    err = _error(folder)
    assert (err.case, err.file) == ("cart-redis-timeout", "truth.yaml")
    assert "missing" in str(err)


def test_a_bad_question_time_names_the_field_and_value(tmp_path):
    err = _error(write_case(tmp_path, case={"question_time": "yesterday at noon"}))
    assert (err.case, err.file, err.field) == ("cart-redis-timeout", "case.yaml",
                                               "question_time")
    assert "yesterday at noon" in str(err)


def test_a_chain_that_is_not_a_list_is_named(tmp_path):
    truth = {"root_cause": "change:chg-42", "chain": "change:chg-42 -> service:frontend",
             "symptom": "service:frontend"}
    err = _error(write_case(tmp_path, truth=truth))
    assert (err.file, err.field) == ("truth.yaml", "chain")
    assert "expected a non-empty list" in str(err)


def test_an_id_that_differs_from_the_folder_name_is_named(tmp_path):
    err = _error(write_case(tmp_path, case={"id": "something-else"}))
    assert (err.case, err.file, err.field) == ("cart-redis-timeout", "case.yaml", "id")


def test_an_unknown_extra_file_in_the_case_folder_is_named(tmp_path):
    folder = write_case(tmp_path)
    (folder / "README.md").write_text("notes\n")
    err = _error(folder)
    assert err.file == "README.md" and "unknown extra file" in str(err)


def test_a_file_in_no_known_format_is_named(tmp_path):
    folder = write_case(tmp_path)
    (folder / "alerts" / "notes.txt").write_text("the cache was slow\n")
    err = _error(folder)
    assert err.file == "alerts/notes.txt" and "unknown extra file" in str(err)


@pytest.mark.parametrize(("truth", "field"), [
    ({"chain": ["change:chg-42", "service:frontend"], "symptom": "service:frontend"},
     "root_cause"),
    ({"root_cause": "chg-42", "chain": ["chg-42"], "symptom": "service:frontend"},
     "root_cause"),
    ({"root_cause": "change:chg-42", "chain": ["change:chg-42", "service:frontend"]},
     "symptom"),
    ({"root_cause": "change:chg-42", "chain": ["change:chg-7", "service:frontend"],
      "symptom": "service:frontend"}, "chain[0]"),
    ({"root_cause": "change:chg-42", "chain": ["change:chg-42", "service:cart"],
      "symptom": "service:frontend"}, "chain[1]"),
])
def test_each_bad_truth_field_is_named(tmp_path, truth, field):
    err = _error(write_case(tmp_path, truth=truth))
    assert (err.file, err.field) == ("truth.yaml", field)


def test_a_bad_window_is_named(tmp_path):
    err = _error(write_case(tmp_path, case={"window": "a week"}))
    assert (err.file, err.field) == ("case.yaml", "window")


def test_a_missing_case_file_is_named(tmp_path):
    folder = write_case(tmp_path)
    (folder / "case.yaml").unlink()
    err = _error(folder)
    assert err.file == "case.yaml" and "missing" in str(err)


def test_yaml_that_does_not_parse_is_named(tmp_path):
    folder = write_case(tmp_path)
    (folder / "case.yaml").write_text("id: [unclosed\n")
    assert _error(folder).file == "case.yaml"


def test_cases_are_found_in_nested_collections_in_path_order(tmp_path):
    write_case(tmp_path / "postmortems", "b-case")
    write_case(tmp_path / "synthetic", "a-case")
    (tmp_path / "synthetic" / "README.md").write_text("a collection may hold notes\n")
    assert [p.name for p in find_case_dirs(tmp_path)] == ["b-case", "a-case"]


def test_cases_filter_by_category_and_limit(tmp_path):
    write_case(tmp_path, "c1")
    write_case(tmp_path, "c2", case={"category": "deploy"})
    write_case(tmp_path, "c3")
    assert [c.id for c in load_cases([tmp_path], categories=["config_change"])] == ["c1", "c3"]
    assert [c.id for c in load_cases([tmp_path], limit=2)] == ["c1", "c2"]


def test_invalid_cases_are_collected_when_asked_and_the_rest_kept(tmp_path):
    write_case(tmp_path, "good")
    write_case(tmp_path, "bad", case={"question_time": None})
    write_case(tmp_path, "bad-truth", truth={"root_cause": "change:x"})
    errors: list[CaseInvalid] = []
    cases = check_truths(load_cases([tmp_path], errors=errors), errors)
    assert [c.id for c in cases] == ["good"]
    assert sorted((e.case, e.field) for e in errors) == [("bad", "question_time"),
                                                         ("bad-truth", "chain")]


def test_a_yaml_timestamp_question_time_is_read_as_utc(tmp_path):
    folder = write_case(tmp_path)
    text = (folder / "case.yaml").read_text().replace(f"'{QUESTION_TIME}'", QUESTION_TIME)
    (folder / "case.yaml").write_text(text)
    assert isinstance(yaml.safe_load(text)["question_time"], datetime)
    assert load_case(folder).question_time == parse_time(QUESTION_TIME)
