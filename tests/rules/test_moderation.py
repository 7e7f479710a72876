"""Moderation (§10): the verdict on a message text, decided on send.

The corpus (``moderation_corpus.json``) is the specification by example: every case names the
site, the sender's role, the text and the reason expected (or null for clean). Cases marked
``known_limitation`` are documented misses; they are expected to fail, strictly, so that fixing
one is noticed and the case moved to the ordinary ones. ``bench/moderation.py`` reports precision
and recall over the same file.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections import Counter
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from postventa.model import Role
from postventa.rules import moderation
from postventa.rules.moderation import (
    PRECEDENCE,
    SITE_REGIONS,
    Reason,
    compile_phrase,
    deobfuscate,
    find_all,
    find_links,
    find_phones,
    fold,
    host_matches,
    language_of,
    mask_non_phone_numbers,
    moderate,
    unleet,
)

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
CORPUS_PATH = Path(__file__).with_name("moderation_corpus.json")
CORPUS: list[dict[str, Any]] = json.loads(CORPUS_PATH.read_text("utf-8"))
REFERENCE_REASONS = {
    "out_of_place_language",
    "social_network_link",
    "link_short_url",
    "automatic_message",
    "personal_data",
    "link_mercadopago",
    "ml_links_paypal",
    "evasion_claim_seller",
}


def reasons_of(text: str, *, site: str = "MLA", role: Role = Role.seller) -> list[str]:
    return [finding.reason.value for finding in find_all(text, site_id=site, sender_role=role)]


def verdict_reason(text: str, *, site: str = "MLA", role: Role = Role.seller) -> str | None:
    return moderate(text, site_id=site, sender_role=role, now=NOW).reason


def corpus_params() -> list[Any]:
    params = []
    for number, case in enumerate(CORPUS):
        marks = []
        if "known_limitation" in case:
            marks.append(pytest.mark.xfail(strict=True, reason=case["known_limitation"]))
        case_id = f"{number:03d}-{case['site']}-{case['role']}-{case['expected'] or 'clean'}"
        params.append(pytest.param(case, id=case_id, marks=marks))
    return params


# --- the corpus ---------------------------------------------------------------------------------


@pytest.mark.parametrize("case", corpus_params())
def test_corpus_case_gets_its_expected_verdict(case: dict[str, Any]) -> None:
    verdict = moderate(case["text"], site_id=case["site"], sender_role=Role(case["role"]), now=NOW)
    found = [(f.reason.value, f.evidence) for f in verdict.findings]
    assert verdict.reason == case["expected"], found


def test_corpus_is_large_and_covers_every_reason_languages_and_sites() -> None:
    assert len(CORPUS) >= 200
    expected = Counter(case["expected"] for case in CORPUS)
    assert set(expected) - {None} == REFERENCE_REASONS
    assert all(expected[reason] >= 7 for reason in REFERENCE_REASONS), expected
    assert expected[None] >= len(CORPUS) * 0.4, "near-misses must outnumber nothing"
    sites = Counter(case["site"] for case in CORPUS)
    assert sites["MLB"] >= 50, "Portuguese cases"
    assert set(sites) == {"MLA", "MLB", "MLM", "MCO", "MLC", "MLU", "MPE", "MEC"}
    assert {case["role"] for case in CORPUS} == {"seller", "buyer"}


def test_corpus_cases_are_unique_and_well_formed() -> None:
    keys = [(case["site"], case["role"], case["text"]) for case in CORPUS]
    assert len(keys) == len(set(keys))
    for case in CORPUS:
        assert set(case) <= {
            "site",
            "role",
            "text",
            "expected",
            "batch",
            "note",
            "known_limitation",
        }
        assert case["batch"] in (1, 2, 3)
        assert case["expected"] is None or case["expected"] in REFERENCE_REASONS


# --- the verdict --------------------------------------------------------------------------------


def test_clean_text_is_available_and_clean_with_no_reason() -> None:
    verdict = moderate(
        "¡Hola! Tu paquete fue despachado.", site_id="MLA", sender_role=Role.seller, now=NOW
    )
    assert (verdict.status, verdict.moderation_status, verdict.reason) == (
        "available",
        "clean",
        None,
    )
    assert (verdict.source, verdict.moderation_date, verdict.findings) == ("online", NOW, ())
    assert not verdict.rejected


def test_offending_text_is_moderated_rejected_with_a_lower_case_reason() -> None:
    verdict = moderate("Sos un pelotudo", site_id="MLA", sender_role=Role.buyer, now=NOW)
    assert (verdict.status, verdict.moderation_status) == ("moderated", "rejected")
    assert verdict.reason == "out_of_place_language"
    assert (verdict.source, verdict.moderation_date) == ("online", NOW)
    assert verdict.rejected
    assert [(f.reason, f.evidence) for f in verdict.findings] == [
        (Reason.out_of_place_language, "pelotudo")
    ]


def test_verdict_is_immutable() -> None:
    verdict = moderate("hola", site_id="MLA", sender_role=Role.buyer, now=NOW)
    with pytest.raises(AttributeError):
        verdict.reason = "personal_data"  # type: ignore[misc]


def test_reason_codes_are_the_eight_of_the_reference_in_lower_case() -> None:
    assert {reason.value for reason in Reason} == REFERENCE_REASONS


@pytest.mark.parametrize("text", ["", " ", "\x00", "🙂" * 10, "a" * 3500, "1" * 3500])
def test_odd_texts_do_not_break_moderation(text: str) -> None:
    verdict = moderate(text, site_id="MLA", sender_role=Role.buyer, now=NOW)
    assert verdict.status in ("available", "moderated")


def test_unknown_site_still_finds_international_numbers_only() -> None:
    assert verdict_reason("llamame al +54 9 11 5555 4444", site="XXX", role=Role.buyer) == (
        "personal_data"
    )
    assert verdict_reason("llamame al 11 5555-4444", site="XXX", role=Role.buyer) is None


# --- precedence ---------------------------------------------------------------------------------


def test_precedence_is_money_and_claims_then_links_then_data_then_language_then_automatic() -> None:
    assert [reason.value for reason in PRECEDENCE] == [
        "evasion_claim_seller",
        "ml_links_paypal",
        "link_mercadopago",
        "link_short_url",
        "social_network_link",
        "personal_data",
        "out_of_place_language",
        "automatic_message",
    ]


def test_all_findings_are_kept_in_precedence_order_and_the_first_is_the_reason() -> None:
    text = (
        "Este es un mensaje automático, boludo: cancelá el reclamo, pagá en paypal.me/x o "
        "mpago.la/y, mirá bit.ly/z, seguinos en instagram.com/t o llamá al 11 5555-4444"
    )
    assert reasons_of(text) == [reason.value for reason in PRECEDENCE]
    assert verdict_reason(text) == "evasion_claim_seller"


@pytest.mark.parametrize(
    ("text", "winner", "loser"),
    [
        ("Cancelá el reclamo y pagá en paypal.me/juan", "evasion_claim_seller", "ml_links_paypal"),
        ("paypal.me/juan o mpago.la/abc", "ml_links_paypal", "link_mercadopago"),
        ("mpago.la/abc o bit.ly/abc", "link_mercadopago", "link_short_url"),
        ("bit.ly/abc o instagram.com/tienda", "link_short_url", "social_network_link"),
        ("wa.me/5491155554444 o al 11 5555-4444", "social_network_link", "personal_data"),
        ("boludo, llamame al 11 5555-4444", "personal_data", "out_of_place_language"),
        ("Hola {{nombre}}, qué mierda", "out_of_place_language", "automatic_message"),
    ],
)
def test_each_reason_beats_the_next_one(text: str, winner: str, loser: str) -> None:
    assert reasons_of(text)[:2] == [winner, loser]
    assert verdict_reason(text) == winner


def test_evasion_and_automatic_message_apply_to_sellers_only() -> None:
    for text, reason in [
        ("No abras un reclamo, te devuelvo por transferencia", "evasion_claim_seller"),
        ("Este es un mensaje automático, no responder.", "automatic_message"),
    ]:
        assert verdict_reason(text, role=Role.seller) == reason
        assert verdict_reason(text, role=Role.buyer) is None


# --- normalisation ------------------------------------------------------------------------------


def test_fold_removes_accents_and_case_but_keeps_enye() -> None:
    assert fold("ÁÉÍÓÚ Ü Ç ção") == "aeiou u c cao"
    assert fold("Año COÑO") == "año coño"


def test_unleet_only_touches_words_that_also_have_letters() -> None:
    assert unleet("put@ m1erda c4br0n") == "puta mierda cabron"
    assert unleet("2026 $ 15.999 @ 10") == "2026 $ 15.999 @ 10"


def test_word_list_matches_whole_words_only() -> None:
    for text in ["puta", "PUTA", "Putá", "la puta madre", "hijo de  puta"]:
        assert verdict_reason(text, role=Role.buyer) == "out_of_place_language", text
    for text in ["computadora", "disputa", "reputación", "Putaendo", "imputado", "año", "cono"]:
        assert verdict_reason(text, role=Role.buyer) is None, text


def test_word_list_follows_the_site_language() -> None:
    assert language_of("MLB") == "pt"
    assert language_of("MLA") == language_of("MLM") == "es"
    assert verdict_reason("vai tomar no cu", site="MLB", role=Role.buyer) == (
        "out_of_place_language"
    )
    assert verdict_reason("vai tomar no cu", site="MLA", role=Role.buyer) is None
    assert verdict_reason("pelotudo", site="MLB", role=Role.buyer) is None


# --- phrase patterns ----------------------------------------------------------------------------


def test_phrase_pattern_alternatives_and_gap_of_at_most_three_words() -> None:
    pattern = compile_phrase("no abras|abra * reclamo")
    assert pattern.search("no abras reclamo")
    assert pattern.search("no abra un nuevo gran reclamo")
    assert not pattern.search("no abra un nuevo gran gran reclamo")
    assert not pattern.search("no abrass reclamo")
    assert compile_phrase("cancelá").search(fold("CANCELÁ"))


@pytest.mark.parametrize("line", ["*", "* reclamo", "no abras *", ""])
def test_malformed_phrase_patterns_are_refused(line: str) -> None:
    with pytest.raises(ValueError, match="bad phrase pattern"):
        compile_phrase(line)


def test_exceptions_blank_their_span_before_patterns_are_tried() -> None:
    assert verdict_reason("Cuando se cierre el reclamo te reintegramos.") is None
    assert verdict_reason("Cierre el reclamo y le reintegramos.") == "evasion_claim_seller"


# --- links --------------------------------------------------------------------------------------


def test_host_matches_domain_and_subdomains_only() -> None:
    domains = {"bit.ly", "instagram.com"}
    assert host_matches("bit.ly", domains)
    assert host_matches("www.instagram.com", domains)
    assert host_matches("m.instagram.com", domains)
    assert not host_matches("notbit.ly", domains)
    assert not host_matches("bit.ly.example.com", domains)
    assert not host_matches("instagram.com.evil.net", domains)


def test_links_are_found_with_and_without_scheme_and_in_html() -> None:
    links = find_links('ver bit.ly/a, https://t.me/b y <a href="http://wa.me/1">acá</a>')
    assert [(link.host, link.is_email) for link in links] == [
        ("bit.ly", False),
        ("t.me", False),
        ("wa.me", False),
    ]


@pytest.mark.parametrize(
    ("disguised", "plain"),
    [
        ("juan arroba gmail punto com", "juan@gmail.com"),
        ("ventas(at)tienda(punto)com", "ventas@tienda.com"),
        ("juan at gmail dot com", "juan@gmail.com"),
        ("bit(.)ly/abc", "bit.ly/abc"),
        ("gmail . com", "gmail.com"),
        ("joao[.]silva[@]uol ponto com", "joao.silva@uol.com"),
    ],
)
def test_deobfuscate_undoes_spelled_dots_and_ats(disguised: str, plain: str) -> None:
    assert deobfuscate(disguised) == plain


def test_email_address_is_personal_data() -> None:
    links = find_links("escribime a juan.perez@gmail.com")
    assert [(link.text, link.host, link.is_email) for link in links] == [
        ("juan.perez@gmail.com", "gmail.com", True)
    ]
    assert verdict_reason("escribime a juan.perez@gmail.com") == "personal_data"


def test_links_to_other_sites_stay_clean() -> None:
    for text in [
        "https://www.correoargentino.com.ar/seguimiento?id=1",
        "articulo.mercadolibre.com.ar/MLA-123",
        "www.andreani.com/#!/informacionEnvio/123",
        "rastreamento.correios.com.br",
        "el producto.Es nuevo",
    ]:
        assert verdict_reason(text) is None, text


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("bit.ly", "link_short_url"),
        ("bl.ink", "link_short_url"),
        ("polr.me", "link_short_url"),
        ("rebrand.ly", "link_short_url"),
        ("t2m.io", "link_short_url"),
        ("tinyurl.com", "link_short_url"),
        ("zpr.io", "link_short_url"),
        ("instagram.com", "social_network_link"),
        ("fb.me", "social_network_link"),
        ("wa.me", "social_network_link"),
        ("tiktok.com", "social_network_link"),
        ("t.me", "social_network_link"),
        ("x.com", "social_network_link"),
        ("linkedin.com", "social_network_link"),
        ("youtube.com", "social_network_link"),
        ("mpago.la", "link_mercadopago"),
        ("www.mercadopago.com.br", "link_mercadopago"),
        ("paypal.me", "ml_links_paypal"),
        ("www.paypal.com", "ml_links_paypal"),
    ],
)
def test_each_listed_domain_gives_its_reason(host: str, reason: str) -> None:
    assert verdict_reason(f"mirá https://{host}/abc123") == reason
    assert verdict_reason(f"mirá {host}/abc123") == reason


def test_social_mention_needs_an_invitation_or_a_handle_next_to_a_network_name() -> None:
    assert verdict_reason("Seguinos en Instagram") == "social_network_link"
    assert verdict_reason("Instagram: @tienda_juan") == "social_network_link"
    assert verdict_reason("Lo vi en tu Instagram") is None
    assert verdict_reason("Gracias @juan por la compra") is None


# --- phone numbers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("site", "number"),
    [
        ("MLA", "11 5555-4444"),
        ("MLB", "(11) 98765-4321"),
        ("MLM", "55 1234 5678"),
        ("MCO", "310 555 1234"),
        ("MLC", "9 8765 4321"),
        ("MLU", "099 123 456"),
        ("MPE", "987 654 321"),
        ("MEC", "099 123 4567"),
    ],
)
def test_each_site_reads_national_numbers_of_its_own_country(site: str, number: str) -> None:
    region = SITE_REGIONS[site]
    language = language_of(site)
    assert list(find_phones(f"escribí al {number}", region=region, language=language)) == [number]


def test_site_region_map_covers_the_eight_sites_of_the_brief() -> None:
    assert {
        "MLA": "AR",
        "MLB": "BR",
        "MLM": "MX",
        "MCO": "CO",
        "MLC": "CL",
        "MLU": "UY",
        "MPE": "PE",
        "MEC": "EC",
    }.items() <= SITE_REGIONS.items()


@pytest.mark.parametrize(
    "text",
    [
        "11 5555 4444",
        "11.5555.4444",
        "11-5555-4444",
        "1155554444",
        "+54 9 11 5555 4444",
        "1 1 5 5 5 5 4 4 4 4",
        "uno uno cinco cinco cinco cinco cuatro cuatro cuatro cuatro",
        "once cincuenta y cinco cincuenta y cinco cuarenta y cuatro cuarenta y cuatro",
    ],
)
def test_phone_written_with_separators_or_words_is_found(text: str) -> None:
    assert list(find_phones(text, region="AR", language="es")), text


@pytest.mark.parametrize(
    "text",
    [
        "$ 15.999,00",
        "$1155554444",
        "R$ 1.299,90",
        "pack 2000000089077943",
        "12/05/2026 14:30",
        "AB123456789BR",
        "MEL12345678ARG",
        "CP 1425",
        "3 unidades de 250 g",
        "DNI 30.123.456",
        "CUIT 20-30123456-7",
        "guía 1155554444",
        "pedido nº 1155554444",
    ],
)
def test_prices_ids_dates_codes_and_labelled_numbers_are_not_phones(text: str) -> None:
    assert list(find_phones(text, region="AR", language="es")) == [], text


def test_local_number_without_area_code_counts_only_after_a_contact_word() -> None:
    assert list(find_phones("cel 4555-1234", region="AR", language="es")) == ["4555-1234"]
    assert list(find_phones("código 4555-1234", region="AR", language="es")) == []
    assert list(find_phones("el 4555-1234", region="AR", language="es")) == []


def test_masking_keeps_the_length_and_blanks_only_non_phone_digits() -> None:
    text = "Pack 2000000089077943, $ 15.999,00, AB123456789BR, cel 11 5555 4444"
    masked = mask_non_phone_numbers(text)
    assert len(masked) == len(text)
    assert masked.endswith("cel 11 5555 4444")
    assert not re.search(r"\d", masked[: masked.index("cel")])


# --- automatic messages -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Hola {{nombre}}",
        "Hola {{ buyer.first_name }}",
        "Hola ${name}",
        "Hola {first_name}",
        "Hola %s",
        "Hola %(name)s",
        "Olá [NOME]",
        "Hola <NOMBRE>",
        "Respuesta automática: gracias",
        "[Mensaje automático] tu pedido salió",
        "Auto-reply: thanks",
    ],
)
def test_unrendered_placeholders_and_self_labelled_replies_are_automatic(text: str) -> None:
    assert verdict_reason(text) == "automatic_message"


@pytest.mark.parametrize(
    "text",
    ["10% de descuento", "medidas {largo x ancho}", "email automático de Mercado Libre", "100%s"],
)
def test_percent_signs_braces_and_mentions_of_automatic_mail_are_not(text: str) -> None:
    assert verdict_reason(text) is None


# --- data files ---------------------------------------------------------------------------------


def test_every_data_file_loads_and_every_phrase_compiles() -> None:
    data = resources.files("postventa.rules").joinpath("data")
    names = sorted(entry.name for entry in data.iterdir() if entry.name.endswith(".txt"))
    assert names == [
        "automatic_phrases.txt",
        "evasion_claim_phrases.txt",
        "external_payment_domains.txt",
        "mercadopago_domains.txt",
        "offensive_es.txt",
        "offensive_pt.txt",
        "shorteners.txt",
        "social_domains.txt",
        "social_mentions.txt",
    ]
    for name in ("automatic_phrases", "evasion_claim_phrases", "social_mentions"):
        phrases = moderation._phrases(name)
        assert phrases.patterns
    for language in ("es", "pt"):
        assert moderation._word_list(language).search(fold("idiota"))
        assert 60 <= len(moderation._data_lines(f"offensive_{language}")) <= 400


def test_shortener_list_includes_every_service_named_by_the_reference() -> None:
    shorteners = moderation._domains("shorteners")
    for domain in ("bit.ly", "bl.ink", "polr.me", "rebrand.ly", "t2m.io", "tinyurl.com", "zpr.io"):
        assert domain in shorteners


def test_data_files_are_declared_as_package_data() -> None:
    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text("utf-8"))
    assert "rules/data/*.txt" in pyproject["tool"]["setuptools"]["package-data"]["postventa"]


def test_moderation_gives_the_same_answers_from_several_threads() -> None:
    from concurrent.futures import ThreadPoolExecutor

    cases = CORPUS[:120]

    def reason(case: dict[str, Any]) -> str | None:
        return verdict_reason(case["text"], site=case["site"], role=Role(case["role"]))

    sequential = [reason(case) for case in cases]
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(reason, cases)) == sequential
