"""Settings shared by the whole suite."""

from __future__ import annotations

from hypothesis import settings

# A loaded machine (CI shares its cores) can take longer than Hypothesis's default 200 ms
# per example; a deadline then fails a correct test. Slow code is caught by the benchmarks.
settings.register_profile("suite", deadline=None)
settings.load_profile("suite")
