"""The OpenAPI 3 description of ``/api/v1``, served at ``GET /api/v1/openapi.json``.

Written by hand next to the routes and kept true by tests/webhooks: schemathesis runs it
against the service on a real socket and every documented answer is checked against it.
"""

from __future__ import annotations

from typing import Any

from exporter import __version__
from exporter.easee.currents import MIN_CHARGING_CURRENT
from exporter.webhooks.actions import ACTION_NAMES, ALERT_ACTION_NAMES
from exporter.webhooks.currents import AMPERES_TEXT, CIRCUIT_ID_TEXT, MAX_TTL_MINUTES
from exporter.webhooks.problems import KINDS, TYPE_PREFIX

JSON = "application/json"
PROBLEM = "application/problem+json"

_RESULTS = [
    "confirmed",
    "unchanged",
    "accepted",
    "rejected",
    "timeout",
    "conflict",
    "cloud_unavailable",
    "error",
    "unknown_charger",
    "unknown_circuit",
]
_ALERT_RESULTS = [
    *_RESULTS,
    "ignored",
    "skipped",
    "invalid",
    "forbidden",
    "not_run",
]


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "nullable": True}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _response(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/responses/{name}"}


_RETRY_AFTER = {
    "description": "Seconds to wait before trying again.",
    "required": True,
    "schema": {"type": "string", "pattern": "^[0-9]+$"},
}


def _problem_response(description: str, *, retry_after: bool = False) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {PROBLEM: {"schema": _ref("Problem")}},
    }
    if retry_after:
        response["headers"] = {"Retry-After": _RETRY_AFTER}
    return response


_STATE_PROPERTIES: dict[str, Any] = {
    "online": _nullable({"type": "boolean"}),
    "op_mode": _nullable({"type": "integer", "description": "Easee op mode (0-8)"}),
    "op_mode_label": _nullable({"type": "string"}),
    "vehicle_connected": _nullable({"type": "boolean"}),
    "paused": _nullable({"type": "boolean"}),
    "cable_lock_state": _nullable(
        {
            "type": "integer",
            "minimum": 0,
            "maximum": 3,
            "description": "cable locked + 2 x permanent lock on",
        }
    ),
    "cable_permanently_locked": _nullable({"type": "boolean"}),
}

#: ``charger_id`` with a non-blank value, or, without it, its alias ``charger``.
_NAMES_A_CHARGER: dict[str, Any] = {
    "anyOf": [
        {
            "required": ["charger_id"],
            "properties": {"charger_id": {"type": "string", "pattern": "\\S"}},
        },
        {
            "not": {"required": ["charger_id"]},
            "required": ["charger"],
            "properties": {"charger": {"type": "string", "pattern": "\\S"}},
        },
    ]
}

_PHASES: dict[str, Any] = {
    "type": "array",
    "minItems": 3,
    "maxItems": 3,
    "items": {"type": "number"},
    "description": "amperes on L1, L2, L3",
}

_SCHEMAS: dict[str, Any] = {
    "Problem": {
        "type": "object",
        "description": "RFC 9457 problem details.",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {
                "type": "string",
                "enum": [TYPE_PREFIX + kind for kind in KINDS],
            },
            "title": {"type": "string"},
            "status": {"type": "integer", "minimum": 400, "maximum": 599},
            "detail": {"type": "string"},
            "charger_id": {"type": "string"},
            "circuit_id": {"type": "integer"},
            "action": {"type": "string", "enum": list(ALERT_ACTION_NAMES)},
            "result": {"type": "string", "enum": _RESULTS},
            "results": {"type": "array", "items": _ref("AlertResult")},
        },
    },
    "ChargerState": {
        "type": "object",
        "required": list(_STATE_PROPERTIES),
        "properties": _STATE_PROPERTIES,
    },
    "Charger": {
        "type": "object",
        "required": [
            *("charger_id", "name", "account", *_STATE_PROPERTIES),
            *("circuit_id", "dynamic_current", "last_update"),
        ],
        "properties": {
            "charger_id": {"type": "string"},
            "name": {"type": "string"},
            "account": {"type": "string"},
            **_STATE_PROPERTIES,
            "circuit_id": _nullable({"type": "integer"}),
            "dynamic_current": _nullable(
                {"type": "number", "description": "observation 48, amperes (0: paused)"}
            ),
            "last_update": _nullable({"type": "string", "format": "date-time"}),
        },
    },
    "ChargerCurrent": {
        "type": "object",
        "required": ["amperes"],
        "additionalProperties": False,
        "properties": {
            "amperes": {
                "type": "integer",
                "minimum": 0,
                "description": f"0 (pause) or {MIN_CHARGING_CURRENT} A up to the charger's "
                "maximum (observation 47, else 32)",
            },
            "ttl_minutes": {
                "type": "integer",
                "minimum": 0,
                "maximum": MAX_TTL_MINUTES,
                "description": "minutes before Easee lifts the limit (0: until changed); "
                "sent again even when the charger is already at that current",
            },
        },
    },
    "CircuitCurrent": {
        "type": "object",
        "additionalProperties": False,
        "oneOf": [{"required": ["amperes"]}, {"required": ["phases"]}],
        "properties": {
            "amperes": {"type": "number", "minimum": 0, "description": "every phase"},
            "phases": {
                "type": "array",
                "minItems": 3,
                "maxItems": 3,
                "items": {"type": "number", "minimum": 0},
                "description": "L1, L2, L3, each at most the circuit's maximum",
            },
            "ttl_minutes": {"type": "integer", "minimum": 0, "maximum": MAX_TTL_MINUTES},
        },
    },
    "Circuit": {
        "type": "object",
        "required": [
            *("circuit_id", "site_id", "site_name", "panel", "rated_current"),
            *("max_current", "dynamic_current", "chargers"),
        ],
        "properties": {
            "circuit_id": {"type": "integer"},
            "site_id": {"type": "integer"},
            "site_name": {"type": "string"},
            "panel": {"type": "string"},
            "rated_current": _nullable({"type": "number"}),
            "max_current": _nullable(_PHASES),
            "dynamic_current": _nullable(_PHASES),
            "chargers": {"type": "array", "items": {"type": "string"}},
        },
    },
    "CircuitResult": {
        "type": "object",
        "required": [
            *("circuit_id", "action", "result", "detail", "latency_ms", "phases"),
            *("ttl_minutes", "command", "dynamic_current"),
        ],
        "properties": {
            "circuit_id": {"type": "integer"},
            "action": {"type": "string", "enum": ["circuit_current"]},
            "result": {"type": "string", "enum": ["confirmed", "unchanged", "accepted"]},
            "detail": {"type": "string"},
            "latency_ms": {"type": "number", "minimum": 0},
            "phases": _PHASES,
            "ttl_minutes": _nullable({"type": "integer"}),
            "command": _nullable(_ref("Command")),
            "dynamic_current": _nullable(_PHASES),
        },
    },
    "Command": {
        "type": "object",
        "description": "Easee's acknowledgement, and the charger's CommandResponse once it came.",
        "required": ["command_id", "ticks"],
        "properties": {
            "command_id": {"type": "integer"},
            "ticks": {"type": "integer"},
            "was_accepted": {"type": "boolean"},
            "result_code": {"type": "integer"},
            "delivered_at": _nullable({"type": "string", "format": "date-time"}),
            "matched_by": _nullable(
                {
                    "type": "string",
                    "enum": ["ticks", "command_id", None],
                    "description": "how the CommandResponse was paired with the command: "
                    "the same ticks, or the command id alone (no other command with that id "
                    "waiting, and created after this one was sent)",
                }
            ),
        },
    },
    "CommandResult": {
        "type": "object",
        "required": [
            "charger_id",
            "action",
            "result",
            "detail",
            "latency_ms",
            "command",
            "state",
        ],
        "properties": {
            "charger_id": {"type": "string"},
            "action": {"type": "string", "enum": [*ACTION_NAMES, "current"]},
            "result": {"type": "string", "enum": ["confirmed", "unchanged", "accepted"]},
            "detail": {"type": "string"},
            "latency_ms": {"type": "number", "minimum": 0},
            "command": _nullable(_ref("Command")),
            "state": _nullable(_ref("ChargerState")),
            "amperes": {"type": "integer", "description": "the current asked for (current)"},
            "ttl_minutes": _nullable({"type": "integer"}),
        },
    },
    "Alert": {
        "type": "object",
        "required": ["status", "labels"],
        "properties": {
            "status": {"type": "string", "enum": ["firing", "resolved"]},
            "labels": {
                "type": "object",
                "description": "easee_action runs while firing, easee_resolve_action when "
                "resolved, on charger_id; current and circuit_current set easee_amperes (on "
                "charger_id, on circuit_id) and restore the previous current, or "
                "easee_resolve_amperes, when resolved; alerts without easee_action are "
                "ignored.",
                "properties": {
                    "easee_action": {"type": "string", "enum": list(ALERT_ACTION_NAMES)},
                    "easee_resolve_action": {"type": "string", "enum": list(ACTION_NAMES)},
                    "easee_amperes": {"type": "string", "pattern": f"^{AMPERES_TEXT.pattern}$"},
                    "easee_resolve_amperes": {
                        "type": "string",
                        "pattern": f"^{AMPERES_TEXT.pattern}$",
                    },
                    "charger_id": {"type": "string"},
                    "circuit_id": {"type": "string", "pattern": f"^{CIRCUIT_ID_TEXT.pattern}$"},
                },
                "additionalProperties": {"type": "string"},
            },
            "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
            "startsAt": {"type": "string"},
            "endsAt": {"type": "string"},
            "generatorURL": {"type": "string"},
            "fingerprint": {"type": "string"},
        },
        # The service's rule (exporter/webhooks/alertmanager.py): an alert it acts on names
        # its charger. OpenAPI 3.0 has no if/then, so "ignored, or names a charger".
        "anyOf": [
            {"properties": {"labels": {"not": {"required": ["easee_action"]}}}},
            {
                "properties": {
                    "status": {"enum": ["resolved"]},
                    "labels": {"not": {"required": ["easee_resolve_action"]}},
                }
            },
            {"properties": {"labels": _NAMES_A_CHARGER}},
            {
                "properties": {
                    "labels": {
                        "required": ["easee_action", "circuit_id"],
                        "properties": {"easee_action": {"enum": ["circuit_current"]}},
                    }
                }
            },
        ],
    },
    "AlertmanagerNotification": {
        "type": "object",
        "description": "Alertmanager's webhook payload, version 4.",
        "required": ["version", "status", "alerts"],
        "properties": {
            "version": {"type": "string", "enum": ["4"]},
            "status": {"type": "string", "enum": ["firing", "resolved"]},
            "alerts": {"type": "array", "maxItems": 1000, "items": _ref("Alert")},
            "receiver": {"type": "string"},
            "groupLabels": {"type": "object", "additionalProperties": {"type": "string"}},
            "commonLabels": {"type": "object", "additionalProperties": {"type": "string"}},
            "commonAnnotations": {
                "type": "object",
                "additionalProperties": {"type": "string"},
            },
            "externalURL": {"type": "string"},
            "groupKey": {"type": "string"},
            "truncatedAlerts": {"type": "integer", "minimum": 0},
        },
    },
    "AlertResult": {
        "type": "object",
        "required": [
            "index",
            "alertname",
            "fingerprint",
            "status",
            "charger_id",
            "action",
            "result",
            "detail",
        ],
        "properties": {
            "index": {"type": "integer", "minimum": 0},
            "alertname": _nullable({"type": "string"}),
            "fingerprint": _nullable({"type": "string"}),
            "status": {"type": "string", "enum": ["firing", "resolved"]},
            "charger_id": _nullable({"type": "string"}),
            "circuit_id": {"type": "integer"},
            "action": _nullable({"type": "string", "enum": list(ALERT_ACTION_NAMES)}),
            "result": {"type": "string", "enum": _ALERT_RESULTS},
            "detail": {"type": "string"},
        },
    },
    "AlertmanagerAnswer": {
        "type": "object",
        "required": ["results"],
        "properties": {"results": {"type": "array", "items": _ref("AlertResult")}},
    },
}

_RESPONSES: dict[str, Any] = {
    "BadRequest": _problem_response("Malformed request, or an unknown action."),
    "Unauthorized": {
        "description": "Missing or wrong credentials.",
        "headers": {
            "WWW-Authenticate": {
                "required": True,
                "schema": {"type": "string", "enum": ['Bearer realm="easee-exporter"']},
            }
        },
        "content": {PROBLEM: {"schema": _ref("Problem")}},
    },
    "Forbidden": _problem_response("The credential lacks this action or charger."),
    "NotFound": _problem_response("Unknown charger or circuit."),
    "Conflict": _problem_response(
        "Not possible now: no car connected (pause, resume) or the charger is offline."
    ),
    "TooLarge": _problem_response("The body is larger than web.max_body_size."),
    "TooMany": _problem_response(
        "Too many failed authentications from this address, the permanent lock switched too "
        "often (web.lock_rate), or another command to the charger (change of the circuit) "
        "is in progress.",
        retry_after=True,
    ),
    "Rejected": _problem_response(
        "The charger rejected the command (wasAccepted false), or Easee refused it."
    ),
    "Unavailable": _problem_response(
        "The Easee cloud is unavailable or rate-limiting, or the account is not ready.",
        retry_after=True,
    ),
    "Timeout": _problem_response("No confirmation within easee.command_timeout."),
}

_AUTH_RESPONSES = {
    "401": _response("Unauthorized"),
    "403": _response("Forbidden"),
    "413": _response("TooLarge"),
    "429": _response("TooMany"),
}

_SECURITY: list[dict[str, list[str]]] = [{"bearer": []}, {"standardWebhooks": []}]


def _current_operation(
    operation_id: str,
    summary: str,
    description: str,
    target: dict[str, Any],
    body: str,
    result: str,
    *,
    wait: dict[str, Any],
    errors: dict[str, Any],
) -> dict[str, Any]:
    """A POST that sets a current: its target in the path, ``?wait``, a JSON body, and the
    answers of a command."""
    return {
        "post": {
            "operationId": operation_id,
            "summary": summary,
            "description": description,
            "security": _SECURITY,
            "parameters": [target, wait],
            "requestBody": {"required": True, "content": {JSON: {"schema": _ref(body)}}},
            "responses": {
                "200": {
                    "description": "Confirmed, or already at that current.",
                    "content": {JSON: {"schema": _ref(result)}},
                },
                "202": {
                    "description": "`?wait=false`: the cloud accepted the change.",
                    "content": {JSON: {"schema": _ref(result)}},
                },
                **errors,
            },
        }
    }


def document(prefix: str = "/api/v1") -> dict[str, Any]:
    """The OpenAPI document, with paths under ``prefix``."""
    command = {
        "post": {
            "operationId": "runAction",
            "summary": "Pause, resume, lock or unlock a charger",
            "description": "By default waits for the charger's confirmation. Idempotent: a "
            "charger already in the asked state answers `unchanged` and nothing is sent. "
            "Two identical requests at the same time send one command.",
            "security": _SECURITY,
            "parameters": [
                {
                    "name": "charger_id",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "minLength": 1, "maxLength": 64},
                    "example": "EH000001",
                },
                {
                    "name": "action",
                    "in": "path",
                    "required": True,
                    "schema": {"type": "string", "enum": list(ACTION_NAMES)},
                },
                {
                    "name": "wait",
                    "in": "query",
                    "required": False,
                    "description": "false: answer 202 once the cloud accepted the command",
                    "schema": {"type": "boolean", "default": True},
                },
            ],
            "requestBody": {
                "required": False,
                "description": "Not needed; an empty body or any JSON object is accepted.",
                "content": {JSON: {"schema": {"type": "object"}}},
            },
            "responses": {
                "200": {
                    "description": "Confirmed by the charger, or already in the asked state.",
                    "content": {JSON: {"schema": _ref("CommandResult")}},
                },
                "202": {
                    "description": "`?wait=false`: the cloud accepted the command.",
                    "content": {JSON: {"schema": _ref("CommandResult")}},
                },
                "400": _response("BadRequest"),
                **_AUTH_RESPONSES,
                "404": _response("NotFound"),
                "409": _response("Conflict"),
                "502": _response("Rejected"),
                "503": _response("Unavailable"),
                "504": _response("Timeout"),
            },
        }
    }
    alertmanager = {
        "post": {
            "operationId": "alertmanagerWebhook",
            "summary": "Alertmanager webhook receiver (payload version 4)",
            "description": "Runs the actions named by alert labels (alerts/README.md). 503 "
            "asks Alertmanager to retry; 4xx payloads run nothing.",
            "security": _SECURITY,
            "requestBody": {
                "required": True,
                "content": {JSON: {"schema": _ref("AlertmanagerNotification")}},
            },
            "responses": {
                "200": {
                    "description": "Every action succeeded, was unchanged, or is reported.",
                    "content": {JSON: {"schema": _ref("AlertmanagerAnswer")}},
                },
                "400": _response("BadRequest"),
                **_AUTH_RESPONSES,
                "404": _response("NotFound"),
                "503": _response("Unavailable"),
            },
        }
    }
    chargers = {
        "get": {
            "operationId": "listChargers",
            "summary": "The chargers and their derived state",
            "security": _SECURITY,
            "responses": {
                "200": {
                    "description": "The chargers the credential may read.",
                    "content": {JSON: {"schema": {"type": "array", "items": _ref("Charger")}}},
                },
                "400": _response("BadRequest"),
                **_AUTH_RESPONSES,
            },
        }
    }
    wait = {
        "name": "wait",
        "in": "query",
        "required": False,
        "description": "false: answer 202 once the cloud accepted the command",
        "schema": {"type": "boolean", "default": True},
    }
    answers = {
        "400": _response("BadRequest"),
        **_AUTH_RESPONSES,
        "404": _response("NotFound"),
        "409": _response("Conflict"),
        "502": _response("Rejected"),
        "503": _response("Unavailable"),
        "504": _response("Timeout"),
    }
    charger_current = _current_operation(
        "setChargerCurrent",
        "Set a charger's dynamic current (observation 48)",
        "Sends set_dynamic_charger_current and waits for the charger's confirmation (its "
        "CommandResponse, then observation 48 reading the value). Already at that current, "
        "with no ttl_minutes: `unchanged`, nothing sent.",
        {
            "name": "charger_id",
            "in": "path",
            "required": True,
            "schema": {"type": "string", "minLength": 1, "maxLength": 64},
            "example": "EH000001",
        },
        "ChargerCurrent",
        "CommandResult",
        wait=wait,
        errors=answers,
    )
    circuits = {
        "get": {
            "operationId": "listCircuits",
            "summary": "The circuits of the accounts' sites, with their currents",
            "security": _SECURITY,
            "responses": {
                "200": {
                    "description": "The circuits with a charger the credential may read.",
                    "content": {JSON: {"schema": {"type": "array", "items": _ref("Circuit")}}},
                },
                "400": _response("BadRequest"),
                **_AUTH_RESPONSES,
            },
        }
    }
    circuit_current = _current_operation(
        "setCircuitCurrent",
        "Set a circuit's dynamic current per phase (observations 111-113)",
        "Posts the circuit settings (with ttl_minutes: dynamicCurrent) and waits until the "
        "circuit's chargers confirmed (CommandResponse 22) and report the new values. Needs "
        "circuit_current on every charger of the circuit.",
        {
            "name": "circuit_id",
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 0},
            "example": 61001,
        },
        "CircuitCurrent",
        "CircuitResult",
        wait=wait,
        errors=answers,
    )
    openapi = {
        "get": {
            "operationId": "openapi",
            "summary": "This description",
            "security": [],
            "responses": {
                "200": {
                    "description": "OpenAPI 3 document.",
                    "content": {JSON: {"schema": {"type": "object"}}},
                }
            },
        }
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "easee-exporter control API",
            "version": __version__,
            "description": "Authenticated, confirmed, idempotent control of Easee chargers. "
            "Errors are application/problem+json. See docs/webhooks.md.",
        },
        "paths": {
            f"{prefix}/chargers/{{charger_id}}/current": charger_current,
            f"{prefix}/chargers/{{charger_id}}/{{action}}": command,
            f"{prefix}/alertmanager": alertmanager,
            f"{prefix}/chargers": chargers,
            f"{prefix}/circuits": circuits,
            f"{prefix}/circuits/{{circuit_id}}/current": circuit_current,
            f"{prefix}/openapi.json": openapi,
        },
        "components": {
            "schemas": _SCHEMAS,
            "responses": _RESPONSES,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "standardWebhooks": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "webhook-signature",
                    "description": "Standard Webhooks v1: also send webhook-id and "
                    "webhook-timestamp; the signature is base64 HMAC-SHA256 of "
                    "'{id}.{timestamp}.{body}'.",
                },
            },
        },
    }
