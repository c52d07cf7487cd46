"""The live state of every Equalizer: its latest readings and its freshness.

A small store of its own beside the chargers' (:mod:`exporter.state`), which embeds it and
hands its view out in ``StoreView.equalizers``. An Equalizer reports a few dozen readings
every ~20 s and none of the charger's derived values, sessions or spurious zeros apply, so
it keeps only the rules every product shares:

* readings of an Equalizer not in the set (:meth:`EqualizerStore.set_equalizers`, from the
  accounts' sites) are dropped, so a late frame cannot bring a removed one back;
* a reading older than the stored one of the same id is ignored (a replay after a
  subscription carries old timestamps), and the same timestamp and value is a duplicate;
* freshness by the Equalizer's own clock (:mod:`exporter.freshness`): ``last_seen_at`` is
  its newest own timestamp, which a replay or a snapshot never makes newer.

The energy registers are not held monotonic (see
:mod:`exporter.easee.equalizer_observations`). Like the chargers' store it does no I/O and
takes no lock: writers and readers share one event loop.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from exporter.easee.equalizer_observations import CONNECTED_TO_CLOUD_ID
from exporter.easee.models import Equalizer, Observation, ObservationValue, Site
from exporter.freshness import online_by_own_clock, seen_at


@dataclass(frozen=True, slots=True, kw_only=True)
class EqualizerView:
    """An immutable snapshot of one Equalizer: what discovery says and what it reported."""

    equalizer: Equalizer
    account: str
    #: the site it meters (its name, its main fuse), None when discovery did not say
    site: Site | None = None
    observations: Mapping[int, Observation] = field(default_factory=lambda: MappingProxyType({}))
    #: receive time of the last reading of any outcome (epoch seconds)
    last_received_at: float | None = None
    #: the newest Equalizer-side timestamp of any reading, capped at its receive time
    last_seen_at: float | None = None

    def online(self, now: float, offline_after: float) -> bool | None:
        """Connected to the cloud (250; until it says, the fact that it sent anything) and
        its own newest timestamp younger than ``offline_after``."""
        flag = self.value(CONNECTED_TO_CLOUD_ID)
        connected: bool | None
        if isinstance(flag, bool):
            connected = flag
        else:
            connected = True if self.last_seen_at is not None else None
        return online_by_own_clock(self.last_seen_at, connected, now, offline_after)

    def value(self, obs_id: int) -> ObservationValue | None:
        observation = self.observations.get(obs_id)
        return None if observation is None else observation.value


@dataclass(slots=True)
class _Equalizer:
    equalizer: Equalizer
    account: str
    site: Site | None
    values: dict[int, Observation] = field(default_factory=dict)
    last_received_at: float | None = None
    last_seen_at: float | None = None

    def snapshot(self) -> EqualizerView:
        return EqualizerView(
            equalizer=self.equalizer,
            account=self.account,
            site=self.site,
            observations=MappingProxyType(dict(self.values)),
            last_received_at=self.last_received_at,
            last_seen_at=self.last_seen_at,
        )


class EqualizerStore:
    """Latest readings of every known Equalizer, under the rules of the module docstring."""

    def __init__(self) -> None:
        self._equalizers: dict[str, _Equalizer] = {}
        self._snapshots: dict[str, EqualizerView] = {}
        self._view: Mapping[str, EqualizerView] = MappingProxyType({})
        self._changed: set[str] = set()
        self._stale = False

    def set_equalizers(
        self, account: str, equalizers: Iterable[tuple[Equalizer, Site | None]]
    ) -> None:
        """The Equalizers of one account with their sites, replacing what it had (empty: the
        account left). A known one keeps its readings."""
        wanted = {eq.equalizer_id: (eq, site) for eq, site in equalizers}
        for equalizer_id, state in list(self._equalizers.items()):
            if state.account == account and equalizer_id not in wanted:
                del self._equalizers[equalizer_id]
                self._snapshots.pop(equalizer_id, None)
                self._stale = True
        for equalizer_id, (equalizer, site) in wanted.items():
            known = self._equalizers.get(equalizer_id)
            if known is None:
                self._equalizers[equalizer_id] = _Equalizer(equalizer, account, site)
            elif (known.equalizer, known.account, known.site) != (equalizer, account, site):
                known.equalizer, known.account, known.site = equalizer, account, site
            else:
                continue
            self._changed.add(equalizer_id)

    def __contains__(self, equalizer_id: object) -> bool:
        return equalizer_id in self._equalizers

    def apply(self, observation: Observation) -> bool:
        """Apply one Equalizer reading (``charger_id`` holds the Equalizer's id); whether it
        replaced the stored reading."""
        state = self._equalizers.get(observation.charger_id)
        if state is None:
            return False
        received = observation.received_at
        if state.last_received_at is None or received > state.last_received_at:
            state.last_received_at = received
        seen = seen_at(observation.timestamp, received)
        if state.last_seen_at is None or seen > state.last_seen_at:
            state.last_seen_at = seen
        self._changed.add(observation.charger_id)
        stored = state.values.get(observation.obs_id)
        if stored is not None and (
            observation.timestamp < stored.timestamp
            or (observation.timestamp == stored.timestamp and observation.value == stored.value)
        ):
            return False
        state.values[observation.obs_id] = observation
        return True

    def view(self) -> Mapping[str, EqualizerView]:
        """Every Equalizer's snapshot by id; the same object while nothing changed."""
        if self._changed:
            for equalizer_id in self._changed:
                state = self._equalizers.get(equalizer_id)
                if state is not None:
                    self._snapshots[equalizer_id] = state.snapshot()
            self._changed.clear()
            self._stale = True
        if self._stale:
            self._view = MappingProxyType(
                {key: self._snapshots[key] for key in sorted(self._snapshots)}
            )
            self._stale = False
        return self._view
