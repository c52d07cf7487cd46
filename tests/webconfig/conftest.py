"""Fixtures of the web configuration tests."""

from __future__ import annotations

# These tests drive the control API's authentication too: the same reset keeps its loggers
# uncached for the webhooks tests' capture_logs.
from tests.webhooks.conftest import uncached_structlog as uncached_structlog
