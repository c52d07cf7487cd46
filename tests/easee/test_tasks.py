"""Stopping tasks for sure, even one that swallows its first cancellation."""

from __future__ import annotations

import asyncio
import contextlib

from exporter.easee.tasks import cancel_and_wait


async def test_a_task_that_swallows_a_cancellation_is_still_stopped() -> None:
    stopped = asyncio.Event()

    async def stubborn() -> None:
        # The lost cancellation of Python 3.11's wait_for, in effect:
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(3600)
        try:
            await asyncio.sleep(3600)
        finally:
            stopped.set()

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    await asyncio.wait_for(cancel_and_wait(task, nudge=0.01), 2.0)
    assert task.done()
    assert stopped.is_set()


async def test_the_owner_waits_for_the_task_even_when_cancelled_itself() -> None:
    finished = asyncio.Event()

    async def slow_to_stop() -> None:
        try:
            await asyncio.sleep(3600)
        finally:
            await asyncio.sleep(0.05)
            finished.set()

    task = asyncio.create_task(slow_to_stop())
    await asyncio.sleep(0)
    owner = asyncio.create_task(cancel_and_wait(task))
    await asyncio.sleep(0)
    owner.cancel()
    await asyncio.wait({owner}, timeout=2.0)
    assert owner.cancelled()
    assert finished.is_set()
    assert task.done()


async def test_a_failed_task_does_not_raise_into_its_owner() -> None:
    async def broken() -> None:
        raise RuntimeError("boom")

    task = asyncio.create_task(broken())
    await asyncio.sleep(0)
    await cancel_and_wait(task)
    assert isinstance(task.exception(), RuntimeError)
