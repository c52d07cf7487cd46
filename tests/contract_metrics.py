"""Metric names other parts of the product rely on, in one place for their tests."""

#: The key names of docs/product-contract.md, "Metrics".
CONTRACT_METRICS = frozenset(
    {
        "easee_charger_cable_lock_state",
        "easee_charger_cable_locked",
        "easee_charger_cable_permanently_locked",
        "easee_charger_cellular_rssi_dbm",
        "easee_charger_current_amperes",
        "easee_charger_energy_joules_total",
        "easee_charger_info",
        "easee_charger_last_seen_timestamp_seconds",
        "easee_charger_last_update_timestamp_seconds",
        "easee_charger_online",
        "easee_charger_op_mode",
        "easee_charger_op_mode_code",
        "easee_charger_paused",
        "easee_charger_power_watts",
        "easee_charger_session_energy_joules",
        "easee_charger_vehicle_connected",
        "easee_charger_voltage_volts",
        "easee_charger_wifi_rssi_dbm",
        "easee_circuit_info",
        "easee_circuit_rated_current_amperes",
        "easee_exporter_api_requests_total",
        "easee_exporter_build_info",
        "easee_exporter_commands_total",
        "easee_exporter_last_data_timestamp_seconds",
        "easee_exporter_stream_connected",
        "easee_exporter_stream_reconnects_total",
        "easee_exporter_webhook_requests_total",
    }
)

#: Names beyond the contract that the dashboards and alert rules were built on.
AGREED_METRICS = frozenset(
    {
        "easee_charger_circuit_dynamic_current_limit_amperes",
        "easee_charger_circuit_max_current_amperes",
        "easee_charger_dynamic_current_limit_amperes",
        "easee_exporter_decode_errors_total",
        "easee_exporter_liveness_max_data_age_seconds",
        "easee_exporter_token_refreshes_total",
        "easee_exporter_watchdog_reconnects_total",
        "easee_exporter_webhook_auth_failures_total",
    }
)
