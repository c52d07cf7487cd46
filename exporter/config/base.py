"""The base of every configuration model (the service's file and the web configuration)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Frozen(BaseModel):
    """Base of every configuration model: immutable, strict about keys, silent about inputs."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)
