"""The live state of every charger: latest observations, derived values, freshness.

Writers (the stream and snapshot callbacks) call :meth:`StateStore.apply`; readers (the
collector on every scrape, the status page, the controller) call :meth:`StateStore.view` and
get an immutable :class:`StoreView` they may keep as long as they like while writes continue.

Rules applied to each observation, in this order (each is an :class:`Applied`):

``unknown_charger``
    Observations of a charger that is not in the charger set are dropped, so a late frame can
    never resurrect a removed charger. The set is managed with :meth:`~StateStore.upsert_charger`
    and :meth:`~StateStore.remove_charger`.
``outdated``
    An observation whose charger-side timestamp is older than the stored one for the same id
    is ignored: after every (re)subscription the cloud replays old values with their old
    timestamps, and they must not overwrite newer ones. An equal timestamp with another value
    is accepted (the stream sends whole seconds, so two changes can share one; the later
    arrival is the later change).
``duplicate``
    The same timestamp and value as stored (the replay of what we already have) is ignored.
``monotonic``
    Rows flagged monotonic (lifetime energy and the other lifetime counters) never go down. The
    stored reading is the largest value seen, stamped with the newest timestamp seen: a
    smaller value is refused but still proves the counter was at least that high at its time.
    This makes the result independent of arrival order.
``spurious_zero``
    Rows flagged ``ignore_spurious_zero`` (session energy) sometimes report 0 by mistake
    (API doc 4): a zero never replaces a non-zero value, and a non-zero value replaces a
    stored zero whatever their timestamps (so the result does not depend on arrival order).
    The value goes back to zero only when a new charging session starts: when the op mode
    moves from 0 (offline) or 1 (disconnected) to 2 or more
    (:func:`exporter.easee.derived.starts_new_session`),
    the store resets these rows to 0 at the op mode's timestamp, as evcc does, and readings
    older than that start are outdated from then on.
``accepted``
    Everything else replaces the stored reading.

Freshness: per charger, ``last_update_at`` is the receive time of the last accepted
observation (data changed) and ``last_received_at`` the receive time of any observation,
even an ignored one (the link is alive); the view carries the newest of each over all
chargers, for liveness. ``last_seen_at`` is the charger's own clock: the newest charger-side
timestamp of any of its observations, whatever the outcome (a timestamp in the future counts
as its receive time). A replay or a REST snapshot carries the charger's old timestamps, so it
never makes a silent charger look alive by arriving; :meth:`ChargerView.online` reads it.

Concurrency: the store does no I/O and takes no lock. Writers run on one event loop, and
every method runs to completion without awaiting, so no reader can see a half-made change.
:meth:`~StateStore.wait_for` is the only coroutine: it parks an asyncio future that
:meth:`~StateStore.apply` resolves. A view may be read on any thread (the ``/metrics``
handler reads it in a worker thread) while writes continue: the store is copy on write, and
what a view holds is never written again.

Cost: :meth:`view` takes constant time; it freezes the current state rather than copying it.
The first write to a charger after a view copies that charger's readings (one dict of about
180 entries), and the first change to the charger set copies the set. A charger's
:class:`ChargerView` (with its derived state, recomputed only when its inputs changed) is
built once per change, by the first reader of a view that holds it.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType
from typing import TypeAlias

from exporter.easee.derived import (
    DERIVED_INPUT_IDS,
    SESSION_TRIGGER_ID,
    DerivedState,
    derive,
    starts_new_session,
)
from exporter.easee.models import DataType, Observation, Site
from exporter.easee.observations import OBSERVATIONS, ObservationSpec
from exporter.easee.phases import PhaseReadings, phase_readings
from exporter.equalizer_state import EqualizerStore, EqualizerView
from exporter.freshness import online_by_own_clock, seen_at


class Applied(StrEnum):
    """What :meth:`StateStore.apply` did with an observation (see the module docstring)."""

    ACCEPTED = "accepted"
    UNKNOWN_CHARGER = "unknown_charger"
    OUTDATED = "outdated"
    DUPLICATE = "duplicate"
    MONOTONIC = "monotonic"
    SPURIOUS_ZERO = "spurious_zero"


class UnknownChargerError(KeyError):
    """The charger is not (or no longer) in the store."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ChargerMeta:
    """What the service knows about a charger besides its observations."""

    charger_id: str
    name: str = ""
    account: str = ""
    color: int | None = None
    product_code: int | None = None
    site_id: int | None = None
    site_name: str | None = None
    circuit_id: int | None = None


#: At most how many earlier snapshots a snapshot names its changes since: a reader that kept
#: one further back (others read the charger in between) renders everything again.
CHANGES_KEPT = 4


@dataclass(frozen=True, slots=True)
class ReadingChanges:
    """The ids whose readings may differ from those of earlier snapshots of the charger.

    ``steps``, newest first, up to :data:`CHANGES_KEPT`: the revision of an earlier snapshot
    (:attr:`ChargerView.revision`, the last one anybody read when the charger was next
    written) and the ids written between it and the next newer snapshot read, no id twice.
    A superset: a write may store an equal reading. Lets a reader that kept the revision of
    a snapshot find what changed since without comparing every reading, and without anybody
    keeping old readings alive. Tuples of ints: the garbage collector soon stops tracking
    them.
    """

    steps: tuple[tuple[int, tuple[int, ...]], ...]

    @property
    def since(self) -> int:
        """The revision of the snapshot read last before this one."""
        return self.steps[0][0]

    @property
    def ids(self) -> tuple[int, ...]:
        """The ids written since that snapshot."""
        return self.steps[0][1]

    @classmethod
    def after(
        cls, since: int, ids: Iterable[int], earlier: ReadingChanges | None
    ) -> ReadingChanges:
        """The changes since ``since``, then as many of ``earlier``'s as are kept."""
        step = (since, tuple(ids))
        if earlier is None:
            return cls((step,))
        return cls((step, *earlier.steps[: CHANGES_KEPT - 1]))

    def since_revision(self, revision: int) -> tuple[int, ...] | None:
        """Every id written since the snapshot numbered ``revision``, no id twice; None when
        that snapshot is not among the ones kept."""
        steps = self.steps
        if steps[0][0] == revision:
            return steps[0][1]  # the common case: nobody else read the charger in between
        written: set[int] = set()
        for since, ids in steps:
            written.update(ids)
            if since == revision:
                return tuple(written)
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class ChargerView:
    """An immutable snapshot of one charger."""

    meta: ChargerMeta
    observations: Mapping[int, Observation]
    derived: DerivedState
    #: receive time of the last accepted observation (epoch seconds)
    last_update_at: float | None
    #: receive time of the last observation of any outcome
    last_received_at: float | None
    #: the newest charger-side timestamp of any observation, capped at its receive time
    last_seen_at: float | None
    #: the number of these readings, unique in the store: other readings, another number
    #: (0: a snapshot made by hand, not by the store)
    revision: int = 0
    #: what was written since an earlier snapshot; None when not known (a new charger)
    changes: ReadingChanges | None = None

    def online(self, now: float, offline_after: float) -> bool | None:
        """Online by the cloud's flag (250) and by the charger's own clock.

        False once the charger's newest own timestamp is more than ``offline_after`` seconds
        old, whatever the cloud says: a charger that lost power can stay "connected" in the
        cloud for a long time. None while nothing is known.
        """
        return online_by_own_clock(self.last_seen_at, self.derived.online, now, offline_after)

    def value(self, obs_id: int) -> bool | int | float | str | None:
        observation = self.observations.get(obs_id)
        return None if observation is None else observation.value

    @property
    def phases(self) -> PhaseReadings:
        """Per-phase currents and voltages, mapped by the grid type (on each read: the
        metrics map them when their inputs change, see ``exporter/metrics/catalogue.py``)."""
        return phase_readings(self.observations)


_NO_EQUALIZERS: Mapping[str, EqualizerView] = MappingProxyType({})


@dataclass(frozen=True, slots=True, kw_only=True)
class StoreView:
    """An immutable snapshot of every charger, and the newest data times over all of them."""

    chargers: Mapping[str, ChargerView]
    last_update_at: float | None
    last_received_at: float | None
    #: the sites of every account, with their circuits (empty until looked up)
    sites: tuple[Site, ...] = ()
    #: the Equalizers of the accounts' sites, by id (:mod:`exporter.equalizer_state`)
    equalizers: Mapping[str, EqualizerView] = field(default_factory=lambda: _NO_EQUALIZERS)


def as_seen(view: StoreView, now: float, offline_after: float) -> StoreView:
    """``view`` as a person should see it at ``now``: a charger offline by its own clock
    (:meth:`ChargerView.online`) carries ``derived.online = False``, as if the cloud said so.
    The same object when no charger is offline that way."""
    changed: dict[str, ChargerView] = {}
    for charger_id, charger in view.chargers.items():
        if charger.derived.online is not False and charger.online(now, offline_after) is False:
            changed[charger_id] = replace(charger, derived=replace(charger.derived, online=False))
    if not changed:
        return view
    return replace(view, chargers=MappingProxyType({**view.chargers, **changed}))


Predicate: TypeAlias = Callable[[ChargerView], bool]

#: The epoch of a charger frozen on its own (a single-charger snapshot was taken).
_FROZEN = -1


class _Charger:
    """One charger's state, private to the store.

    Copy on write: a charger is writable only while its ``epoch`` is the store's. Taking a view
    ends the epoch, so every charger that view holds is frozen from then on, and the next write
    to it goes to a copy (:meth:`StateStore._writable`). A frozen charger is never mutated
    again, which is what lets a view be read from another thread while writes continue; its
    :class:`ChargerView` is built on first use, by whoever reads it (:func:`_view_of`).
    """

    __slots__ = (
        "derived",
        "earlier",
        "epoch",
        "last_received_at",
        "last_seen_at",
        "last_update_at",
        "meta",
        "observations",
        "revision",
        "revisions",
        "session_started_at",
        "since",
        "snapshot",
        "values",
        "values_shared",
        "waiters",
        "written",
    )

    def __init__(self, meta: ChargerMeta, epoch: int, revisions: Iterator[int]) -> None:
        self.meta = meta
        self.epoch = epoch
        #: the store's numbering of readings, and the number of ``values`` as they are
        self.revisions = revisions
        self.revision = next(revisions)
        self.values: dict[int, Observation] = {}
        #: ``values`` belongs to a frozen state too: copied before the first change
        self.values_shared = False
        #: the read-only face of ``values``, shared by every snapshot of the same readings
        self.observations: Mapping[int, Observation] = MappingProxyType(self.values)
        self.last_update_at: float | None = None
        self.last_received_at: float | None = None
        self.last_seen_at: float | None = None
        #: charger-side time of the last session start the store saw (see _reset_session)
        self.session_started_at: float | None = None
        #: None: to be derived from ``values`` when the snapshot is built
        self.derived: DerivedState | None = None
        #: the snapshot of this (frozen) state, once built
        self.snapshot: ChargerView | None = None
        #: shared by every copy of the charger, so a waiter is found in the newest one
        self.waiters: list[tuple[Predicate, asyncio.Future[ChargerView]]] = []
        #: the revision of the last snapshot read before this state, and the ids written
        #: since (:class:`ReadingChanges`)
        self.since: int | None = None
        self.written: set[int] = set()
        #: the changes of the snapshot numbered ``since`` (:attr:`ReadingChanges.earlier`)
        self.earlier: ReadingChanges | None = None

    def write(self, observation: Observation) -> None:
        """Store a reading (every write goes through here, so ``written`` knows it)."""
        self.own_values()[observation.obs_id] = observation
        self.written.add(observation.obs_id)

    def own_values(self) -> dict[int, Observation]:
        """``values``, ready to be written (copied first if a frozen state shares it)."""
        if self.values_shared:
            self.values = dict(self.values)
            self.values_shared = False
            self.observations = MappingProxyType(self.values)
            self.revision = next(self.revisions)
        return self.values

    def thawed(self, epoch: int) -> _Charger:
        """A writable copy of this frozen state."""
        copy = _Charger(self.meta, epoch, self.revisions)
        # Most writes after a view only prove the link (replays, duplicates): the readings are
        # copied when one of them changes, not before.
        copy.values = self.values
        copy.values_shared = True
        copy.revision = self.revision
        copy.last_update_at = self.last_update_at
        copy.last_received_at = self.last_received_at
        copy.last_seen_at = self.last_seen_at
        copy.session_started_at = self.session_started_at
        copy.observations = self.observations
        copy.waiters = self.waiters
        snapshot = self.snapshot
        if snapshot is not None:
            # Somebody read this state: what they derived from the same values is reused, and
            # changes count from its readings.
            copy.derived = snapshot.derived
            copy.since = self.revision
            copy.earlier = snapshot.changes
            return copy
        copy.derived = self.derived
        if self.since is not None:
            # Nobody did: changes go on counting from where this state's did.
            copy.since = self.since
            copy.earlier = self.earlier
            copy.written = set(self.written)
        return copy


def _view_of(charger: _Charger) -> ChargerView:
    """The snapshot of a frozen charger, built once (on any thread: it only reads)."""
    snapshot = charger.snapshot
    if snapshot is None:
        observations = charger.observations
        derived = charger.derived
        snapshot = ChargerView(
            meta=charger.meta,
            observations=observations,
            derived=derive(observations) if derived is None else derived,
            last_update_at=charger.last_update_at,
            last_received_at=charger.last_received_at,
            last_seen_at=charger.last_seen_at,
            revision=charger.revision,
            changes=(
                None
                if charger.since is None
                else ReadingChanges.after(charger.since, charger.written, charger.earlier)
            ),
        )
        # Two readers racing here build equal snapshots; either one may stay.
        charger.snapshot = snapshot
    return snapshot


class _Chargers(Mapping[str, ChargerView]):
    """A view's chargers: frozen states, each turned into a snapshot when first read."""

    __slots__ = ("_frozen",)

    def __init__(self, frozen: Mapping[str, _Charger]) -> None:
        self._frozen = frozen

    def __getitem__(self, charger_id: str) -> ChargerView:
        return _view_of(self._frozen[charger_id])

    def __iter__(self) -> Iterator[str]:
        return iter(self._frozen)

    def __len__(self) -> int:
        return len(self._frozen)

    def __contains__(self, charger_id: object) -> bool:
        return charger_id in self._frozen


class StateStore:
    """Latest observations of every known charger, with the rules of the module docstring.

    ``table`` supplies the quirk flags (monotonic, ignore_spurious_zero).
    """

    def __init__(
        self,
        *,
        table: Mapping[int, ObservationSpec] = OBSERVATIONS,
    ) -> None:
        self._monotonic = frozenset(i for i, spec in table.items() if spec.monotonic)
        self._zero_ignored = frozenset(i for i, spec in table.items() if spec.ignore_spurious_zero)
        self._zero_types = {i: table[i].data_type for i in self._zero_ignored}
        self._special = self._monotonic | self._zero_ignored | {SESSION_TRIGGER_ID}
        self._chargers: dict[str, _Charger] = {}
        #: views end epochs; a charger is writable only while its epoch is the current one
        self._epoch = 0
        #: numbers every charger's readings, store-wide, so a number never means two states;
        #: from 1, as 0 is the revision of a snapshot not made by a store
        self._revisions = itertools.count(1)
        #: ``_chargers`` is held by a view: copied before the next change to the set
        self._chargers_shared = False
        self._last_update_at: float | None = None
        self._last_received_at: float | None = None
        self._view: StoreView | None = None
        self._counts: dict[str, int] = {outcome.value: 0 for outcome in Applied}
        self._sites: dict[str, tuple[Site, ...]] = {}
        #: the Equalizers' readings: their own table and rules, beside the chargers'
        self.equalizers = EqualizerStore()

    # -- sites ------------------------------------------------------------------------------

    def set_sites(self, account: str, sites: tuple[Site, ...]) -> None:
        """The sites of one account, replacing what it had (empty: the account left)."""
        if self._sites.get(account, ()) == sites:
            return
        if sites:
            self._sites[account] = sites
        else:
            self._sites.pop(account, None)
        self._view = None

    # -- charger set ------------------------------------------------------------------------

    def upsert_charger(self, meta: ChargerMeta) -> None:
        """Add a charger, or replace the metadata of a known one (its readings stay)."""
        charger = self._chargers.get(meta.charger_id)
        if charger is None:
            self._own_chargers()[meta.charger_id] = _Charger(meta, self._epoch, self._revisions)
            self._view = None
        elif charger.meta != meta:
            self._writable(charger).meta = meta

    def remove_charger(self, charger_id: str) -> bool:
        """Forget a charger and its readings; pending waiters fail. False if it was unknown."""
        if charger_id not in self._chargers:
            return False
        charger = self._own_chargers().pop(charger_id)
        self._view = None
        for _, future in charger.waiters:
            if not future.done():
                future.set_exception(UnknownChargerError(charger_id))
        charger.waiters.clear()
        return True

    def __contains__(self, charger_id: object) -> bool:
        return charger_id in self._chargers

    @property
    def charger_ids(self) -> frozenset[str]:
        return frozenset(self._chargers)

    @property
    def counts(self) -> Mapping[str, int]:
        """Observations applied so far, by :class:`Applied` value (a snapshot)."""
        return MappingProxyType(dict(self._counts))

    # -- writes -----------------------------------------------------------------------------

    def apply(self, observation: Observation) -> Applied:
        """Apply one observation under the store's rules and say what happened."""
        charger = self._chargers.get(observation.charger_id)
        if charger is None:
            return self._count(Applied.UNKNOWN_CHARGER)
        if charger.epoch != self._epoch:
            charger = self._writable(charger)
        received = observation.received_at
        if charger.last_received_at is None or received > charger.last_received_at:
            charger.last_received_at = received
            if self._last_received_at is None or received > self._last_received_at:
                self._last_received_at = received
        seen = seen_at(observation.timestamp, received)
        if charger.last_seen_at is None or seen > charger.last_seen_at:
            charger.last_seen_at = seen
        self._view = None

        obs_id = observation.obs_id
        stored = charger.values.get(obs_id)
        if obs_id in self._special:
            outcome, entry = self._special_rules(charger, stored, observation)
            if entry is not None:
                charger.write(entry)
                self._values_changed(
                    charger, obs_id, received, accepted=outcome is Applied.ACCEPTED
                )
            return self._count(outcome)
        if stored is not None:
            if observation.timestamp < stored.timestamp:
                return self._count(Applied.OUTDATED)
            if observation.timestamp == stored.timestamp and observation.value == stored.value:
                return self._count(Applied.DUPLICATE)
        charger.write(observation)
        self._values_changed(charger, obs_id, received, accepted=True)
        return self._count(Applied.ACCEPTED)

    def apply_many(self, observations: Iterable[Observation]) -> None:
        """Apply observations in order (a REST snapshot, a test scenario)."""
        for observation in observations:
            self.apply(observation)

    def _writable(self, charger: _Charger) -> _Charger:
        """The charger itself while writable, else a writable copy that replaces it."""
        if charger.epoch == self._epoch:
            return charger
        copy = charger.thawed(self._epoch)
        self._own_chargers()[copy.meta.charger_id] = copy
        self._view = None
        return copy

    def _own_chargers(self) -> dict[str, _Charger]:
        """The charger set, copied first if a view holds it."""
        if self._chargers_shared:
            self._chargers = dict(self._chargers)
            self._chargers_shared = False
        return self._chargers

    def _count(self, outcome: Applied) -> Applied:
        self._counts[outcome] += 1
        return outcome

    def _values_changed(
        self, charger: _Charger, obs_id: int, received: float, *, accepted: bool
    ) -> None:
        # Derived once per snapshot whose inputs changed, by its reader: most readings do not
        # feed it, and deriving costs more than the change itself.
        if obs_id in DERIVED_INPUT_IDS:
            charger.derived = None
        if accepted and (charger.last_update_at is None or received > charger.last_update_at):
            charger.last_update_at = received
            if self._last_update_at is None or received > self._last_update_at:
                self._last_update_at = received
        if charger.waiters:
            self._notify(charger)

    def _special_rules(
        self, charger: _Charger, stored: Observation | None, new: Observation
    ) -> tuple[Applied, Observation | None]:
        """The monotonic, spurious-zero and session-start rules (plus the timestamp rules).

        Returns the outcome and the entry to store, None to leave the stored one as it is.
        """
        if stored is None:
            return Applied.ACCEPTED, new
        if new.obs_id in self._monotonic:
            old_value, new_value = stored.value, new.value
            if isinstance(old_value, int | float) and isinstance(new_value, int | float):
                return self._monotonic_rule(stored, new, float(old_value), float(new_value))
        if new.obs_id in self._zero_ignored:
            outcome = self._session_value_rule(charger, stored, new)
            if outcome is not None:
                return outcome, None if outcome is not Applied.ACCEPTED else new
        if new.timestamp < stored.timestamp:
            return Applied.OUTDATED, None
        if new.timestamp == stored.timestamp and new.value == stored.value:
            return Applied.DUPLICATE, None
        if new.obs_id == SESSION_TRIGGER_ID:
            self._session_rule(charger, stored, new)
        return Applied.ACCEPTED, new

    @staticmethod
    def _monotonic_rule(
        stored: Observation, new: Observation, old_value: float, new_value: float
    ) -> tuple[Applied, Observation | None]:
        """Keep the largest value with the newest timestamp (a join, so order does not matter)."""
        if new_value > old_value:
            if new.timestamp >= stored.timestamp:
                return Applied.ACCEPTED, new
            return Applied.ACCEPTED, replace(new, timestamp=stored.timestamp)
        if new.timestamp <= stored.timestamp:
            if new_value == old_value:
                same = new.timestamp == stored.timestamp
                return (Applied.DUPLICATE if same else Applied.OUTDATED), None
            return Applied.MONOTONIC, None
        if new_value == old_value:
            return Applied.ACCEPTED, new
        return Applied.MONOTONIC, replace(
            stored, timestamp=new.timestamp, received_at=new.received_at
        )

    @staticmethod
    def _session_value_rule(
        charger: _Charger, stored: Observation, new: Observation
    ) -> Applied | None:
        """Session energy: zeros are weak. A zero never replaces a non-zero value, and a
        non-zero value replaces a zero whatever the two timestamps, so the stored reading is
        the newest non-zero one of the session (or zero when there is none) in any arrival
        order. Readings older than the current session's start are outdated. None: decide by
        the timestamp rules."""
        started = charger.session_started_at
        if started is not None and new.timestamp < started:
            return Applied.OUTDATED
        if new.value == 0:
            return Applied.SPURIOUS_ZERO if stored.value != 0 else None
        if stored.value == 0:
            return Applied.ACCEPTED
        return None

    def _session_rule(
        self, charger: _Charger, stored: Observation | None, new: Observation
    ) -> None:
        if starts_new_session(None if stored is None else stored.value, new.value):
            self._reset_session(charger, new)

    def _reset_session(self, charger: _Charger, trigger: Observation) -> None:
        started = charger.session_started_at
        if started is None or trigger.timestamp > started:
            charger.session_started_at = trigger.timestamp
        for obs_id in self._zero_ignored:
            stored = charger.values.get(obs_id)
            if stored is not None and stored.timestamp > trigger.timestamp:
                continue  # already a reading of the new session
            data_type = self._zero_types[obs_id]
            charger.write(
                Observation(
                    charger_id=trigger.charger_id,
                    obs_id=obs_id,
                    data_type=data_type,
                    value=0.0 if data_type is DataType.DOUBLE else 0,
                    timestamp=trigger.timestamp,
                    received_at=trigger.received_at,
                )
            )

    # -- reads ------------------------------------------------------------------------------

    def view(self) -> StoreView:
        """An immutable snapshot of the whole store; the same object while nothing changes.

        Constant time: it ends the epoch (every charger is frozen as it is) and builds nothing.
        Each charger's :class:`ChargerView` is built when first read, on the reader's thread,
        so a scrape can take the view on the event loop and read it in a worker thread.
        """
        view = self._view
        equalizers = self.equalizers.view()
        # A change of the Equalizers' view makes a new store view too: a new epoch, so the
        # chargers are frozen as they are now.
        if view is None or view.equalizers is not equalizers:
            self._epoch += 1
            self._chargers_shared = True
            view = StoreView(
                chargers=_Chargers(self._chargers),
                last_update_at=self._last_update_at,
                last_received_at=self._last_received_at,
                sites=tuple(site for sites in self._sites.values() for site in sites),
                equalizers=equalizers,
            )
            self._view = view
        return view

    def charger(self, charger_id: str) -> ChargerView:
        """The current snapshot of one charger (cheap when it has not changed)."""
        charger = self._chargers.get(charger_id)
        if charger is None:
            raise UnknownChargerError(charger_id)
        return self._frozen_view(charger)

    @staticmethod
    def _frozen_view(charger: _Charger) -> ChargerView:
        """Freeze one charger (its next write goes to a copy) and return its snapshot."""
        charger.epoch = _FROZEN
        return _view_of(charger)

    # -- waiting ----------------------------------------------------------------------------

    # The deadline is a required argument rather than left to asyncio.timeout at the call site:
    # every caller (command confirmation) has one, and forgetting it would park forever.
    async def wait_for(
        self,
        charger_id: str,
        predicate: Predicate,
        timeout: float,  # noqa: ASYNC109
    ) -> ChargerView:
        """Wait until ``predicate`` holds for the charger's snapshot and return that snapshot.

        Checks at once, then after every accepted change of that charger. Raises
        :class:`TimeoutError` after ``timeout`` seconds, :class:`UnknownChargerError` when
        the charger is unknown or removed meanwhile, and whatever ``predicate`` raises.
        """
        charger = self._chargers.get(charger_id)
        if charger is None:
            raise UnknownChargerError(charger_id)
        snapshot = self._frozen_view(charger)
        if predicate(snapshot):
            return snapshot
        future: asyncio.Future[ChargerView] = asyncio.get_running_loop().create_future()
        waiter = (predicate, future)
        charger.waiters.append(waiter)
        try:
            async with asyncio.timeout(timeout):
                return await future
        finally:
            if waiter in charger.waiters:
                charger.waiters.remove(waiter)

    def _notify(self, charger: _Charger) -> None:
        snapshot = self._frozen_view(charger)
        for predicate, future in charger.waiters:
            if future.done():
                continue
            try:
                matched = predicate(snapshot)
            except Exception as error:  # the waiter gets the predicate's own failure
                future.set_exception(error)
                continue
            if matched:
                future.set_result(snapshot)
