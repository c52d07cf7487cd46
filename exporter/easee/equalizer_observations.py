"""The table of Easee Equalizer observations: one typed row per observation id.

An Equalizer streams on the chargers' hub with the same ``ProductUpdate`` frames, but its
observation ids reuse the charger's numbers with other meanings (31 is the L1 current here,
``isEnabled`` on a charger; 40 is the import power here, the LED brightness there), so a
reading is decoded by product (:func:`is_equalizer_id` on the frame's ``mid``) and looked up
in this table, never in the charger's. Source: pyeasee ``const.py`` ``EqualizerStreamData``
with its comments, Home Assistant's units, easee-equalizer.md 3.

The rows use the charger table's :class:`~exporter.easee.observations.ObservationSpec`, so
the decoder, the catalogue and the README's reference read both alike. Every exported
metric starts with ``easee_equalizer_`` and carries ``equalizer_id`` instead of
``charger_id``. Units: kW -> W and kVAR -> var (x 1000), kWh -> J (x 3.6e6); the reactive
energy registers (kVArh) have no base unit and stay out. Currents keep their sign: an
Equalizer reads a negative current on a phase while the site exports on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from exporter.easee.models import DataType
from exporter.easee.observations import (
    KILO,
    KWH_TO_JOULES,
    Group,
    Kind,
    ObservationSpec,
    Unit,
)

#: Equalizer ids start with ``Q`` (pyeasee ``__main__.py`` tells the products apart so);
#: charger serials never do.
EQUALIZER_PREFIX = "Q"

#: The family label every Equalizer metric carries.
EQUALIZER_LABEL = "equalizer_id"


def is_equalizer_id(product_id: str) -> bool:
    """Whether a product id (a frame's ``mid``) names an Equalizer rather than a charger."""
    return product_id.startswith(EQUALIZER_PREFIX)


D = DataType
G = Group
K = Kind
U = Unit

_DEBUG = "internal or debug data; not a metric"
_TEXT = "text of unbounded cardinality; not a metric"
_PERSONAL = "personal: an identifier of the owner's network or meter"

_CURRENT_HELP = (
    "RMS current per phase measured at the grid connection, in amperes; negative while the "
    "site exports on that phase (Easee Equalizer currentL1-L3, observations 31-33)."
)
_VOLTAGE_HELP = (
    "RMS voltage per phase, phase to neutral, at the grid connection, in volts (Easee "
    "Equalizer voltageNL1-NL3, observations 34-36)."
)
_LINE_VOLTAGE_HELP = (
    "RMS voltage between two phases at the grid connection, in volts (Easee Equalizer "
    "voltageL1L2, L1L3, L2L3, observations 37-39; the one to read on IT grids)."
)
_AVAILABLE_HELP = (
    "Current per phase the Equalizer has available for balancing the chargers, in amperes "
    "(Easee Equalizer availableCurrentL1-L3, observations 87-89)."
)
_EQUALIZED_HELP = (
    "Charge current per phase the Equalizer gives the chargers it controls, in amperes "
    "(Easee Equalizer equalizedChargeCurrentL1-L3, observations 105-107)."
)


def _per_phase(
    first_id: int, stem: str, metric: str, unit: Unit, help: str, group: Group = G.PHASE
) -> tuple[ObservationSpec, ...]:
    return tuple(
        ObservationSpec(
            obs_id=first_id + i,
            easee_name=f"{stem}L{i + 1}",
            official=False,
            data_type=D.DOUBLE,
            group=group,
            kind=K.GAUGE,
            metric=metric,
            unit=unit,
            labels=(("phase", f"L{i + 1}"),),
            help=help,
        )
        for i in range(3)
    )


def _ignored(obs_id: int, name: str, data_type: DataType, reason: str) -> ObservationSpec:
    return ObservationSpec(
        obs_id=obs_id,
        easee_name=name,
        official=False,
        data_type=data_type,
        group=G.DIAGNOSTICS,
        kind=K.NOT_EXPORTED,
        not_exported_reason=reason,
        help=f"Easee Equalizer {name}, observation {obs_id}.",
    )


def _gauge(
    obs_id: int,
    name: str,
    metric: str,
    help: str,
    *,
    group: Group,
    unit: Unit = U.NONE,
    scale: float = 1.0,
    source_unit: str = "",
    data_type: DataType = D.DOUBLE,
    labels: tuple[tuple[str, str], ...] = (),
) -> ObservationSpec:
    return ObservationSpec(
        obs_id=obs_id,
        easee_name=name,
        official=False,
        data_type=data_type,
        group=group,
        kind=K.GAUGE,
        metric=metric,
        unit=unit,
        scale=scale,
        source_unit=source_unit,
        labels=labels,
        help=help,
    )


def _energy(obs_id: int, name: str, metric: str, help: str) -> ObservationSpec:
    # Not flagged monotonic: the cloud sometimes sends both registers about 10x too big for
    # one reading (easee_hass#599); kept as the largest value, such a spike would freeze
    # the counter for years, while passing it on costs one reset in Prometheus.
    return ObservationSpec(
        obs_id=obs_id,
        easee_name=name,
        official=False,
        data_type=D.DOUBLE,
        group=G.ENERGY,
        kind=K.COUNTER,
        metric=metric,
        unit=U.JOULES,
        scale=KWH_TO_JOULES,
        source_unit="kWh",
        help=help,
    )


_ROWS: tuple[ObservationSpec, ...] = (
    _ignored(1, "selfTestResult", D.STRING, _TEXT),
    _ignored(2, "selfTestDetails", D.STRING, _TEXT),
    _ignored(13, "easeeLinkCommandResponse", D.INTEGER, _DEBUG),
    _ignored(14, "easeeLinkDataReceived", D.STRING, _DEBUG),
    _ignored(19, "siteIDNumeric", D.INTEGER, "the site id is a label of easee_equalizer_info"),
    _ignored(20, "siteStructure", D.STRING, "JSON text; the products call gives the site"),
    ObservationSpec(
        obs_id=21,
        easee_name="softwareRelease",
        official=False,
        data_type=D.INTEGER,
        group=G.STATE,
        kind=K.NOT_EXPORTED,
        not_exported_reason="the firmware label of easee_equalizer_info",
        help="Firmware release of the Equalizer (observation 21).",
    ),
    _gauge(
        23,
        "deviceMode",
        "easee_equalizer_device_mode_code",
        "Device mode of the Equalizer, Easee's code: 1 P1/HAN meter port, 2 Modbus (Easee "
        "Equalizer deviceMode, observation 23).",
        group=G.CONFIG,
        data_type=D.INTEGER,
    ),
    _ignored(25, "meterType", D.STRING, _TEXT),
    _ignored(26, "meterID", D.STRING, _PERSONAL),
    _ignored(27, "OBISListIdentifier", D.STRING, _TEXT),
    _gauge(
        29,
        "gridType",
        "easee_equalizer_grid_type_code",
        "Grid type the Equalizer is configured for: 0 unknown, 1 TN, 2 IT (Easee Equalizer "
        "gridType, observation 29).",
        group=G.CONFIG,
        data_type=D.INTEGER,
    ),
    _gauge(
        30,
        "numPhases",
        "easee_equalizer_phases",
        "Number of phases of the grid connection (Easee Equalizer numPhases, observation 30).",
        group=G.CONFIG,
        data_type=D.INTEGER,
    ),
    *_per_phase(31, "current", "easee_equalizer_current_amperes", U.AMPERES, _CURRENT_HELP),
    *_per_phase(34, "voltageN", "easee_equalizer_voltage_volts", U.VOLTS, _VOLTAGE_HELP),
    *(
        _gauge(
            37 + i,
            f"voltage{pair}",
            "easee_equalizer_line_voltage_volts",
            _LINE_VOLTAGE_HELP,
            group=G.PHASE,
            unit=U.VOLTS,
            labels=(("phases", pair),),
        )
        for i, pair in enumerate(("L1L2", "L1L3", "L2L3"))
    ),
    _gauge(
        40,
        "activePowerImport",
        "easee_equalizer_import_power_watts",
        "Active power imported from the grid, in watts (Easee Equalizer activePowerImport, "
        "observation 40, in kW).",
        group=G.POWER,
        unit=U.WATTS,
        scale=KILO,
        source_unit="kW",
    ),
    _gauge(
        41,
        "activePowerExport",
        "easee_equalizer_export_power_watts",
        "Active power exported to the grid (solar), in watts (Easee Equalizer "
        "activePowerExport, observation 41, in kW).",
        group=G.POWER,
        unit=U.WATTS,
        scale=KILO,
        source_unit="kW",
    ),
    *(
        _gauge(
            obs_id,
            name,
            "easee_equalizer_reactive_power_vars",
            "Reactive power at the grid connection in volt-amperes reactive, by direction "
            "(Easee Equalizer reactivePowerImport and reactivePowerExport, observations "
            "42-43, in kVAR).",
            group=G.POWER,
            scale=KILO,
            source_unit="kVAR",
            labels=(("direction", direction),),
        )
        for obs_id, name, direction in (
            (42, "reactivePowerImport", "import"),
            (43, "reactivePowerExport", "export"),
        )
    ),
    _gauge(
        44,
        "maxPowerImport",
        "easee_equalizer_max_import_power_watts",
        "Highest active power imported in the meter's current period, in watts (Easee "
        "Equalizer maxPowerImport, observation 44, in kW as the meter gives it).",
        group=G.POWER,
        unit=U.WATTS,
        scale=KILO,
        source_unit="kW",
    ),
    _energy(
        45,
        "cumulativeActivePowerImport",
        "easee_equalizer_import_energy_joules_total",
        "Active energy imported from the grid, the meter's register, in joules (Easee "
        "Equalizer cumulativeActivePowerImport, observation 45, in kWh; often moves only once "
        "an hour).",
    ),
    _energy(
        46,
        "cumulativeActivePowerExport",
        "easee_equalizer_export_energy_joules_total",
        "Active energy exported to the grid, the meter's register, in joules (Easee "
        "Equalizer cumulativeActivePowerExport, observation 46, in kWh; often moves only once "
        "an hour).",
    ),
    _ignored(47, "cumulativeReactivePowerImport", D.DOUBLE, "kVArh has no base unit"),
    _ignored(48, "cumulativeReactivePowerExport", D.DOUBLE, "kVArh has no base unit"),
    _ignored(49, "clockAndDateMeter", D.STRING, _TEXT),
    _gauge(
        50,
        "rcpi",
        "easee_equalizer_wifi_rcpi_dbm",
        "Received channel power of the Equalizer's Wi-Fi in dBm (Easee Equalizer rcpi, "
        "observation 50).",
        group=G.SIGNAL,
        unit=U.DBM,
    ),
    _ignored(51, "ssid", D.STRING, _PERSONAL),
    _ignored(55, "masterBackPlateID", D.STRING, _PERSONAL),
    _ignored(56, "equalizerID", D.STRING, _PERSONAL),
    _ignored(57, "childReport", D.STRING, _TEXT),
    _ignored(58, "connectivityReport", D.STRING, _TEXT),
    _ignored(60, "exceptionData", D.STRING, _DEBUG),
    _ignored(61, "bootReason", D.STRING, _DEBUG),
    _ignored(64, "highCurrentTransitions", D.INTEGER, _DEBUG),
    _ignored(65, "vCap", D.DOUBLE, _DEBUG),
    _ignored(66, "vBusMin", D.DOUBLE, _DEBUG),
    _ignored(67, "vBusMax", D.DOUBLE, _DEBUG),
    _gauge(
        68,
        "internalTemperature",
        "easee_equalizer_temperature_celsius",
        "Internal temperature of the Equalizer in degrees celsius (Easee Equalizer "
        "internalTemperature, observation 68).",
        group=G.TEMPERATURE,
        unit=U.CELSIUS,
    ),
    _ignored(69, "meterDataSnapshot", D.STRING, _TEXT),
    _gauge(
        70,
        "localRSSI",
        "easee_equalizer_local_rssi_dbm",
        "Signal level of the Equalizer's local radio link to the chargers in dBm (Easee "
        "Equalizer localRSSI, observation 70).",
        group=G.SIGNAL,
        unit=U.DBM,
        data_type=D.INTEGER,
    ),
    *(
        _ignored(obs_id, name, D.INTEGER, "radio mesh internals; not a metric")
        for obs_id, name in (
            (71, "localTxPower"),
            (72, "localRadioChannel"),
            (73, "localShortAddress"),
            (74, "localNodeType"),
            (75, "localParentAddress"),
        )
    ),
    _ignored(80, "circuitPhaseMapping", D.STRING, _TEXT),
    _ignored(81, "phaseMappingReport", D.STRING, _TEXT),
    _ignored(82, "phaseLearningStatus", D.STRING, _TEXT),
    _ignored(85, "modbusConfiguration", D.STRING, _TEXT),
    _gauge(
        86,
        "loadbalanceThrottle",
        "easee_equalizer_load_balance_throttle_ratio",
        "How far the Equalizer throttles the chargers, 0-1 (Easee Equalizer "
        "loadbalanceThrottle, observation 86, in percent).",
        group=G.CIRCUIT,
        unit=U.RATIO,
        scale=0.01,
        source_unit="%",
        data_type=D.INTEGER,
    ),
    *_per_phase(
        87,
        "availableCurrent",
        "easee_equalizer_available_current_amperes",
        U.AMPERES,
        _AVAILABLE_HELP,
        G.CIRCUIT,
    ),
    _gauge(
        90,
        "meterErrors",
        "easee_equalizer_meter_errors",
        "Checksum errors counted on the meter port (Easee Equalizer meterErrors, observation 90).",
        group=G.DIAGNOSTICS,
        data_type=D.INTEGER,
    ),
    _ignored(91, "APMacAddress", D.STRING, _PERSONAL),
    _gauge(
        92,
        "wifiReconnects",
        "easee_equalizer_wifi_reconnects",
        "Wi-Fi reconnections counted by the Equalizer (Easee Equalizer wifiReconnects, "
        "observation 92).",
        group=G.NETWORK,
        data_type=D.INTEGER,
    ),
    _ignored(100, "ledMode", D.INTEGER, "LED pattern; not a metric"),
    *_per_phase(
        105,
        "equalizedChargeCurrent",
        "easee_equalizer_equalized_charge_current_amperes",
        U.AMPERES,
        _EQUALIZED_HELP,
        G.CIRCUIT,
    ),
    _ignored(110, "currentTransformerConfig", D.STRING, _TEXT),
    _ignored(111, "meterEncryptionStatus", D.STRING, _TEXT),
    _ignored(115, "surplusCharging", D.STRING, "JSON text of a setting; not a metric"),
    _ignored(120, "connectedAmps", D.STRING, _TEXT),
    ObservationSpec(
        obs_id=250,
        easee_name="connectedToCloud",
        official=False,
        data_type=D.BOOLEAN,
        group=G.STATE,
        kind=K.NOT_EXPORTED,
        not_exported_reason="read by easee_equalizer_online with the Equalizer's own clock",
        help="1 when the Equalizer is connected to the Easee cloud (observation 250).",
    ),
    _ignored(251, "cloudDisconnectReason", D.STRING, _TEXT),
)

#: Every known Equalizer observation, by id.
EQUALIZER_OBSERVATIONS: Mapping[int, ObservationSpec] = MappingProxyType(
    {row.obs_id: row for row in _ROWS}
)

if len(EQUALIZER_OBSERVATIONS) != len(_ROWS):  # pragma: no cover - a typo must fail at import
    raise RuntimeError("duplicate observation id in the Equalizer table")

#: The observations read by name.
FIRMWARE_ID = 21
CONNECTED_TO_CLOUD_ID = 250
