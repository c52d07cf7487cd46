"""Which charger metrics to export: include / exclude by metric name or observation group.

Large fleets may not want every diagnostic reading of every charger. A filter entry is either
the name of a group of the observation table (``temperature``, ``diagnostics``, ...; see
:class:`exporter.easee.observations.Group`) or a shell-style glob on the exposed metric name
(``easee_charger_temperature_*``). A metric is exported when it matches an ``include`` entry
(or ``include`` is empty) and matches no ``exclude`` entry; exclusion wins.

Always exported, whatever the filter: ``easee_charger_info``,
``easee_charger_last_update_timestamp_seconds`` and
``easee_exporter_last_data_timestamp_seconds``, which dashboards join on and alerts need.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from fnmatch import fnmatchcase

from exporter.easee.observations import Group

_GROUPS = frozenset(group.value for group in Group)
_GLOB = re.compile(r"[A-Za-z0-9_:*?\[\]!-]+")


@dataclass(frozen=True, slots=True)
class ExportFilter:
    """Include / exclude entries: group names or globs on metric names. Default: everything."""

    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        problems = [
            f"{entry!r}: neither a group ({', '.join(sorted(_GROUPS))}) nor a metric name glob"
            for entry in (*self.include, *self.exclude)
            if not is_valid_entry(entry)
        ]
        if problems:
            raise ValueError("; ".join(problems))

    @classmethod
    def of(cls, include: Iterable[str] = (), exclude: Iterable[str] = ()) -> ExportFilter:
        """A filter from any iterables (configuration lists)."""
        return cls(tuple(include), tuple(exclude))

    @property
    def is_everything(self) -> bool:
        return not self.include and not self.exclude

    def unmatched(self, metrics: Iterable[tuple[str, Iterable[Group]]]) -> tuple[str, ...]:
        """Entries that match none of ``metrics`` (name, groups): most likely typos."""
        known = [(name, frozenset(g.value for g in groups)) for name, groups in metrics]
        return tuple(
            entry
            for entry in (*self.include, *self.exclude)
            if not any(_matches(entry, name, groups) for name, groups in known)
        )

    def allows(self, metric: str, groups: Iterable[Group]) -> bool:
        """Whether ``metric``, whose readings belong to ``groups``, is exported."""
        group_names = frozenset(group.value for group in groups)
        if self.include and not any(_matches(e, metric, group_names) for e in self.include):
            return False
        return not any(_matches(entry, metric, group_names) for entry in self.exclude)


def is_valid_entry(entry: str) -> bool:
    """A group name, or a glob made of metric-name characters and ``* ? [ ] !``."""
    return entry in _GROUPS or _GLOB.fullmatch(entry) is not None


def _matches(entry: str, metric: str, groups: frozenset[str]) -> bool:
    if entry in _GROUPS:
        return entry in groups
    return fnmatchcase(metric, entry)
