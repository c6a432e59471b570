"""Reading metric series from what Prometheus and OpenTelemetry emit.

Three shapes, each read into :class:`Series` (a metric name, its labels, and its
samples as ``(time in µs or None, value)``):

- Prometheus exposition text (a ``/metrics`` scrape, OpenMetrics too): one sample
  per line, ``name{label="value",...} value [timestamp in ms]``;
- the Prometheus HTTP API's JSON answer (``{"status": "success", "data":
  {"resultType": "vector" | "matrix", "result": [...]}}``), one per file or per line;
- OTLP/JSON metrics (``{"resourceMetrics": [...]}``): sums, and histograms as
  Prometheus names them (``<name>[_seconds]_bucket{le}``, cumulative). Attribute
  keys have their dots written as underscores, as Prometheus exporters do.

Only the series :mod:`ingest.callgraph_metrics` reads are kept (:data:`KNOWN`);
a line, API result or OTLP metric that cannot be read is an error naming it, and
the others are kept.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from graph_schema import FactError
from ingest.otlp import attributes
from ingest.source import Source, iter_json_records, iter_lines

KNOWN = frozenset((
    "traces_service_graph_request_total", "traces_service_graph_request_failed_total",
    "traces_service_graph_request_server_seconds_bucket",
    "istio_requests_total", "istio_request_duration_milliseconds_bucket",
    "request_total", "response_total", "response_latency_ms_bucket",
))
#: how much of a text file detection reads looking for a call-graph series
SNIFF_BYTES = 64 * 1024 * 1024

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?:\{(.*)\})?\s*(\S+)(?:\s+(-?\d+))?\s*$")
_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*(?=[\s{]|$)")
_LABEL = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*(?:,|$)')
_UNESCAPE = re.compile(r"\\(.)")
_TEXT_FAMILY = re.compile(rb"^(?:traces_service_graph_request_(?:total|failed_total)|"
                          rb"istio_requests_total|(?:request|response)_total\{[^\n]*\bdst_)",
                          re.M)
_JSON_FAMILY = re.compile(r'"(traces_service_graph_request_(?:total|failed_total|server)\w*|'
                          r'istio_requests_total|istio_request_duration_milliseconds|'
                          r'response_total|request_total)"')


@dataclass(slots=True)
class Series:
    """One metric series: ``name`` is empty for an API result without ``__name__``."""

    name: str
    labels: dict[str, str]
    points: list[tuple[int | None, float]]


def has_callgraph_series(src: Source, head: str) -> bool:
    """Whether ``src`` holds a call-graph series in one of the three shapes."""
    if '"resultType"' in head or '"resourceMetrics"' in head:
        m = _JSON_FAMILY.search(head)
        return src.named_like(".json", ".jsonl", ".ndjson") and m is not None and (
            m.group(1).startswith(("traces", "istio")) or '"dst_' in head)
    if not src.named_like(".prom", ".txt", ".metrics", ".openmetrics"):
        return False
    first = next((ln.strip() for ln in head.splitlines() if ln.strip()), "")
    if not first.startswith(("# HELP ", "# TYPE ")) and not _SAMPLE.match(first):
        return False
    with src.open() as fh:
        return _TEXT_FAMILY.search(fh.read(SNIFF_BYTES)) is not None


def read_series(src: Source) -> Iterator[tuple[str, list[Series] | FactError, int]]:
    """``(where, series or the error reading them, bytes read so far)``, record by
    record (a line, an API result, an OTLP metric)."""
    done = 0

    def count(n: int) -> None:
        nonlocal done
        done += n

    if _is_text(src):
        for n, line in iter_lines(src, count):
            where = f"{src}:{n}"
            if isinstance(line, FactError):
                yield where, line, done
                continue
            try:
                found = _sample(line, where)
            except FactError as exc:
                yield where, exc, done
                continue
            if found is not None:
                yield where, [found], done
        return
    for where, doc in iter_json_records(src, count):
        if isinstance(doc, FactError):
            yield where, doc, done
            continue
        for w, item in _document(doc, where):
            yield w, item, done


def _is_text(src: Source) -> bool:
    with src.open() as fh:
        return not fh.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n").startswith((b"{", b"["))


def _sample(line: str, where: str) -> Series | None:
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    named = _NAME.match(text)
    if named is None or named.group(0) not in KNOWN:
        return None          # another metric: not read, whatever its shape
    exemplar = text.rfind(" # {")
    m = _SAMPLE.match(text[:exemplar] if exemplar > 0 else text)
    if m is None:
        raise FactError(where, "(sample)", text[:80], 'expected name{label="value"} value')
    name, body, value, stamp = m.groups()
    labels: dict[str, str] = {}
    pos, body = 0, (body or "").strip()
    while pos < len(body):
        lm = _LABEL.match(body, pos)
        if lm is None:
            raise FactError(where, "(labels)", body[pos:pos + 60], 'expected name="value"')
        labels[lm.group(1)] = _UNESCAPE.sub(lambda e: "\n" if e.group(1) == "n"
                                            else e.group(1), lm.group(2))
        pos = lm.end()
    try:
        number = float(value)
    except ValueError:
        raise FactError(where, "value", value, "expected a number") from None
    return Series(name, labels, [(int(stamp) * 1000 if stamp else None, number)])


def _document(doc: Any, where: str) -> Iterator[tuple[str, list[Series] | FactError]]:
    if isinstance(doc, Mapping) and "resourceMetrics" in doc:
        yield from _otlp(doc, where)
    elif isinstance(doc, Mapping) and ("data" in doc or "status" in doc):
        yield from _api(doc, where)
    else:
        yield where, FactError(where, "(document)", type(doc).__name__,
                               "expected a Prometheus API answer or OTLP/JSON metrics")


def _api(doc: Mapping[str, Any], where: str) -> Iterator[tuple[str, list[Series] | FactError]]:
    if doc.get("status") != "success":
        yield where, FactError(where, "status", doc.get("status"),
                               f"the query did not succeed: {doc.get('error')}")
        return
    data = doc.get("data")
    if not isinstance(data, Mapping):
        data = {}
    kind = data.get("resultType")
    if kind not in ("vector", "matrix") or not isinstance(data.get("result"), list):
        yield where, FactError(where, "data.resultType", kind,
                               "expected a vector or matrix result")
        return
    for i, res in enumerate(data["result"]):
        w = f"{where} data.result[{i}]"
        try:
            yield w, [_api_series(res, kind, w)]
        except FactError as exc:
            yield w, exc


def _api_series(res: Any, kind: str, where: str) -> Series:
    metric = res.get("metric") if isinstance(res, Mapping) else None
    if not isinstance(metric, Mapping):
        raise FactError(where, "metric", metric, "expected the series' labels")
    labels = {str(k): str(v) for k, v in metric.items()}
    name = labels.pop("__name__", "")
    raw = [res.get("value")] if kind == "vector" else res.get("values")
    if not isinstance(raw, list):
        raise FactError(where, "values", raw, "expected [[unix time, \"value\"], ...]")
    points: list[tuple[int | None, float]] = []
    for p in raw:
        try:
            points.append((int(round(float(p[0]) * 1e6)), float(p[1])))
        except (TypeError, ValueError, IndexError, KeyError):
            field = "value" if kind == "vector" else "values"
            raise FactError(where, field, p, 'expected [unix time, "value"]') from None
    return Series(name, labels, points)


def _otlp(doc: Mapping[str, Any], where: str) -> Iterator[tuple[str, list[Series] | FactError]]:
    for r_i, rm in enumerate(_items(doc.get("resourceMetrics"))):
        scopes = rm.get("scopeMetrics") or rm.get("instrumentationLibraryMetrics")
        for s_i, sm in enumerate(_items(scopes)):
            for m_i, metric in enumerate(_items(sm.get("metrics"))):
                w = f"{where} resourceMetrics[{r_i}].scopeMetrics[{s_i}].metrics[{m_i}]"
                try:
                    found = _otlp_metric(metric, w)
                except FactError as exc:
                    yield w, exc
                    continue
                if found:
                    yield w, found


def _items(value: Any) -> list[Mapping[str, Any]]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def _otlp_metric(metric: Mapping[str, Any], where: str) -> list[Series]:
    name = metric.get("name")
    if not isinstance(name, str):
        raise FactError(where, "name", name, "expected the metric's name")
    out: list[Series] = []
    if isinstance(metric.get("sum"), Mapping):
        if name not in KNOWN:
            return []
        for dp in _items(metric["sum"].get("dataPoints")):
            value = dp.get("asInt", dp.get("asDouble"))
            out.append(Series(name, _labels(dp), [(_time(dp, where),
                                                   _number(value, where, "asInt"))]))
    elif isinstance(metric.get("histogram"), Mapping):
        unit = {"s": "_seconds", "ms": "_milliseconds"}.get(str(metric.get("unit")), "")
        base = name if not unit or name.endswith(unit) else name + unit
        if base + "_bucket" not in KNOWN:
            return []
        for dp in _items(metric["histogram"].get("dataPoints")):
            out.extend(_buckets(base + "_bucket", dp, where))
    return out


def _buckets(name: str, dp: Mapping[str, Any], where: str) -> list[Series]:
    counts = [_number(c, where, "bucketCounts") for c in dp.get("bucketCounts") or []]
    bounds = [_number(b, where, "explicitBounds") for b in dp.get("explicitBounds") or []]
    if len(counts) != len(bounds) + 1:
        raise FactError(where, "bucketCounts", len(counts),
                        f"expected one more count than the {len(bounds)} bounds")
    labels, t, total, out = _labels(dp), _time(dp, where), 0.0, []
    for bound, count in zip([*bounds, math.inf], counts, strict=True):
        total += count
        le = "+Inf" if bound == math.inf else repr(bound)
        out.append(Series(name, {**labels, "le": le}, [(t, total)]))
    return out


def _labels(dp: Mapping[str, Any]) -> dict[str, str]:
    return {k.replace(".", "_"): (str(v).lower() if isinstance(v, bool) else str(v))
            for k, v in attributes(dp.get("attributes")).items() if v is not None}


def _time(dp: Mapping[str, Any], where: str) -> int | None:
    t = dp.get("timeUnixNano")
    if t is None:
        return None
    try:
        return int(t) // 1000
    except (TypeError, ValueError):
        raise FactError(where, "timeUnixNano", t, "expected nanoseconds since the epoch"
                        ) from None


def _number(value: Any, where: str, name: str) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        raise FactError(where, name, value, "expected a number") from None
