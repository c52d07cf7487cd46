"""A renderer for the charger families that only redoes what changed since the last scrape.

prometheus_client's ``generate_latest`` builds a ``Sample`` per series and formats every one
of them on every scrape: 1-3 s for 1,000 chargers with full observation sets (182,000
series) on a 2-core machine (``bench/scrape.py``), far from a 150 ms budget. This renderer
writes the same bytes (``tests/metrics/test_render.py`` compares them on the same data, in
both formats, with and without ``name[]``, over any sequence of readings) and caches at
three levels:

* **charger**: a charger whose snapshot is the very object of the previous scrape (the store
  shares unchanged snapshots between views) is skipped;
* **charger x part**: a part is one row of a family of table rows (fourteen temperatures, ten
  terminal voltages) or else a whole family. Each part's emitter names what it reads
  (observation ids, and the metadata, derived state, phases or freshness times). The store
  says which ids were written since the snapshot rendered last (``ChargerView.changes``); when
  another reader's snapshot came in between, the identities of all the charger's readings are
  compared with the ones rendered last, in one pass. Only the parts that read a changed one are
  re-rendered, so a power reading re-renders one line, not the charger's 180. A part of one
  series with fixed labels (most of them) is formatted from its number alone. The new bytes
  are compared with the old ones: equal inputs can give other bytes (``-0.0 == 0.0``) and
  other inputs the same bytes;
* **family column**: the bytes of a family over all chargers, and their deflated form
  (:mod:`exporter.metrics.deflate`), are kept until a charger's lines in it change, so a gzip
  scrape only compresses the families that moved.

The label text before and after ``charger_id`` is formatted once per (part, constant labels)
and shared by all chargers. Sample lines are identical in the text format and
OpenMetrics (no timestamps, no exemplars), so one cache serves both; only the headers differ.

Not thread-safe: one render at a time (the ``/metrics`` handler serialises them).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from itertools import chain, compress
from operator import attrgetter, is_not, itemgetter
from typing import Any, NamedTuple

from prometheus_client import utils

from exporter.easee.observations import OBSERVATIONS
from exporter.metrics.catalogue import (
    CHARGER_LABEL,
    Catalogue,
    Depends,
    Emitter,
    Family,
    Labels,
    MetricType,
    OneSeries,
    Sample,
    emitter_parts,
)
from exporter.metrics.deflate import Piece
from exporter.state import ChargerView, StoreView

#: prometheus_client's value formatting (Go's float format), typed.
floatToGoString: Callable[[float], str] = utils.floatToGoString


def go_float(value: float) -> str:
    """``floatToGoString(value)``, with the finite floats inline: their repr, or for a
    positive one of more than six digits before the point (energy in joules, timestamps)
    Go's exponent form, as prometheus_client writes it (``tests/metrics`` compare the two)."""
    if type(value) is float:
        text = repr(value)
        if text[-1] not in "fn":  # not inf or nan
            dot = text.find(".")
            if dot > 6 and value > 0:
                mantissa = f"{text[0]}.{text[1:dot]}{text[dot + 1 :]}".rstrip("0.")
                return f"{mantissa}e+{dot - 1:02d}"
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
    """One charger's lines, one fragment per part, and what they were made of.

    Tuples, replaced rather than changed: a tuple of bytes or ints is soon untracked by the
    garbage collector, whose full passes would otherwise walk some 600 references per
    charger (a third of their length at 1,000 chargers).
    """

    #: the snapshot rendered last, whose parts the next snapshot's are compared with
    snapshot: ChargerView
    offline: bool
    #: encoded once: a column is then a plain bytes join, with no 13 MB str in between
    fragments: tuple[bytes, ...]
    #: the snapshot's observation ids, in order, and the parts that read each of them
    ids: tuple[int, ...] = ()
    readers: tuple[tuple[int, ...], ...] = ()


class CachedRenderer:
    """Renders the catalogue's families for a view, redoing only what changed."""

    def __init__(self, catalogue: Catalogue) -> None:
        self._catalogue = catalogue
        families = self._families = catalogue.families
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
        # The unit of re-rendering is a part of a family (one row of a family of table rows,
        # else the whole family): a charger's fragment of a family is its parts' fragments
        # one after the other. Which parts read what: a charger's readings are compared all
        # at once with the ones rendered last, and only the parts that read a changed one are
        # re-rendered. Every table id has its readers (maybe none); other ids feed the
        # unknown family.
        self._parts: list[_Part] = []
        #: per entry: its parts, and what picks their fragments out of a charger's (the
        #: fragment of a single part, a tuple of several)
        self._entry_parts: list[tuple[int, ...]] = []
        self._pickers: dict[int, Callable[[tuple[bytes, ...]], Any]] = {}
        readers: dict[int, list[int]] = {obs_id: [] for obs_id in OBSERVATIONS}
        depending: dict[Depends, list[int]] = {flag: [] for flag in Depends}
        for index, entry in enumerate(catalogue.entries):
            parts: list[int] = []
            for emit in () if entry.emit is None else emitter_parts(entry.emit):
                part = len(self._parts)
                parts.append(part)
                self._parts.append(_Part.of(index, entry.family, emit))
                for obs_id in emit.inputs:
                    readers.setdefault(obs_id, []).append(part)
                for flag in Depends:
                    if flag and flag in emit.depends:
                        depending[flag].append(part)
            self._entry_parts.append(tuple(parts))
            if parts:
                self._pickers[index] = itemgetter(*parts)
        self._readers = {obs_id: tuple(parts) for obs_id, parts in readers.items()}
        self._depending = {flag: tuple(parts) for flag, parts in depending.items()}
        self._all_parts = range(len(self._parts))
        self._unknown_readers = self._depending[Depends.UNKNOWN]
        self._shapes: dict[tuple[int, Labels], tuple[str, str]] = {}
        self._chargers: dict[str, _Rendered] = {}
        self._order: list[str] = []
        #: the chargers' renders, in ``_order``
        self._rendered: list[_Rendered] = []
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
        for index, family in enumerate(self._families):
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
            # C-level joins over the chargers' fragment lists, in the view's order.
            picked = map(self._pickers[index], map(_FRAGMENTS, self._rendered))
            if len(self._entry_parts[index]) == 1:
                text = b"".join(picked)
            else:
                text = b"".join(chain.from_iterable(picked))
            column = self._columns[index] = Piece(text)
        return column

    def _update(self, view: StoreView, now: float, offline_after: float) -> None:
        """Bring the per-charger fragments up to ``view``; drop the columns that changed."""
        cache = self._chargers
        columns = self._columns
        order = list(view.chargers)
        reordered = order != self._order
        if reordered:
            # Chargers came, left or moved: every column is reassembled (fragments stay).
            self._order = order
            columns[:] = [None] * len(columns)
            for gone in cache.keys() - set(order):
                del cache[gone]
        plan = self._parts
        for charger_id, charger in view.chargers.items():
            offline = is_offline(charger, now, offline_after)
            cached = cache.get(charger_id)
            if cached is not None and cached.snapshot is charger and cached.offline == offline:
                continue
            if cached is None:
                cached = _Rendered(charger, offline, (b"",) * len(plan))
                cache[charger_id] = cached
                parts: Iterable[int] = self._all_parts
            elif cached.offline != offline:
                parts = self._all_parts
            else:
                parts = self._moved(cached, charger)
            self._refresh(cached, charger, offline, parts)
            cached.snapshot = charger
            cached.offline = offline
        if reordered:
            self._rendered = [cache[charger_id] for charger_id in order]

    def _moved(self, cached: _Rendered, charger: ChargerView) -> Iterable[int]:
        """The parts that read a part of ``charger`` that is not the one rendered last."""
        old = cached.snapshot
        observations = charger.observations
        moved: set[int] = set()
        changes = charger.changes
        if observations is old.observations:
            pass
        elif changes is not None and changes.since == old.revision:
            # The store says which ids were written since the snapshot rendered last: the
            # common case, one scrape after the other.
            readers = self._readers
            unknown = self._unknown_readers
            moved.update(chain.from_iterable([readers.get(i, unknown) for i in changes.ids]))
            if len(observations) != len(cached.ids):
                self._layout(cached, observations)  # for the next full comparison
        else:
            # Somebody else read a snapshot in between: every reading is compared.
            if len(observations) != len(cached.ids) or tuple(observations) != cached.ids:
                self._layout(cached, observations)
                return self._all_parts  # other ids (new ones), so other positions
            # C-level passes over the readings (map, is_not, compress, chain), not a step per
            # reading: a telemetry burst changes a few dozen of a charger's 180 readings.
            changed = map(is_not, observations.values(), old.observations.values())
            moved.update(chain.from_iterable(compress(cached.readers, changed)))
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

    def _layout(self, cached: _Rendered, observations: Mapping[int, object]) -> None:
        """Remember the order of a charger's observation ids, and the readers of each."""
        readers = self._readers
        unknown = self._unknown_readers
        cached.ids = tuple(observations)
        cached.readers = tuple([readers.get(obs_id, unknown) for obs_id in cached.ids])

    def _refresh(
        self, cached: _Rendered, charger: ChargerView, offline: bool, parts: Iterable[int]
    ) -> None:
        """Re-render the parts ``parts``; drop the columns of those whose lines changed."""
        shapes = self._shapes
        if len(shapes) > _MAX_SHAPES:
            shapes.clear()
        if parts is self._all_parts and cached.ids != tuple(charger.observations):
            self._layout(cached, charger.observations)
        charger_part = f'{CHARGER_LABEL}="{escape_label_value(charger.meta.charger_id)}"'
        fragments = cached.fragments
        changed: list[bytes] | None = None
        plan = self._parts
        columns = self._columns
        for part in parts:
            entry, family, emit, one, prefix, suffix = plan[part]
            if offline and family.measurement:
                text = b""
            elif one is not None and not (offline and family.online_flag):
                # The common case, a single series of fixed labels: no samples, no join.
                value = one.number(charger)
                if value is None:
                    text = b""
                else:
                    # go_float inline: one call less per line.
                    number = repr(value)
                    if type(value) is not float or number.find(".") > 6 or number[-1] in "fn":
                        number = go_float(value)
                    text = f"{prefix}{charger_part}{suffix}{number}\n".encode()
            else:
                samples = emit.samples(charger)
                if offline and family.online_flag:
                    samples = offline_samples(samples)
                lines: list[str] = []
                for labels, value in samples:
                    shape = shapes.get((part, labels))
                    if shape is None:
                        shape = shapes[(part, labels)] = _shape(family, labels)
                    lines.append(f"{shape[0]}{charger_part}{shape[1]}{go_float(value)}\n")
                text = "".join(lines).encode()
            # Equal inputs can make other bytes (-0.0 == 0.0), other inputs the same bytes:
            # the bytes decide.
            if text != fragments[part]:
                if changed is None:
                    changed = list(fragments)
                changed[part] = text
                columns[entry] = None
        if changed is not None:
            cached.fragments = tuple(changed)


class _Part(NamedTuple):
    """One unit of re-rendering: a family, or one row of a family of table rows."""

    #: the catalogue entry (and family column) it belongs to
    entry: int
    family: Family
    emit: Emitter
    #: ``emit`` when it gives a single series of fixed labels, and that series' text around
    #: ``charger_id``
    one: OneSeries | None
    prefix: str
    suffix: str

    @classmethod
    def of(cls, entry: int, family: Family, emit: Emitter) -> _Part:
        if isinstance(emit, OneSeries):
            return cls(entry, family, emit, emit, *_shape(family, emit.labels))
        return cls(entry, family, emit, None, "", "")


_FRAGMENTS = attrgetter("fragments")


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
