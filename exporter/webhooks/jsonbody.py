"""Reading a request body as JSON, with every way hostile input can fail turned into a 400.

``json.loads`` has three failures besides a syntax error that a body under the size limit
can trigger: ``RecursionError`` for deep nesting (``[[[[...`` a few thousand deep), a
``ValueError`` for an integer past Python's digit limit (50,000 digits), and the
non-standard constants ``NaN`` and ``Infinity``, which it accepts unless told not to.
"""

from __future__ import annotations

import json

from pydantic import ValidationError

from exporter.webhooks.problems import Problem


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


def parse_json(body: bytes) -> object:
    """The body's JSON value, or a ``bad-request`` problem that does not echo the body."""
    try:
        return json.loads(body, parse_constant=_no_constant)
    except json.JSONDecodeError as error:
        raise Problem("bad-request", f"the body is not JSON: {error.msg}") from None
    except UnicodeDecodeError:
        raise Problem("bad-request", "the body is not UTF-8 JSON") from None
    except RecursionError:
        raise Problem("bad-request", "the body's JSON is nested too deeply") from None
    except ValueError:
        # The digit limit of int() and the constants refused above.
        raise Problem(
            "bad-request", "the body's JSON has a number this service does not accept"
        ) from None


def validation_detail(error: ValidationError) -> str:
    """What a body got wrong, by member path, never echoing a value (the first five)."""
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}"
        for e in error.errors(include_input=False, include_url=False)[:5]
    )
