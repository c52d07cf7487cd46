"""Configuration problems: each one names where it is, and none of them carries a secret."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

Loc = tuple[str | int, ...]


def format_loc(loc: Loc) -> str:
    """Render a key path the way a user reads it in YAML: ``accounts[1].password_file``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else part
    return out


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One thing wrong with the configuration: where (``location``) and what (``message``).

    ``location`` is a key path (``accounts[1].password_file``), an environment variable with
    the key it sets (``EASEE_LOG_LEVEL (logging.level)``), a command-line flag, or the
    configuration file itself. ``message`` never contains a configured value.
    """

    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class ConfigError(Exception):
    """The configuration is invalid; ``problems`` lists every problem found, in order."""

    def __init__(self, problems: Iterable[ConfigProblem]) -> None:
        self.problems: tuple[ConfigProblem, ...] = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def __repr__(self) -> str:
        return f"ConfigError({len(self.problems)} problem(s))"

    def lines(self) -> Sequence[str]:
        """One line per problem, as the command line prints them."""
        return [str(p) for p in self.problems]
