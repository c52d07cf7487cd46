"""The rules read only what the exporter exposes: names and label names checked against the
exporter's generated metric reference (exporter.metrics_reference)."""

from __future__ import annotations

from exporter.metrics_reference import metric_names, reference

from .rule_files import (
    NOT_IN_EXPORTER_REFERENCE,
    REFERENCED_METRICS,
    promql_selector_labels,
    rules,
)

# Labels Prometheus attaches to every scraped series (the target's), not the exporter.
TARGET_LABELS = frozenset({"job", "instance"})


def test_every_metric_the_rules_read_is_exposed() -> None:
    missing = REFERENCED_METRICS - NOT_IN_EXPORTER_REFERENCE - metric_names()
    assert not missing, f"rules reference metrics the exporter does not expose: {sorted(missing)}"


def test_the_exemptions_are_still_needed() -> None:
    """A name exempted from the check must really be absent from the reference."""
    assert not NOT_IN_EXPORTER_REFERENCE & metric_names()


def test_selectors_match_on_labels_the_metrics_have() -> None:
    labels_of = {doc.name: set(doc.labels) for doc in reference()}
    wrong = []
    for rule in rules():
        for name, used in promql_selector_labels(rule.expr).items():
            if name in NOT_IN_EXPORTER_REFERENCE or ":" in name:
                continue
            unknown = used - labels_of[name] - TARGET_LABELS
            if unknown:
                wrong.append(f"{rule.name}: {name} has no label {sorted(unknown)}")
    assert not wrong, "\n".join(wrong)


def test_selector_labels_are_picked_out() -> None:
    expr = 'rate(a_total{code=~"5..|x}", endpoint!="y"}[5m]) / b{sensor="max"} + c'
    assert promql_selector_labels(expr) == {"a_total": {"code", "endpoint"}, "b": {"sensor"}}
