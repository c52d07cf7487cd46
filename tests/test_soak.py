"""The bounded soak of ``bench/soak.py`` (140 s of real time): short tokens,
repeated drops and negotiate failures, a long outage, one silent charger. See that module
for the scenario and the targets."""

from __future__ import annotations

import pytest

from bench.soak import soak


@pytest.mark.timeout(300)
async def test_a_bounded_soak_meets_every_target() -> None:
    report = await soak(140.0)
    assert report.failures == [], report
    assert report.outages >= 6
    assert report.recoveries, "no recovery was measured"
    assert report.negotiates_in_long_outage > 0
