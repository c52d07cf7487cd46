"""A renderer for the charger families that only redoes what changed since the last scrape.

prometheus_client's ``generate_latest`` builds a ``Sample`` per series and formats every one
of them on every scrape: 1-3 s for 1,000 chargers with full observation sets (182,000
series) on a 2-core machine (``bench/scrape.py``), far from a 150 ms budget. This renderer
writes the same bytes (``tests/metrics/test_render.py`` compares them on the same data, in
both formats, with and without ``name[]``, over any sequence of readings) and caches at
three levels:

* **charger**: a charger whose snapshot is the very object of the previous scrape (the store
  shares unchanged snapshots between views) is skipped;
* **charger x family**: each family's emitter gives a cheap key of its inputs (mostly the
  identity of the Observation objects it reads); the lines are re-rendered only when the key
  changed, so a power reading re-renders one line, not the charger's 180;
* **family column**: the bytes of a family over all chargers, and their deflated form
  (:mod:`exporter.metrics.deflate`), are kept until a charger's lines in it change, so a gzip
  scrape only compresses the families that moved.

The label text before and after ``charger_id`` is formatted once per (family, constant
labels) and shared by all chargers. Sample lines are identical in the text format and
OpenMetrics (no timestamps, no exemplars), so one cache serves both; only the headers differ.

Not thread-safe: one render at a time (the ``/metrics`` handler serialises them).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from enum import Enum

from prometheus_client import utils

from exporter.metrics.catalogue import (
    CHARGER_LABEL,
    Catalogue,
    Family,
    Labels,
    MetricType,
    Sample,
)
from exporter.metrics.deflate import Piece
from exporter.state import ChargerView, StoreView

#: prometheus_client's value formatting (Go's float format), typed.
floatToGoString: Callable[[float], str] = utils.floatToGoString


def _same_key(key: object, old: object) -> bool:
    """Whether two keys (not the same object) promise the same samples.

    ``==`` alone is not enough: ``-0.0 == 0.0``, yet they render as ``-0.0`` and ``0.0``. Only
    a key that holds a float zero needs more than ``==`` (then the reprs decide); keys that are
    tuples of ids never reach here (:attr:`Emitter.exact_key`), and a new reading differs from
    the old one by its timestamp, so ``==`` settles it.
    """
    return key == old and (not _holds_zero(key) or repr(key) == repr(old))


#: Types whose ``==`` is exact for rendering (no signed zero inside).
_EXACT_TYPES = frozenset({int, str, bool, type(None)})


def _holds_zero(key: object) -> bool:
    """Whether ``key`` may hold a float zero, whose sign ``==`` does not see (conservative)."""
    kind = type(key)
    if kind is float:
        return key == 0.0
    if kind in _EXACT_TYPES or isinstance(key, Enum):
        return False
    if kind is tuple:
        parts: tuple[object, ...] = key  # type: ignore[assignment]
        # Tuples of ids, the usual keys, are settled by one scan of their types.
        if _EXACT_TYPES.issuperset(map(type, parts)):
            return False
        return any(map(_holds_zero, parts))
    names = getattr(kind, "__dataclass_fields__", None)
    if names is not None:
        return any(_holds_zero(getattr(key, name)) for name in names)
    return True


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
    """One charger's lines: a fragment and the key it came from, per catalogue entry."""

    #: the snapshot rendered last; holding it keeps alive every object the keys name by id
    snapshot: ChargerView
    offline: bool
    keys: list[object]
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
        # Entries whose key is one observation: looked up inline, without a call.
        self._sources = [
            None if entry.emit is None else entry.emit.source for entry in catalogue.entries
        ]
        self._exact = [
            entry.emit is not None and entry.emit.exact_key for entry in catalogue.entries
        ]
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
            elif view.last_received_at is not None:
                line = f"{family.name} {floatToGoString(view.last_received_at)}\n"
                pieces.append(headers[index])
                pieces.append(Piece(line.encode()))
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
            if cached is None:
                keys: list[object] = [_NOTHING] * len(columns)
                cached = _Rendered(charger, offline, keys, [b""] * len(columns))
                cache[charger_id] = cached
            elif cached.snapshot is charger and cached.offline == offline:
                continue
            for index in self._refresh(cached, charger, offline):
                columns[index] = None

    def _refresh(self, cached: _Rendered, charger: ChargerView, offline: bool) -> list[int]:
        """Re-render the entries whose key changed; the indexes whose lines changed."""
        shapes = self._shapes
        if len(shapes) > _MAX_SHAPES:
            shapes.clear()
        charger_part = f'{CHARGER_LABEL}="{escape_label_value(charger.meta.charger_id)}"'
        keys = cached.keys
        fragments = cached.fragments
        observations = charger.observations
        sources = self._sources
        exact = self._exact
        changed: list[int] = []
        for index, entry in enumerate(self._catalogue.entries):
            emit = entry.emit
            if emit is None:
                continue
            source = sources[index]
            family = entry.family
            if offline and family.measurement:
                key: object = _OFFLINE
            elif offline and family.online_flag:
                key = _OFFLINE_FLAG
            elif source is not None:
                key = observations.get(source)
            else:
                key = emit.key(charger)
            old = keys[index]
            if key is old or (key == old if exact[index] else _same_key(key, old)):
                continue
            keys[index] = key
            lines: list[str] = []
            if key is not _OFFLINE:
                samples = emit.samples(charger)
                if key is _OFFLINE_FLAG:
                    samples = offline_samples(samples)
                for labels, value in samples:
                    shape = shapes.get((index, labels))
                    if shape is None:
                        shape = shapes[(index, labels)] = _shape(family, labels)
                    lines.append(f"{shape[0]}{charger_part}{shape[1]}{floatToGoString(value)}\n")
            text = "".join(lines).encode()
            if text != fragments[index]:
                fragments[index] = text
                changed.append(index)
        cached.snapshot = charger
        cached.offline = offline
        return changed


class _Marker:
    """A key equal to nothing but itself."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<{self.name}>"


_NOTHING = _Marker("not rendered yet")
_OFFLINE = _Marker("offline: live readings left out")
_OFFLINE_FLAG = _Marker("offline: the online flag reads 0")


def _shape(family: Family, labels: Labels) -> tuple[str, str]:
    """The text of a series before and after its ``charger_id`` label, up to the value.

    Labels are sorted by name, as prometheus_client writes them.
    """
    pairs = sorted((*labels, (CHARGER_LABEL, "")))
    at = pairs.index((CHARGER_LABEL, ""))
    before = "".join(f'{k}="{escape_label_value(v)}",' for k, v in pairs[:at])
    after = "".join(f',{k}="{escape_label_value(v)}"' for k, v in pairs[at + 1 :])
    return f"{family.name}{{{before}", f"{after}}} "
