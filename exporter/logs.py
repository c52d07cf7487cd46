"""The service's one logging setup: structlog and the standard library through one chain.

- JSON lines when the output is not a terminal, the console renderer otherwise (or as
  ``logging.format`` says); ISO timestamps in UTC; context variables merged first.
- Standard-library loggers (``aiohttp.*``, ``pysignalr``, ``websockets``) are rendered by the
  same :class:`structlog.stdlib.ProcessorFormatter`, so they get the same fields, redaction
  and format. ``pysignalr`` and ``websockets`` stay at WARNING unless extended debug is on.
- Redaction (unless ``logging.unsafe``, the plugin's "Log non sécurisé") masks passwords,
  tokens, ``Authorization`` values, JWTs, webhook secrets and every configured secret value,
  in values, nested structures, free text and rendered exceptions.
- Ping and keep-alive chatter is dropped unless ``logging.extended_debug`` (the plugin's
  "Debug étendu"); so are successful probe and scrape access lines unless the level is debug.

:func:`configure_logging` installs it and returns a :class:`LogSetup` whose
:meth:`~LogSetup.apply` changes level, format and switches at run time (on reload).
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterable, Mapping
from typing import Any, TextIO
from urllib.parse import quote, quote_plus

import structlog
from structlog.processors import ExceptionRenderer
from structlog.tracebacks import ExceptionDictTransformer
from structlog.typing import EventDict, Processor, WrappedLogger

from exporter.config.model import LoggingSettings

MASK = "***"

# Libraries whose debug output is the ping noise the plugin's "Debug étendu" hid.
CHATTY_LIBRARIES = ("pysignalr", "websockets")

_SENSITIVE_KEYS = frozenset(
    {
        "authorization",
        "proxyauthorization",
        "cookie",
        "setcookie",
        "bearer",
        "pwd",
        "xapikey",
    }
)
_SENSITIVE_SUFFIXES = ("password", "passwd", "secret", "token", "apikey")
_AUTH_KEYS = frozenset({"authorization", "proxyauthorization"})

_KEY_WORDS = r"[\w-]*(?:password|passwd|secret|token|api[_-]?key)"
_TEXT_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    # "password": "x", 'accessToken': 'x' (JSON bodies, dict reprs in f-strings)
    (
        re.compile(rf"""(?i)(["']{_KEY_WORDS}["']\s*[:=]\s*)(["'])(?:\\.|(?!\2).)*\2"""),
        rf"\1\2{MASK}\2",
    ),
    # password=x, access_token=x (query strings, key=value text)
    (re.compile(rf"""(?i)\b({_KEY_WORDS})=(?!\*\*\*)[^\s&"',;)}}\]]+"""), rf"\1={MASK}"),
    # "Authorization": "Token x" and header lines such as "Authorization: x"
    (
        re.compile(
            r"""(?i)(["']?(?:proxy-)?authorization["']?\s*[:=]\s*)(["'])(?:\\.|(?!\2).)*\2"""
        ),
        rf"\1\2{MASK}\2",
    ),
    (re.compile(r"""(?i)\b((?:proxy-)?authorization:[ \t]*)(?!["'])[^\r\n]+"""), rf"\1{MASK}"),
    (re.compile(r"(?i)\b(Bearer\s+)[A-Za-z0-9\-._~+/]+=*"), rf"\1{MASK}"),
    (re.compile(r"(?i)\b(Basic\s+)[A-Za-z0-9+/]{8,}=*"), rf"\1{MASK}"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"), MASK),
    (re.compile(r"\b(whsec_)[A-Za-z0-9+/=]+"), rf"\1{MASK}"),
)

# What the plugin's filter dropped (seed-behaviour.md section 9), plus the same chatter from
# pysignalr and websockets: SignalR ping frames, PING/PONG frames, keep-alive lines.
_CHATTER = re.compile(
    r"""(?ix)
      \{\s*"type"\s*:\s*6\s*\}        # SignalR ping frame
    | ^\s*[<>]\s+(?:PING|PONG)\b       # websockets frame log
    | \bkeep[-\s]?alive\b
    | \bping(?:s|ed|ing)?\b | \bpong\b | PingMessage
    | ^Raw\ message\ incomm?ing
    """
)
_PROBE_ACCESS = re.compile(
    r'"(?:GET|HEAD) /(?:metrics|healthz|livez|readyz|-/healthy|-/ready)(?:\?\S*)? HTTP/[\d.]+"'
    r" [23]\d\d"
)


def _normalise_key(key: object) -> str:
    return re.sub(r"[^a-z0-9]", "", str(key).lower())


def _is_sensitive_key(key: object) -> bool:
    name = _normalise_key(key)
    return name in _SENSITIVE_KEYS or name.endswith(_SENSITIVE_SUFFIXES)


def _variants(secret: str) -> set[str]:
    """The forms a secret takes once written into JSON, a URL or a Python repr."""
    return {
        secret,
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        quote(secret, safe=""),
        quote_plus(secret, safe=""),
        repr(secret)[1:-1],
    }


class Redactor:
    """A structlog processor that masks secrets anywhere in an event.

    Known secret values (registered with :meth:`set_secrets`) are replaced wherever they
    occur; keys that name a secret have their value masked; free text is searched for
    credentials by shape (``Bearer x``, JWTs, ``password=x``, ``"token": "x"``, ...).
    """

    # Shorter values would mask ordinary words and numbers all over the logs.
    MIN_KNOWN_LENGTH = 4

    def __init__(self, secrets: Iterable[str] = (), *, enabled: bool = True) -> None:
        self.enabled = enabled
        self._known: re.Pattern[str] | None = None
        self.set_secrets(secrets)

    def set_secrets(self, secrets: Iterable[str]) -> None:
        """Replace the set of exact values to mask (called at start-up and on reload)."""
        forms = {
            form
            for secret in secrets
            if len(secret) >= self.MIN_KNOWN_LENGTH
            for form in _variants(secret)
        }
        if not forms:
            self._known = None
            return
        # Longest first, so a secret that contains another is masked whole.
        ordered = sorted(forms, key=len, reverse=True)
        self._known = re.compile("|".join(re.escape(f) for f in ordered))

    def text(self, text: str) -> str:
        """``text`` with every recognisable secret masked."""
        if self._known is not None:
            text = self._known.sub(MASK, text)
        for pattern, replacement in _TEXT_RULES:
            text = pattern.sub(replacement, text)
        return text

    def value(self, value: object, key: object = None) -> Any:
        """A copy of ``value`` that is safe to log; ``key`` is the name it is logged under."""
        if key is not None and _is_sensitive_key(key):
            if value is None or value == "" or isinstance(value, bool):
                return value
            if isinstance(value, str) and _normalise_key(key) in _AUTH_KEYS:
                scheme, _, rest = value.partition(" ")
                return f"{scheme} {MASK}" if rest else MASK
            return MASK
        if isinstance(value, str):
            return self.text(value)
        if value is None or isinstance(value, bool | int | float):
            return value
        if isinstance(value, Mapping):
            return {self._key(k): self.value(v, k) for k, v in value.items()}
        if isinstance(value, list | tuple | set | frozenset):
            return [self.value(v) for v in value]
        if isinstance(value, BaseException):
            return self.text(f"{type(value).__name__}: {value}")
        # Anything else is rendered as text now, so that its repr gets masked too.
        return self.text(repr(value))

    def _key(self, key: object) -> str | int | float | bool | None:
        if isinstance(key, str):
            return self.text(key)
        if key is None or isinstance(key, int | float | bool):
            return key
        return self.text(repr(key))

    def __call__(self, logger: WrappedLogger, method_name: str, event_dict: EventDict) -> EventDict:
        if not self.enabled:
            return event_dict
        return {
            key: self.value(value, None if key == "event" else key)
            for key, value in event_dict.items()
        }


def _record_text(record: logging.LogRecord) -> str:
    if isinstance(record.msg, dict):  # from structlog, through wrap_for_formatter
        return " ".join(str(v) for v in record.msg.values() if isinstance(v, str))
    try:
        return record.getMessage()
    except (TypeError, ValueError):
        return str(record.msg)


class NoiseFilter(logging.Filter):
    """Drops ping/keep-alive debug chatter unless extended debug is on, and successful
    probe and scrape access lines (``/metrics``, ``/healthz``...) unless the level is debug."""

    def __init__(self) -> None:
        super().__init__()
        self.extended_debug = False
        self.keep_probes = False

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno <= logging.DEBUG and not self.extended_debug:
            if isinstance(record.msg, dict) and record.msg.get("chatter"):
                return False
            if _CHATTER.search(_record_text(record)):
                return False
        if self.keep_probes or record.name != "aiohttp.access":
            return True
        return _PROBE_ACCESS.search(_record_text(record)) is None


class _Handler(logging.StreamHandler):  # type: ignore[type-arg]
    """The handler this module installs on the root logger (found again by its class)."""


def _shared_processors() -> list[Processor]:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def _resolve_format(options: LoggingSettings, stream: TextIO) -> str:
    if options.format != "auto":
        return options.format
    isatty = getattr(stream, "isatty", None)
    return "console" if isatty is not None and isatty() else "json"


class LogSetup:
    """The installed logging configuration; :meth:`apply` changes it at run time."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.redactor = Redactor()
        self.noise = NoiseFilter()
        self.handler = _Handler(stream)
        self.handler.addFilter(self.noise)
        self.format = "json"

    def apply(self, options: LoggingSettings, secrets: Iterable[str] = ()) -> None:
        """Use ``options`` and mask ``secrets`` from now on (start-up and every reload)."""
        self.redactor.enabled = not options.unsafe
        self.redactor.set_secrets(secrets)
        self.noise.extended_debug = options.extended_debug
        self.noise.keep_probes = options.level == "debug"
        self.format = _resolve_format(options, self.stream)
        renderer: Processor
        exceptions: Processor
        if self.format == "console":
            colors = bool(getattr(self.stream, "isatty", lambda: False)())
            # Render the traceback to text before redaction; the console renderer would
            # otherwise format exc_info itself, after the redactor has run.
            exceptions = structlog.processors.format_exc_info
            renderer = structlog.dev.ConsoleRenderer(colors=colors)
        else:
            # Locals off: frames' local variables are where passwords live.
            exceptions = ExceptionRenderer(ExceptionDictTransformer(show_locals=False))
            renderer = structlog.processors.JSONRenderer()
        self.handler.setFormatter(
            structlog.stdlib.ProcessorFormatter(
                foreign_pre_chain=[*_shared_processors(), structlog.stdlib.ExtraAdder()],
                processors=[
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    structlog.processors.StackInfoRenderer(),
                    exceptions,
                    self.redactor,
                    renderer,
                ],
            )
        )
        level = logging.getLevelNamesMapping()[options.level.upper()]
        logging.getLogger().setLevel(level)
        for name in CHATTY_LIBRARIES:
            logging.getLogger(name).setLevel(
                logging.NOTSET if options.extended_debug else logging.WARNING
            )

    def close(self) -> None:
        """Remove the handler (tests; the service keeps it until it exits)."""
        logging.getLogger().removeHandler(self.handler)
        self.handler.flush()


def configure_logging(
    options: LoggingSettings, *, secrets: Iterable[str] = (), stream: TextIO | None = None
) -> LogSetup:
    """Install the logging chain on the root logger, writing to ``stream`` (stderr).

    Replaces a setup installed by an earlier call. Returns the handle used to apply a
    reloaded configuration.
    """
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(handler)
    setup = LogSetup(stream if stream is not None else sys.stderr)
    setup.apply(options, secrets)
    root.addHandler(setup.handler)
    logging.captureWarnings(True)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.filter_by_level,
            *_shared_processors()[1:],
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    return setup
