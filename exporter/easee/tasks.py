"""Stopping background tasks for sure.

Python 3.11's ``asyncio.wait_for`` can swallow a cancellation that arrives just as the awaited
thing completes (gh-86296, fixed in 3.12), and pysignalr uses ``wait_for`` inside ``send()``.
A task that lost its cancellation that way runs on, and whoever awaits it after one
``cancel()`` waits for ever. So stopping cancels until the task is really done.
"""

from __future__ import annotations

import asyncio
from typing import Any


async def cancel_and_wait(task: asyncio.Task[Any], *, nudge: float = 1.0) -> None:
    """Cancel ``task`` and wait until it has finished, cancelling again after each ``nudge`` s.

    Its outcome is consumed, not raised: whoever owns the task reports failures elsewhere.
    If the caller is cancelled meanwhile, it still waits for ``task`` to end, then re-raises
    its own cancellation, so no task outlives its owner.
    """
    cancelled: asyncio.CancelledError | None = None
    task.cancel()
    while not task.done():
        try:
            done, _ = await asyncio.wait({task}, timeout=nudge)
        except asyncio.CancelledError as exc:
            cancelled = exc
            continue
        if not done:
            task.cancel()
    if not task.cancelled():
        task.exception()
    if cancelled is not None:
        raise cancelled
