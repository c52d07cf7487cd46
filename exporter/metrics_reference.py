"""The metric reference: every metric ``/metrics`` can expose, generated from the code.

Charger metrics come from the collector's catalogue (the observation table, the derived
values, the metadata and timestamps); the service's own metrics and the process, platform
and garbage-collector metrics from a registry set up as the service sets up its own. The
README's "Metric reference" section is this module's Markdown, between
``<!-- metric-reference:start -->`` and ``<!-- metric-reference:end -->``::

    python -m exporter.metrics_reference --write README.md   # regenerate the section
    python -m exporter.metrics_reference --check README.md   # exit 1 when out of date

:func:`metric_names` is the set of exposed metric names (counters with ``_total``, info
metrics with ``_info``; not the ``_created`` companions of counters), for checks such as
"every alert rule references an exported metric".
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from prometheus_client import CollectorRegistry

from exporter.easee.equalizer_observations import EQUALIZER_LABEL
from exporter.metrics.catalogue import CHARGER_LABEL, Family, all_entries
from exporter.metrics.registry import service_registry
from exporter.selfmetrics import ServiceMetrics

START_MARKER = "<!-- metric-reference:start -->"
END_MARKER = "<!-- metric-reference:end -->"
SECTION_TITLE = "## Metric reference"
COMMAND = "python -m exporter.metrics_reference --write README.md"


@dataclass(frozen=True, slots=True, kw_only=True)
class MetricDoc:
    """One metric as exposed in the Prometheus text format."""

    name: str
    type: str
    unit: str
    labels: tuple[str, ...]
    help: str
    #: observation ids the value comes from (empty for service and process metrics)
    sources: tuple[int, ...] = ()
    #: groups of the observation table, for the export filter
    groups: tuple[str, ...] = ()
    origin: str = "charger"


def _charger_doc(family: Family) -> MetricDoc:
    return MetricDoc(
        name=family.name,
        type=family.type.value,
        unit=family.unit.value,
        labels=family.label_names,
        help=family.help,
        sources=family.sources,
        groups=tuple(sorted(group.value for group in family.groups)),
        origin="equalizer" if family.label_names[:1] == (EQUALIZER_LABEL,) else "charger",
    )


#: Unit suffixes of names whose family declares no unit (prometheus_client's own metrics).
_NAME_UNITS = ("seconds", "bytes", "ratio", "watts", "joules", "volts", "amperes", "celsius")


def _unit_from_name(name: str) -> str:
    base = name.removesuffix("_total").removesuffix("_info")
    return next((unit for unit in _NAME_UNITS if base.endswith(f"_{unit}")), "")


def _registry_docs(registry: CollectorRegistry, origin: str) -> list[MetricDoc]:
    docs: list[MetricDoc] = []
    for metric in registry.collect():
        suffix = {"counter": "_total", "info": "_info"}.get(metric.type, "")
        name = metric.name + suffix
        labels: dict[str, None] = {}
        for sample in metric.samples:
            if sample.name == name:
                labels.update(dict.fromkeys(sample.labels))
        docs.append(
            MetricDoc(
                name=name,
                type=metric.type,
                unit=metric.unit or _unit_from_name(name),
                labels=tuple(labels),
                help=metric.documentation,
                origin=origin,
            )
        )
    return docs


@cache
def reference() -> tuple[MetricDoc, ...]:
    """Every metric, charger metrics first (in exposition order), then the service's own,
    then the standard process, platform and garbage-collector metrics."""
    charger = [_charger_doc(entry.family) for entry in all_entries()]
    service_only = CollectorRegistry()
    ServiceMetrics(service_only, max_data_age=900).set_accounts(["example"])
    service = _registry_docs(service_only, "service")
    standard = _registry_docs(service_registry(), "process")
    return (*charger, *service, *standard)


def metric_names() -> frozenset[str]:
    """The name of every metric ``/metrics`` can expose."""
    return frozenset(doc.name for doc in reference())


def _ids(ids: Sequence[int]) -> str:
    """``182-185, 21`` style: runs of consecutive ids shortened."""
    parts: list[str] = []
    ordered = sorted(set(ids))
    start = previous = None
    for obs_id in [*ordered, None]:
        if previous is not None and obs_id == previous + 1:
            previous = obs_id
            continue
        if start is not None and previous is not None:
            parts.append(str(start) if start == previous else f"{start}-{previous}")
        start = previous = obs_id
    return ", ".join(parts)


def _cell(text: str) -> str:
    return text.replace("|", r"\|").replace("\n", " ")


def _rows(docs: Iterable[MetricDoc]) -> list[str]:
    rows = []
    for doc in docs:
        labels = ", ".join(
            f"`{label}`" for label in doc.labels if label not in (CHARGER_LABEL, EQUALIZER_LABEL)
        )
        cells = (
            f"`{doc.name}`",
            doc.type,
            doc.unit,
            labels,
            _ids(doc.sources),
            ", ".join(doc.groups),
            _cell(doc.help),
        )
        rows.append("| " + " | ".join(cells) + " |")
    return rows


def render_markdown() -> str:
    """The README section between the markers (markers included)."""
    docs = reference()
    header = "| metric | type | unit | labels | observation | group | help |"
    rule = "|---|---|---|---|---|---|---|"
    charger = [doc for doc in docs if doc.origin == "charger"]
    equalizer = [doc for doc in docs if doc.origin == "equalizer"]
    service = [doc for doc in docs if doc.origin == "service"]
    process = [doc for doc in docs if doc.origin == "process"]
    lines = [
        START_MARKER,
        f"<!-- Generated by `{COMMAND}`; do not edit by hand. -->",
        "",
        f"Every charger series carries `charger_id` (the serial), which the labels column "
        f"leaves out. Values are in base units (W from kW, J from kWh, seconds, ratio 0-1). "
        f"**observation** is the Easee observation id the value comes from; **group** is the "
        f"group name the `metrics.include` / `metrics.exclude` filter accepts. "
        f"{len(charger)} charger metrics, {len(equalizer)} Equalizer metrics, "
        f"{len(service)} service metrics, {len(process)} process metrics.",
        "",
        "### Charger metrics",
        "",
        header,
        rule,
        *_rows(charger),
        "",
        "### Equalizer metrics",
        "",
        "Every Equalizer series carries `equalizer_id` (`Q...`) instead of `charger_id`; the "
        "observation column gives the Equalizer's own ids, which reuse the charger's numbers "
        "with other meanings.",
        "",
        header,
        rule,
        *_rows(equalizer),
        "",
        "### Service metrics",
        "",
        header,
        rule,
        *_rows(service),
        "",
        "### Process metrics (prometheus_client)",
        "",
        header,
        rule,
        *_rows(process),
        END_MARKER,
    ]
    return "\n".join(lines)


def updated_readme(text: str) -> str:
    """``text`` with its reference section replaced, or appended when it has none."""
    section = render_markdown()
    start = text.find(START_MARKER)
    end = text.find(END_MARKER)
    if start != -1 and end != -1 and end > start:
        return text[:start] + section + text[end + len(END_MARKER) :]
    return f"{text.rstrip()}\n\n{SECTION_TITLE}\n\n{section}\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m exporter.metrics_reference",
        description="Print the metric reference, or update / check a README's section.",
    )
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--write", metavar="README", type=Path, help="update the section")
    action.add_argument("--check", metavar="README", type=Path, help="exit 1 if out of date")
    args = parser.parse_args(argv)
    if args.write is not None:
        path: Path = args.write
        text = path.read_text(encoding="utf-8")
        new = updated_readme(text)
        if new != text:
            path.write_text(new, encoding="utf-8")
        return 0
    if args.check is not None:
        path = args.check
        if updated_readme(path.read_text(encoding="utf-8")) != path.read_text(encoding="utf-8"):
            print(f"{path}: metric reference out of date; run {COMMAND}", file=sys.stderr)
            return 1
        return 0
    print(render_markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())
