"""Easee's enumerations as typed tables: code -> Prometheus label value and description.

Sources: ``easee-cloud-api.md`` section 7 (op modes 7.1, reasons for no current 7.2, the
other enumerations 7.3), Easee's own enumeration dump (homebridge-easee ``enumerations.json``)
and, for the grid-type warnings 32-38 and the TN/IT family of each grid type, the
futurehomeno edge adapter's ``GridType`` table.

Label values are lower snake case (conventions.md 1.2) except the IEC 61851 pilot letters,
which keep their standard spelling. A code missing from a table maps to ``unknown``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Generic, TypeVar

#: Label value for a code a table does not know.
UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True, kw_only=True)
class EnumEntry:
    """One value of an Easee enumeration."""

    code: int | str
    label: str
    description: str


class GridFamily(StrEnum):
    """Earthing system of the supply: decides which terminal carries which phase."""

    TN = "TN"
    IT = "IT"


@dataclass(frozen=True, slots=True, kw_only=True)
class GridTypeEntry(EnumEntry):
    """A detected power grid type (observation 21), with what the phase mapping needs.

    ``family`` is None when the charger found no valid grid; ``phases`` is the number of
    live phases (0 when the charger does not say).
    """

    family: GridFamily | None
    phases: int


E = TypeVar("E", bound=EnumEntry, covariant=True)


@dataclass(frozen=True, slots=True)
class EnumTable(Generic[E]):
    """An ordered enumeration with O(1) lookup by code."""

    name: str
    entries: tuple[E, ...]
    _by_code: Mapping[int | str, E] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_code = {entry.code: entry for entry in self.entries}
        if len(by_code) != len(self.entries):
            raise ValueError(f"duplicate code in enumeration {self.name}")
        object.__setattr__(self, "_by_code", MappingProxyType(by_code))

    def get(self, code: object) -> E | None:
        """The entry for ``code``, or None. Booleans are never codes; an integral float is
        (a frame may type an integer observation as a Double, and its type is used)."""
        if isinstance(code, float) and code.is_integer():
            code = int(code)
        if isinstance(code, bool) or not isinstance(code, int | str):
            return None
        return self._by_code.get(code)

    def label(self, code: object) -> str:
        """The label value for ``code``; :data:`UNKNOWN` for a code the table lacks."""
        entry = self.get(code)
        return UNKNOWN if entry is None else entry.label

    @property
    def labels(self) -> tuple[str, ...]:
        """Every known label, in table order (without ``unknown``)."""
        return tuple(entry.label for entry in self.entries)

    def __iter__(self) -> Iterator[E]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)


def _table(name: str, *rows: tuple[int | str, str, str]) -> EnumTable[EnumEntry]:
    return EnumTable(name, tuple(EnumEntry(code=c, label=lb, description=d) for c, lb, d in rows))


# Only 0-8 have ever been seen on the wire (API doc 7.1). pyeasee's extra codes 100-161 have
# no documented origin, two of them repeat labels of 0-8 (102 offline, 104
# awaiting_authorization), and each extra code would add an always-zero series per charger to
# the one-hot op-mode metric; an unexpected code shows as mode="unknown" plus the raw
# easee_charger_op_mode_code, which loses nothing.
OP_MODES = _table(
    "ChargerOpMode",
    (0, "offline", "Charger offline"),
    (1, "disconnected", "No car connected"),
    (2, "awaiting_start", "Car connected, waiting for a start, the load balancer or a resume"),
    (3, "charging", "Charging"),
    (4, "completed", "The car paused or stopped charging; cable still in"),
    (5, "error", "Error in the charger"),
    (6, "ready_to_charge", "Waiting for the car to take energy"),
    (7, "awaiting_authorization", "Waiting for authentication (RFID or app)"),
    (8, "deauthenticating", "De-authenticating"),
)

REASONS_FOR_NO_CURRENT = _table(
    "ReasonForNoCurrent",
    (0, "ok", "Charger fine, use the op mode"),
    (1, "max_circuit_current_too_low", "Max circuit current too low"),
    (2, "max_dynamic_circuit_current_too_low", "Max dynamic circuit current too low"),
    (
        3,
        "max_dynamic_offline_fallback_circuit_current_too_low",
        "Max dynamic offline fallback circuit current too low",
    ),
    (4, "circuit_fuse_too_low", "Circuit fuse too low"),
    (5, "waiting_in_queue", "Waiting in queue"),
    (6, "waiting_in_fully_charged_queue", "Waiting in fully-charged queue"),
    (7, "illegal_grid_type", "Illegal grid type"),
    (
        8,
        "primary_has_no_current_request",
        "Primary unit has not received a current request from the secondary unit",
    ),
    (9, "master_communication_lost", "Master communication lost"),
    (10, "no_current_from_equalizer", "No current from the equalizer, or too low"),
    (11, "phase_not_connected", "No current, phase not connected"),
    (25, "limited_by_circuit_fuse", "Current limited by the circuit fuse"),
    (26, "limited_by_circuit_max_current", "Current limited by the circuit max current"),
    (27, "limited_by_dynamic_circuit_current", "Current limited by the dynamic circuit current"),
    (28, "limited_by_equalizer", "Current limited by the equalizer"),
    (29, "limited_by_circuit_load_balancing", "Current limited by circuit load balancing"),
    (30, "limited_by_offline_settings", "Current limited by the offline settings"),
    (50, "secondary_not_requesting_current", "Secondary unit not requesting current"),
    (51, "max_charger_current_too_low", "Max charger current too low"),
    (52, "max_dynamic_charger_current_too_low", "Max dynamic charger current too low (paused)"),
    (53, "charger_disabled", "Charger disabled"),
    (54, "pending_scheduled_charging", "Pending scheduled charging"),
    (55, "pending_authorization", "Pending authorization"),
    (56, "charger_in_error_state", "Charger in error state"),
    (57, "erratic_ev", "Erratic EV"),
    (75, "limited_by_cable_rating", "Current limited by the cable rating"),
    (76, "limited_by_schedule", "Current limited by the schedule"),
    (77, "limited_by_charger_max_current", "Current limited by the charger max current"),
    (78, "limited_by_dynamic_charger_current", "Current limited by the dynamic charger current"),
    (79, "limited_by_car_not_charging", "Current limited by the car not charging"),
    (80, "limited_by_local_adjustment", "Current limited by a local adjustment"),
    (81, "limited_by_car", "Current limited by the car"),
    (100, "undefined", "Undefined"),
)


def _grid(
    code: int, label: str, description: str, family: GridFamily | None, phases: int
) -> GridTypeEntry:
    return GridTypeEntry(
        code=code, label=label, description=description, family=family, phases=phases
    )


_TN, _IT = GridFamily.TN, GridFamily.IT

GRID_TYPES: EnumTable[GridTypeEntry] = EnumTable(
    "DetectedPowerGridType",
    (
        _grid(0, "not_yet_detected", "Not yet detected", None, 0),
        _grid(1, "tn_3_phase", "TN 3-phase", _TN, 3),
        _grid(2, "tn_2_phase_pin_2_3_4", "TN 2-phase, pins 2, 3, 4", _TN, 2),
        _grid(3, "tn_1_phase", "TN 1-phase", _TN, 1),
        _grid(4, "it_3_phase", "IT 3-phase", _IT, 3),
        _grid(5, "it_1_phase", "IT 1-phase", _IT, 1),
        _grid(30, "warning_tn_2_phase_pin_2_3_5", "Warning: TN 2-phase, pins 2, 3, 5", _TN, 2),
        _grid(
            31,
            "warning_tn_1_phase_neutral_on_pin_3",
            "Warning: TN 1-phase, neutral on pin 3",
            _TN,
            1,
        ),
        _grid(32, "warning_it_3_phase_gnd_fault", "Warning: IT 3-phase, ground fault", _IT, 3),
        _grid(33, "warning_it_1_phase_gnd_fault", "Warning: IT 1-phase, ground fault", _IT, 1),
        _grid(
            34,
            "warning_it_3_phase_gnd_fault_l3",
            "Warning: IT 3-phase, ground fault on L3",
            _IT,
            3,
        ),
        _grid(
            35,
            "warning_it_1_phase_gnd_fault_l3",
            "Warning: IT 1-phase, ground fault on L3",
            _IT,
            1,
        ),
        _grid(36, "warning_tn_2_phase_pin_2_3_4", "Warning: TN 2-phase, pins 2, 3, 4", _TN, 2),
        _grid(37, "warning_tn_3_phase_gnd_fault", "Warning: TN 3-phase, ground fault", _TN, 3),
        _grid(38, "warning_tn_2_phase_gnd_fault", "Warning: TN 2-phase, ground fault", _TN, 2),
        _grid(50, "error_no_valid_power_grid", "Error: no valid power grid found", None, 0),
        _grid(
            51,
            "error_tn_400v_neutral_on_wrong_pin",
            "Error: TN 400 V, neutral on the wrong pin",
            _TN,
            0,
        ),
        _grid(
            52,
            "error_it_gnd_connected_to_pin_2_or_3",
            "Error: IT, ground connected to pin 2 or 3",
            _IT,
            0,
        ),
    ),
)

OUTPUT_PHASES = _table(
    "OutputPhaseType",
    (0, "unassigned", "Unassigned"),
    (10, "p1_t2_t3_tn", "1-phase N+L1 (TN)"),
    (11, "p1_t2_t3_it", "1-phase L1+L2 (IT)"),
    (12, "p1_t2_t4_tn", "1-phase N+L2 (TN)"),
    (13, "p1_t2_t4_it", "1-phase L1+L3 (IT)"),
    (14, "p1_t2_t5_tn", "1-phase N+L3 (TN)"),
    (15, "p1_t3_t4_it", "1-phase L2+L3 (IT)"),
    (20, "p2_t2_t3_t4_tn", "2-phase N+L1, N+L2 (TN)"),
    (21, "p2_t2_t4_t5_tn", "2-phase N+L2, N+L3 (TN)"),
    (22, "p2_t2_t3_t4_it", "2-phase (IT)"),
    (30, "p3_t2_t3_t4_t5_tn", "3-phase (TN)"),
)

PILOT_MODES = _table(
    "PilotMode",
    ("A", "A", "Car disconnected"),
    ("B", "B", "Car connected"),
    ("C", "C", "Car charging"),
    ("D", "D", "Car needs ventilation"),
    ("F", "F", "Fault detected"),
)

CHARGER_COLORS = _table(
    "ChargerColorType",
    (1, "black", "Black"),
    (2, "red", "Red"),
    (3, "blue", "Blue"),
    (4, "white", "White"),
    (5, "anthracite", "Anthracite"),
)

PRODUCT_CODES = _table(
    "ProductCode",
    (1, "easee_home", "Easee Home"),
    (2, "charge_lite", "Charge Lite"),
    (3, "charge_max", "Charge Max"),
    (4, "charge_up", "Charge Up"),
    (100, "easee_charge", "Easee Charge"),
    (102, "charge_core", "Charge Core"),
    (103, "charge_pro", "Charge Pro"),
    (400, "charge_one", "Charge One"),
)

PHASE_MODES = _table(
    "PhaseMode",
    (0, "no_phase_reported", "No phase mode reported"),
    (1, "locked_single_phase", "Locked to 1-phase"),
    (2, "auto", "Automatic"),
    (3, "locked_three_phase", "Locked to 3-phase"),
)

OFFLINE_CHARGING_MODES = _table(
    "OfflineChargingModeType",
    (0, "always", "Always charge"),
    (1, "if_whitelisted", "Only whitelisted tokens"),
    (2, "never", "Never"),
)

LOCAL_NODE_TYPES = _table(
    "LocalNodeType",
    (0, "unconfigured", "Unconfigured"),
    (1, "master", "Master"),
    (2, "extender", "Extender"),
    (3, "end_device", "End device"),
)

LOCAL_CONNECTIONS = _table(
    "LocalConnection",
    (0, "none", "No connection to the master"),
    (1, "radio", "Radio"),
    (2, "wifi_udp", "Wi-Fi UDP"),
    (3, "radio_and_wifi_udp", "Radio and Wi-Fi UDP"),
)

CONNECTION_TYPES = _table(
    "ChargerRAT",
    (0, "cellular", "Cellular"),
    (1, "wifi", "Wi-Fi"),
)

LEGACY_EV_STATUSES = _table(
    "LegacyEvStatus",
    (0, "not_legacy", "Not a legacy EV"),
    (1, "legacy_detected", "Legacy EV detected"),
    (2, "reviving", "Reviving EV"),
)

TEMPERATURE_MONITOR_STATES = _table(
    "TemperatureMonitorState",
    (-1, "monitoring", "Monitoring"),
    (0, "off", "Off"),
    (1, "active", "Active"),
)

LEVELS_OF_ACCESS = _table(
    "LevelOfAccess",
    (1, "everyone", "Everyone"),
    (2, "registered_users", "Easee account required"),
    (3, "whitelisted_users", "Whitelist"),
)

LED_MODES = _table(
    "ChargerLEDModeType",
    (0, "off", "Off"),
    (1, "startup_application_started", "Start-up 1: application started"),
    (2, "startup_checking_power_board_firmware", "Start-up 2: checking power board firmware"),
    (3, "startup_checking_lwn_firmware", "Start-up 3: checking LWN firmware"),
    (4, "startup_checking_wifi_firmware", "Start-up 4: checking Wi-Fi firmware"),
    (5, "startup_firmware_upgrade_done", "Start-up 5: firmware upgrade done"),
    (6, "startup_6", "Start-up 6"),
    (7, "startup_setup_half_way_completed", "Start-up 7: setup half way completed"),
    (8, "startup_setup_fully_completed", "Start-up 8: setup fully completed"),
    (9, "ota_1", "OTA 1"),
    (10, "ota_upgrading_power_board_firmware", "OTA 2: upgrading power board firmware"),
    (11, "ota_upgrading_lwn_firmware", "OTA 3: upgrading LWN firmware"),
    (12, "ota_upgrading_wifi_firmware", "OTA 4: upgrading Wi-Fi firmware"),
    (13, "ota_5", "OTA 5"),
    (14, "ota_6", "OTA 6"),
    (15, "ota_7", "OTA 7"),
    (16, "error", "Error"),
    (17, "error_forever", "Error forever"),
    (18, "idle_master", "Idle master"),
    (19, "idle_secondary_connected", "Idle secondary, connected"),
    (20, "idle_secondary_searching", "Idle secondary, searching for master"),
    (21, "smart_mode_not_charging", "Smart mode, not charging"),
    (22, "smart_mode_charging", "Smart mode, charging"),
    (23, "normal_mode_not_charging", "Normal mode, not charging"),
    (24, "normal_mode_charging", "Normal mode, charging"),
    (25, "awaiting_authorization", "Awaiting authorization"),
    (26, "verifying_with_backend", "Verifying authorization with the backend"),
    (27, "empty_backplate", "Empty backplate, check configuration"),
    (29, "pairing_rfid_keys", "Pairing RFID keys"),
    (43, "self_test", "Self test"),
    (44, "self_test_2", "Self test"),
)
