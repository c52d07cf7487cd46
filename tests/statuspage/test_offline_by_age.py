"""The page shows a charger offline by its own clock as offline: no power, no pause button."""

from __future__ import annotations

from exporter.easee.models import DataType, Observation
from exporter.page_text import Text
from exporter.power_history import PowerHistory, kilowatts
from exporter.state import ChargerMeta, StateStore, as_seen
from exporter.statuspage import PageSources, render_page

SEEN = 1_800_000_000.0
SERIAL = "EH000001"


def charging_store() -> StateStore:
    store = StateStore()
    store.upsert_charger(ChargerMeta(charger_id=SERIAL, name="Garage", account="home"))
    for obs_id, data_type, value in (
        (109, DataType.INTEGER, 3),
        (120, DataType.DOUBLE, 11.0),
        (250, DataType.BOOLEAN, True),
        (48, DataType.DOUBLE, 32.0),
        (103, DataType.BOOLEAN, True),
        (30, DataType.BOOLEAN, False),
    ):
        store.apply(Observation(SERIAL, obs_id, data_type, value, SEEN, SEEN))
    return store


def page(store: StateStore, now: float) -> str:
    sources = PageSources(
        store=store,
        history=PowerHistory(),
        accounts=lambda: (),
        alive=lambda: True,
        offline_after=lambda: 1200.0,
    )
    return render_page(sources, now, Text("en"))


def test_as_seen_marks_only_the_chargers_offline_by_age() -> None:
    store = charging_store()
    view = store.view()
    assert as_seen(view, SEEN + 1200, 1200) is view
    old = as_seen(view, SEEN + 1201, 1200)
    charger = old.chargers[SERIAL]
    assert charger.derived.online is False
    assert charger.observations is view.chargers[SERIAL].observations
    assert kilowatts(charger) is None
    assert kilowatts(view.chargers[SERIAL]) == 11.0


def test_the_page_shows_a_silent_charger_offline() -> None:
    store = charging_store()
    fresh = page(store, SEEN + 60)
    assert 'data-action="pause"' in fresh
    stale = page(store, SEEN + 1300)
    assert 'data-action="pause"' not in stale
    assert 'data-why="why.offline"' in stale
    assert 'data-why="why.offline"' not in fresh
    assert "20 minutes without a reading of its own" in stale
