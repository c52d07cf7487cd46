"""Fixtures of the control API tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import structlog


@pytest.fixture(autouse=True)
def uncached_structlog() -> Iterator[None]:
    """structlog's defaults, so ``capture_logs`` sees every logger of the webhooks package.

    Another test may have left the service's configuration installed, which caches a logger
    on first use; a cached logger would then bypass ``capture_logs``.
    """
    structlog.reset_defaults()
    yield
    structlog.contextvars.clear_contextvars()
