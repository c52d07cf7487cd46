"""Every word of the status page, in English and French, and the choice between them.

One table per language, the same keys in each (a test checks the keys and the ``{name}``
placeholders). French uses the Jeedom plugin's own words where it has them (the state labels,
"Câble verrouillé", "Verrouillage permanent", "Pause" / "Reprendre"), plain French elsewhere.
The language comes from ``?lang=`` when given, else from ``Accept-Language``, else English.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal, get_args

Lang = Literal["en", "fr"]
LANGUAGES: Final[tuple[Lang, ...]] = get_args(Lang)
DEFAULT_LANGUAGE: Final[Lang] = "en"
_BY_TAG: Final[Mapping[str, Lang]] = MappingProxyType({lang: lang for lang in LANGUAGES})

_EN: Final = {
    "title": "Easee chargers",
    "lang.switch": "Français",
    "rules": "A car counts as connected in op modes 2, 3, 4, 6 and 7 (the original plugin "
    "missed 7, awaiting authorization, and took 5, an error). A charger counts as offline when "
    "Easee says so or after {minutes} minutes without a reading of its own.",
    "nav.label": "Service endpoints",
    "nav.metrics": "Metrics",
    "nav.liveness": "Liveness",
    "nav.readiness": "Readiness",
    "nav.api": "Controller API",
    "version": "easee-exporter {version}",
    "health.label": "Service health",
    "health.ok": "All good",
    "health.degraded": "Needs attention",
    "health.starting": "Starting",
    "health.stream": "Live stream",
    "health.stream.value": "{connected} of {total} connected",
    "health.age": "Newest data",
    "health.age.never": "none yet",
    "health.age.seconds": "{seconds} s ago",
    "health.age.minutes": "{minutes} min ago",
    "health.accounts": "Accounts ready",
    "health.accounts.value": "{ready} of {total}",
    "summary.power": "Power now",
    "summary.charging": "Charging",
    "summary.charging.value": "{charging} of {total} chargers",
    "empty": "No charger known yet.",
    "empty.problem": "No charger known yet: see the message above.",
    "notice.login_refused": "Account {account}: Easee refused the login.",
    "notice.login_refused.fix": (
        "Check the username and password (or password file) in the configuration; "
        "the service tries again at {time}."
    ),
    "notice.rate_limited": "Account {account}: Easee limits the requests for now.",
    "notice.rate_limited.fix": "Nothing to do: the service waits until {time}.",
    "notice.ip_blocked": "Account {account}: Easee blocks this address for too many requests.",
    "notice.ip_blocked.fix": (
        "Stop any other tool polling the same account; the service waits until {time}."
    ),
    "notice.cloud_unavailable": "Account {account}: the Easee cloud does not answer.",
    "notice.cloud_unavailable.fix": "The service tries again at {time}.",
    "notice.stream_down": "Account {account}: the live stream is down.",
    "notice.stream_down.fix": (
        "The service reconnects by itself and reads the chargers every minute meanwhile."
    ),
    "state.offline": "Offline",
    "state.disconnected": "Disconnected",
    "state.waiting": "Waiting",
    "state.charging": "Charging",
    "state.completed": "Completed",
    "state.error": "Error",
    "state.ready": "Ready",
    "state.awaiting-authorization": "Awaiting authorisation",
    "state.paused": "paused",
    "state.picture": "State: {label}",
    "lock.unlocked": "Cable unlocked",
    "lock.locked": "Cable locked",
    "lock.permanent-unlocked": "Permanent lock on, cable not locked",
    "lock.permanent-locked": "Cable locked, permanent lock on",
    "lock.picture": "Cable: {label}",
    "charger.serial": "Serial {serial}",
    "charger.account": "account {account}",
    "charger.power": "Power",
    "charger.power.unknown": "unknown",
    "charger.session": "This session {energy} kWh",
    "charger.phases": "Phase currents",
    "charger.phase": "{phase}: {amperes} A",
    "charger.signal": "Signal",
    "charger.signal.wifi": "Wi-Fi {dbm} dBm",
    "charger.signal.cell": "mobile {dbm} dBm",
    "charger.signal.unknown": "no reading",
    "charger.signal.bars": "{bars} of 4 bars",
    "charger.history": "Power, last {minutes} min",
    "charger.history.empty": "no history yet",
    "charger.history.range": "Power over the last {minutes} min: {low} to {high} kW",
    "charger.age": "Last data {age}",
    "colour.black": "Black",
    "colour.red": "Red",
    "colour.blue": "Blue",
    "colour.white": "White",
    "colour.anthracite": "Anthracite",
    "button.pause": "Pause",
    "button.pause.label": "Pause charging on {name}",
    "button.resume": "Resume",
    "button.resume.label": "Resume charging on {name}",
    "button.lock": "Lock cable",
    "button.lock.label": "Lock the cable permanently on {name}",
    "button.unlock": "Unlock cable",
    "button.unlock.label": "Turn the permanent cable lock off on {name}",
    "why.no_car": "Pause and resume need a connected car.",
    "why.offline": "The charger is offline: it cannot take commands.",
    "why.error": "The charger is in error: pause and resume cannot work.",
    "why.unknown": "The charger's state is not known yet.",
    "token.forget": "Forget the token",
    "token.title": "Controller token",
    "token.help": (
        "The buttons need a webhook token allowed that action. It stays in this browser tab "
        "only and is sent to this service alone."
    ),
    "token.field": "Token",
    "token.cancel": "Cancel",
    "token.send": "Send",
    "outcome.confirmed": "{action}: confirmed",
    "outcome.unchanged": "{action}: unchanged (the charger was already in that state)",
    "outcome.accepted": "{action}: sent, not confirmed yet",
    "outcome.refused": "{action} refused ({status}): {detail}",
    "outcome.no_detail": "no detail given",
    "outcome.cancelled": "{action}: cancelled, no token given",
    "outcome.waiting": "{action}: waiting for the charger…",
    "outcome.no_answer": "{action} failed: the service did not answer",
}

_FR: Final = {
    "title": "Bornes Easee",
    "lang.switch": "English",
    "rules": "Un véhicule compte comme branché dans les modes 2, 3, 4, 6 et 7 (le plugin "
    "d'origine oubliait le 7, en attente d'autorisation, et prenait le 5, une erreur). Une borne "
    "compte comme déconnectée quand Easee le dit ou après {minutes} minutes sans mesure de sa "
    "part.",
    "nav.label": "Points d'accès du service",
    "nav.metrics": "Métriques",
    "nav.liveness": "Vivacité",
    "nav.readiness": "Disponibilité",
    "nav.api": "API de commande",
    "version": "easee-exporter {version}",
    "health.label": "État du service",
    "health.ok": "Tout va bien",
    "health.degraded": "À vérifier",
    "health.starting": "Démarrage",
    "health.stream": "Flux en direct",
    "health.stream.value": "{connected} sur {total} connecté(s)",
    "health.age": "Dernières données",
    "health.age.never": "aucune pour l'instant",
    "health.age.seconds": "il y a {seconds} s",
    "health.age.minutes": "il y a {minutes} min",
    "health.accounts": "Comptes prêts",
    "health.accounts.value": "{ready} sur {total}",
    "summary.power": "Puissance actuelle",
    "summary.charging": "En charge",
    "summary.charging.value": "{charging} borne(s) sur {total}",
    "empty": "Aucune borne connue pour l'instant.",
    "empty.problem": "Aucune borne connue pour l'instant : voir le message ci-dessus.",
    "notice.login_refused": "Compte {account} : Easee a refusé la connexion.",
    "notice.login_refused.fix": (
        "Vérifiez l'identifiant et le mot de passe (ou le fichier du mot de passe) dans la "
        "configuration ; nouvel essai à {time}."
    ),
    "notice.rate_limited": "Compte {account} : Easee limite les requêtes pour le moment.",
    "notice.rate_limited.fix": "Rien à faire : le service attend jusqu'à {time}.",
    "notice.ip_blocked": ("Compte {account} : Easee bloque cette adresse pour excès de requêtes."),
    "notice.ip_blocked.fix": (
        "Arrêtez tout autre outil qui interroge le même compte ; le service attend jusqu'à {time}."
    ),
    "notice.cloud_unavailable": "Compte {account} : le cloud Easee ne répond pas.",
    "notice.cloud_unavailable.fix": "Nouvel essai à {time}.",
    "notice.stream_down": "Compte {account} : le flux en direct est coupé.",
    "notice.stream_down.fix": (
        "Le service se reconnecte tout seul et relit les bornes chaque minute en attendant."
    ),
    "state.offline": "Hors ligne",
    "state.disconnected": "Déconnecté",
    "state.waiting": "En attente",
    "state.charging": "En charge",
    "state.completed": "Charge terminée",
    "state.error": "Erreur",
    "state.ready": "Prêt",
    "state.awaiting-authorization": "En attente d'autorisation",
    "state.paused": "en pause",
    "state.picture": "État : {label}",
    "lock.unlocked": "Câble déverrouillé",
    "lock.locked": "Câble verrouillé",
    "lock.permanent-unlocked": "Verrouillage permanent, câble non verrouillé",
    "lock.permanent-locked": "Câble verrouillé, verrouillage permanent",
    "lock.picture": "Câble : {label}",
    "charger.serial": "N° de série {serial}",
    "charger.account": "compte {account}",
    "charger.power": "Puissance",
    "charger.power.unknown": "inconnue",
    "charger.session": "Cette charge {energy} kWh",
    "charger.phases": "Intensité par phase",
    "charger.phase": "{phase} : {amperes} A",
    "charger.signal": "Signal",
    "charger.signal.wifi": "wifi {dbm} dBm",
    "charger.signal.cell": "cellulaire {dbm} dBm",
    "charger.signal.unknown": "pas de mesure",
    "charger.signal.bars": "{bars} barre(s) sur 4",
    "charger.history": "Puissance, dernières {minutes} min",
    "charger.history.empty": "pas encore d'historique",
    "charger.history.range": "Puissance des dernières {minutes} min : de {low} à {high} kW",
    "charger.age": "Dernières données {age}",
    "colour.black": "Noir",
    "colour.red": "Rouge",
    "colour.blue": "Bleu",
    "colour.white": "Blanc",
    "colour.anthracite": "Anthracite",
    "button.pause": "Pause",
    "button.pause.label": "Mettre en pause la charge de {name}",
    "button.resume": "Reprendre",
    "button.resume.label": "Reprendre la charge de {name}",
    "button.lock": "Verrouiller",
    "button.lock.label": "Activer le verrouillage permanent du câble de {name}",
    "button.unlock": "Déverrouiller",
    "button.unlock.label": "Désactiver le verrouillage permanent du câble de {name}",
    "why.no_car": "Pause et reprise demandent un véhicule branché.",
    "why.offline": "La borne est hors ligne : elle ne peut pas recevoir de commande.",
    "why.error": "La borne est en erreur : pause et reprise ne peuvent pas fonctionner.",
    "why.unknown": "L'état de la borne n'est pas encore connu.",
    "token.forget": "Oublier le jeton",
    "token.title": "Jeton de commande",
    "token.help": (
        "Les boutons demandent un jeton webhook autorisé pour cette action. Il reste dans cet "
        "onglet du navigateur et n'est envoyé qu'à ce service."
    ),
    "token.field": "Jeton",
    "token.cancel": "Annuler",
    "token.send": "Envoyer",
    "outcome.confirmed": "{action} : confirmé",
    "outcome.unchanged": "{action} : inchangé (la borne était déjà dans cet état)",
    "outcome.accepted": "{action} : envoyé, pas encore confirmé",
    "outcome.refused": "{action} refusé ({status}) : {detail}",
    "outcome.no_detail": "sans détail",
    "outcome.cancelled": "{action} : annulé, aucun jeton donné",
    "outcome.waiting": "{action} : en attente de la borne…",
    "outcome.no_answer": "{action} a échoué : le service n'a pas répondu",
}

CATALOGUE: Final[Mapping[Lang, Mapping[str, str]]] = MappingProxyType(
    {"en": MappingProxyType(_EN), "fr": MappingProxyType(_FR)}
)

#: The keys the page's script needs (sent to it as JSON in the page, in the page's language).
SCRIPT_KEYS: Final = tuple(key for key in _EN if key.startswith(("outcome.", "button.")))


@dataclass(frozen=True, slots=True)
class Text:
    """The messages of one language: ``text("state.charging")``, ``text("version", version=v)``."""

    lang: Lang

    def __call__(self, key: str, **values: object) -> str:
        message = CATALOGUE[self.lang][key]
        return message.format(**values) if values else message


def choose_language(query: str | None, accept_language: str | None) -> Lang:
    """``?lang=`` when it names a language of the page, else the best of ``Accept-Language``
    (RFC 9110 quality values; ``fr-CH`` counts as ``fr``), else English."""
    chosen = _BY_TAG.get((query or "").strip().lower())
    if chosen is not None:
        return chosen
    best: tuple[float, int, Lang] | None = None
    for position, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        lang = _BY_TAG.get(tag.strip().lower().split("-", 1)[0])
        if lang is None:
            continue
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        # Higher quality first; among equals, the one listed first.
        if quality > 0 and (best is None or (quality, -position) > best[:2]):
            best = (quality, -position, lang)
    return best[2] if best is not None else DEFAULT_LANGUAGE
