"""The control API: authenticated, confirmed, idempotent charger commands over HTTP.

The service mounts it with :func:`add_routes` and a :class:`Controller` (see
:mod:`exporter.webhooks.routes`); docs/webhooks.md is the user's reference.
"""

from exporter.webhooks.routes import Controller, ControllerLimits, add_routes
from exporter.webhooks.runner import AccountLookup, CommandTarget

__all__ = ["AccountLookup", "CommandTarget", "Controller", "ControllerLimits", "add_routes"]
