"""The audit line of every command: who asked what of which charger, and what came of it.

The line is written on the next turn of the event loop rather than inside the handler: its
values are fixed when the outcome is known, and formatting it (redaction, JSON) costs about
as much as the rest of a no-op request, so the caller gets the answer first. The context
variables of the request (request id and the like) go with it, as ``call_soon`` copies them.
"""

from __future__ import annotations

import asyncio
import functools

import structlog

_log = structlog.get_logger("exporter.webhooks.audit")


def audit(**fields: object) -> None:
    """Log ``command`` with ``fields`` once the current handler has answered."""
    asyncio.get_running_loop().call_soon(functools.partial(_log.info, "command", **fields))
