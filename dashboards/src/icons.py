"""The state and cable-lock pictures, drawn for this product as small SVG files.

Each picture exists in three variants:

- ``-light``: coloured, on a light tile, for light backgrounds (Grafana's light theme);
- ``-dark``: coloured, on a dark tile, for dark backgrounds (Grafana's default theme);
- ``-mono``: one colour, ``currentColor``, so it takes the text colour of the page or panel
  it is shown in (the plugin's "monochrome" option, and right in either theme).

The files are generated (``python -m dashboards.build``) into ``exporter/static/icons/``, which
the service serves under ``/static/icons/`` and which can be mounted into Grafana's public
folder as ``img/icons/easee/``. Only presentation attributes are used, no ``<style>``, ids or
references: Grafana's canvas inlines the SVG through a sanitiser, and ids would clash when the
same picture is shown twice on a page.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ICON_DIR = Path(__file__).resolve().parents[2] / "exporter" / "static" / "icons"
VARIANTS = ("light", "dark", "mono")

# The eight state pictures: the plugin's six situations, plus offline and awaiting
# authorisation, which the plugin left without a picture.
STATES = (
    "offline",
    "disconnected",
    "waiting",
    "charging",
    "completed",
    "error",
    "ready",
    "awaiting-authorization",
)
# The four cable-lock pictures, by easee_charger_cable_lock_state
# (cable_locked + 2 * cable_permanently_locked).
LOCKS = ("unlocked", "locked", "permanent-unlocked", "permanent-locked")


@dataclass(frozen=True)
class Palette:
    tile: str
    tile_edge: str
    ink: str
    body: str
    car: str
    glass: str
    glyph: str
    accents: dict[str, str]


# Deeper accent tones on light tiles, brighter ones on dark tiles, so each keeps its contrast.
PALETTES = {
    "light": Palette(
        tile="#f4f6f9",
        tile_edge="#d3dae3",
        ink="#2b3440",
        body="#ffffff",
        car="#c6d0dc",
        glass="#eef3f8",
        glyph="#ffffff",
        accents={
            "offline": "#6e7782",
            "disconnected": "#8a94a0",
            "waiting": "#c98a00",
            "charging": "#2f9e4a",
            "completed": "#2f6fd0",
            "error": "#d62f43",
            "ready": "#8a3cb4",
            "awaiting-authorization": "#e0701a",
            "lock-open": "#e0701a",
            "lock-closed": "#2f9e4a",
            "permanent": "#2f6fd0",
        },
    ),
    "dark": Palette(
        tile="#181d24",
        tile_edge="#364150",
        ink="#d8dee6",
        body="#2a3340",
        car="#4a5666",
        glass="#1f262f",
        glyph="#10141a",
        accents={
            "offline": "#8e99a6",
            "disconnected": "#a7b1bd",
            "waiting": "#f2c40c",
            "charging": "#5ccb6c",
            "completed": "#5a9af2",
            "error": "#f2495c",
            "ready": "#b877d9",
            "awaiting-authorization": "#ff9830",
            "lock-open": "#ff9830",
            "lock-closed": "#5ccb6c",
            "permanent": "#3d7fe0",
        },
    ),
}

MONO = "currentColor"
SIZE = 120


def _svg(title: str, body: list[str]) -> str:
    return "\n".join(
        [
            '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 120 120" '
            'width="120" height="120" role="img">',
            f"  <title>{title}</title>",
            *(f"  {line}" for line in body),
            "</svg>",
            "",
        ]
    )


def _tile(p: Palette) -> str:
    return (
        f'<rect x="2" y="2" width="116" height="116" rx="18" fill="{p.tile}" '
        f'stroke="{p.tile_edge}" stroke-width="2"/>'
    )


# --- state pictures ------------------------------------------------------------------------


def _charger(ink: str, body: str, led: str, mono: bool) -> list[str]:
    # A slim wall box with its light strip, as the product line looks from the front.
    body_fill = "none" if mono else body
    return [
        f'<rect x="14" y="16" width="32" height="66" rx="11" fill="{body_fill}" '
        f'stroke="{ink}" stroke-width="3.5"/>',
        f'<rect x="26" y="26" width="8" height="40" rx="4" fill="{led}"/>',
        f'<rect x="24" y="80" width="12" height="6" rx="2" fill="{ink}"/>',
    ]


def _car(ink: str, car: str, glass: str, mono: bool) -> list[str]:
    # A small hatchback seen from the side, nose to the left where the cable plugs in.
    car_attrs = f'fill="{ink}" fill-opacity="0.25"' if mono else f'fill="{car}"'
    glass_fill = "none" if mono else glass
    return [
        f'<path d="M54 96 V85 Q55 79 62 78 L72 68 Q75 65 80 65 H97 Q103 65 106 70 '
        f'L111 78 Q114 81 114 86 V96 Z" {car_attrs} stroke="{ink}" stroke-width="3" '
        f'stroke-linejoin="round"/>',
        f'<path d="M75 76 L81 70 H96 L100 76 Z" fill="{glass_fill}" stroke="{ink}" '
        f'stroke-width="2" stroke-linejoin="round"/>',
        f'<circle cx="68" cy="97" r="7.5" fill="{ink}"/>',
        f'<circle cx="101" cy="97" r="7.5" fill="{ink}"/>',
    ]


def _plugged_cable(ink: str) -> list[str]:
    return [
        f'<path d="M30 86 C30 104 48 104 54 90" fill="none" stroke="{ink}" '
        f'stroke-width="3.5" stroke-linecap="round"/>',
        f'<circle cx="54" cy="90" r="3" fill="{ink}"/>',
    ]


def _hanging_cable(ink: str) -> list[str]:
    # Unplugged: the cable hangs with its plug, and the parking bay is empty.
    return [
        f'<path d="M30 86 C30 102 42 106 46 96" fill="none" stroke="{ink}" '
        f'stroke-width="3.5" stroke-linecap="round"/>',
        f'<rect x="41" y="86" width="10" height="9" rx="2" fill="{ink}"/>',
        f'<path d="M62 106 H112" stroke="{ink}" stroke-width="2.5" '
        f'stroke-dasharray="5 5" stroke-linecap="round" opacity="0.6"/>',
    ]


def _glyph(state: str, color: str) -> list[str]:
    """The symbol inside the status badge, centred on (88, 34)."""
    line = f'fill="none" stroke="{color}" stroke-linecap="round" stroke-linejoin="round"'
    if state == "charging":
        return [f'<path d="M91 20 L79 37 H87 L84 48 L97 30 H89 Z" fill="{color}"/>']
    if state == "completed":
        return [f'<path d="M78 34 L85 41 L98 27" {line} stroke-width="4.5"/>']
    if state == "error":
        return [
            f'<path d="M88 23 V37" {line} stroke-width="5"/>',
            f'<circle cx="88" cy="44.5" r="3" fill="{color}"/>',
        ]
    if state == "waiting":
        return [
            f'<circle cx="88" cy="34" r="11" {line} stroke-width="3"/>',
            f'<path d="M88 27 V34 L93 38" {line} stroke-width="3"/>',
        ]
    if state == "ready":
        return [
            f'<path d="M83 24 L98 34 L83 44 Z" fill="{color}" stroke="{color}" '
            f'stroke-width="1.5" stroke-linejoin="round"/>'
        ]
    if state == "disconnected":
        return [
            f'<path d="M84 23 V29 M92 23 V29 M88 40 V46" {line} stroke-width="3"/>',
            f'<rect x="80" y="28" width="16" height="12" rx="3" fill="{color}"/>',
        ]
    if state == "offline":
        return [
            f'<path d="M76 31 Q88 20 100 31 M80.5 36.5 Q88 30 95.5 36.5" {line} stroke-width="3"/>',
            f'<circle cx="88" cy="42" r="2.8" fill="{color}"/>',
            f'<path d="M78 22 L98 46" {line} stroke-width="3"/>',
        ]
    if state == "awaiting-authorization":
        return [
            f'<circle cx="82" cy="34" r="6" {line} stroke-width="3.5"/>',
            f'<path d="M88 34 H99 M95 34 V39 M99 34 V38" {line} stroke-width="3.5"/>',
        ]
    raise ValueError(state)


def state_svg(state: str, variant: str) -> str:
    mono = variant == "mono"
    if mono:
        ink = accent = MONO
        body = car = glass = "none"
        parts: list[str] = []
    else:
        p = PALETTES[variant]
        ink, body, car, glass = p.ink, p.body, p.car, p.glass
        accent = p.accents[state]
        parts = [_tile(p)]
    led = accent
    if state == "offline" and not mono:
        led = PALETTES[variant].tile_edge  # a dark strip: the charger is not talking
    parts += _charger(ink, body, led, mono)
    if state in ("disconnected", "offline"):
        parts += _hanging_cable(ink)
    else:
        parts += _car(ink, car, glass, mono)
        parts += _plugged_cable(ink)
    if mono:
        parts.append(
            f'<circle cx="88" cy="34" r="19" fill="none" stroke="{MONO}" stroke-width="3"/>'
        )
        parts += _glyph(state, MONO)
    else:
        p = PALETTES[variant]
        # Yellow and orange badges carry a dark symbol: white on yellow cannot be read.
        glyph = p.glyph
        if variant == "light" and state in ("waiting",):
            glyph = "#2b3440"
        parts.append(f'<circle cx="88" cy="34" r="20" fill="{accent}"/>')
        parts += _glyph(state, glyph)
    title = "Charger state: " + state.replace("-", " ")
    return _svg(title, parts)


# --- cable-lock pictures -------------------------------------------------------------------


def lock_svg(lock: str, variant: str) -> str:
    """A padlock around a plug. Closed when the cable is locked (bit 0); on a round blue
    ground when the permanent lock is on (bit 1): the plugin's four combinations."""
    locked = lock in ("locked", "permanent-locked")
    permanent = lock.startswith("permanent")
    mono = variant == "mono"
    parts: list[str] = []
    if mono:
        ink = lock_fill = MONO
        shackle = MONO
        glyph = MONO
        if permanent:
            parts.append(
                f'<circle cx="60" cy="60" r="52" fill="none" stroke="{MONO}" stroke-width="4"/>'
            )
    else:
        p = PALETTES[variant]
        parts.append(_tile(p))
        ink = p.ink
        lock_fill = p.accents["lock-closed" if locked else "lock-open"]
        shackle = ink
        glyph = "#ffffff"
        if permanent:
            parts.append(f'<circle cx="60" cy="60" r="52" fill="{p.accents["permanent"]}"/>')
            shackle = "#ffffff"
    if locked:
        shackle_d = "M40 58 V42 A20 20 0 0 1 80 42 V58"
    else:
        # Open: the shackle is lifted and its free leg stands clear of the body.
        shackle_d = "M80 58 V34 A20 20 0 0 0 40 34 V40"
    parts.append(
        f'<path d="{shackle_d}" fill="none" stroke="{shackle}" stroke-width="8" '
        f'stroke-linecap="round"/>'
    )
    if mono:
        parts.append(
            f'<rect x="30" y="56" width="60" height="44" rx="9" fill="none" '
            f'stroke="{ink}" stroke-width="4"/>'
        )
    else:
        parts.append(
            f'<rect x="30" y="56" width="60" height="44" rx="9" fill="{lock_fill}" '
            f'stroke="{ink if not permanent else "#ffffff"}" stroke-width="2.5"/>'
        )
    # A two-pin plug on the lock body: it is the cable that is locked.
    parts += [
        f'<path d="M55 65 V70 M65 65 V70 M60 82 V90" fill="none" stroke="{glyph}" '
        f'stroke-width="3" stroke-linecap="round"/>',
        f'<rect x="51" y="69" width="18" height="13" rx="3" fill="{glyph}"/>',
    ]
    title = (
        "Cable lock: "
        + {
            "unlocked": "unlocked",
            "locked": "locked",
            "permanent-unlocked": "permanent lock on, cable not locked",
            "permanent-locked": "permanently locked",
        }[lock]
    )
    return _svg(title, parts)


def icon_files() -> dict[str, str]:
    """Every picture, by file name."""
    files: dict[str, str] = {}
    for variant in VARIANTS:
        for state in STATES:
            files[f"state-{state}-{variant}.svg"] = state_svg(state, variant)
        for lock in LOCKS:
            files[f"lock-{lock}-{variant}.svg"] = lock_svg(lock, variant)
    return dict(sorted(files.items()))
