"""The cached renderer writes exactly what prometheus_client's generate_latest writes.

The reference is prometheus_client itself: the same collector's families through
``generate_latest`` (text) and the OpenMetrics ``generate_latest``, on stores filled from the
simulated cloud, then changed reading by reading.
"""

from __future__ import annotations

import gc
import gzip
import math
import platform
import threading
import types
import zlib
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics

from exporter.easee.models import Circuit, DataType, Observation, Site
from exporter.easee.observations import OBSERVATIONS, Kind
from exporter.metrics import ChargerCollector, ExportFilter
from exporter.metrics.deflate import CODECS, DEFAULT, Codec, Piece, gzip_parts, plain
from exporter.simulator import Simulator, SimulatorConfig
from exporter.state import CHANGES_KEPT, ChargerMeta, StateStore
from tests.metrics.support import RECEIVED, START, store_from

NOW = RECEIVED + 10.0


def simulator(chargers: int = 6) -> Simulator:
    """An in-process simulated cloud (its model only; no sockets needed to read the truth)."""
    return Simulator(
        SimulatorConfig.single_account(chargers=chargers, seed=3, start_time=START, tick_interval=0)
    )


def expected(
    collector: ChargerCollector, *, openmetrics: bool, names: set[str] | None = None
) -> bytes:
    registry = CollectorRegistry()
    registry.register(collector)
    source = registry if names is None else registry.restricted_registry(names)
    if openmetrics:
        return generate_openmetrics(source).removesuffix(b"# EOF\n")
    return generate_latest(source)


def rendered(
    collector: ChargerCollector, *, openmetrics: bool, names: set[str] | None = None
) -> bytes:
    return plain(collector.render(collector.snapshot(), openmetrics=openmetrics, names=names))


def assert_same(collector: ChargerCollector) -> None:
    for openmetrics in (False, True):
        assert rendered(collector, openmetrics=openmetrics) == expected(
            collector, openmetrics=openmetrics
        )


@pytest.fixture
def sim() -> Simulator:
    return simulator()


@pytest.fixture
def store(sim: Simulator) -> StateStore:
    return store_from(sim)


@pytest.fixture
def collector(store: StateStore) -> ChargerCollector:
    return ChargerCollector(store.view, clock=lambda: NOW)


def test_same_bytes_as_prometheus_client_in_both_formats(collector: ChargerCollector) -> None:
    """Six simulated chargers (TN and IT grids, Wi-Fi and cellular, every scenario)."""
    text = rendered(collector, openmetrics=False)
    assert b'easee_charger_op_mode{charger_id="EH000001",mode="charging"} 1.0' in text
    assert_same(collector)


def test_same_bytes_with_the_name_filter(collector: ChargerCollector) -> None:
    """``name[]`` keeps whole families by sample name; OpenMetrics then has no # UNIT."""
    names = {
        "easee_charger_power_watts",
        "easee_charger_energy_joules_total",
        "easee_charger_info",
        "easee_charger_op_mode",
        "easee_exporter_last_data_timestamp_seconds",
        "no_such_metric",
    }
    for openmetrics in (False, True):
        got = rendered(collector, openmetrics=openmetrics, names=names)
        assert got == expected(collector, openmetrics=openmetrics, names=names)
        assert b"easee_charger_power_watts{" in got
        assert b"easee_charger_voltage_volts" not in got


def test_incremental_changes_render_like_a_full_render(
    sim: Simulator, store: StateStore, collector: ChargerCollector
) -> None:
    """Readings flow (model hours with cars coming and going), chargers come and go."""
    rendered(collector, openmetrics=False)  # fill the caches
    received = RECEIVED
    for step in range(8):
        for update in sim.advance(900):
            received += 0.5
            store.apply(
                Observation(
                    charger_id=update.serial,
                    obs_id=update.obs_id,
                    data_type=DataType(int(update.data_type)),
                    value=update.value,
                    timestamp=update.timestamp,
                    received_at=received,
                )
            )
        if step == 3:
            store.remove_charger("EH000002")
        if step == 5:
            store.upsert_charger(ChargerMeta(charger_id="EH000002", name="back", account="demo"))
        assert_same(collector)


def test_label_values_are_escaped_as_prometheus_client_does() -> None:
    store = StateStore()
    store.upsert_charger(
        ChargerMeta(charger_id='EH"1\\', name='Garage "left"\nback\\slash', account="ä ö")
    )
    store.apply(Observation('EH"1\\', 1, DataType.STRING, 'say "hi"\\\n', 1.0, RECEIVED))
    collector = ChargerCollector(store.view, clock=lambda: NOW)
    assert_same(collector)
    assert rb'name="Garage \"left\"\nback\\slash"' in rendered(collector, openmetrics=False)


def test_unknown_ids_and_special_values() -> None:
    """Unknown ids by observation_id; infinities in Go's spelling; NaN and text left out."""
    store = StateStore()
    store.upsert_charger(ChargerMeta(charger_id="EH1", name="x", account="a"))
    for obs_id, data_type, value in (
        (999, DataType.DOUBLE, 1.5),
        (998, DataType.BOOLEAN, True),
        (997, DataType.STRING, "text"),
        (120, DataType.DOUBLE, math.inf),
        (121, DataType.DOUBLE, math.nan),
        (109, DataType.INTEGER, 42),
    ):
        store.apply(Observation("EH1", obs_id, data_type, value, RECEIVED, RECEIVED))
    collector = ChargerCollector(store.view, clock=lambda: NOW)
    assert_same(collector)
    text = rendered(collector, openmetrics=False)
    assert b'easee_charger_observation_value{charger_id="EH1",observation_id="999"} 1.5' in text
    assert b'easee_charger_observation_value{charger_id="EH1",observation_id="998"} 1.0' in text
    assert b'observation_id="997"' not in text
    assert b'easee_charger_power_watts{charger_id="EH1"} +Inf' in text
    assert b"easee_charger_session_energy_joules{" not in text
    assert b'easee_charger_op_mode{charger_id="EH1",mode="unknown"} 1.0' in text
    assert b'easee_charger_op_mode_code{charger_id="EH1"} 42.0' in text


def test_an_offline_charger_keeps_its_state_but_loses_its_live_readings(
    sim: Simulator, store: StateStore
) -> None:
    """Offline by its own clock: online reads 0, live readings go, state and counters stay;
    fresh data brings everything back."""
    serial = "EH000001"
    seen = store.view().chargers[serial].last_seen_at
    assert seen is not None
    clock = {"now": seen + 10}
    collector = ChargerCollector(store.view, offline_after=600, clock=lambda: clock["now"])
    fresh = rendered(collector, openmetrics=False)
    assert f'easee_charger_online{{charger_id="{serial}"}} 1.0'.encode() in fresh
    assert f'easee_charger_power_watts{{charger_id="{serial}"}}'.encode() in fresh
    clock["now"] = seen + 601
    assert_same(collector)
    offline = rendered(collector, openmetrics=False)
    assert f'easee_charger_online{{charger_id="{serial}"}} 0.0'.encode() in offline
    assert f'easee_charger_last_seen_timestamp_seconds{{charger_id="{serial}"}}'.encode() in offline
    lines = offline.splitlines()
    for kept in (b"easee_charger_op_mode{", b"easee_charger_info{", b"energy_joules_total{"):
        of_charger = f'charger_id="{serial}"'.encode()
        assert any(kept in line and of_charger in line for line in lines), kept
    for dropped in (
        "easee_charger_power_watts{",
        "easee_charger_current_amperes{",
        "easee_charger_voltage_volts{",
        "easee_charger_terminal_current_amperes{",
        "easee_charger_temperature_celsius{",
        "easee_charger_wifi_rssi_dbm{",
    ):
        assert f'{dropped}charger_id="{serial}"'.encode() not in offline, dropped
    clock["now"] = seen + 10
    assert rendered(collector, openmetrics=False) == fresh


def test_the_cloud_flag_alone_makes_a_charger_offline(store: StateStore) -> None:
    """250 = false: offline however fresh the timestamps, and its live readings go."""
    serial = "EH000001"
    seen = store.view().chargers[serial].last_seen_at
    assert seen is not None
    store.apply(Observation(serial, 250, DataType.BOOLEAN, False, seen, seen))
    collector = ChargerCollector(store.view, clock=lambda: seen + 1)
    assert_same(collector)
    text = rendered(collector, openmetrics=False)
    assert f'easee_charger_online{{charger_id="{serial}"}} 0.0'.encode() in text
    assert f'easee_charger_power_watts{{charger_id="{serial}"}}'.encode() not in text


def test_filter_narrows_families(store: StateStore) -> None:
    chosen = ExportFilter(include=("state", "power", "easee_charger_energy_*"))
    collector = ChargerCollector(store.view, export_filter=chosen, clock=lambda: NOW)
    assert_same(collector)
    text = rendered(collector, openmetrics=False)
    assert b"easee_charger_op_mode{" in text
    assert b"easee_charger_power_watts{" in text
    assert b"easee_charger_energy_joules_total{" in text
    assert b"easee_charger_info{" in text  # always
    assert b"easee_charger_temperature_celsius" not in text


def gzip_document(pieces: list[Piece], *, codec: Codec, whole_below: int) -> bytes:
    return b"".join(gzip_parts(pieces, codec=codec, whole_below=whole_below))


@pytest.mark.parametrize("codec", CODECS, ids=lambda codec: codec.name)
@pytest.mark.parametrize("whole_below", [0, 1 << 30])
def test_gzip_of_cached_pieces_is_one_valid_document(
    collector: ChargerCollector, codec: Codec, whole_below: int
) -> None:
    """Pieces deflated one by one (kept between scrapes) or the document at once, by each
    deflate implementation installed."""
    pieces = collector.render(collector.snapshot(), openmetrics=False)
    document = gzip_document(pieces, codec=codec, whole_below=whole_below)
    assert gzip.decompress(document) == plain(pieces)
    decompressor = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)  # what HTTP clients use
    assert decompressor.decompress(document) == plain(pieces)
    assert decompressor.eof
    assert not decompressor.unused_data
    again = collector.render(collector.snapshot(), openmetrics=True)
    document = gzip_document(again, codec=codec, whole_below=whole_below)
    assert gzip.decompress(document) == plain(again)


def test_pieces_deflated_by_another_codec_are_deflated_again(collector: ChargerCollector) -> None:
    """A piece keeps the deflated form of one codec: asked with another, it recompresses."""
    pieces = collector.render(collector.snapshot(), openmetrics=False)
    for codec in (*CODECS, *reversed(CODECS)):
        assert gzip.decompress(gzip_document(pieces, codec=codec, whole_below=0)) == plain(pieces)


def test_zlib_ng_deflates_where_it_has_wheels() -> None:
    """pyproject.toml installs python-zlib-ng on x86-64 and 64-bit Arm: it is the default
    there, zlib elsewhere."""
    has_wheels = platform.machine() in {"x86_64", "aarch64", "AMD64", "arm64"}
    assert DEFAULT.name == ("zlib-ng" if has_wheels else "zlib")
    assert CODECS[-1].name == "zlib"


_IDS = sorted(i for i, spec in OBSERVATIONS.items() if spec.kind is not Kind.NOT_EXPORTED)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(["EH000001", "EH000002", "EH000003"]),
            st.sampled_from([*_IDS, 500]),
            st.one_of(
                st.booleans(),
                st.integers(-5, 300),
                st.integers(-(10**20), 10**20),
                st.floats(allow_nan=True, allow_infinity=True, width=32),
                st.text(max_size=4),
            ),
            st.sampled_from(["nothing", "scrape", "view", "read"]),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_any_sequence_of_readings_renders_like_prometheus_client(
    steps: list[tuple[str, int, object, str]],
) -> None:
    """Readings of any id and type, and in between scrapes, views nobody reads (liveness)
    and snapshots read by others (the status page): always the reference bytes."""
    store = store_from(simulator(3))
    collector = ChargerCollector(store.view, clock=lambda: NOW)
    stamp = START.timestamp() + 86400
    for serial, obs_id, value, then in steps:
        stamp += 1
        data_type = OBSERVATIONS[obs_id].data_type if obs_id in OBSERVATIONS else DataType.DOUBLE
        store.apply(Observation(serial, obs_id, data_type, value, stamp, stamp))  # type: ignore[arg-type]
        if then == "scrape":
            # The reference first: it reads the snapshots, as another reader would.
            reference = expected(collector, openmetrics=False)
            assert rendered(collector, openmetrics=False) == reference
        elif then == "view":
            store.view()
        elif then == "read":
            store.view().chargers[serial]
    assert_same(collector)


def test_same_charger_snapshot_costs_no_rerender(collector: ChargerCollector) -> None:
    """A scrape with nothing new reuses every piece (the same objects)."""
    first = collector.render(collector.snapshot(), openmetrics=False)
    second = collector.render(collector.snapshot(), openmetrics=False)
    assert all(a is b for a, b in zip(first[:-2], second[:-2], strict=True))


def test_meta_change_rerenders_the_info_line(
    store: StateStore, collector: ChargerCollector
) -> None:
    rendered(collector, openmetrics=False)
    meta = store.view().chargers["EH000001"].meta
    store.upsert_charger(replace(meta, name="Renamed"))
    assert b'name="Renamed"' in rendered(collector, openmetrics=False)
    assert_same(collector)


def test_renders_from_several_threads_are_serialised(collector: ChargerCollector) -> None:
    """Two renders never overlap, even when the scrape that started one was cancelled (its
    thread keeps rendering): a collector on the registry meets a two-party barrier, which
    only a second, overlapping render could pass."""
    from concurrent.futures import ThreadPoolExecutor

    from prometheus_client.exposition import choose_encoder
    from prometheus_client.metrics_core import Metric

    from exporter.metrics import MetricsEndpoint

    barrier = threading.Barrier(2, timeout=0.5)
    met: list[bool] = []

    class Meeting:
        def collect(self) -> list[Metric]:
            try:
                barrier.wait()
                met.append(True)
            except threading.BrokenBarrierError:
                met.append(False)
            return []

    registry = CollectorRegistry()
    registry.register(Meeting())
    endpoint = MetricsEndpoint(registry, collector)
    encoder, content_type = choose_encoder("")
    view = collector.snapshot()
    with ThreadPoolExecutor(2) as pool:
        results = list(
            pool.map(lambda _: endpoint.render(view, encoder, content_type, None, False), [1, 2])
        )
    assert True not in met
    assert b"".join(results[0]) == b"".join(results[1]) == expected(collector, openmetrics=False)


def test_the_readings_of_the_scrape_before_are_not_kept_alive() -> None:
    """The renderer keeps what it needs of a snapshot, not the snapshot: a replaced reading
    is referred to by nobody once the store has moved on, long before the next scrape (the
    garbage collector's full passes would otherwise walk every charger's readings twice)."""
    store = store_from(simulator(3))
    collector = ChargerCollector(store.view, clock=lambda: NOW)
    rendered(collector, openmetrics=False)
    old = store.charger("EH000001").observations[183]
    stamp = START.timestamp() + 86400
    store.apply(Observation("EH000001", 183, DataType.DOUBLE, 7.5, stamp, stamp))
    gc.collect()
    holders = [r for r in gc.get_referrers(old) if not isinstance(r, types.FrameType)]
    assert holders == []
    assert_same(collector)


def test_many_readers_between_two_scrapes_still_render_every_change() -> None:
    """More readers between two scrapes than the store's changes go back: the charger is
    rendered again in full, and right."""
    store = store_from(simulator(3))
    collector = ChargerCollector(store.view, clock=lambda: NOW)
    assert_same(collector)
    stamp = START.timestamp() + 86400
    for step in range(CHANGES_KEPT + 3):
        stamp += 1
        store.apply(Observation("EH000001", 120, DataType.DOUBLE, float(step), stamp, stamp))
        store.view().chargers["EH000001"]  # the status page, say
    assert_same(collector)
    assert b'easee_charger_power_watts{charger_id="EH000001"} ' in rendered(
        collector, openmetrics=False
    )


def test_a_reading_that_turns_negative_zero_is_rendered_again() -> None:
    """``-0.0 == 0.0``, yet Prometheus text tells them apart: a cached piece of a family whose
    key only compares equal (the phase readings) must not be reused."""
    store = store_from(simulator(3))
    collector = ChargerCollector(store.view, clock=lambda: NOW)
    stamp = START.timestamp() + 86400
    for value in (0.0, -0.0, 0.0):
        stamp += 1
        store.apply(Observation("EH000001", 183, DataType.DOUBLE, value, stamp, stamp))
        text = rendered(collector, openmetrics=False)
        assert text == expected(collector, openmetrics=False)
        line = f'easee_charger_current_amperes{{charger_id="EH000001",phase="L1"}} {value!r}\n'
        assert line.encode() in text, line


def test_circuit_families_render_like_prometheus_client(
    store: StateStore, collector: ChargerCollector
) -> None:
    """Families of the whole view (circuits), with a site name to escape and a circuit shared
    by two accounts' sites exported once."""
    circuit = Circuit(61001, 51001, "1", 25.0, ("EH000001",))
    unrated = Circuit(61002, 51001, 'panel "B"', None, ("EH000002",))
    store.set_sites("demo", (Site(51001, 'Home "main"\\fuse', circuits=(circuit, unrated)),))
    store.set_sites("other", (Site(51001, "Home", circuits=(circuit,)),))
    assert_same(collector)
    text = rendered(collector, openmetrics=False)
    assert text.count(b"easee_circuit_info{") == 2
    assert b'easee_circuit_rated_current_amperes{circuit_id="61001"} 25.0\n' in text
    assert b'circuit_id="61002"} ' not in text.split(b"easee_circuit_rated")[1]
    names = {"easee_circuit_info", "easee_circuit_rated_current_amperes"}
    for openmetrics in (False, True):
        got = rendered(collector, openmetrics=openmetrics, names=names)
        assert got == expected(collector, openmetrics=openmetrics, names=names)
    store.set_sites("demo", ())
    store.set_sites("other", ())
    assert b"easee_circuit" not in rendered(collector, openmetrics=False)
    assert_same(collector)


@given(st.one_of(st.floats(), st.integers(-(10**20), 10**20), st.booleans()))
def test_values_are_written_as_prometheus_client_writes_them(value: float) -> None:
    """Go's float format, exponents past six digits before the point included."""
    from prometheus_client.utils import floatToGoString

    from exporter.metrics.render import go_float

    assert go_float(value) == floatToGoString(value)


@pytest.mark.parametrize(
    "value", [1764640000.123, 4.6692e9, 1234567.0, 999999.5, 1e22, -1764640000.5, 1e-7]
)
def test_large_values_take_the_exponent_form_as_prometheus_client_does(value: float) -> None:
    from prometheus_client.utils import floatToGoString

    from exporter.metrics.render import go_float

    assert go_float(value) == floatToGoString(value)
