"""``easee-exporter healthcheck``: exit 0 when the liveness endpoint answers 200, else 1.

Meant for Docker's ``HEALTHCHECK`` in images without curl, so it imports only the standard
library and never goes through a proxy. The default URL follows ``EASEE_EXPORTER_LISTEN``
when that is set; use ``--url`` when the port is set in the configuration file instead.

Against HTTPS (``--web.config.file`` with ``tls_server_config``) the certificate is verified
against the system's CAs, or ``--ca-file``; ``--insecure`` skips that for a self-signed
certificate probed over loopback; ``--cert-file``/``--key-file`` present a client
certificate when the service requires one.
"""

from __future__ import annotations

import argparse
import os
import ssl
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from urllib.parse import urlsplit

from exporter.cli import EXIT_FAILURE, EXIT_OK, parse

DEFAULT_PORT = 34739
DEFAULT_TIMEOUT = 5.0


def default_url(env: Mapping[str, str]) -> str:
    """The local liveness URL of a service listening where ``EASEE_EXPORTER_LISTEN`` says."""
    listen = env.get("EASEE_EXPORTER_LISTEN", "")
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit():
        host, port = "", str(DEFAULT_PORT)
    host = host.strip("[]")
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}/healthz"


def tls_context(
    ca_file: str | None = None,
    *,
    insecure: bool = False,
    cert_file: str | None = None,
    key_file: str | None = None,
) -> ssl.SSLContext:
    """The client context for an https:// URL (raises ``OSError`` or ``ssl.SSLError``)."""
    context = ssl.create_default_context(cafile=ca_file)
    if insecure:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if cert_file is not None:
        context.load_cert_chain(cert_file, key_file)
    return context


def check(url: str, timeout: float, context: ssl.SSLContext | None = None) -> str | None:
    """None when ``url`` answers 200 within ``timeout`` seconds, else the reason it did not."""
    # No proxy: HTTP_PROXY in a container's environment must not reroute a local probe.
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=context)
    )
    try:
        with opener.open(url, timeout=timeout) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        return f"HTTP {error.code}"
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        return f"no answer: {reason}"
    return None if status == 200 else f"HTTP {status}"


def main(args: Sequence[str]) -> int:
    """Run ``healthcheck`` with ``args`` (after the command name)."""
    parser = argparse.ArgumentParser(
        prog="easee-exporter healthcheck",
        description="Exit 0 when the service's liveness endpoint answers 200, 1 otherwise.",
    )
    # The default shown is the one this run would use (EASEE_EXPORTER_LISTEN moves it).
    parser.add_argument("--url", help=f"liveness URL (default: {default_url(os.environ)})")
    parser.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"give up after this long (default: {DEFAULT_TIMEOUT:g})",
    )
    parser.add_argument(
        "--ca-file",
        metavar="PATH",
        help="CA certificate(s) to verify an https:// URL against (default: the system's)",
    )
    parser.add_argument(
        "--insecure",
        action="store_true",
        help="do not verify the certificate of an https:// URL (self-signed, over loopback)",
    )
    parser.add_argument(
        "--cert-file", metavar="PATH", help="client certificate, when the service asks for one"
    )
    parser.add_argument("--key-file", metavar="PATH", help="the client certificate's key")
    parsed = parse(parser, args)
    if isinstance(parsed, int):
        return parsed
    url: str = parsed.url or default_url(os.environ)
    if urlsplit(url).scheme not in ("http", "https"):
        print(f"healthcheck: {url} is not an http:// or https:// URL", file=sys.stderr)
        return EXIT_FAILURE
    try:
        context = tls_context(
            parsed.ca_file,
            insecure=parsed.insecure,
            cert_file=parsed.cert_file,
            key_file=parsed.key_file,
        )
    except (OSError, ssl.SSLError) as error:
        print(f"healthcheck: cannot use the TLS files: {error}", file=sys.stderr)
        return EXIT_FAILURE
    problem = check(url, parsed.timeout, context)
    if problem is None:
        print(f"healthy: {url}")
        return EXIT_OK
    print(f"unhealthy: {url}: {problem}", file=sys.stderr)
    return EXIT_FAILURE
