"""The action guide ("Motivos para comunicarse", §11): options, templates, caps. Pure.

Which options a sale offers depends on its site (a template must exist for the site, §11.3), its
logistic type (``REQUEST_VARIANTS`` only cross docking / drop off, ``DELIVERY_PROMISE`` only Flex,
§11.1) and its shipment (``OTHER`` not once delivered, §11.1). Products with manufacturing time are
an "excepted case": no action guide at all (§11.1).

Caps (§11.4): each option may be used :data:`CAP_PER_OPTION` times per round; a round ends when the
buyer writes, so the caps are counted from the option uses *after* the buyer's last message (the
reference leaves the reset open, §19 Q15; docs/compatibility.md).

:func:`render` turns a send request (§11.5) into the message text, or raises the §11.6 error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

from postventa.errors import Code, PostventaError
from postventa.rules.blocking import BlockingFacts, OrderFacts
from postventa.rules.text import has_only_supported_characters

CAP_PER_OPTION = 1
CHAR_LIMIT = 350

REQUEST_VARIANTS = "REQUEST_VARIANTS"
REQUEST_BILLING_INFO = "REQUEST_BILLING_INFO"
SEND_INVOICE_LINK = "SEND_INVOICE_LINK"
DELIVERY_PROMISE = "DELIVERY_PROMISE"
OTHER = "OTHER"
# Catalogue order, as in the reference's samples (§11.2, §11.4).
OPTION_IDS = (REQUEST_VARIANTS, REQUEST_BILLING_INFO, SEND_INVOICE_LINK, DELIVERY_PROMISE, OTHER)
FREE_TEXT = frozenset({SEND_INVOICE_LINK, OTHER})

DESCRIPTIONS = {
    REQUEST_VARIANTS: "Ask the buyer for the product's variant data",
    REQUEST_BILLING_INFO: "Ask the buyer for billing data",
    SEND_INVOICE_LINK: "Send the invoicing link",
    DELIVERY_PROMISE: "Inform the delivery promise (Flex)",
    OTHER: "Other reason (free text)",
}

SPANISH_SITES = ("MLA", "MLM", "MCO", "MLC", "MPE", "MEC", "MLU")
SITES = (*SPANISH_SITES, "MLB")
VARIANT_LOGISTIC_TYPES = frozenset({"cross_docking", "drop_off", "xd_drop_off"})
FLEX_LOGISTIC_TYPES = frozenset({"self_service"})

# §11.3 REQUEST_VARIANTS: current wording (S4 2025; MLU added by S10 2026).
_VARIANTS_ES = (
    "Hola, por favor confirma las características que quieres del producto que compraste, así "
    "podemos concretar el envío."
)
_VARIANTS_PT = (
    "Olá! Por favor, confirme as características que quer para o produto que você comprou, "
    "assim, podemos fazer o envio."
)
VARIANTS_TEXT = {**{site: _VARIANTS_ES for site in SPANISH_SITES}, "MLB": _VARIANTS_PT}

# §11.3 REQUEST_BILLING_INFO: a header line and the site's list. MLB and MLC have none (open).
_BILLING_HEADER = "Para adjuntarte la factura de tu compra necesito los siguientes datos:"
BILLING_FIELDS = {
    "MLA": ("Nombre y apellido", "DNI", "Domicilio", "Código postal"),
    "MLM": ("Nombre y apellido", "RFC", "Domicilio", "Código postal"),
    "MCO": (
        "Nombre y apellido",
        "Tipo y número de documento",
        "Email",
        "Domicilio",
        "Código postal",
        "Código de municipio",
        "Código de departamento",
    ),
    "MLU": ("Nombre y apellido", "Cédula"),
    "MPE": ("Nombre y apellido", "DNI", "Domicilio", "Código postal"),
    "MEC": ("Nombre y apellido", "Tipo y número de documento", "Domicilio", "Código postal"),
}

# §11.2 DELIVERY_PROMISE: the template's html per site (verbatim, "Hola,Entregaremos" included)
# and the words for %s (§11.3: today / tomorrow / next business day).
PROMISE_HTML = {
    "mla": "Hola,Entregaremos tu compra %s entre las %d y las %d hs.",
    "mlb": "Olá,Entregaremos sua compra %s entre %d e %d h.",
    "mlc": "Hola,Entregaremos tu compra %s entre las %d y las %d hs.",
    "mco": "Hola,Entregaremos tu compra %s entre las %d y las %d hs.",
    "mlu": "Hola,Entregaremos tu compra %s entre las %d y las %d hs.",
}
_PROMISE_DAYS_ES = ("hoy", "mañana", "el próximo día hábil")
_PROMISE_DAYS_PT = ("hoje", "amanhã", "no próximo dia útil")
PROMISE_VAR_INIT = "INIT"
PROMISE_VAR_LIMIT = "LIMIT"

# "Today" for a delivery promise is the site's calendar day (standard offsets, no DST).
SITE_UTC_OFFSET_HOURS = {
    "MLA": -3,
    "MLB": -3,
    "MLU": -3,
    "MLC": -4,
    "MCO": -5,
    "MPE": -5,
    "MEC": -5,
    "MLM": -6,
}


def template_id(option_id: str, n: int = 1) -> str:
    return f"TEMPLATE___{option_id}___{n}"


def var_id(option_id: str, name: str, n: int = 1) -> str:
    return f"{template_id(option_id, n)}___VAR___{name}"


def excepted_case(facts: BlockingFacts) -> bool:
    """Products with manufacturing time leave the whole sale out of the action guide (§11.1)."""
    return any(o.manufacturing_days > 0 for o in facts.orders)


def _logistic_types(orders: Sequence[OrderFacts]) -> set[str]:
    return {o.logistic_type for o in orders}


def has_site_text(option_id: str, site_id: str) -> bool:
    if option_id == REQUEST_VARIANTS:
        return site_id in VARIANTS_TEXT
    if option_id == REQUEST_BILLING_INFO:
        return site_id in BILLING_FIELDS
    if option_id == DELIVERY_PROMISE:
        return site_id.lower() in PROMISE_HTML
    return True


def enabled(option_id: str, facts: BlockingFacts) -> bool:
    """Whether the sale offers the option at all (site, logistic type, shipment)."""
    if not has_site_text(option_id, facts.site_id):
        return False
    kinds = _logistic_types(facts.orders)
    if option_id == REQUEST_VARIANTS:
        return bool(kinds & VARIANT_LOGISTIC_TYPES)
    if option_id == DELIVERY_PROMISE:
        return bool(kinds & FLEX_LOGISTIC_TYPES)
    if option_id == OTHER:
        return not facts.delivered
    return True


def caps_available(
    uses: Sequence[tuple[str, datetime]], *, last_buyer_message_at: datetime | None
) -> dict[str, int]:
    """Remaining uses per option: the cap minus the uses since the buyer last wrote."""
    used = dict.fromkeys(OPTION_IDS, 0)
    for option_id, used_at in uses:
        if option_id in used and (last_buyer_message_at is None or used_at > last_buyer_message_at):
            used[option_id] += 1
    return {option_id: max(0, CAP_PER_OPTION - n) for option_id, n in used.items()}


def option_json(option_id: str, facts: BlockingFacts, cap: int) -> dict[str, Any]:
    """One entry of E8's ``options`` in the exact shape of §11.2 (which differs per type)."""
    is_enabled = enabled(option_id, facts)
    head: dict[str, Any] = {
        "id": option_id,
        "internal_description": DESCRIPTIONS[option_id],
        "enabled": is_enabled,
    }
    actionable = is_enabled and cap > 0
    if option_id in FREE_TEXT:
        return {
            **head,
            "type": "free_text",
            "templates": None,
            "actionable": actionable,
            "char_limit": CHAR_LIMIT,
            "child_options": None,
            "cap_available": cap,
        }
    if option_id == DELIVERY_PROMISE:
        template = {
            "id": template_id(option_id),
            "texts": {site: {"html": html} for site, html in PROMISE_HTML.items()},
            "vars": [
                {"id": var_id(option_id, PROMISE_VAR_INIT), "type": "NUMBER"},
                {"id": var_id(option_id, PROMISE_VAR_LIMIT), "type": "NUMBER"},
            ],
        }
        return {
            **head,
            "type": "TEMPLATE",  # sic: upper case in the reference's sample
            "templates": [template],
            "actionable": actionable,
            "char_limit": None,
            "child_options": [],
            "cap_available": cap,
        }
    return {
        **head,
        "type": "template",
        "templates": [{"id": template_id(option_id), "vars": None}],
        "actionable": actionable,
        "child_options": None,
        "cap_available": cap,
    }


# --- sending (E10) ------------------------------------------------------------------------


@dataclass(frozen=True)
class OptionRequest:
    option_id: str
    template_id: object
    text: object
    vars: object


def parse_request(body: Any) -> OptionRequest:
    """The JSON object of §11.5; anything that names no option is an invalid option."""
    if not isinstance(body, dict) or not isinstance(body.get("option_id"), str):
        raise PostventaError(Code.AG_OPTION_INVALID)
    return OptionRequest(
        option_id=body["option_id"],
        template_id=body.get("template_id"),
        text=body.get("text"),
        vars=body.get("vars"),
    )


def check_option(request: OptionRequest, facts: BlockingFacts) -> str:
    """The option id, if the sale offers it (404 "The option selected is not valid" if not)."""
    if request.option_id not in OPTION_IDS or not enabled(request.option_id, facts):
        raise PostventaError(Code.AG_OPTION_INVALID)
    return request.option_id


def check_free_text(text: object) -> str:
    """OTHER / SEND_INVOICE_LINK: 1..350 supported characters, else "The text is invalid"."""
    if (
        not isinstance(text, str)
        or not text.strip()
        or len(text) > CHAR_LIMIT
        or not has_only_supported_characters(text)
    ):
        raise PostventaError(Code.AG_TEXT_INVALID)
    return text


def _check_template(request: OptionRequest) -> None:
    expected = template_id(request.option_id)
    if request.template_id != expected:
        shown = request.template_id if isinstance(request.template_id, str) else "null"
        raise PostventaError(Code.AG_TEMPLATE_INVALID, template_id=shown or "null")


def billing_text(site_id: str) -> str:
    return "\n".join([_BILLING_HEADER, *(f"- {field}" for field in BILLING_FIELDS[site_id])])


def site_today(site_id: str, now: datetime) -> date:
    offset = timezone(timedelta(hours=SITE_UTC_OFFSET_HOURS.get(site_id, 0)))
    return now.astimezone(offset).date()


def _promise_hours(request: OptionRequest) -> tuple[int, int]:
    """INIT and LIMIT: whole hours 0–23, INIT before LIMIT; else the template is invalid."""
    invalid = PostventaError(Code.AG_TEMPLATE_INVALID, template_id=template_id(DELIVERY_PROMISE))
    if not isinstance(request.vars, list):
        raise invalid
    values: dict[str, int] = {}
    for item in request.vars:
        if not isinstance(item, dict):
            raise invalid
        value = item.get("value")
        if isinstance(value, str) and value.isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 23:
            raise invalid
        values[str(item.get("id"))] = value
    init = values.get(var_id(DELIVERY_PROMISE, PROMISE_VAR_INIT))
    limit = values.get(var_id(DELIVERY_PROMISE, PROMISE_VAR_LIMIT))
    if init is None or limit is None or init >= limit or len(values) != 2:
        raise invalid
    return init, limit


def promise_day(facts: BlockingFacts, now: datetime) -> int:
    """0 today, 1 tomorrow, 2 later; the promise is the Flex order's (today when unset)."""
    today = site_today(facts.site_id, now)
    promised = [o.delivery_promise_at for o in facts.orders if o.delivery_promise_at is not None]
    day = site_today(facts.site_id, min(promised)) if promised else today
    if day < today:
        raise PostventaError(Code.AG_PROMISE_BEFORE_TODAY)
    return min((day - today).days, 2)


def render(request: OptionRequest, facts: BlockingFacts, now: datetime) -> str:
    """The message text an option sends (§11.3, §11.5), or the §11.6 error."""
    option_id = request.option_id
    if option_id in FREE_TEXT:
        return check_free_text(request.text)
    _check_template(request)
    site = facts.site_id
    if option_id == REQUEST_VARIANTS:
        return VARIANTS_TEXT[site]
    if option_id == REQUEST_BILLING_INFO:
        return billing_text(site)
    init, limit = _promise_hours(request)
    words = _PROMISE_DAYS_PT if site == "MLB" else _PROMISE_DAYS_ES
    return PROMISE_HTML[site.lower()] % (words[promise_day(facts, now)], init, limit)
