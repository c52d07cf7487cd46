"""A renderer for the charger families that only redoes what changed since the last scrape.

prometheus_client's ``generate_latest`` builds a ``Sample`` per series and formats every one
of them on every scrape: 1-3 s for 1,000 chargers with full observation sets (182,000
series) on a 2-core machine (``bench/scrape.py``), far from a 150 ms budget. This renderer
writes the same bytes (``tests/metrics/test_render.py`` compares them on the same data, in
both formats, with and without ``name[]``, over any sequence of readings) and caches at
three levels:

* **charger**: a charger whose readings have the revision of the previous scrape, with the
  same metadata, derived state and times, is skipped;
* **charger x part**: a part is one row of a family of table rows (fourteen temperatures, ten
  terminal voltages) or else a whole family. Each part's emitter names what it reads
  (observation ids, and the metadata, derived state or freshness times). The store
  says which ids were written since the snapshot rendered last (``ChargerView.changes``, which
  goes back a few snapshots when other readers came in between; further back, the charger is
  rendered in full). Only the parts that read a changed one are re-rendered, so a power
  reading re-renders one line, not the charger's 180. The renderer keeps what it compares of
  a snapshot, not the snapshot, so the readings of the scrape before are freed as soon as the
  store replaces them. A part of one series with fixed labels (most of them) is formatted
  from its number alone, a number reading that is its own sample inline. The new bytes
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

import math
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from itertools import chain
from operator import attrgetter, itemgetter
from typing import Any, NamedTuple

from prometheus_client import utils

from exporter.easee.derived import DerivedState
from exporter.easee.observations import OBSERVATIONS
from exporter.easee.phases import PhaseMap, phase_map
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
from exporter.state import ChargerMeta, ChargerView, StoreView

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


#: Between these bounds (exclusive) a float's Go format is its repr: no infinity, and no
#: positive number of more than six digits before the point (see go_float).
_AS_REPR = (-math.inf, 1e6)

#: What else of a snapshot than its readings can move parts, as bits 0, 1, 2 (_moved).
_OTHERS = (Depends.META, Depends.DERIVED, Depends.TIMES)
#: The cache of moved parts by written ids is rebuilt past this many entries: ids come in
#: any order and combination.
_MAX_MOVED = 4096

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
    """One charger's lines, one fragment per part, and what of its snapshot they were made of.

    Made so that a scrape leaves the garbage collector nothing new to walk: not the snapshot
    itself, which would keep the readings of the scrape before alive (a dict of some 180
    readings per charger, and the readings); the fragments in a dict of ints to bytes,
    changed in place, which the collector never tracks (a new container of 180 references
    per charger and scrape would be walked by the next collections, in the renderer's
    thread, some 40 ms per scrape at 1,000 chargers); the times as plain fields.
    """

    #: the snapshot's :attr:`~exporter.state.ChargerView.revision` (0: made by hand)
    revision: int
    meta: ChargerMeta
    derived: DerivedState
    last_received_at: float | None
    last_seen_at: float | None
    offline: bool
    #: by part, encoded once: a column is then a plain bytes join, with no 13 MB str in
    #: between
    fragments: dict[int, bytes]

    @classmethod
    def of(cls, charger: ChargerView, offline: bool, parts: int) -> _Rendered:
        fragments = dict.fromkeys(range(parts), b"")
        rendered = cls(0, charger.meta, charger.derived, None, None, offline, fragments)
        rendered.remember(charger, offline)
        return rendered

    def remember(self, charger: ChargerView, offline: bool) -> None:
        """Note ``charger`` as the snapshot rendered last."""
        self.revision = charger.revision
        self.meta = charger.meta
        self.derived = charger.derived
        self.last_received_at = charger.last_received_at
        self.last_seen_at = charger.last_seen_at
        self.offline = offline


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
        # one after the other. Which parts read what: only the parts that read an id written
        # since the snapshot rendered last are re-rendered. Every table id has its readers
        # (maybe none); other ids feed the unknown family.
        self._parts: list[_Part] = []
        #: per entry: its parts, and what picks their fragments out of a charger's (the
        #: fragment of a single part, a tuple of several)
        self._entry_parts: list[tuple[int, ...]] = []
        self._pickers: dict[int, Callable[[dict[int, bytes]], Any]] = {}
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
        plan = self._parts
        #: by phase map and offline flag, each part's number reading (see _readings)
        self._readings_by: dict[tuple[PhaseMap, bool], list[int]] = {}
        self._scales = [1.0 if p.one is None else p.one.number_scale for p in plan]
        self._prefixes = [p.prefix for p in plan]
        self._suffixes = [p.suffix for p in plan]
        self._entries = [p.entry for p in plan]
        self._unknown_readers = self._depending[Depends.UNKNOWN]
        self._moved_by: dict[tuple[tuple[int, ...], int], tuple[int, ...]] = {}
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
            if cached is None:
                cached = cache[charger_id] = _Rendered.of(charger, offline, len(plan))
                parts: Iterable[int] = self._all_parts
            elif cached.offline != offline:
                parts = self._all_parts
            else:
                parts = self._moved(cached, charger)
                if not parts:
                    continue
            self._refresh(cached, charger, offline, parts)
            cached.remember(charger, offline)
        if reordered:
            self._rendered = [cache[charger_id] for charger_id in order]

    def _moved(self, cached: _Rendered, charger: ChargerView) -> Collection[int]:
        """The parts that read a part of ``charger`` that is not the one rendered last."""
        revision = charger.revision
        if revision == 0:
            return self._all_parts  # a snapshot made by hand: nothing to go by
        ids: tuple[int, ...] = ()
        if revision != cached.revision:
            # The store names the ids written since the snapshot rendered last.
            changes = charger.changes
            written = None if changes is None else changes.since_revision(cached.revision)
            if written is None:
                return self._all_parts  # too many other readers in between
            ids = written
        # What else moved, as bits of _OTHERS.
        others = (
            (charger.meta is not cached.meta)
            | (charger.derived is not cached.derived) << 1
            | (
                charger.last_received_at != cached.last_received_at
                or charger.last_seen_at != cached.last_seen_at
            )
            << 2
        )
        # Chargers sending alike write alike ids (a charging charger's telemetry): the parts
        # they move are looked up, not gathered each time.
        key = (ids, others)
        parts = self._moved_by.get(key)
        if parts is None:
            if len(self._moved_by) >= _MAX_MOVED:
                self._moved_by.clear()
            readers = self._readers
            unknown = self._unknown_readers
            moved = set(chain.from_iterable([readers.get(i, unknown) for i in ids]))
            for bit, flag in enumerate(_OTHERS):
                if others >> bit & 1:
                    moved.update(self._depending[flag])
            parts = self._moved_by[key] = tuple(sorted(moved))
        return parts

    def _refresh(
        self, cached: _Rendered, charger: ChargerView, offline: bool, parts: Iterable[int]
    ) -> None:
        """Re-render the parts ``parts``; drop the columns of those whose lines changed."""
        shapes = self._shapes
        if len(shapes) > _MAX_SHAPES:
            shapes.clear()
        charger_part = f'{CHARGER_LABEL}="{escape_label_value(charger.meta.charger_id)}"'
        observations = charger.observations
        get = observations.get
        fragments = cached.fragments
        plan = self._parts
        # The hot branch's inputs, one list each: indexing them is cheaper than unpacking
        # the part (a realistic scrape formats some 28,000 such lines at 1,000 chargers).
        readings = self._readings(phase_map(observations), offline)
        scales = self._scales
        prefixes = self._prefixes
        suffixes = self._suffixes
        entries = self._entries
        columns = self._columns
        below, above = _AS_REPR
        for part in parts:
            reading = readings[part]
            if reading >= 0:
                # A number reading that, scaled, is the sample, formatted here without a call
                # per line (as OneSeries.number and go_float do).
                observation = get(reading)
                raw = None if observation is None else observation.value
                value: float | None
                if type(raw) is float or type(raw) is int:
                    value = raw * scales[part]
                else:
                    one = plan[part].one
                    value = None if one is None else one.number(charger)
                if value is None or value != value:  # none, or NaN: no reading
                    text = b""
                else:
                    number = repr(value) if below < value < above else go_float(value)
                    text = f"{prefixes[part]}{charger_part}{suffixes[part]}{number}\n".encode()
            else:
                text = self._other(plan[part], part, charger, charger_part, offline)
            # Equal inputs can make other bytes (-0.0 == 0.0), other inputs the same bytes:
            # the bytes decide.
            if text != fragments[part]:
                fragments[part] = text
                columns[entries[part]] = None

    def _readings(self, phases: PhaseMap, offline: bool) -> list[int]:
        """Each part's number reading (:meth:`OneSeries.number_reading`), -1 for none, for
        a charger whose phases map as ``phases``; while it is offline, none in a live family
        (its lines are left out). A few phase maps exist: each list is made once."""
        readings = self._readings_by.get((phases, offline))
        if readings is None:
            readings = self._readings_by[(phases, offline)] = [
                -1
                if p.one is None or p.flag or (offline and p.live)
                else p.one.number_reading(phases)
                for p in self._parts
            ]
        return readings

    def _other(
        self, plan: _Part, part: int, charger: ChargerView, charger_part: str, offline: bool
    ) -> bytes:
        """The lines of a part other than a reading that is its own sample."""
        _, family, emit, one, prefix, suffix, live, flag = plan
        if offline and live:
            return b""
        if one is not None and not (offline and flag):
            # A single series of fixed labels: no samples, no join.
            number = one.number(charger)
            return b"" if number is None else _line(prefix, charger_part, suffix, number)
        samples = emit.samples(charger)
        if offline and flag:
            samples = offline_samples(samples)
        shapes = self._shapes
        lines: list[str] = []
        for labels, value in samples:
            shape = shapes.get((part, labels))
            if shape is None:
                shape = shapes[(part, labels)] = _shape(family, labels)
            lines.append(f"{shape[0]}{charger_part}{shape[1]}{go_float(value)}\n")
        return "".join(lines).encode()


def _line(prefix: str, charger_part: str, suffix: str, value: float) -> bytes:
    """One series line; ``go_float`` inline for the common float (one call less per line)."""
    below, above = _AS_REPR
    number = repr(value) if type(value) is float and below < value < above else go_float(value)
    return f"{prefix}{charger_part}{suffix}{number}\n".encode()


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
    #: the family's ``measurement`` and ``online_flag``
    live: bool
    flag: bool

    @classmethod
    def of(cls, entry: int, family: Family, emit: Emitter) -> _Part:
        live, flag = family.measurement, family.online_flag
        if isinstance(emit, OneSeries):
            return cls(entry, family, emit, emit, *_shape(family, emit.labels), live, flag)
        return cls(entry, family, emit, None, "", "", live, flag)


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
