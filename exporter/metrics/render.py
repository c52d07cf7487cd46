"""A renderer for the charger families that only redoes what changed since the last scrape.

prometheus_client's ``generate_latest`` builds a ``Sample`` per series and formats every one
of them on every scrape: 1-3 s for 1,000 chargers with full observation sets (182,000
series) on a 2-core machine (``bench/scrape.py``), far from a 150 ms budget. This renderer
writes the same bytes (``tests/metrics/test_render.py`` compares them on the same data, in
both formats, with and without ``name[]``, over any sequence of readings) and caches at
three levels:

* **charger**: a charger whose snapshot is the very object of the previous scrape (the store
  shares unchanged snapshots between views) is skipped;
* **charger x family**: each family's emitter names what it reads (observation ids, and the
  metadata, derived state, phases or freshness times); the identities of a charger's readings
  are compared with the ones rendered last in one pass, and only the families that read a
  changed one are re-rendered, so a power reading re-renders one line, not the charger's 180.
  The new bytes are compared with the old ones: equal inputs can give other bytes
  (``-0.0 == 0.0``) and other inputs the same bytes;
* **family column**: the bytes of a family over all chargers, and their deflated form
  (:mod:`exporter.metrics.deflate`), are kept until a charger's lines in it change, so a gzip
  scrape only compresses the families that moved.

The label text before and after ``charger_id`` is formatted once per (family, constant
labels) and shared by all chargers. Sample lines are identical in the text format and
OpenMetrics (no timestamps, no exemplars), so one cache serves both; only the headers differ.

Not thread-safe: one render at a time (the ``/metrics`` handler serialises them).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from itertools import compress
from operator import is_not

from prometheus_client import utils

from exporter.easee.observations import OBSERVATIONS
from exporter.metrics.catalogue import (
    CHARGER_LABEL,
    Catalogue,
    Depends,
    Family,
    Labels,
    MetricType,
    Sample,
)
from exporter.metrics.deflate import Piece
from exporter.state import ChargerView, StoreView

#: prometheus_client's value formatting (Go's float format), typed.
floatToGoString: Callable[[float], str] = utils.floatToGoString


def go_float(value: float) -> str:
    """``floatToGoString(value)``, with its common case inline: a finite float whose repr
    has at most six digits before the point is its own repr."""
    if type(value) is float:
        text = repr(value)
        if text.find(".") <= 6 and text[-1] not in "fn":  # not inf, nan or Go's exponent form
            return text
    return floatToGoString(value)


#: The shared label-text cache is rebuilt past this many entries: info labels carry reading
#: values (firmware, reasons), so it could otherwise grow without bound.
_MAX_SHAPES = 200_000


def escape_label_value(value: str) -> str:
    """Label value escaping of both exposition formats."""
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


def text_header(family: Family) -> str:
    """``# HELP`` and ``# TYPE`` lines of the Prometheus text format (as prometheus_client)."""
    doc = family.help.replace("\\", r"\\").replace("\n", r"\n")
    kind = "gauge" if family.type is MetricType.INFO else family.type.value
    return f"# HELP {family.name} {doc}\n# TYPE {family.name} {kind}\n"


def openmetrics_header(family: Family, *, with_unit: bool) -> str:
    """``# HELP``, ``# TYPE`` and ``# UNIT`` lines of OpenMetrics (as prometheus_client)."""
    name = family.family_name
    doc = escape_label_value(family.help)
    unit = f"# UNIT {name} {family.unit.value}\n" if with_unit and family.unit.value else ""
    return f"# HELP {name} {doc}\n# TYPE {name} {family.type.value}\n{unit}"


def is_offline(charger: ChargerView, now: float, offline_after: float) -> bool:
    """Whether the charger counts as offline now, so its live readings are left out."""
    return charger.online(now, offline_after) is False


def offline_samples(samples: Collection[Sample]) -> list[Sample]:
    """The samples of the online flag while the charger is offline: 0."""
    return [(labels, 0.0) for labels, _ in samples] or [((), 0.0)]


@dataclass(slots=True)
class _Rendered:
    """One charger's lines, one fragment per catalogue entry, and what they were made of."""

    #: the snapshot rendered last, whose parts the next snapshot's are compared with
    snapshot: ChargerView
    offline: bool
    #: encoded once: a column is then a plain bytes join, with no 13 MB str in between
    fragments: list[bytes]


class CachedRenderer:
    """Renders the catalogue's families for a view, redoing only what changed."""

    def __init__(self, catalogue: Catalogue) -> None:
        self._catalogue = catalogue
        families = catalogue.families
        self._headers = {
            "text": [Piece(text_header(f).encode()) for f in families],
            "openmetrics": [
                Piece(openmetrics_header(f, with_unit=True).encode()) for f in families
            ],
            # prometheus_client's restricted registry (the name[] filter) rebuilds each
            # family without its unit, so a filtered OpenMetrics scrape has no # UNIT lines.
            "openmetrics_restricted": [
                Piece(openmetrics_header(f, with_unit=False).encode()) for f in families
            ],
        }
        # Which entries read what: a charger's readings are compared all at once with the
        # ones rendered last, and only the entries that read a changed one are re-rendered.
        # Every table id has its readers (maybe none); the other ids feed the unknown family.
        self._readers: dict[int, list[int]] = {obs_id: [] for obs_id in OBSERVATIONS}
        self._depending: dict[Depends, list[int]] = {flag: [] for flag in Depends}
        self._all_indexes: list[int] = []
        for index, entry in enumerate(catalogue.entries):
            if entry.emit is None:
                continue
            self._all_indexes.append(index)
            for obs_id in entry.emit.inputs:
                self._readers.setdefault(obs_id, []).append(index)
            for flag in Depends:
                if flag and flag in entry.emit.depends:
                    self._depending[flag].append(index)
        self._unknown_readers = self._depending[Depends.UNKNOWN]
        self._shapes: dict[tuple[int, Labels], tuple[str, str]] = {}
        self._chargers: dict[str, _Rendered] = {}
        self._order: list[str] = []
        self._columns: list[Piece | None] = [None] * len(families)

    def render(
        self,
        view: StoreView,
        *,
        openmetrics: bool,
        names: Collection[str] | None,
        now: float,
        offline_after: float,
    ) -> list[Piece]:
        """The charger families of ``view``; ``names``: only families exposing those names."""
        self._update(view, now, offline_after)
        if openmetrics:
            headers = self._headers["openmetrics" if names is None else "openmetrics_restricted"]
        else:
            headers = self._headers["text"]
        pieces: list[Piece] = []
        for index, family in enumerate(self._catalogue.families):
            if names is not None and family.name not in names:
                continue
            if family.per_charger:
                column = self._column(index)
                if column.raw:
                    pieces.append(headers[index])
                    pieces.append(column)
            else:
                of_view = self._catalogue.entries[index].of_view
                assert of_view is not None
                # A handful of series (circuits, Equalizers, the last data time): rendered
                # every scrape.
                lines = "".join(
                    f"{_shape(family, labels)[0]}{go_float(value)}\n"
                    for labels, value in of_view.samples(view, now, offline_after)
                )
                if lines:
                    pieces.append(headers[index])
                    pieces.append(Piece(lines.encode()))
        return pieces

    def _column(self, index: int) -> Piece:
        column = self._columns[index]
        if column is None:
            chargers = self._chargers
            column = self._columns[index] = Piece(
                b"".join([chargers[charger_id].fragments[index] for charger_id in self._order])
            )
        return column

    def _update(self, view: StoreView, now: float, offline_after: float) -> None:
        """Bring the per-charger fragments up to ``view``; drop the columns that changed."""
        cache = self._chargers
        columns = self._columns
        order = list(view.chargers)
        if order != self._order:
            # Chargers came, left or moved: every column is reassembled (fragments stay).
            self._order = order
            columns[:] = [None] * len(columns)
            for gone in cache.keys() - set(order):
                del cache[gone]
        for charger_id, charger in view.chargers.items():
            offline = is_offline(charger, now, offline_after)
            cached = cache.get(charger_id)
            if cached is not None and cached.snapshot is charger and cached.offline == offline:
                continue
            if cached is None:
                cached = _Rendered(charger, offline, [b""] * len(columns))
                cache[charger_id] = cached
                indexes: Iterable[int] = self._all_indexes
            elif cached.offline != offline:
                indexes = self._all_indexes
            else:
                indexes = self._moved(cached.snapshot, charger)
            for index in self._refresh(cached, charger, offline, indexes):
                columns[index] = None
            cached.snapshot = charger
            cached.offline = offline

    def _moved(self, old: ChargerView, charger: ChargerView) -> Iterable[int]:
        """The entries that read a part of ``charger`` that is not the one of ``old``."""
        observations = charger.observations
        moved: set[int] = set()
        if observations is not old.observations:
            ids = list(observations)
            if ids != list(old.observations):
                return self._all_indexes  # other ids (new ones), so other positions
            # One C-level pass over the readings (map, is_not, compress), not a step per
            # entry: a telemetry burst changes a few dozen of a charger's 180 readings.
            readers = self._readers
            unknown = self._unknown_readers
            changed = map(is_not, observations.values(), old.observations.values())
            for at in compress(range(len(ids)), changed):
                moved.update(readers.get(ids[at], unknown))
        depending = self._depending
        if charger.meta is not old.meta:
            moved.update(depending[Depends.META])
        if charger.derived is not old.derived:
            moved.update(depending[Depends.DERIVED])
        if charger.phases is not old.phases:
            moved.update(depending[Depends.PHASES])
        if (charger.last_received_at, charger.last_seen_at) != (
            old.last_received_at,
            old.last_seen_at,
        ):
            moved.update(depending[Depends.TIMES])
        return moved

    def _refresh(
        self, cached: _Rendered, charger: ChargerView, offline: bool, indexes: Iterable[int]
    ) -> list[int]:
        """Re-render the entries ``indexes``; the indexes whose lines changed."""
        shapes = self._shapes
        if len(shapes) > _MAX_SHAPES:
            shapes.clear()
        charger_part = f'{CHARGER_LABEL}="{escape_label_value(charger.meta.charger_id)}"'
        fragments = cached.fragments
        entries = self._catalogue.entries
        changed: list[int] = []
        for index in indexes:
            entry = entries[index]
            emit = entry.emit
            assert emit is not None
            family = entry.family
            lines: list[str] = []
            if not (offline and family.measurement):
                samples = emit.samples(charger)
                if offline and family.online_flag:
                    samples = offline_samples(samples)
                for labels, value in samples:
                    shape = shapes.get((index, labels))
                    if shape is None:
                        shape = shapes[(index, labels)] = _shape(family, labels)
                    # go_float inline: one call less per line.
                    number = repr(value)
                    if type(value) is not float or number.find(".") > 6 or number[-1] in "fn":
                        number = floatToGoString(value)
                    lines.append(f"{shape[0]}{charger_part}{shape[1]}{number}\n")
            # Equal inputs can make other bytes (-0.0 == 0.0), other inputs the same bytes:
            # the bytes decide.
            text = "".join(lines).encode()
            if text != fragments[index]:
                fragments[index] = text
                changed.append(index)
        return changed


def _shape(family: Family, labels: Labels) -> tuple[str, str]:
    """The text of a series before and after its ``charger_id`` label, up to the value; for a
    family without ``charger_id``, the whole series text up to the value and "".

    Labels are sorted by name, as prometheus_client writes them.
    """
    if not family.per_charger:
        text = ",".join(f'{k}="{escape_label_value(v)}"' for k, v in sorted(labels))
        return (f"{family.name}{{{text}}} " if text else f"{family.name} "), ""
    pairs = sorted((*labels, (CHARGER_LABEL, "")))
    at = pairs.index((CHARGER_LABEL, ""))
    before = "".join(f'{k}="{escape_label_value(v)}",' for k, v in pairs[:at])
    after = "".join(f',{k}="{escape_label_value(v)}"' for k, v in pairs[at + 1 :])
    return f"{family.name}{{{before}", f"{after}}} "
