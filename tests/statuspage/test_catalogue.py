"""The status page's message catalogue: every key in every language, with the same
placeholders, and a word for everything the page can show."""

from __future__ import annotations

import string

import pytest

from exporter.easee.enums import CHARGER_COLORS
from exporter.easee.situations import LOCK_PICTURES, SITUATIONS
from exporter.page_health import Health, NoticeKind
from exporter.page_text import CATALOGUE, DEFAULT_LANGUAGE, LANGUAGES, SCRIPT_KEYS, choose_language


def placeholders(message: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(message) if name}


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != DEFAULT_LANGUAGE])
def test_every_language_has_every_key_with_the_same_placeholders(lang: str) -> None:
    reference = CATALOGUE[DEFAULT_LANGUAGE]
    messages = CATALOGUE[lang]  # type: ignore[index]
    assert messages.keys() == reference.keys(), (
        f"missing in {lang}: {sorted(reference.keys() - messages.keys())}; "
        f"only in {lang}: {sorted(messages.keys() - reference.keys())}"
    )
    for key, message in messages.items():
        assert message.strip(), key
        assert placeholders(message) == placeholders(reference[key]), key


def test_everything_the_page_shows_has_words() -> None:
    needed = {f"state.{s.key}" for s in SITUATIONS.values()} | {"state.offline"}
    needed |= {f"lock.{key}" for key, _ in LOCK_PICTURES.values()}
    needed |= {f"colour.{entry.label}" for entry in CHARGER_COLORS.entries}
    needed |= {f"health.{h.value}" for h in Health}
    needed |= {f"notice.{k.value}" for k in NoticeKind} | {
        f"notice.{k.value}.fix" for k in NoticeKind
    }
    needed |= {f"button.{a}" for a in ("pause", "resume", "lock", "unlock")}
    needed |= {f"button.{a}.label" for a in ("pause", "resume", "lock", "unlock")}
    assert needed <= CATALOGUE[DEFAULT_LANGUAGE].keys()
    assert {"outcome.confirmed", "outcome.refused", "button.pause"} <= set(SCRIPT_KEYS)


def test_french_uses_the_plugins_words() -> None:
    french = CATALOGUE["fr"]
    assert [french[f"state.{k}"] for k in ("disconnected", "waiting", "charging")] == [
        "Déconnecté",
        "En attente",
        "En charge",
    ]
    assert [french[f"state.{k}"] for k in ("completed", "error", "ready")] == [
        "Charge terminée",
        "Erreur",
        "Prêt",
    ]
    assert french["lock.locked"] == "Câble verrouillé"
    assert "Verrouillage permanent" in french["lock.permanent-unlocked"]
    assert (french["button.pause"], french["button.resume"]) == ("Pause", "Reprendre")


@pytest.mark.parametrize(
    ("query", "accept", "chosen"),
    [
        (None, None, "en"),
        (None, "", "en"),
        (None, "fr", "fr"),
        (None, "fr-FR,fr;q=0.9,en-US;q=0.8,en;q=0.7", "fr"),
        (None, "en-GB,fr;q=0.5", "en"),
        (None, "de-DE,fr;q=0.3,en;q=0.2", "fr"),
        (None, "fr;q=0", "en"),
        (None, "fr;q=abc, en;q=0.1", "en"),
        (None, "en;q=0.5, fr;q=0.5", "en"),
        (None, "*", "en"),
        ("fr", "en", "fr"),
        ("EN", "fr", "en"),
        ("de", "fr", "fr"),
        ("", "fr", "fr"),
    ],
)
def test_choose_language(query: str | None, accept: str | None, chosen: str) -> None:
    assert choose_language(query, accept) == chosen
