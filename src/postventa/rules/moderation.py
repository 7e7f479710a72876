"""Moderation of a message text on send (§10): one synchronous verdict per message.

``moderate`` looks at the text and answers what the message's ``status`` and
``message_moderation`` must say. It does no I/O of its own: the word and domain lists are package
data (``rules/data/*.txt``) read once, on first use, like any other constant.

Detectors, each named after the reason it produces (§10.4, lower case as in the only concrete
example, S4):

``evasion_claim_seller``   seller discourages / asks to close a claim, or proposes to settle,
                           refund or pay outside the platform (phrase patterns, sellers only).
``ml_links_paypal``        link to an external payment means (PayPal, Stripe, PagSeguro, ...).
``link_mercadopago``       link to Mercado Pago (mpago.la, mercadopago.com.*).
``link_short_url``         link through a shortener (§9.3 list plus common public ones).
``social_network_link``    link to a social network / messenger, or an invitation to one
                           ("seguinos en Instagram", "insta: @tienda").
``personal_data``          phone number (``phonenumbers``, in the site's region) or e-mail address.
``out_of_place_language``  a word of the site language's list (``offensive_es``/``offensive_pt``).
``automatic_message``      a templated auto-reply: self-described automatic message or an
                           unrendered template placeholder (sellers only).

When several apply, the first in that order wins (:data:`PRECEDENCE`): money and claims first
(the buyer's protection is at stake), then the specific link kinds before the generic contact data
they may contain (``wa.me/54911...`` is a WhatsApp link, not just a phone), then language, then
automatic messages, the mildest. All findings are kept in the verdict for logs and tests.

Links to other sites (a carrier's tracking page, the seller's own site) are not a reason of §10.4
and stay clean; the reference even shows how to send a tracking link (§6.1).
"""

from __future__ import annotations

import html
import re
import threading
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import cache
from importlib import resources
from typing import Literal
from urllib.parse import urlsplit

import phonenumbers
from linkify_it import LinkifyIt
from linkify_it.tlds import TLDS
from text_to_num import alpha2digit

from postventa.model import Role


class Reason(StrEnum):
    """The 8 reason codes of §10.4, in order of precedence (first wins)."""

    evasion_claim_seller = "evasion_claim_seller"
    ml_links_paypal = "ml_links_paypal"
    link_mercadopago = "link_mercadopago"
    link_short_url = "link_short_url"
    social_network_link = "social_network_link"
    personal_data = "personal_data"
    out_of_place_language = "out_of_place_language"
    automatic_message = "automatic_message"


PRECEDENCE: tuple[Reason, ...] = tuple(Reason)

SOURCE: Literal["online"] = "online"

#: Mercado Libre site -> phonenumbers region (ISO 3166-1 alpha-2).
SITE_REGIONS: dict[str, str] = {
    "MLA": "AR",
    "MLB": "BR",
    "MLM": "MX",
    "MCO": "CO",
    "MLC": "CL",
    "MLU": "UY",
    "MPE": "PE",
    "MEC": "EC",
    "MLV": "VE",
    "MBO": "BO",
    "MPY": "PY",
    "MRD": "DO",
    "MPA": "PA",
    "MCR": "CR",
    "MGT": "GT",
    "MHN": "HN",
    "MNI": "NI",
    "MSV": "SV",
}


def language_of(site_id: str) -> str:
    """``pt`` for Mercado Livre Brasil, ``es`` for every other site."""
    return "pt" if site_id.upper() == "MLB" else "es"


@dataclass(frozen=True, slots=True)
class Finding:
    """One detector that fired. ``evidence`` is the matched text: it may be personal data."""

    reason: Reason
    evidence: str


@dataclass(frozen=True, slots=True)
class ModerationVerdict:
    """What the stored message and the E3 response say about moderation (§6.2, §10).

    Clean: message ``status`` ``available``, ``message_moderation.status`` ``clean``, reason null.
    Rejected: message ``status`` ``moderated`` (the only documented moderated response, S4, and
    T2's "returns 200 with status moderated"), ``message_moderation.status`` ``rejected`` and one
    reason. A rejected message is never made available: ``message_date.available`` stays null.
    """

    status: Literal["available", "moderated"]
    moderation_status: Literal["clean", "rejected"]
    reason: str | None
    source: Literal["online"]
    moderation_date: datetime
    findings: tuple[Finding, ...] = ()

    @property
    def rejected(self) -> bool:
        return self.moderation_status == "rejected"


def clean(now: datetime) -> ModerationVerdict:
    """The verdict for a text that is not moderated (or passed moderation)."""
    return ModerationVerdict(
        status="available",
        moderation_status="clean",
        reason=None,
        source=SOURCE,
        moderation_date=now,
    )


def warm_up(now: datetime) -> None:
    """Load what the first checks would load lazily (phonenumbers' per-region metadata).

    A server calls this once at start-up, before freezing its start-up objects out of the
    garbage collector's reach (api/app.py), so the first sends pay no loading and the loaded
    tables are not rescanned by every full collection.
    """
    for site_id in SITE_REGIONS:
        for role in Role:
            moderate(
                "llamame al 11 5555 1234 o escribe a x@example.com",
                site_id=site_id,
                sender_role=role,
                now=now,
            )


def moderate(text: str, *, site_id: str, sender_role: Role, now: datetime) -> ModerationVerdict:
    """The verdict on ``text`` sent by ``sender_role`` on ``site_id`` at ``now``."""
    found = find_all(text, site_id=site_id, sender_role=sender_role)
    if not found:
        return clean(now)
    return ModerationVerdict(
        status="moderated",
        moderation_status="rejected",
        reason=found[0].reason.value,
        source=SOURCE,
        moderation_date=now,
        findings=found,
    )


def find_all(text: str, *, site_id: str, sender_role: Role) -> tuple[Finding, ...]:
    """Every reason that applies, one finding per reason, in order of precedence."""
    region = SITE_REGIONS.get(site_id.upper(), "ZZ")
    language = language_of(site_id)
    plain = html.unescape(text)
    folded = fold(plain)
    links = find_links(plain)
    candidates: dict[Reason, str | None] = {
        Reason.evasion_claim_seller: (find_evasion(folded) if sender_role is Role.seller else None),
        Reason.ml_links_paypal: _first_host_in(links, _domains("external_payment_domains")),
        Reason.link_mercadopago: _first_host_in(links, _domains("mercadopago_domains")),
        Reason.link_short_url: _first_host_in(links, _domains("shorteners")),
        Reason.social_network_link: (
            _first_host_in(links, _domains("social_domains")) or find_social_mention(plain)
        ),
        Reason.personal_data: (
            next((link.text for link in links if link.is_email), None)
            or next(find_phones(plain, region=region, language=language), None)
        ),
        Reason.out_of_place_language: find_offensive(plain, language=language),
        Reason.automatic_message: (find_automatic(plain) if sender_role is Role.seller else None),
    }
    return tuple(
        Finding(reason, evidence)
        for reason in PRECEDENCE
        if (evidence := candidates[reason]) is not None
    )


# --- text normalisation -------------------------------------------------------------------------

_ENYE = "\ue000"  # private-use stand-in so that accent folding keeps ñ apart from n


def fold(text: str) -> str:
    """Lower case without accents (á→a, ç→c, ü→u) but with ñ kept: "año" must not become "ano"."""
    text = text.casefold().replace("ñ", _ENYE)
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return stripped.replace(_ENYE, "ñ")


_LEET = str.maketrans({"@": "a", "4": "a", "0": "o", "1": "i", "3": "e", "5": "s", "$": "s"})
_WORDISH = re.compile(r"[\w@$]+")


def unleet(folded: str) -> str:
    """Undo light leetspeak inside words that also contain letters (put@ → puta; 2026 stays)."""

    def fix(match: re.Match[str]) -> str:
        word = match[0]
        has_letter = any(ch.isalpha() for ch in word)
        has_leet = any(ch in "@40135$" for ch in word)
        return word.translate(_LEET) if has_letter and has_leet else word

    return _WORDISH.sub(fix, folded)


# --- data files ---------------------------------------------------------------------------------


@cache
def _data_lines(name: str) -> tuple[str, ...]:
    raw = resources.files("postventa.rules").joinpath("data", f"{name}.txt").read_text("utf-8")
    lines = (line.split("#", 1)[0].strip() for line in raw.splitlines())
    return tuple(line for line in lines if line)


@cache
def _domains(name: str) -> frozenset[str]:
    return frozenset(line.lower() for line in _data_lines(name))


@dataclass(frozen=True, slots=True)
class PhraseSet:
    """Phrase patterns of a data file (syntax in ``data/social_mentions.txt``)."""

    patterns: tuple[re.Pattern[str], ...]
    exceptions: tuple[re.Pattern[str], ...]

    def search(self, folded: str) -> str | None:
        for exception in self.exceptions:
            folded = exception.sub(lambda m: " " * len(m[0]), folded)
        for pattern in self.patterns:
            if match := pattern.search(folded):
                return match[0]
        return None


_GAP = r"(?:\s+\S+){0,3}?\s+"


def compile_phrase(line: str) -> re.Pattern[str]:
    """``no abras|abra * reclamo`` → a regex over folded text, on word boundaries."""
    parts: list[str] = []
    gap = False
    for token in line.split():
        if token == "*":
            if not parts:
                raise ValueError(f"bad phrase pattern: {line!r}")
            gap = True
            continue
        alternatives = "|".join(re.escape(fold(word)) for word in token.split("|"))
        if parts:
            parts.append(_GAP if gap else r"\s+")
        parts.append(f"(?:{alternatives})")
        gap = False
    if not parts or gap:
        raise ValueError(f"bad phrase pattern: {line!r}")
    return re.compile(r"(?<!\w)" + "".join(parts) + r"(?!\w)")


@cache
def _phrases(name: str) -> PhraseSet:
    patterns: list[re.Pattern[str]] = []
    exceptions: list[re.Pattern[str]] = []
    for line in _data_lines(name):
        if line.startswith("!"):
            exceptions.append(compile_phrase(line[1:]))
        else:
            patterns.append(compile_phrase(line))
    return PhraseSet(tuple(patterns), tuple(exceptions))


@cache
def _word_list(language: str) -> re.Pattern[str]:
    words = sorted({fold(line) for line in _data_lines(f"offensive_{language}")}, key=len)
    body = "|".join(r"\s+".join(map(re.escape, word.split())) for word in reversed(words))
    return re.compile(rf"(?<!\w)(?:{body})(?!\w)")


# --- links and e-mail addresses -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Link:
    text: str
    host: str
    is_email: bool


_local = threading.local()


def _linkify() -> LinkifyIt:
    """One matcher per thread: ``LinkifyIt.match`` keeps per-call state on the instance."""
    linkify: LinkifyIt | None = getattr(_local, "linkify", None)
    if linkify is None:
        # Every IANA TLD, bundled with the library (no download): "bl.ink", "mpago.la".
        linkify = _local.linkify = LinkifyIt().tlds(TLDS, True)
    return linkify


_DOMAIN_TAIL = r"(?=(?:com|net|org|ly|me|io|la|li|link|in|gg|br|ar|mx|co|cl|uy|pe|ec)\b)"
_DEOBFUSCATIONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\s*[(\[{]\s*(?:\.|punto|ponto|dot)\s*[)\]}]\s*", re.IGNORECASE), "."),
    (re.compile(r"\s*[(\[{]\s*(?:@|arroba|at)\s*[)\]}]\s*", re.IGNORECASE), "@"),
    (re.compile(r"(?<=\w)\s+arroba\s+(?=\w)", re.IGNORECASE), "@"),
    # "juan at gmail dot com": only when a domain-like word follows, "at" being rare in es/pt.
    (
        re.compile(r"(?<=\w)\s+at\s+(?=[\w-]+(?:\.|\s+(?:dot|punto|ponto)\s+)\w)", re.IGNORECASE),
        "@",
    ),
    (re.compile(r"(?<=\w)\s+(?:punto|ponto|dot)\s+" + _DOMAIN_TAIL, re.IGNORECASE), "."),
    (re.compile(r"(?<=\w)(?:\s+\.\s*|\s*\.\s+)" + _DOMAIN_TAIL, re.IGNORECASE), "."),
)


def deobfuscate(text: str) -> str:
    """Undo the usual disguises: "juan arroba gmail punto com", "bit(.)ly/x", "gmail . com"."""
    for pattern, replacement in _DEOBFUSCATIONS:
        text = pattern.sub(replacement, text)
    return text


def find_links(text: str) -> list[Link]:
    """Links and e-mail addresses, with or without scheme, also in the disguises above."""
    found: list[Link] = []
    seen: set[str] = set()
    views = (text, deobfuscate(text))
    for view in dict.fromkeys(views):
        for match in _linkify().match(view) or ():
            if match.url in seen:
                continue
            seen.add(match.url)
            is_email = match.schema == "mailto:"
            if is_email:
                host = match.url.rsplit("@", 1)[-1]
            else:
                try:
                    host = urlsplit(match.url).hostname or ""
                except ValueError:
                    continue
            found.append(Link(text=match.text, host=host.lower().rstrip("."), is_email=is_email))
    return found


def host_matches(host: str, domains: Iterable[str]) -> bool:
    """``host`` is one of ``domains`` or a subdomain of one (``www.``, ``m.``, ``vm.``...)."""
    return any(host == domain or host.endswith("." + domain) for domain in domains)


def _first_host_in(links: list[Link], domains: frozenset[str]) -> str | None:
    for link in links:
        if not link.is_email and host_matches(link.host, domains):
            return link.text
    return None


# --- social networks without a link -------------------------------------------------------------

_NETWORK_NAME = re.compile(
    r"(?<!\w)(?:instagram|insta|ig|facebook|face|fb|tiktok|tik tok|twitter|telegram|threads|"
    r"kwai|snapchat|snap)(?!\w)"
)
_HANDLE = re.compile(r"(?<![\w@.])@[a-z0-9_][a-z0-9_.]{1,29}", re.IGNORECASE)


def find_social_mention(text: str) -> str | None:
    """An invitation to a network, or a ``@handle`` in a message that names a network."""
    folded = fold(text)
    if found := _phrases("social_mentions").search(folded):
        return found
    if _NETWORK_NAME.search(folded) and (handle := _HANDLE.search(text)):
        return handle[0]
    return None


# --- phone numbers ------------------------------------------------------------------------------

_MONEY = re.compile(
    r"(?:R\$|US\$|U\$S|\$|€|£)\s?\d[\d.,]*"
    r"|\d[\d.,]*\s?(?:pesos|reais|reales|d[oó]lares|usd|ars|brl|mxn|clp|cop|uyu|pen|soles)\b",
    re.IGNORECASE,
)
_LONG_RUN = re.compile(r"\d{13,}")  # order/pack/shipment ids, CBU/CVU, barcodes
_GLUED = re.compile(r"\b(?=\w*[a-z])(?=\w*\d)\w+\b", re.IGNORECASE)  # AB123456789BR, MEL…ARG
_DIGIT_GROUPS = re.compile(r"\+?\d{1,4}(?:[ .\-]{1,2}\d{1,4}){2,}")
_CONTACT_NUMBER = re.compile(
    r"(?<!\w)(?:tel|telefono|telefone|fono|fone|cel|celu|celular|movil|whatsapp|whats|wpp|wsp|"
    r"zap|zapzap|llamame|llamanos|llamar|llama|ligar|liga|ligue|contacto|contato|mi numero|"
    r"meu numero|mi nro|nro de tel)(?!\w)"
    r"[^\d\n]{0,25}(\+?\d[\d \-.()]{6,18}\d)"
)


def _blank_digits(match: re.Match[str]) -> str:
    return "".join("_" if ch.isdigit() else ch for ch in match[0])


def mask_non_phone_numbers(text: str) -> str:
    """Same-length copy with the digits of prices, long ids and letter+digit codes blanked."""
    for pattern in (_MONEY, _LONG_RUN, _GLUED):
        text = pattern.sub(_blank_digits, text)
    return text


def _collapse_digit_groups(text: str) -> str:
    """Join "1 1 5 5 5 5 4 4 4 4" into "1155554444" when the groups make 8 to 13 digits."""

    def join(match: re.Match[str]) -> str:
        digits = re.sub(r"[^\d+]", "", match[0])
        return digits if 8 <= sum(ch.isdigit() for ch in digits) <= 13 else match[0]

    return _DIGIT_GROUPS.sub(join, text)


# A number right after the name of an id is that id, even when it would dial somewhere:
# "guía 7712345678" (any 10 digits are a valid Mexican number), "envio 41987654321".
_ID_LABEL = re.compile(
    r"(?<!\w)(?:guia|rastreo|rastreio|tracking|seguimiento|envio|pedido|orden|order|factura|"
    r"folio|referencia|ref|nota|boleto|codigo|cod|serie|dni|cuit|cuil|cpf|cnpj|rut|cedula|ruc|"
    r"compra|venta|paquete|pack|operacion|transaccion|comprobante)"
    r"(?:[\s:#.\-]|n[°º]|no|n|nro|numero|es|e|de|do|da|el|la|o|a)*$"
)


def _labelled_as_id(text: str, start: int) -> bool:
    return _ID_LABEL.search(fold(text[max(0, start - 30) : start])) is not None


def _valid_numbers(text: str, region: str) -> Iterator[str]:
    leniency = phonenumbers.Leniency.VALID
    for match in phonenumbers.PhoneNumberMatcher(text, region, leniency=leniency):
        if not _labelled_as_id(text, match.start):
            yield match.raw_string


def find_phones(text: str, *, region: str, language: str) -> Iterator[str]:
    """Phone numbers valid in ``region`` (or with a ``+`` country code), also spelled out.

    1. ``phonenumbers``' matcher at VALID leniency on the text with prices, ids of 13+ digits
       and letter+digit codes (tracking numbers) blanked;
    2. the same after number words become digits (``text2num``: "once cincuenta y cinco ...")
       and digit groups are joined ("1 1 5 5 ...");
    3. a number that is only *possible* (a local number without area code, "4555-1234") when a
       contact word precedes it ("cel", "whatsapp", "me liga").
    """
    seen: set[str] = set()

    def new(raw: str) -> bool:
        digits = "".join(ch for ch in raw if ch.isdigit())
        fresh = digits not in seen
        seen.add(digits)
        return fresh

    masked = mask_non_phone_numbers(text)
    yield from filter(new, _valid_numbers(masked, region))
    try:
        spelled = alpha2digit(masked, language)
    except Exception:  # a native library: never let it break a send
        spelled = masked
    spelled = _collapse_digit_groups(spelled)
    if spelled != masked:
        yield from filter(new, _valid_numbers(spelled, region))
    folded = fold(masked)
    for match in _CONTACT_NUMBER.finditer(folded):
        candidate = match[1]
        if _labelled_as_id(folded, match.start(1)):
            continue
        if sum(ch.isdigit() for ch in candidate) < 8:
            continue
        try:
            number = phonenumbers.parse(candidate, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_possible_number(number) and new(candidate):
            yield candidate


# --- language, claims, automatic messages -------------------------------------------------------


def find_offensive(text: str, *, language: str) -> str | None:
    match = _word_list(language).search(unleet(fold(text)))
    return match[0] if match else None


def find_evasion(folded: str) -> str | None:
    return _phrases("evasion_claim_phrases").search(folded)


_PLACEHOLDER = re.compile(
    r"\{\{\s*[\w.]+\s*\}\}"  # {{nombre}}
    r"|\$\{\s*\w+\s*\}"  # ${name}
    r"|\{\s*[a-z_][a-z0-9_]*\s*\}"  # {buyer_name}
    r"|(?<![\w%])%(?:\(\w+\))?[sd]\b"  # %s, %(name)s
    r"|\[(?:nombre|nome|name|comprador|cliente|buyer|first_name|producto|produto|item)\]"
    r"|<(?:nombre|nome|name|comprador|cliente)>",
    re.IGNORECASE,
)


# A message that opens with its own label: "Respuesta automática: recibimos tu consulta".
_AUTOMATIC_LABEL = re.compile(
    r"^\W*(?:(?:respuesta|mensaje|correo|resposta|mensagem) automatic[ao]"
    r"|auto[- ]?(?:reply|respuesta|resposta)|autorrespuesta)(?!\w)"
)


def find_automatic(text: str) -> str | None:
    if match := _PLACEHOLDER.search(text):
        return match[0]
    folded = fold(text)
    if label := _AUTOMATIC_LABEL.search(folded):
        return label[0].strip()
    return _phrases("automatic_phrases").search(folded)
