"""The table of Easee charger observations: one typed row per observation id.

Every id of ``easee-cloud-api.md`` section 6 has a row here: its Easee name and data type,
how it is exported (metric name written out in full, unit and scale to the base unit, constant
labels, help text, kind) and the quirk flags the state store applies. The collector, the
decoder, the store and the README's metric reference all read this one table.

Names: the official name and dataType of Easee's ``observation_properties`` wherever that list
has the id (it wins over pyeasee's type tags, which are wrong for the temperatures and a few
others, see the API doc's ⚠ rows); pyeasee's name and pyeasee's or evcc's type tag elsewhere.

Metric names follow conventions.md 1.1: base units with the unit as suffix (W from kW, J from
kWh, seconds, volts, amperes, celsius, ratio 0-1 for percentages), ``_total`` on counters,
``_info`` on info metrics, and ``_dbm``/``_db`` for signal levels, which have no base unit.
Several ids share one metric when they are one kind of reading told apart by a constant label
(temperatures by ``sensor``, terminal voltages by ``terminals``, per-phase limits by ``phase``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from types import MappingProxyType

from exporter.easee.enums import (
    CONNECTION_TYPES,
    GRID_TYPES,
    LED_MODES,
    LEGACY_EV_STATUSES,
    LOCAL_CONNECTIONS,
    LOCAL_NODE_TYPES,
    OFFLINE_CHARGING_MODES,
    OP_MODES,
    OUTPUT_PHASES,
    PHASE_MODES,
    PILOT_MODES,
    REASONS_FOR_NO_CURRENT,
    TEMPERATURE_MONITOR_STATES,
    EnumEntry,
    EnumTable,
)
from exporter.easee.models import DataType, ObservationValue


class ObservationId(IntEnum):
    """The observation ids the service's own logic refers to by name (the table has them all)."""

    DETECTED_POWER_GRID_TYPE = 21
    CIRCUIT_MAX_CURRENT_P1 = 22
    CIRCUIT_MAX_CURRENT_P2 = 23
    CIRCUIT_MAX_CURRENT_P3 = 24
    SITE_ID_NUMERIC = 27
    LOCK_CABLE_PERMANENTLY = 30
    MAX_CHARGER_CURRENT = 47
    DYNAMIC_CHARGER_CURRENT = 48
    REASON_FOR_NO_CURRENT = 96
    PILOT_MODE = 100
    CABLE_LOCKED = 103
    CHARGER_OP_MODE = 109
    DYNAMIC_CIRCUIT_CURRENT_P1 = 111
    DYNAMIC_CIRCUIT_CURRENT_P2 = 112
    DYNAMIC_CIRCUIT_CURRENT_P3 = 113
    TOTAL_POWER = 120
    SESSION_ENERGY = 121
    LIFETIME_ENERGY = 124
    CELL_RSSI = 130
    WIFI_RSSI = 132
    IN_CURRENT_T2 = 182
    IN_CURRENT_T3 = 183
    IN_CURRENT_T4 = 184
    IN_CURRENT_T5 = 185
    IN_VOLT_T2_T3 = 194
    IN_VOLT_T2_T4 = 195
    IN_VOLT_T2_T5 = 196
    IN_VOLT_T3_T4 = 197
    CONNECTED_TO_CLOUD = 250


class Kind(StrEnum):
    """How a row is exported."""

    GAUGE = "gauge"
    COUNTER = "counter"
    #: ``<metric>{<info_label>="<value>"} 1``
    INFO = "info"
    #: one 0/1 series per known state under ``state_label`` (plus ``unknown``), and the raw
    #: code as a separate gauge when ``code_metric`` is set
    ENUM = "enum"
    NOT_EXPORTED = "not_exported"


class Group(StrEnum):
    """Coarse family of a reading, for include/exclude filters and the README."""

    STATE = "state"
    POWER = "power"
    ENERGY = "energy"
    PHASE = "phase"
    SIGNAL = "signal"
    LOCK = "lock"
    CONFIG = "config"
    TEMPERATURE = "temperature"
    NETWORK = "network"
    DIAGNOSTICS = "diagnostics"
    CIRCUIT = "circuit"
    SESSION = "session"


class Unit(StrEnum):
    """Unit of the exported value; the value is also the metric-name suffix (without ``_``)."""

    NONE = ""
    WATTS = "watts"
    JOULES = "joules"
    VOLTS = "volts"
    AMPERES = "amperes"
    CELSIUS = "celsius"
    SECONDS = "seconds"
    RATIO = "ratio"
    DBM = "dbm"
    DB = "db"


#: kW -> W
KILO = 1000.0
#: kWh -> J
KWH_TO_JOULES = 3.6e6
#: percent -> ratio
PERCENT = 0.01
#: h -> s
HOUR = 3600.0
#: ms -> s, mV -> V
MILLI = 0.001


@dataclass(frozen=True, slots=True, kw_only=True)
class ObservationSpec:
    """One Easee observation id and everything the service does with it.

    ``metric`` is the name as exposed (counters with ``_total``, info metrics with ``_info``);
    :attr:`family` is the name prometheus_client's metric families want. ``scale`` converts
    Easee's unit (``source_unit``, when it differs) to ``unit``. ``labels`` are constant
    labels that tell apart several ids sharing one metric.

    ``no_reading`` lists values that mean "nothing to measure" rather than a reading (the
    cable rating's -1 without a cable): they are not exported. ``milli_above``: a reading
    above it is in thousandths of ``unit`` (one recorded charger state gives the cable rating
    in milliamperes), so it is divided by 1000 before ``scale``.

    Quirk flags used by the store: ``monotonic`` (the value never goes down: lifetime
    counters), ``ignore_spurious_zero`` (a zero never replaces a non-zero value except at the
    start of a new charging session). ``derived`` marks a row whose metric is filled from the
    store's derived value rather than the raw reading (online: 250, or the op mode when 250
    never came).
    """

    obs_id: int
    easee_name: str
    official: bool
    data_type: DataType
    group: Group
    kind: Kind
    help: str
    metric: str = ""
    unit: Unit = Unit.NONE
    scale: float = 1.0
    source_unit: str = ""
    labels: tuple[tuple[str, str], ...] = ()
    enum: EnumTable[EnumEntry] | None = None
    state_label: str = ""
    code_metric: str = ""
    code_help: str = ""
    info_label: str = ""
    not_exported_reason: str = ""
    no_reading: tuple[float, ...] = ()
    milli_above: float | None = None
    monotonic: bool = False
    ignore_spurious_zero: bool = False
    derived: bool = False

    @property
    def exported(self) -> bool:
        return self.kind is not Kind.NOT_EXPORTED

    @property
    def family(self) -> str:
        """The family name for prometheus_client (``_total`` / ``_info`` are added by it)."""
        if self.kind is Kind.COUNTER:
            return self.metric.removesuffix("_total")
        if self.kind is Kind.INFO:
            return self.metric.removesuffix("_info")
        return self.metric

    @property
    def numbers_scaled(self) -> bool:
        """Whether :meth:`sample` gives a number reading back times :attr:`scale`, as a float
        (no value that means "no reading", no switch of unit): a shortcut for whoever samples
        many readings."""
        return not self.no_reading and self.milli_above is None

    def sample(self, value: ObservationValue) -> float | None:
        """The exported sample value for a numeric or boolean reading, in the base unit.

        None for text, which only info metrics and enums carry.
        """
        if isinstance(value, bool):
            return 1.0 if value else 0.0
        if not isinstance(value, int | float) or value in self.no_reading:
            return None
        number = float(value)
        if self.milli_above is not None and number > self.milli_above:
            number /= 1000
        return number * self.scale if self.scale != 1.0 else number


D = DataType
G = Group
K = Kind
U = Unit

_JSON_TEXT = "JSON text of unbounded cardinality; not a metric"
_FREE_TEXT = "free text of unbounded cardinality; not a metric"
_SECRET_TOKEN = "secret: an RFID user token identifies and authorises a person"
_PERSONAL_IP = "personal: an IP address of the owner's network"

_CIRCUIT_MAX_HELP = (
    "Maximum circuit current per phase in amperes (Easee CircuitMaxCurrentP1-P3, "
    "observations 22-24)."
)
_OFFLINE_FALLBACK_HELP = (
    "Maximum circuit current per phase while the charger is offline, in amperes (Easee "
    "MaxCurrentOfflineFallback_P1-P3, observations 50-52)."
)
_CIRCUIT_ALLOCATED_HELP = (
    "Total current allocated per phase by all chargers of the circuit, in amperes, sent by "
    "the circuit master only (Easee CircuitTotalAllocatedPhaseConductorCurrent_L1-L3, "
    "observations 70-72)."
)
_CIRCUIT_CURRENT_HELP = (
    "Total current per phase of all chargers of the circuit, in amperes, sent by the circuit "
    "master only (Easee CircuitTotalPhaseConductorCurrent_L1-L3, observations 73-75)."
)
_DYNAMIC_CIRCUIT_HELP = (
    "Dynamic (volatile) circuit current limit per phase in amperes (Easee "
    "DynamicCircuitCurrentP1-P3, observations 111-113)."
)
_PILOT_VOLTAGE_HELP = (
    "Control pilot signal level in volts, debug reading (Easee PilotHigh and PilotLow, "
    "observations 105-106)."
)
_TEMPERATURE_HELP = (
    "Temperature of a charger sensor in degrees celsius (Easee Temp* observations 150-170)."
)
_TERMINAL_CURRENT_HELP = (
    "RMS current of an input terminal in amperes; T1 is PE, the phase on each terminal "
    "depends on the grid type (Easee InCurrent_T2-T5, observations 182-185)."
)
_TERMINAL_VOLTAGE_HELP = (
    "RMS voltage between two input terminals in volts; T1 is PE (Easee InVolt_T1_T2-T4_T5, "
    "observations 190-199)."
)
_OUTPUT_VOLTAGE_HELP = (
    "RMS voltage between two pins of the type 2 outlet in volts (Easee OutVoltPin*, "
    "observations 202-206)."
)
_SUPPLY_VOLTAGE_HELP = (
    "Internal supply rail voltage in volts (Easee VoltLevel33, VoltLevel5, VoltLevel12, "
    "observations 210-212)."
)
_EQ_AVAILABLE_HELP = (
    "Current available for charging per phase according to the Equalizer, in amperes "
    "(Easee EqAvailableCurrentP1-P3, observations 230-232)."
)


def _phases(
    first_id: int,
    names: tuple[str, str, str],
    *,
    official: bool,
    data_type: DataType,
    group: Group,
    metric: str,
    help: str,
) -> tuple[ObservationSpec, ...]:
    """Three ids, one per phase L1-L3, sharing one metric in amperes."""
    return tuple(
        ObservationSpec(
            obs_id=first_id + i,
            easee_name=name,
            official=official,
            data_type=data_type,
            group=group,
            kind=K.GAUGE,
            metric=metric,
            unit=U.AMPERES,
            labels=(("phase", f"L{i + 1}"),),
            help=help,
        )
        for i, name in enumerate(names)
    )


def _temperature(obs_id: int, name: str, sensor: str, *, official: bool = True) -> ObservationSpec:
    return ObservationSpec(
        obs_id=obs_id,
        easee_name=name,
        official=official,
        data_type=D.DOUBLE,
        group=G.TEMPERATURE,
        kind=K.GAUGE,
        metric="easee_charger_temperature_celsius",
        unit=U.CELSIUS,
        labels=(("sensor", sensor),),
        help=_TEMPERATURE_HELP,
    )


def _voltage(
    obs_id: int,
    name: str,
    metric: str,
    label: tuple[str, str],
    help: str,
    *,
    group: Group = Group.PHASE,
    official: bool = True,
) -> ObservationSpec:
    return ObservationSpec(
        obs_id=obs_id,
        easee_name=name,
        official=official,
        data_type=D.DOUBLE,
        group=group,
        kind=K.GAUGE,
        metric=metric,
        unit=U.VOLTS,
        labels=(label,),
        help=help,
    )


_ROWS: tuple[ObservationSpec, ...] = (
    ObservationSpec(
        obs_id=1,
        easee_name="state_selfTestResult",
        official=False,
        data_type=D.STRING,
        group=G.DIAGNOSTICS,
        kind=K.INFO,
        metric="easee_charger_self_test_info",
        info_label="result",
        help="Result of the last self test, OK or error codes, in the label result (Easee "
        "selfTestResult, observation 1).",
    ),
    ObservationSpec(
        obs_id=2,
        easee_name="state_selfTestDetails",
        official=False,
        data_type=D.STRING,
        group=G.DIAGNOSTICS,
        kind=K.NOT_EXPORTED,
        not_exported_reason=_JSON_TEXT,
        help="Details of the last self test as JSON text (Easee selfTestDetails, observation 2).",
    ),
    ObservationSpec(
        obs_id=5,
        easee_name="state_debugLog",
        official=False,
        data_type=D.STRING,
        group=G.DIAGNOSTICS,
        kind=K.NOT_EXPORTED,
        not_exported_reason=_FREE_TEXT,
        help="Debug log text (Easee debugLog, observation 5).",
    ),
    ObservationSpec(
        obs_id=10,
        easee_name="state_wifiEvent",
        official=False,
        data_type=D.INTEGER,
        group=G.NETWORK,
        kind=K.GAUGE,
        metric="easee_charger_wifi_event_code",
        help="Last Wi-Fi event code, sent in telemetry debug mode only (Easee wifiEvent, "
        "observation 10).",
    ),
    ObservationSpec(
        obs_id=11,
        easee_name="state_chargerOfflineReason",
        official=False,
        data_type=D.INTEGER,
        group=G.STATE,
        kind=K.GAUGE,
        metric="easee_charger_offline_reason_code",
        help="Code of the reason the charger was last offline (Easee chargerOfflineReason, "
        "observation 11).",
    ),
    ObservationSpec(
        obs_id=13,
        easee_name="state_easeeLinkCommandResponse",
        official=False,
        data_type=D.INTEGER,
        group=G.DIAGNOSTICS,
        kind=K.GAUGE,
        metric="easee_charger_easee_link_command_response_code",
        help="Response code of the last EaseeLink command sent to another device (Easee "
        "easeeLinkCommandResponse, observation 13).",
    ),
    ObservationSpec(
        obs_id=14,
        easee_name="state_easeeLinkDataReceived",
        official=False,
        data_type=D.STRING,
        group=G.DIAGNOSTICS,
        kind=K.NOT_EXPORTED,
        not_exported_reason="opaque data from another device, unbounded cardinality",
        help="Data received on EaseeLink from another device (Easee easeeLinkDataReceived, "
        "observation 14).",
    ),
    ObservationSpec(
        obs_id=15,
        easee_name="LocalPreAuthorizeEnabled",
        official=True,
        data_type=D.BOOLEAN,
        group=G.CONFIG,
        kind=K.GAUGE,
        metric="easee_charger_local_pre_authorize_enabled",
        help="1 when pre-authorisation with the local whitelist is enabled (Easee "
        "LocalPreAuthorizeEnabled, observation 15).",
    ),
    ObservationSpec(
        obs_id=16,
        easee_name="LocalAuthorizeOfflineEnabled",
        official=True,
        data_type=D.BOOLEAN,
        group=G.CONFIG,
        kind=K.GAUGE,
        metric="easee_charger_local_authorize_offline_enabled",
        help="1 when whitelisted RFID tokens may charge while offline (Easee "
        "LocalAuthorizeOfflineEnabled, observation 16).",
    ),
    ObservationSpec(
        obs_id=17,
        easee_name="AllowOfflineTxForUnknownId",
        official=True,
        data_type=D.BOOLEAN,
        group=G.CONFIG,
        kind=K.GAUGE,
        metric="easee_charger_offline_tx_for_unknown_id_allowed",
        help="1 when any RFID token may charge while offline (Easee "
        "AllowOfflineTxForUnknownId, observation 17).",
    ),
    ObservationSpec(
        obs_id=18,
        easee_name="config_erraticEVMaxToggles",
        official=False,
        data_type=D.INTEGER,
        group=G.CONFIG,
        kind=K.GAUGE,
        metric="easee_charger_erratic_ev_max_toggles",
        help="Charging/completed toggles that raise the erratic-EV error, 0 = check disabled "
        "(Easee erraticEVMaxToggles, observation 18).",
    ),
    ObservationSpec(
        obs_id=19,
        easee_name="config_backplateType",
        official=False,
        data_type=D.INTEGER,
        group=G.CONFIG,
        kind=K.GAUGE,
        metric="easee_charger_backplate_type_code",
        help="Back plate type code (Easee backplateType, observation 19).",
    ),
    ObservationSpec(
        obs_id=20,
        easee_name="SiteStructure",
        official=True,
        data_type=D.STRING,
        group=G.CONFIG,
        kind=K.NOT_EXPORTED,
        not_exported_reason="structured site description text, unbounded cardinality",
        help="Site structure description (Easee SiteStructure, observation 20).",
    ),
    ObservationSpec(
        obs_id=21,
        easee_name="DetectedPowerGridType",
        official=True,
        data_type=D.INTEGER,
        group=G.CONFIG,
        kind=K.GAUGE,
        metric="easee_charger_grid_type_code",
        enum=GRID_TYPES,
        help="Detected power grid type code: 1 TN 3-phase, 3 TN 1-phase, 4 IT 3-phase, 5 IT "
        "1-phase, 30+ warnings, 50+ errors (Easee DetectedPowerGridType, observation 21).",
    ),
    *_phases(
        22,
        ("CircuitMaxCurrentP1", "CircuitMaxCurrentP2", "CircuitMaxCurrentP3"),
        official=True,
        data_type=D.DOUBLE,
        group=G.CIRCUIT,
        metric="easee_charger_circuit_max_current_amperes",
        help=_CIRCUIT_MAX_HELP,
    ),
    ObservationSpec(
        obs_id=25,
        easee_name="Location",
        official=True,
        data_type=D.POSITION,
        group=G.CONFIG,
        kind=K.NOT_EXPORTED,
        not_exported_reason="personal: the geographic position of the owner's charger",
        help="Location coordinates of the charger (Easee Location, observation 25).",
    ),
    ObservationSpec(
        obs_id=26,
        easee_name="SiteIDString",
        official=True,
        data_type=D.STRING,
        group=G.CONFIG,
        kind=K.INFO,
        metric="easee_charger_site_key_info",
        info_label="site_key",
        help="Site key of the charger's site in the label site_key (Easee SiteIDString, "
        "observation 26).",
    ),
    ObservationSpec(
        obs_id=27,
        easee_name="SiteIDNumeric",
        official=True,
        data_type=D.INTEGER,
        group=G.CONFIG,
        kind=K.INFO,
        metric="easee_charger_site_id_info",
        info_label="site_id",
        help="Numeric id of the charger's site in the label site_id (Easee SiteIDNumeric, "
        "observation 27).",
    ),
    ObservationSpec(
        obs_id=28,
        easee_name="config_rfidAuthTimeoutSec",
        official=False,
        data_type=D.INTEGER,
        group=G.CONFIG,
        kind=K.GAUGE,
        metric="easee_charger_rfid_auth_timeout_seconds",
        unit=U.SECONDS,
        help="Time the backend has to authorise an RFID token before the offline rules apply, "
        "in seconds (Easee rfidAuthTimeoutSec, observation 28).",
    ),
    ObservationSpec(
        obs_id=30,
        easee_name="LockCablePermanently",
        official=True,
        data_type=D.BOOLEAN,
        group=G.LOCK,
        kind=K.GAUGE,
        metric="easee_charger_cable_permanently_locked",
        help="1 when the type 2 cable is set to stay locked permanently (Easee "
        "LockCablePermanently, observation 30).",
    ),
    ObservationSpec(
        obs_id=31,
        easee_name="IsEnabled",
        official=True,
        data_type=D.BOOLEAN,
        group=G.CONFIG,
        kind=K.GAUGE,
        metric="easee_charger_enabled",
        help="1 when the charger is enabled (Easee IsEnabled, observation 31).",
    ),
    ObservationSpec(
        obs_id=32,
        easee_name="state_temperatureMonitorState",
        official=False,
        data_type=D.INTEGER,
        group=G.TEMPERATURE,
        kind=K.GAUGE,
        metric="easee_charger_temperature_monitor_state_code",
        enum=TEMPERATURE_MONITOR_STATES,
        help="Temperature monitor state code: 0 off, -1 monitoring, 1 active (Easee "
        "temperatureMonitorState, observation 32).",
    ),
    ObservationSpec(
        obs_id=33,
        easee_name="CircuitSequenceNumber",
        official=True,
        data_type=D.INTEGER,
        group=G.CIRCUIT,
        kind=K.GAUGE,
        metric="easee_charger_circuit_sequence_number",
        help="Sequence number of the charger on its circuit (Easee CircuitSequenceNumber, "
        "observation 33).",
    ),
    ObservationSpec(
        obs_id=34,
        easee_name="SinglePhaseNumber",
        official=True,
        data_type=D.INTEGER,
        group=G.CONFIG,
        kind=K.GAUGE,
        metric="easee_charger_single_phase_number",
        help="Phase used for 1-phase charging (Easee SinglePhaseNumber, observation 34).",
    ),
    ObservationSpec(
        obs_id=35,
        easee_name="Enable3Phases_DEPRECATED",
        official=True,
        data_type=D.BOOLEAN,
        group=G.CONFIG,
        kind=K.GAUGE,
        metric="easee_charger_three_phases_enabled",
        help="1 when 3-phase charging is allowed; deprecated by Easee in favour of the phase "
        "mode (Easee Enable3Phases_DEPRECATED, observation 35).",
    ),
    ObservationSpec(
        obs_id=36,
        easee_name="WiFiSSID",
        official=True,
        data_type=D.STRING,
        group=G.NETWORK,
        kind=K.NOT_EXPORTED,
        not_exported_reason="personal: the home network name locates the owner on public "
        "Wi-Fi maps",
        help="Name of the Wi-Fi network (Easee WiFiSSID, observation 36).",
    ),
    ObservationSpec(
        obs_id=37,
        easee_name="EnableIdleCurrent",
        official=True,
        data_type=D.BOOLEAN,
        group=G.CONFIG,
        kind=K.GAUGE,
        metric="easee_charger_idle_current_enabled",
        help="1 when the charger keeps signalling current after the car is done (Easee "
        "EnableIdleCurrent, observation 37).",
    ),
    ObservationSpec(
        obs_id=38,
        easee_name="PhaseMode",
        official=True,
        data_type=D.INTEGER,
        group=G.CONFIG,
        kind=K.GAUGE,
        metric="easee_charger_phase_mode_code",
        enum=PHASE_MODES,
        help="Phase mode code: 1 locked to 1-phase, 2 automatic, 3 locked to 3-phase (Easee "
        "PhaseMode, observation 38).",
    ),
    ObservationSpec(
        obs_id=39,
        easee_name="config_forcedThreePhaseOnITWithGndFault",
        official=False,
        data_type=D.BOOLEAN,
        group=G.CONFIG,
        kind=K.GAUGE,
        metric="easee_charger_forced_three_phase_on_it_with_ground_fault",
        help="1 when 3-phase charging is forced on an IT grid with a ground fault (Easee "
        "forcedThreePhaseOnITWithGndFault, observation 39).",
    ),
    ObservationSpec(
        obs_id=40,
        easee_name="LedStripBrightness",
        official=True,
        data_type=D.INTEGER,
        group=G.CONFIG,
        kind=K.GAUGE,
        metric="easee_charger_led_strip_brightness_ratio",
        unit=U.RATIO,
        scale=PERCENT,
        source_unit="%",
        help="LED strip brightness as a ratio 0-1 (Easee LedStripBrightness, observation 40, "
        "sent in percent).",
    ),
    ObservationSpec(
        obs_id=41,
        easee_name="LocalAuthorizationRequired",
        official=True,
        data_type=D.BOOLEAN,
        group=G.CONFIG,
        kind=K.GAUGE,
        metric="easee_charger_local_authorization_required",
        help="1 when local RFID authorisation is required to charge (Easee "
        "LocalAuthorizationRequired, observation 41).",
    ),
    ObservationSpec(
        obs_id=42,
        easee_name="AuthorizationRequired",
        official=True,
        data_type=D.BOOLEAN,
        group=G.CONFIG,
        kind=K.GAUGE,
        metric="easee_charger_authorization_required",
        help="1 when authorisation is required to charge (Easee AuthorizationRequired, "
        "observation 42).",
    ),
    ObservationSpec(
        obs_id=43,
        easee_name="RemoteStartRequired",
        official=True,
        data_type=D.BOOLEAN,
        group=G.CONFIG,
        kind=K.GAUGE,
        metric="easee_charger_remote_start_required",
        help="1 when a remote start is required to charge (Easee RemoteStartRequired, "
        "observation 43).",
    ),
    ObservationSpec(
        obs_id=44,
        easee_name="SmartButtonEnabled",
        official=True,
        data_type=D.BOOLEAN,
        group=G.CONFIG,
        kind=K.GAUGE,
        metric="easee_charger_smart_button_enabled",
        help="1 when the smart button is enabled (Easee SmartButtonEnabled, observation 44).",
    ),
    ObservationSpec(
        obs_id=45,
        easee_name="OfflineChargingMode",
        official=True,
        data_type=D.INTEGER,
        group=G.CONFIG,
        kind=K.GAUGE,
        metric="easee_charger_offline_charging_mode_code",
        enum=OFFLINE_CHARGING_MODES,
        help="Offline charging mode code: 0 always, 1 whitelisted tokens only, 2 never (Easee "
        "OfflineChargingMode, observation 45).",
    ),
    ObservationSpec(
        obs_id=46,
        easee_name="LEDMode",
        official=True,
        data_type=D.INTEGER,
        group=G.STATE,
        kind=K.GAUGE,
        metric="easee_charger_led_mode_code",
        enum=LED_MODES,
        help="LED mode code, e.g. 18 idle, 22 smart charging, 24 charging, 16 error (Easee "
        "LEDMode, observation 46).",
    ),
    ObservationSpec(
        obs_id=47,
        easee_name="MaxChargerCurrent",
        official=True,
        data_type=D.DOUBLE,
        group=G.CONFIG,
        kind=K.GAUGE,
        metric="easee_charger_max_current_amperes",
        unit=U.AMPERES,
        help="Maximum current the charger may offer the car, stored in flash, in amperes "
        "(Easee MaxChargerCurrent, observation 47).",
    ),
    ObservationSpec(
        obs_id=48,
        easee_name="DynamicChargerCurrent",
        official=True,
        data_type=D.DOUBLE,
        group=G.STATE,
        kind=K.GAUGE,
        metric="easee_charger_dynamic_current_limit_amperes",
        unit=U.AMPERES,
        help="Volatile current limit of the charger in amperes, 0 while paused (Easee "
        "DynamicChargerCurrent, observation 48).",
    ),
    *(
        ObservationSpec(
            obs_id=50 + i,
            easee_name=f"MaxCurrentOfflineFallback_P{i + 1}",
            official=True,
            data_type=D.INTEGER,
            group=G.CIRCUIT,
            kind=K.GAUGE,
            metric="easee_charger_circuit_offline_current_limit_amperes",
            unit=U.AMPERES,
            labels=(("phase", f"L{i + 1}"),),
            help=_OFFLINE_FALLBACK_HELP,
        )
        for i in range(3)
    ),
    ObservationSpec(
        obs_id=54,
        # pyeasee tags it Boolean, evcc String; the name says it is a yes/no setting, and the
        # boolean parser accepts every spelling a string could carry.
        easee_name="config_releaseCableAtPowerOff",
        official=False,
        data_type=D.BOOLEAN,
        group=G.LOCK,
        kind=K.GAUGE,
        metric="easee_charger_release_cable_at_power_off",
        help="1 when the cable is released at power off (Easee releaseCableAtPowerOff, "
        "observation 54).",
    ),
    ObservationSpec(
        obs_id=56,
        easee_name="config_listenToControlPulse",
        official=False,
        data_type=D.BOOLEAN,
        group=G.CONFIG,
        kind=K.GAUGE,
        metric="easee_charger_listen_to_control_pulse",
        help="1 when the charger needs the control pulse to consider itself online (Easee "
        "listenToControlPulse, observation 56).",
    ),
    ObservationSpec(
        obs_id=57,
        easee_name="config_controlPulseRTT",
        official=False,
        data_type=D.INTEGER,
        group=G.NETWORK,
        kind=K.GAUGE,
        metric="easee_charger_control_pulse_rtt_seconds",
        unit=U.SECONDS,
        scale=MILLI,
        source_unit="ms",
        help="Round-trip time of the control pulse in seconds (Easee controlPulseRTT, "
        "observation 57, sent in milliseconds).",
    ),
    ObservationSpec(
        obs_id=60,
        easee_name="CHARGING_SESSION_SIGNED",
        official=False,
        data_type=D.STRING,
        group=G.SESSION,
        kind=K.NOT_EXPORTED,
        not_exported_reason=_JSON_TEXT,
        help="Signed charging sessions as JSON text (evcc CHARGING_SESSION_SIGNED, "
        "observation 60; not in Easee's or pyeasee's lists).",
    ),
    ObservationSpec(
        obs_id=62,
        easee_name="ChargingSchedule",
        official=True,
        data_type=D.STRING,
        group=G.SESSION,
        kind=K.NOT_EXPORTED,
        not_exported_reason=_JSON_TEXT,
        help="Charging schedule as JSON text (Easee ChargingSchedule, observation 62).",
    ),
    ObservationSpec(
        obs_id=65,
        easee_name="config_pairedEqualizer",
        official=False,
        data_type=D.STRING,
        group=G.CONFIG,
        kind=K.NOT_EXPORTED,
        not_exported_reason="structured equalizer description text, unbounded cardinality",
        help="Details of the paired Equalizer (Easee pairedEqualizer, observation 65).",
    ),
    ObservationSpec(
        obs_id=68,
        easee_name="WiFiAPEnabled",
        official=True,
        data_type=D.BOOLEAN,
        group=G.NETWORK,
        kind=K.GAUGE,
        metric="easee_charger_wifi_access_point_enabled",
        help="1 when the charger's Wi-Fi access point is enabled (Easee WiFiAPEnabled, "
        "observation 68).",
    ),
    ObservationSpec(
        obs_id=69,
        easee_name="PairedUserIDToken",
        official=True,
        data_type=D.STRING,
        group=G.SESSION,
        kind=K.NOT_EXPORTED,
        not_exported_reason=_SECRET_TOKEN,
        help="User token seen in RFID pairing mode (Easee PairedUserIDToken, observation 69).",
    ),
    *_phases(
        70,
        (
            "CircuitTotalAllocatedPhaseConductorCurrent_L1",
            "CircuitTotalAllocatedPhaseConductorCurrent_L2",
            "CircuitTotalAllocatedPhaseConductorCurrent_L3",
        ),
        official=True,
        data_type=D.DOUBLE,
        group=G.CIRCUIT,
        metric="easee_charger_circuit_allocated_current_amperes",
        help=_CIRCUIT_ALLOCATED_HELP,
    ),
    *_phases(
        73,
        (
            "CircuitTotalPhaseConductorCurrent_L1",
            "CircuitTotalPhaseConductorCurrent_L2",
            "CircuitTotalPhaseConductorCurrent_L3",
        ),
        official=True,
        data_type=D.DOUBLE,
        group=G.CIRCUIT,
        metric="easee_charger_circuit_current_amperes",
        help=_CIRCUIT_CURRENT_HELP,
    ),
    ObservationSpec(
        obs_id=76,
        easee_name="state_numberOfCarsConnected",
        official=False,
        data_type=D.INTEGER,
        group=G.CIRCUIT,
        kind=K.GAUGE,
        metric="easee_charger_circuit_cars_connected",
        help="Number of cars connected on the circuit, sent by the master only (Easee "
        "numberOfCarsConnected, observation 76).",
    ),
    ObservationSpec(
        obs_id=77,
        easee_name="state_numberOfCarsCharging",
        official=False,
        data_type=D.INTEGER,
        group=G.CIRCUIT,
        kind=K.GAUGE,
        metric="easee_charger_circuit_cars_charging",
        help="Number of cars charging on the circuit (Easee numberOfCarsCharging, observation 77).",
    ),
    ObservationSpec(
        obs_id=78,
        easee_name="state_numberOfCarsInQueue",
        official=False,
        data_type=D.INTEGER,
        group=G.CIRCUIT,
        kind=K.GAUGE,
        metric="easee_charger_circuit_cars_queued",
        help="Number of cars on the circuit waiting to be allocated power (Easee "
        "numberOfCarsInQueue, observation 78).",
    ),
    ObservationSpec(
        obs_id=79,
        easee_name="state_numberOfCarsFullyCharged",
        official=False,
        data_type=D.INTEGER,
        group=G.CIRCUIT,
        kind=K.GAUGE,
        metric="easee_charger_circuit_cars_fully_charged",
        help="Number of cars on the circuit that appear fully charged (Easee "
        "numberOfCarsFullyCharged, observation 79).",
    ),
    ObservationSpec(
        obs_id=80,
        easee_name="SoftwareRelease",
        official=True,
        data_type=D.INTEGER,
        group=G.DIAGNOSTICS,
        kind=K.INFO,
        metric="easee_charger_firmware_info",
        info_label="release",
        help="Firmware release of the charger in the label release (Easee SoftwareRelease, "
        "observation 80).",
    ),
    ObservationSpec(
        obs_id=81,
        easee_name="ICCID",
        official=True,
        data_type=D.STRING,
        group=G.NETWORK,
        kind=K.NOT_EXPORTED,
        not_exported_reason="personal: the SIM card identifier",
        help="SIM integrated circuit card identifier (Easee ICCID, observation 81).",
    ),
    ObservationSpec(
        obs_id=82,
        easee_name="ModemFwId",
        official=True,
        data_type=D.STRING,
        group=G.NETWORK,
        kind=K.INFO,
        metric="easee_charger_modem_firmware_info",
        info_label="version",
        help="Modem firmware version in the label version (Easee ModemFwId, observation 82).",
    ),
    ObservationSpec(
        obs_id=83,
        easee_name="OTAErrorCode",
        official=True,
        data_type=D.INTEGER,
        group=G.DIAGNOSTICS,
        kind=K.GAUGE,
        metric="easee_charger_ota_error_code",
        help="Error code of the last firmware update over the air (Easee OTAErrorCode, "
        "observation 83).",
    ),
    ObservationSpec(
        obs_id=84,
        easee_name="state_mobileNetworkOperator",
        official=False,
        data_type=D.STRING,
        group=G.NETWORK,
        kind=K.INFO,
        metric="easee_charger_mobile_network_operator_info",
        info_label="operator",
        help="Current mobile network operator in the label operator (Easee "
        "mobileNetworkOperator, observation 84).",
    ),
    ObservationSpec(
        obs_id=89,
        easee_name="RebootReason",
        official=True,
        data_type=D.INTEGER,
        group=G.DIAGNOSTICS,
        kind=K.GAUGE,
        metric="easee_charger_reboot_reason_code",
        help="Reason of the last reboot, a bit mask of flags (Easee RebootReason, observation 89).",
    ),
    ObservationSpec(
        obs_id=90,
        easee_name="PowerPCBVersion",
        official=True,
        data_type=D.INTEGER,
        group=G.DIAGNOSTICS,
        kind=K.INFO,
        metric="easee_charger_power_pcb_version_info",
        info_label="version",
        help="Hardware version of the power board in the label version (Easee PowerPCBVersion, "
        "observation 90).",
    ),
    ObservationSpec(
        obs_id=91,
        easee_name="ComPCBVersion",
        official=True,
        data_type=D.INTEGER,
        group=G.DIAGNOSTICS,
        kind=K.INFO,
        metric="easee_charger_com_pcb_version_info",
        info_label="version",
        help="Hardware version of the communication board in the label version (Easee "
        "ComPCBVersion, observation 91).",
    ),
    ObservationSpec(
        obs_id=96,
        easee_name="ReasonForNoCurrent",
        official=True,
        data_type=D.INTEGER,
        group=G.STATE,
        kind=K.GAUGE,
        metric="easee_charger_reason_for_no_current_code",
        enum=REASONS_FOR_NO_CURRENT,
        help="Why a charger with a car connected offers no current: 0 OK, 1-11 load balancing "
        "or errors, 52 paused, 55 pending authorisation, 75-81 limited (Easee "
        "ReasonForNoCurrent, observation 96).",
    ),
    ObservationSpec(
        obs_id=97,
        easee_name="LoadBalancingNumberOfConnectedChargers",
        official=True,
        data_type=D.INTEGER,
        group=G.CIRCUIT,
        kind=K.GAUGE,
        metric="easee_charger_load_balancing_connected_chargers",
        help="Chargers connected to the load balancing including the master, sent by the "
        "master only (Easee LoadBalancingNumberOfConnectedChargers, observation 97).",
    ),
    ObservationSpec(
        obs_id=98,
        easee_name="UDPNumOfConnectedNodes",
        official=True,
        data_type=D.INTEGER,
        group=G.NETWORK,
        kind=K.GAUGE,
        metric="easee_charger_udp_connected_nodes",
        help="Chargers connected to the master over Wi-Fi UDP (Easee UDPNumOfConnectedNodes, "
        "observation 98).",
    ),
    ObservationSpec(
        obs_id=99,
        easee_name="LocalConnection",
        official=True,
        data_type=D.INTEGER,
        group=G.NETWORK,
        kind=K.GAUGE,
        metric="easee_charger_local_connection_code",
        enum=LOCAL_CONNECTIONS,
        help="Connection of a secondary charger to its master: 0 none, 1 radio, 2 Wi-Fi UDP, "
        "3 both (Easee LocalConnection, observation 99).",
    ),
    ObservationSpec(
        obs_id=100,
        easee_name="PilotMode",
        official=True,
        data_type=D.STRING,
        group=G.STATE,
        kind=K.ENUM,
        metric="easee_charger_pilot_mode",
        enum=PILOT_MODES,
        state_label="state",
        help="IEC 61851 control pilot state, 1 for the current one: A no car, B car "
        "connected, C charging, D needs ventilation, F fault (Easee PilotMode, "
        "observation 100).",
    ),
    ObservationSpec(
        obs_id=101,
        easee_name="CarConnected_DEPRECATED",
        official=True,
        data_type=D.BOOLEAN,
        group=G.STATE,
        kind=K.GAUGE,
        metric="easee_charger_car_connected_deprecated",
        help="Car-connected flag that Easee deprecated; prefer easee_charger_vehicle_connected "
        "(Easee CarConnected_DEPRECATED, observation 101).",
    ),
    ObservationSpec(
        obs_id=102,
        easee_name="SmartCharging",
        official=True,
        data_type=D.BOOLEAN,
        group=G.STATE,
        kind=K.GAUGE,
        metric="easee_charger_smart_charging",
        help="1 when smart charging is on (Easee SmartCharging, observation 102).",
    ),
    ObservationSpec(
        obs_id=103,
        easee_name="CableLocked",
        official=True,
        data_type=D.BOOLEAN,
        group=G.LOCK,
        kind=K.GAUGE,
        metric="easee_charger_cable_locked",
        help="1 when the cable is locked in the charger, for any reason (Easee CableLocked, "
        "observation 103).",
    ),
    ObservationSpec(
        obs_id=104,
        easee_name="CableRating",
        official=True,
        data_type=D.DOUBLE,
        group=G.STATE,
        kind=K.GAUGE,
        metric="easee_charger_cable_rating_amperes",
        unit=U.AMPERES,
        # Amperes: 32 in 2022 recordings, -1 with no cable on the 2025 stream; pyeasee's
        # recorded state (fixtures/easee/pyeasee/charger-state.json) has 20000.0, a 20 A
        # cable in milliamperes (easee-cloud-api.md sections 2.3 and 10). No cable is
        # rated above 1000 A.
        no_reading=(-1.0,),
        milli_above=1000.0,
        help="Current rating of the plugged cable in amperes; absent without a cable "
        "(Easee CableRating, observation 104).",
    ),
    _voltage(
        105,
        "PilotHigh",
        "easee_charger_pilot_voltage_volts",
        ("level", "high"),
        _PILOT_VOLTAGE_HELP,
        group=G.DIAGNOSTICS,
    ),
    _voltage(
        106,
        "PilotLow",
        "easee_charger_pilot_voltage_volts",
        ("level", "low"),
        _PILOT_VOLTAGE_HELP,
        group=G.DIAGNOSTICS,
    ),
    ObservationSpec(
        obs_id=107,
        easee_name="BackPlateID",
        official=True,
        data_type=D.STRING,
        group=G.DIAGNOSTICS,
        kind=K.INFO,
        metric="easee_charger_back_plate_info",
        info_label="back_plate_id",
        help="RFID of the charger's back plate in the label back_plate_id (Easee BackPlateID, "
        "observation 107).",
    ),
    ObservationSpec(
        obs_id=108,
        easee_name="UserIDTokenReversed",
        official=True,
        data_type=D.STRING,
        group=G.SESSION,
        kind=K.NOT_EXPORTED,
        not_exported_reason=_SECRET_TOKEN,
        help="User token read from an RFID card, reversed (Easee UserIDTokenReversed, "
        "observation 108).",
    ),
    ObservationSpec(
        obs_id=109,
        easee_name="ChargerOpMode",
        official=True,
        data_type=D.INTEGER,
        group=G.STATE,
        kind=K.ENUM,
        metric="easee_charger_op_mode",
        enum=OP_MODES,
        state_label="mode",
        code_metric="easee_charger_op_mode_code",
        help="Charger operation mode, 1 for the current one and 0 for every other known mode "
        "(Easee ChargerOpMode, observation 109).",
        code_help="Raw charger operation mode: 0 offline, 1 disconnected, 2 awaiting start, "
        "3 charging, 4 completed, 5 error, 6 ready to charge, 7 awaiting authorization, "
        "8 deauthenticating (Easee ChargerOpMode, observation 109).",
    ),
    ObservationSpec(
        obs_id=110,
        easee_name="OutputPhase",
        official=True,
        data_type=D.INTEGER,
        group=G.PHASE,
        kind=K.GAUGE,
        metric="easee_charger_output_phase_code",
        enum=OUTPUT_PHASES,
        help="Phases in use towards the car: 0 none, 1x one phase, 2x two phases, 30 three "
        "phases TN (Easee OutputPhase, observation 110).",
    ),
    *_phases(
        111,
        ("DynamicCircuitCurrentP1", "DynamicCircuitCurrentP2", "DynamicCircuitCurrentP3"),
        official=True,
        data_type=D.DOUBLE,
        group=G.CIRCUIT,
        metric="easee_charger_circuit_dynamic_current_limit_amperes",
        help=_DYNAMIC_CIRCUIT_HELP,
    ),
    ObservationSpec(
        obs_id=114,
        easee_name="OutputCurrent",
        official=True,
        data_type=D.DOUBLE,
        group=G.POWER,
        kind=K.GAUGE,
        metric="easee_charger_output_current_amperes",
        unit=U.AMPERES,
        help="Current offered to the car through the pilot signal, in amperes (Easee "
        "OutputCurrent, observation 114).",
    ),
    ObservationSpec(
        obs_id=115,
        easee_name="DeratedCurrent",
        official=True,
        data_type=D.DOUBLE,
        group=G.POWER,
        kind=K.GAUGE,
        metric="easee_charger_derated_current_amperes",
        unit=U.AMPERES,
        help="Current available after thermal derating, in amperes (Easee DeratedCurrent, "
        "observation 115).",
    ),
    ObservationSpec(
        obs_id=116,
        easee_name="DeratingActive",
        official=True,
        data_type=D.BOOLEAN,
        group=G.TEMPERATURE,
        kind=K.GAUGE,
        metric="easee_charger_derating_active",
        help="1 when the charger limits the current because of high temperature (Easee "
        "DeratingActive, observation 116).",
    ),
    ObservationSpec(
        obs_id=117,
        easee_name="DebugString",
        official=True,
        data_type=D.STRING,
        group=G.DIAGNOSTICS,
        kind=K.NOT_EXPORTED,
        not_exported_reason=_FREE_TEXT,
        help="Debug text (Easee DebugString, observation 117).",
    ),
    ObservationSpec(
        obs_id=118,
        easee_name="ErrorString",
        official=True,
        data_type=D.STRING,
        group=G.DIAGNOSTICS,
        kind=K.INFO,
        metric="easee_charger_error_info",
        info_label="error",
        help="Descriptive text of the last error in the label error (Easee ErrorString, "
        "observation 118).",
    ),
    ObservationSpec(
        obs_id=119,
        easee_name="ErrorCode",
        official=True,
        data_type=D.INTEGER,
        group=G.DIAGNOSTICS,
        kind=K.GAUGE,
        metric="easee_charger_error_code",
        help="Error code of the charger, 0 without error (Easee ErrorCode, observation 119).",
    ),
    ObservationSpec(
        obs_id=120,
        easee_name="TotalPower",
        official=True,
        data_type=D.DOUBLE,
        group=G.POWER,
        kind=K.GAUGE,
        metric="easee_charger_power_watts",
        unit=U.WATTS,
        scale=KILO,
        source_unit="kW",
        help="Total charging power of all phases in watts (Easee TotalPower, observation 120, "
        "sent in kW).",
    ),
    ObservationSpec(
        obs_id=121,
        easee_name="SessionEnergy",
        official=True,
        data_type=D.DOUBLE,
        group=G.ENERGY,
        kind=K.GAUGE,
        metric="easee_charger_session_energy_joules",
        unit=U.JOULES,
        scale=KWH_TO_JOULES,
        source_unit="kWh",
        ignore_spurious_zero=True,
        help="Energy of the current or last charging session in joules, reset when a new "
        "session starts (Easee SessionEnergy, observation 121, sent in kWh).",
    ),
    ObservationSpec(
        obs_id=122,
        easee_name="EnergyPerHour",
        official=True,
        data_type=D.DOUBLE,
        group=G.ENERGY,
        kind=K.GAUGE,
        metric="easee_charger_hourly_energy_joules",
        unit=U.JOULES,
        scale=KWH_TO_JOULES,
        source_unit="kWh",
        help="Energy accumulated in the current hour in joules (Easee EnergyPerHour, "
        "observation 122, sent in kWh).",
    ),
    ObservationSpec(
        obs_id=123,
        easee_name="LegacyEvStatus",
        official=True,
        data_type=D.INTEGER,
        group=G.STATE,
        kind=K.GAUGE,
        metric="easee_charger_legacy_ev_status_code",
        enum=LEGACY_EV_STATUSES,
        help="Legacy EV status: 0 not a legacy EV, 1 legacy EV detected, 2 reviving (Easee "
        "LegacyEvStatus, observation 123).",
    ),
    ObservationSpec(
        obs_id=124,
        easee_name="LifetimeEnergy",
        official=True,
        data_type=D.DOUBLE,
        group=G.ENERGY,
        kind=K.COUNTER,
        metric="easee_charger_energy_joules_total",
        unit=U.JOULES,
        scale=KWH_TO_JOULES,
        source_unit="kWh",
        monotonic=True,
        help="Energy delivered over the charger's lifetime in joules, updated about once an "
        "hour (Easee LifetimeEnergy, observation 124, sent in kWh).",
    ),
    ObservationSpec(
        obs_id=125,
        easee_name="LifetimeRelaySwitches",
        official=True,
        data_type=D.INTEGER,
        group=G.DIAGNOSTICS,
        kind=K.COUNTER,
        metric="easee_charger_relay_switches_total",
        monotonic=True,
        help="Relay switches over the charger's lifetime (Easee LifetimeRelaySwitches, "
        "observation 125).",
    ),
    ObservationSpec(
        obs_id=126,
        easee_name="LifetimeHours",
        official=True,
        data_type=D.INTEGER,
        group=G.DIAGNOSTICS,
        kind=K.COUNTER,
        metric="easee_charger_operating_seconds_total",
        unit=U.SECONDS,
        scale=HOUR,
        source_unit="h",
        monotonic=True,
        help="Time in operation over the charger's lifetime in seconds, in whole hours (Easee "
        "LifetimeHours, observation 126, sent in hours).",
    ),
    ObservationSpec(
        obs_id=127,
        easee_name="DynamicCurrentOfflineFallback_DEPRICATED",
        official=True,
        data_type=D.INTEGER,
        group=G.CIRCUIT,
        kind=K.GAUGE,
        metric="easee_charger_dynamic_offline_fallback_current_amperes",
        unit=U.AMPERES,
        help="Maximum circuit current while offline in amperes; deprecated by Easee in favour "
        "of the per-phase fallbacks (Easee DynamicCurrentOfflineFallback_DEPRICATED, "
        "observation 127).",
    ),
    ObservationSpec(
        obs_id=128,
        easee_name="UserIDToken",
        official=True,
        data_type=D.STRING,
        group=G.SESSION,
        kind=K.NOT_EXPORTED,
        not_exported_reason=_SECRET_TOKEN,
        help="User token read from an RFID card (Easee UserIDToken, observation 128).",
    ),
    ObservationSpec(
        obs_id=129,
        easee_name="ChargingSession",
        official=True,
        data_type=D.STRING,
        group=G.SESSION,
        kind=K.NOT_EXPORTED,
        not_exported_reason=_JSON_TEXT,
        help="Finished charging session as JSON text (Easee ChargingSession, observation 129).",
    ),
    ObservationSpec(
        obs_id=130,
        easee_name="CellRSSI",
        official=True,
        data_type=D.INTEGER,
        group=G.SIGNAL,
        kind=K.GAUGE,
        metric="easee_charger_cellular_rssi_dbm",
        unit=U.DBM,
        help="Cellular signal strength in decibel-milliwatts (dBm), 0 while on Wi-Fi (Easee "
        "CellRSSI, observation 130).",
    ),
    ObservationSpec(
        obs_id=131,
        easee_name="CellRAT",
        official=True,
        data_type=D.INTEGER,
        group=G.NETWORK,
        kind=K.GAUGE,
        metric="easee_charger_cellular_rat_code",
        help="Cellular radio access technology code (Easee CellRAT, observation 131).",
    ),
    ObservationSpec(
        obs_id=132,
        easee_name="WiFiRSSI",
        official=True,
        data_type=D.INTEGER,
        group=G.SIGNAL,
        kind=K.GAUGE,
        metric="easee_charger_wifi_rssi_dbm",
        unit=U.DBM,
        help="Wi-Fi signal strength in decibel-milliwatts (dBm), 0 while on cellular (Easee "
        "WiFiRSSI, observation 132).",
    ),
    ObservationSpec(
        obs_id=133,
        easee_name="CellAddress",
        official=True,
        data_type=D.STRING,
        group=G.NETWORK,
        kind=K.NOT_EXPORTED,
        not_exported_reason=_PERSONAL_IP,
        help="IP address assigned by the cellular network (Easee CellAddress, observation 133).",
    ),
    ObservationSpec(
        obs_id=134,
        easee_name="WiFiAddress",
        official=True,
        data_type=D.STRING,
        group=G.NETWORK,
        kind=K.NOT_EXPORTED,
        not_exported_reason=_PERSONAL_IP,
        help="IP address assigned by the Wi-Fi network (Easee WiFiAddress, observation 134).",
    ),
    ObservationSpec(
        obs_id=135,
        easee_name="WiFiType",
        official=True,
        data_type=D.STRING,
        group=G.NETWORK,
        kind=K.INFO,
        metric="easee_charger_wifi_type_info",
        info_label="wifi_type",
        help="Wi-Fi network type letters (G, N, AC, ...) in the label wifi_type (Easee "
        "WiFiType, observation 135).",
    ),
    ObservationSpec(
        obs_id=136,
        easee_name="LocalRSSI",
        official=True,
        data_type=D.INTEGER,
        group=G.SIGNAL,
        kind=K.GAUGE,
        metric="easee_charger_local_rssi_dbm",
        unit=U.DBM,
        help="Local radio signal strength in decibel-milliwatts (dBm) (Easee LocalRSSI, "
        "observation 136).",
    ),
    ObservationSpec(
        obs_id=137,
        easee_name="MasterBackPlateID",
        official=True,
        data_type=D.STRING,
        group=G.CIRCUIT,
        kind=K.INFO,
        metric="easee_charger_master_back_plate_info",
        info_label="master_back_plate_id",
        help="RFID of the circuit master's back plate in the label master_back_plate_id "
        "(Easee MasterBackPlateID, observation 137).",
    ),
    ObservationSpec(
        obs_id=138,
        easee_name="LocalTxPower",
        official=True,
        data_type=D.INTEGER,
        group=G.SIGNAL,
        kind=K.GAUGE,
        metric="easee_charger_local_tx_power_dbm",
        unit=U.DBM,
        help="Local radio transmission power in decibel-milliwatts (dBm) (Easee LocalTxPower, "
        "observation 138).",
    ),
    ObservationSpec(
        obs_id=139,
        easee_name="LocalState",
        official=True,
        data_type=D.STRING,
        group=G.NETWORK,
        kind=K.INFO,
        metric="easee_charger_local_radio_state_info",
        info_label="state",
        help="Local radio state in the label state (Easee LocalState, observation 139).",
    ),
    ObservationSpec(
        obs_id=140,
        easee_name="FoundWiFi",
        official=True,
        data_type=D.STRING,
        group=G.NETWORK,
        kind=K.NOT_EXPORTED,
        not_exported_reason="list of neighbouring networks: unbounded cardinality, and "
        "personal (locates the owner)",
        help="Wi-Fi networks found with their RSSI (Easee FoundWiFi, observation 140).",
    ),
    ObservationSpec(
        obs_id=141,
        easee_name="ChargerRAT",
        official=True,
        data_type=D.INTEGER,
        group=G.NETWORK,
        kind=K.GAUGE,
        metric="easee_charger_connection_type_code",
        enum=CONNECTION_TYPES,
        help="Link the charger uses to reach the cloud: 0 cellular, 1 Wi-Fi (Easee ChargerRAT, "
        "observation 141).",
    ),
    ObservationSpec(
        obs_id=142,
        easee_name="CellularInterfaceErrorCount",
        official=True,
        data_type=D.INTEGER,
        group=G.NETWORK,
        kind=K.COUNTER,
        metric="easee_charger_cellular_interface_errors_total",
        help="Errors of the cellular interface since the charger booted (Easee "
        "CellularInterfaceErrorCount, observation 142).",
    ),
    ObservationSpec(
        obs_id=143,
        easee_name="CellularInterfaceResetCount",
        official=True,
        data_type=D.INTEGER,
        group=G.NETWORK,
        kind=K.COUNTER,
        metric="easee_charger_cellular_interface_resets_total",
        help="Resets of the cellular interface for high error counts since the charger booted "
        "(Easee CellularInterfaceResetCount, observation 143).",
    ),
    ObservationSpec(
        obs_id=144,
        easee_name="WifiInterfaceErrorCount",
        official=True,
        data_type=D.INTEGER,
        group=G.NETWORK,
        kind=K.COUNTER,
        metric="easee_charger_wifi_interface_errors_total",
        help="Errors of the Wi-Fi interface since the charger booted (Easee "
        "WifiInterfaceErrorCount, observation 144).",
    ),
    ObservationSpec(
        obs_id=145,
        easee_name="WifiInterfaceResetCount",
        official=True,
        data_type=D.INTEGER,
        group=G.NETWORK,
        kind=K.COUNTER,
        metric="easee_charger_wifi_interface_resets_total",
        help="Resets of the Wi-Fi interface for high error counts since the charger booted "
        "(Easee WifiInterfaceResetCount, observation 145).",
    ),
    ObservationSpec(
        obs_id=146,
        easee_name="LocalNodeType",
        official=True,
        data_type=D.INTEGER,
        group=G.NETWORK,
        kind=K.GAUGE,
        metric="easee_charger_local_node_type_code",
        enum=LOCAL_NODE_TYPES,
        help="Role on the local radio network: 0 unconfigured, 1 master, 2 extender, 3 end "
        "device (Easee LocalNodeType, observation 146).",
    ),
    ObservationSpec(
        obs_id=147,
        easee_name="LocalRadioChannel",
        official=True,
        data_type=D.INTEGER,
        group=G.NETWORK,
        kind=K.GAUGE,
        metric="easee_charger_local_radio_channel",
        help="Local radio channel number 0-11 (Easee LocalRadioChannel, observation 147).",
    ),
    ObservationSpec(
        obs_id=148,
        easee_name="LocalShortAddress",
        official=True,
        data_type=D.INTEGER,
        group=G.NETWORK,
        kind=K.GAUGE,
        metric="easee_charger_local_short_address",
        help="Address of the charger on the local radio network (Easee LocalShortAddress, "
        "observation 148).",
    ),
    ObservationSpec(
        obs_id=149,
        easee_name="LocalParentAddrOrNumOfNodes",
        official=True,
        data_type=D.INTEGER,
        group=G.NETWORK,
        kind=K.GAUGE,
        metric="easee_charger_local_parent_address_or_nodes",
        help="On a master the number of secondaries connected, on a secondary the parent's "
        "address (Easee LocalParentAddrOrNumOfNodes, observation 149).",
    ),
    _temperature(150, "TempMax", "max"),
    _temperature(151, "TempAmbientPowerBoard", "power_board_ambient"),
    _temperature(152, "TempInputT2", "input_t2"),
    _temperature(153, "TempInputT3", "input_t3"),
    _temperature(154, "TempInputT4", "input_t4"),
    _temperature(155, "TempInputT5", "input_t5"),
    _temperature(160, "TempOutputN", "output_n"),
    _temperature(161, "TempOutputL1", "output_l1"),
    _temperature(162, "TempOutputL2", "output_l2"),
    _temperature(163, "TempOutputL3", "output_l3"),
    # pyeasee tags 164-166 Integer, as it does every temperature the official list types
    # Double; parsed as Double so a fractional reading is never rejected.
    _temperature(164, "state_tempRelayN", "relay_n", official=False),
    _temperature(165, "state_tempRelayL", "relay_l", official=False),
    _temperature(166, "state_tempAmbientPowerBoardTop", "power_board_top_ambient", official=False),
    _temperature(170, "TempAmbient", "ambient"),
    ObservationSpec(
        obs_id=171,
        easee_name="LightAmbient",
        official=True,
        data_type=D.INTEGER,
        group=G.DIAGNOSTICS,
        kind=K.GAUGE,
        metric="easee_charger_ambient_light_ratio",
        unit=U.RATIO,
        scale=PERCENT,
        source_unit="%",
        help="Ambient light in front of the charger as a ratio 0-1 (Easee LightAmbient, "
        "observation 171, sent in percent).",
    ),
    ObservationSpec(
        obs_id=172,
        easee_name="IntRelHumidity",
        official=True,
        data_type=D.INTEGER,
        group=G.DIAGNOSTICS,
        kind=K.GAUGE,
        metric="easee_charger_internal_humidity_ratio",
        unit=U.RATIO,
        scale=PERCENT,
        source_unit="%",
        help="Internal relative humidity as a ratio 0-1 (Easee IntRelHumidity, observation "
        "172, sent in percent).",
    ),
    ObservationSpec(
        obs_id=173,
        easee_name="BackPlateLocked",
        official=True,
        data_type=D.BOOLEAN,
        group=G.LOCK,
        kind=K.GAUGE,
        metric="easee_charger_back_plate_locked",
        help="1 when the charger is confirmed locked to its back plate (Easee BackPlateLocked, "
        "observation 173).",
    ),
    ObservationSpec(
        obs_id=174,
        # No source gives a unit; every other current Easee reports is in amperes.
        easee_name="CurrentMotor",
        official=True,
        data_type=D.DOUBLE,
        group=G.DIAGNOSTICS,
        kind=K.GAUGE,
        metric="easee_charger_lock_motor_current_amperes",
        unit=U.AMPERES,
        help="Current drawn by the cable lock motor in amperes, debug reading (Easee "
        "CurrentMotor, observation 174).",
    ),
    ObservationSpec(
        obs_id=175,
        easee_name="BackPlateHallSensor",
        official=True,
        data_type=D.INTEGER,
        group=G.DIAGNOSTICS,
        kind=K.GAUGE,
        metric="easee_charger_back_plate_hall_sensor_volts",
        unit=U.VOLTS,
        scale=MILLI,
        source_unit="mV",
        help="Raw back plate hall sensor reading in volts (Easee BackPlateHallSensor, "
        "observation 175, sent in millivolts).",
    ),
    *(
        ObservationSpec(
            obs_id=182 + i,
            easee_name=f"InCurrent_T{i + 2}",
            official=True,
            data_type=D.DOUBLE,
            group=G.PHASE,
            kind=K.GAUGE,
            metric="easee_charger_terminal_current_amperes",
            unit=U.AMPERES,
            labels=(("terminal", f"T{i + 2}"),),
            help=_TERMINAL_CURRENT_HELP,
        )
        for i in range(4)
    ),
    *(
        _voltage(
            obs_id,
            f"InVolt_T{a}_T{b}",
            "easee_charger_terminal_voltage_volts",
            ("terminals", f"T{a}-T{b}"),
            _TERMINAL_VOLTAGE_HELP,
        )
        for obs_id, (a, b) in zip(
            range(190, 200),
            ((1, 2), (1, 3), (1, 4), (1, 5), (2, 3), (2, 4), (2, 5), (3, 4), (3, 5), (4, 5)),
            strict=True,
        )
    ),
    ObservationSpec(
        obs_id=200,
        easee_name="state_nominalVoltage",
        official=False,
        data_type=D.INTEGER,
        group=G.CONFIG,
        kind=K.GAUGE,
        metric="easee_charger_nominal_voltage_volts",
        unit=U.VOLTS,
        help="Nominal voltage setting of an Easee One in volts (Easee nominalVoltage, "
        "observation 200).",
    ),
    *(
        _voltage(
            202 + i,
            f"OutVoltPin1_{i + 2}",
            "easee_charger_output_voltage_volts",
            ("pins", f"1-{i + 2}"),
            _OUTPUT_VOLTAGE_HELP,
        )
        for i in range(4)
    ),
    _voltage(
        206,
        "state_outVoltPin2_3",
        "easee_charger_output_voltage_volts",
        ("pins", "2-3"),
        _OUTPUT_VOLTAGE_HELP,
        official=False,
    ),
    _voltage(
        210,
        "VoltLevel33",
        "easee_charger_supply_voltage_volts",
        ("rail", "3.3V"),
        _SUPPLY_VOLTAGE_HELP,
        group=G.DIAGNOSTICS,
    ),
    _voltage(
        211,
        "VoltLevel5",
        "easee_charger_supply_voltage_volts",
        ("rail", "5V"),
        _SUPPLY_VOLTAGE_HELP,
        group=G.DIAGNOSTICS,
    ),
    _voltage(
        212,
        "VoltLevel12",
        "easee_charger_supply_voltage_volts",
        ("rail", "12V"),
        _SUPPLY_VOLTAGE_HELP,
        group=G.DIAGNOSTICS,
    ),
    ObservationSpec(
        obs_id=219,
        easee_name="state_fatalErrorCode",
        official=False,
        data_type=D.INTEGER,
        group=G.DIAGNOSTICS,
        kind=K.GAUGE,
        metric="easee_charger_fatal_error_code",
        help="Fatal error code of the charger, 0 without error (Easee fatalErrorCode, "
        "observation 219).",
    ),
    ObservationSpec(
        obs_id=220,
        easee_name="state_LTERSRP",
        official=False,
        data_type=D.INTEGER,
        group=G.SIGNAL,
        kind=K.GAUGE,
        metric="easee_charger_lte_rsrp_dbm",
        unit=U.DBM,
        help="LTE reference signal received power in decibel-milliwatts (dBm), -144 to -44 "
        "(Easee LTERSRP, observation 220).",
    ),
    ObservationSpec(
        obs_id=221,
        easee_name="state_LTESINR",
        official=False,
        data_type=D.INTEGER,
        group=G.SIGNAL,
        kind=K.GAUGE,
        metric="easee_charger_lte_sinr_db",
        unit=U.DB,
        help="LTE signal to interference plus noise ratio in decibels (dB), -20 to 30 (Easee "
        "LTESINR, observation 221).",
    ),
    ObservationSpec(
        obs_id=222,
        easee_name="state_LTERSRQ",
        official=False,
        data_type=D.INTEGER,
        group=G.SIGNAL,
        kind=K.GAUGE,
        metric="easee_charger_lte_rsrq_db",
        unit=U.DB,
        help="LTE reference signal received quality in decibels (dB), -19 to -3 (Easee "
        "LTERSRQ, observation 222).",
    ),
    ObservationSpec(
        obs_id=223,
        easee_name="state_chargingSessionStart",
        official=False,
        data_type=D.STRING,
        group=G.SESSION,
        kind=K.NOT_EXPORTED,
        not_exported_reason=_JSON_TEXT,
        help="Start of a charging session as JSON text (Easee chargingSessionStart, "
        "observation 223).",
    ),
    *_phases(
        230,
        ("EqAvailableCurrentP1", "EqAvailableCurrentP2", "EqAvailableCurrentP3"),
        official=True,
        data_type=D.DOUBLE,
        group=G.CIRCUIT,
        metric="easee_charger_equalizer_available_current_amperes",
        help=_EQ_AVAILABLE_HELP,
    ),
    ObservationSpec(
        obs_id=240,
        easee_name="state_diagnosticsString",
        official=False,
        data_type=D.STRING,
        group=G.DIAGNOSTICS,
        kind=K.NOT_EXPORTED,
        not_exported_reason=_FREE_TEXT,
        help="Diagnostic text for testing (Easee diagnosticsString, observation 240).",
    ),
    ObservationSpec(
        obs_id=241,
        easee_name="config_wiFiMACAddress",
        official=False,
        data_type=D.STRING,
        group=G.NETWORK,
        kind=K.NOT_EXPORTED,
        not_exported_reason="personal: a hardware identifier of the owner's device",
        help="Wi-Fi MAC address of the charger (Easee wiFiMACAddress, observation 241).",
    ),
    ObservationSpec(
        obs_id=250,
        easee_name="CONNECTED TO CLOUD",
        official=True,
        data_type=D.BOOLEAN,
        group=G.STATE,
        kind=K.GAUGE,
        metric="easee_charger_online",
        derived=True,
        help="1 when the charger is online: connected to the Easee cloud (Easee CONNECTED TO "
        "CLOUD, observation 250; the op mode, not 0, until it has reported it) and its own "
        "newest timestamp younger than easee.charger_offline_after (20 minutes). While it is 0, "
        "the charger's live readings (power, currents, voltages, signal, temperatures) are not "
        "exported.",
    ),
    ObservationSpec(
        obs_id=251,
        easee_name="CLOUD DISCONNECT REASON",
        official=True,
        data_type=D.STRING,
        group=G.STATE,
        kind=K.INFO,
        metric="easee_charger_cloud_disconnect_reason_info",
        info_label="reason",
        help="Reason of the last disconnection from the cloud in the label reason (Easee "
        "CLOUD DISCONNECT REASON, observation 251).",
    ),
)

#: Every known observation, by id.
OBSERVATIONS: Mapping[int, ObservationSpec] = MappingProxyType({row.obs_id: row for row in _ROWS})

if len(OBSERVATIONS) != len(_ROWS):  # pragma: no cover - a table typo must fail at import
    raise RuntimeError("duplicate observation id in the observation table")


def spec_for(obs_id: int) -> ObservationSpec | None:
    """The table row of ``obs_id``, or None for an id the table does not know."""
    return OBSERVATIONS.get(obs_id)


#: The metric of observations the table does not know; the id goes in ``observation_id``.
UNKNOWN_OBSERVATION_METRIC = "easee_charger_observation_value"
UNKNOWN_OBSERVATION_HELP = (
    "Value of an Easee observation this exporter does not know, by observation id; numbers "
    "and booleans only, in Easee's own unit."
)


@dataclass(frozen=True, slots=True, kw_only=True)
class DerivedMetric:
    """A metric computed from several observations (see ``exporter/easee/derived.py`` and
    ``exporter/easee/phases.py``), listed here so names stay unique across both tables."""

    metric: str
    kind: Kind
    unit: Unit
    help: str
    label_names: tuple[str, ...] = ()
    sources: tuple[int, ...] = ()


DERIVED_METRICS: tuple[DerivedMetric, ...] = (
    DerivedMetric(
        metric="easee_charger_vehicle_connected",
        kind=K.GAUGE,
        unit=U.NONE,
        sources=(109,),
        help="1 when a car is connected: op mode 2, 3, 4, 6 or 7, the API reference's rule "
        "(Easee ChargerOpMode, observation 109). The Jeedom plugin read op modes 2-6: it "
        "missed 7 (awaiting authorization, a car plugged in) and took 5 (error).",
    ),
    DerivedMetric(
        metric="easee_charger_paused",
        kind=K.GAUGE,
        unit=U.NONE,
        sources=(109, 48),
        help="1 when charging is paused: a car is connected (op mode 2, 3, 4, 6 or 7) and the "
        "dynamic charger current is 0 (Easee ChargerOpMode 109 and DynamicChargerCurrent 48).",
    ),
    DerivedMetric(
        metric="easee_charger_cable_lock_state",
        kind=K.GAUGE,
        unit=U.NONE,
        sources=(103, 30),
        help="Cable lock state: cable locked + 2 x permanently locked, 0 neither, 1 locked, "
        "2 permanent lock on but not locked, 3 both (Easee CableLocked 103, "
        "LockCablePermanently 30).",
    ),
    DerivedMetric(
        metric="easee_charger_current_amperes",
        kind=K.GAUGE,
        unit=U.AMPERES,
        label_names=("phase",),
        sources=(21, 182, 183, 184, 185),
        help="RMS current per phase in amperes, mapped from the input terminals by the "
        "detected grid type (Easee InCurrent_T2-T5, observations 182-185, and 21).",
    ),
    DerivedMetric(
        metric="easee_charger_voltage_volts",
        kind=K.GAUGE,
        unit=U.VOLTS,
        label_names=("phase",),
        sources=(21, 194, 195, 196, 197),
        help="RMS voltage per phase in volts: line to neutral on TN grids, line to line from "
        "that phase on IT grids (Easee InVolt_T2_T3-T3_T4, observations 194-197, and 21).",
    ),
)
