"""Reading Easee's site documents: sites, their circuits (with chargers) and Equalizers.

``GET /api/accounts/products`` answers a list of SiteDTO, and ``GET /api/sites/{id}?detailed=true``
one of them (``easee-cloud-api.md`` 2.5, ``easee-equalizer.md`` 1): ``id``, ``name``,
``siteKey``, ``ratedCurrent``, ``circuits[]`` (each ``id``, ``siteId``, ``panelName``,
``ratedCurrent``, ``chargers[]`` of charger list elements) and ``equalizers[]`` (each
``id``, ``name``, ``siteId``, ``circuitId``). Easee may send ``circuits: null`` (homey
changelog 1.5.8) and ``equalizers: null`` or ``[]``; both read as empty. An element without a
usable id is skipped rather than failing the whole document: one odd circuit must not hide
the others.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from exporter.easee.errors import ProtocolError
from exporter.easee.models import Circuit, Equalizer, Site, json_int


def parse_sites(body: object, *, endpoint: str) -> tuple[Site, ...]:
    """A list of site documents (``/api/accounts/products``); raises ProtocolError."""
    if not isinstance(body, list):
        raise ProtocolError(endpoint, "the site list is not a JSON array")
    sites = (parse_site(item) for item in body if isinstance(item, Mapping))
    return tuple(site for site in sites if site is not None)


def parse_site(item: Mapping[str, Any]) -> Site | None:
    """One site document, None when it has no integer id."""
    site_id = json_int(item.get("id"))
    if site_id is None:
        return None
    circuits = (_circuit(c, site_id) for c in _list(item.get("circuits")))
    equalizers = (_equalizer(e) for e in _list(item.get("equalizers")))
    return Site(
        site_id=site_id,
        name=_text(item.get("name")),
        site_key=_text(item.get("siteKey")),
        rated_current=_float(item.get("ratedCurrent")),
        circuits=tuple(c for c in circuits if c is not None),
        equalizers=tuple(e for e in equalizers if e is not None),
    )


def _circuit(item: Mapping[str, Any], site_id: int) -> Circuit | None:
    circuit_id = json_int(item.get("id"))
    if circuit_id is None:
        return None
    chargers = (_text(c.get("id")) for c in _list(item.get("chargers")))
    return Circuit(
        circuit_id=circuit_id,
        site_id=json_int(item.get("siteId")) or site_id,
        panel=_text(item.get("panelName")),
        rated_current=_float(item.get("ratedCurrent")),
        charger_ids=tuple(c for c in chargers if c),
    )


def _equalizer(item: Mapping[str, Any]) -> Equalizer | None:
    equalizer_id = _text(item.get("id"))
    if not equalizer_id:
        return None
    return Equalizer(
        equalizer_id=equalizer_id,
        name=_text(item.get("name")) or equalizer_id,
        site_id=json_int(item.get("siteId")),
        circuit_id=json_int(item.get("circuitId")),
    )


def _list(value: object) -> list[Mapping[str, Any]]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def _float(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _text(value: object) -> str:
    return value.strip() if isinstance(value, str) else ""
