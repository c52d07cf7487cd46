"""``easee-exporter simulate``: serve the simulated cloud until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys

from exporter.simulator.config import SimulatorConfig
from exporter.simulator.server import run_simulator


def _listen_address(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {text!r}")
    return host.strip("[]") or "0.0.0.0", int(port)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="easee-exporter simulate",
        description="Serve a simulated Easee cloud: REST, SignalR hub and admin API (/_sim/).",
    )
    parser.add_argument(
        "--web.listen-address",
        dest="listen",
        type=_listen_address,
        default=("127.0.0.1", 8080),
        help="HOST:PORT to listen on (default 127.0.0.1:8080; port 0 picks a free one)",
    )
    parser.add_argument("--chargers", type=int, default=3, help="chargers of the account")
    parser.add_argument("--seed", type=int, default=1, help="seed of the charger physics")
    parser.add_argument(
        "--time-scale", type=float, default=1.0, help="model seconds per real second"
    )
    parser.add_argument("--username", default="demo")
    parser.add_argument("--password", default="demo")
    return parser


def main(argv: list[str]) -> int:
    """Run the simulator; returns the exit code (2 for bad options)."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    if args.chargers < 0 or args.time_scale < 0:
        print("--chargers and --time-scale must not be negative", file=sys.stderr)
        return 2
    config = SimulatorConfig.single_account(
        username=args.username,
        password=args.password,
        chargers=args.chargers,
        seed=args.seed,
        time_scale=args.time_scale,
    )
    host, port = args.listen
    try:
        asyncio.run(_serve(config, host, port))
    except OSError as exc:
        print(f"cannot listen on {host}:{port}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return 0


async def _serve(config: SimulatorConfig, host: str, port: int) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with run_simulator(config, host, port) as sim:
        # One line a script can parse to find the port (with --web.listen-address HOST:0).
        print(f"simulated Easee cloud on {sim.base_url}", flush=True)
        print(f"  REST {sim.base_url}/api  hub {sim.hub_url}  admin {sim.admin_url}", flush=True)
        print(
            f"  account {config.accounts[0].username!r}, chargers "
            + ", ".join(sim.serials(config.accounts[0].username)),
            flush=True,
        )
        await stop.wait()
    with contextlib.suppress(NotImplementedError):
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)
