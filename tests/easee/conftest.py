"""Fixtures shared by the Easee client tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    """The HTTP session the client under test uses (one per test, like the service's one)."""
    async with aiohttp.ClientSession() as session:
        yield session
