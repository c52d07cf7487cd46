"""Command-line entry point: dispatches to the sub-commands of the product contract."""

from __future__ import annotations

import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``easee-exporter [simulate|check-config|healthcheck] ...`` and return the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "simulate":
        from exporter.simulator.cli import main as simulate

        return simulate(args[1:])
    print("usage: easee-exporter simulate [options]", file=sys.stderr)
    return 2
