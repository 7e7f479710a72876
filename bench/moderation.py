"""Precision and recall of the moderation rule over the test corpus; writes docs/moderation.md.

Run from the repository root:

    python bench/moderation.py            # print the tables and rewrite docs/moderation.md
    python bench/moderation.py --no-write # print only

The corpus is ``tests/rules/moderation_corpus.json`` (the same file the tests assert).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))  # this checkout's sources first, installed or not

from postventa.model import Role  # noqa: E402
from postventa.rules.moderation import PRECEDENCE, moderate  # noqa: E402

CORPUS = ROOT / "tests" / "rules" / "moderation_corpus.json"
OUTPUT = ROOT / "docs" / "moderation.md"
NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
BATCHES = {1: "with the rules", 2: "blind, then fixed", 3: "holdout"}


@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    support: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass
class Result:
    case: dict[str, Any]
    got: str | None
    seconds: float


def run(cases: list[dict[str, Any]]) -> list[Result]:
    results = []
    for case in cases:
        start = time.perf_counter()
        verdict = moderate(
            case["text"], site_id=case["site"], sender_role=Role(case["role"]), now=NOW
        )
        results.append(Result(case, verdict.reason, time.perf_counter() - start))
    return results


def per_reason(results: list[Result]) -> dict[str, Score]:
    scores = {reason.value: Score() for reason in PRECEDENCE}
    for result in results:
        expected, got = result.case["expected"], result.got
        if expected is not None:
            scores[expected].support += 1
        if expected == got:
            if got is not None:
                scores[got].tp += 1
            continue
        if got is not None:
            scores[got].fp += 1
        if expected is not None:
            scores[expected].fn += 1
    return scores


def micro(scores: dict[str, Score]) -> Score:
    total = Score()
    for score in scores.values():
        total.tp += score.tp
        total.fp += score.fp
        total.fn += score.fn
        total.support += score.support
    return total


def flagging(results: list[Result]) -> Score:
    """Rejected vs clean, whatever the reason."""
    score = Score()
    for result in results:
        expected, got = result.case["expected"] is not None, result.got is not None
        score.support += expected
        score.tp += expected and got
        score.fp += got and not expected
        score.fn += expected and not got
    return score


def row(name: str, score: Score, texts: int) -> str:
    return (
        f"| {name} | {texts} | {score.support} | {score.tp} | {score.fp} | {score.fn} | "
        f"{score.precision:.3f} | {score.recall:.3f} | {score.f1:.3f} |"
    )


HEADER = (
    "| | texts | expected | TP | FP | FN | precision | recall | F1 |\n"
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
)


def tables(results: list[Result]) -> str:
    scores = per_reason(results)
    lines = [HEADER]
    n = len(results)
    lines += [row(f"`{reason}`", score, n) for reason, score in scores.items()]
    lines.append(row("**all reasons (micro)**", micro(scores), n))
    lines.append(row("**rejected vs clean**", flagging(results), n))
    return "\n".join(lines)


def breakdown(results: list[Result]) -> str:
    lines = [HEADER]
    for label, keep in [
        ("Spanish sites", lambda r: r.case["site"] != "MLB"),
        ("Portuguese (MLB)", lambda r: r.case["site"] == "MLB"),
        ("seller messages", lambda r: r.case["role"] == "seller"),
        ("buyer messages", lambda r: r.case["role"] == "buyer"),
    ] + [
        (f"batch {batch} ({about})", lambda r, b=batch: r.case["batch"] == b)
        for batch, about in BATCHES.items()
    ]:
        subset = [r for r in results if keep(r)]
        n = len(subset)
        lines.append(row(f"{label}, exact reason", micro(per_reason(subset)), n))
        lines.append(row(f"{label}, rejected vs clean", flagging(subset), n))
    return "\n".join(lines)


def misses(results: list[Result]) -> str:
    lines = ["| site | role | text | expected | got | why |", "|---|---|---|---|---|---|"]
    for result in results:
        case = result.case
        if result.got == case["expected"]:
            continue
        why = case.get("known_limitation", "**not a documented limitation**")
        text = case["text"].replace("|", "\\|")
        lines.append(
            f"| {case['site']} | {case['role']} | {text} | `{case['expected']}` | "
            f"`{result.got}` | {why} |"
        )
    return "\n".join(lines)


def render(results: list[Result], *, day: str) -> str:
    cases = [r.case for r in results]
    counts = Counter(c["expected"] or "clean" for c in cases)
    sites = Counter(c["site"] for c in cases)
    timings = sorted(r.seconds * 1000 for r in results)
    p50 = statistics.median(timings)
    p99 = timings[int(len(timings) * 0.99) - 1]
    corpus_line = ", ".join(f"{name} {n}" for name, n in counts.most_common())
    sites_line = ", ".join(f"{name} {n}" for name, n in sorted(sites.items()))
    return TEMPLATE.format(
        day=day,
        n=len(cases),
        corpus_line=corpus_line,
        sites_line=sites_line,
        tables=tables(results),
        breakdown=breakdown(results),
        misses=misses(results),
        p50=p50,
        p99=p99,
        python=sys.version.split()[0],
    )


TEMPLATE = """# Moderation

How Postventa decides, synchronously on send, whether a message is published (§10 of the
reference), and how well it does on the test corpus. The code is `src/postventa/rules/moderation.py`
(pure: text in, verdict out), the lists are `src/postventa/rules/data/*.txt`, the corpus is
`tests/rules/moderation_corpus.json`. This page is generated by `python bench/moderation.py`;
do not edit the numbers by hand.

## The verdict

| | clean | rejected |
|---|---|---|
| message `status` | `available` | `moderated` |
| `message_moderation.status` | `clean` | `rejected` |
| `message_moderation.reason` | `null` | one of the 8 codes, lower case |
| `message_moderation.source` | `online` | `online` |
| `message_moderation.moderation_date` | the send time | the send time |
| `message_date.available` | the send time | `null` (never made available) |

Lower-case reasons follow the only concrete moderated response in the reference (S4:
`"reason": "out_of_place_language"`); the glossary's UPPER_CASE is documentation style. The send
itself succeeds (HTTP 200): "moderated is not failed" (§17.9).

## Reasons, what triggers them, and precedence

When several apply, the first in this order is the reason (all findings are kept in the verdict
for logs and tests):

1. `evasion_claim_seller` — **sellers only**: discouraging a claim ("no abras un reclamo", "não
   precisa abrir disputa"), asking to cancel/close/withdraw one, or proposing to settle, refund or
   pay outside the platform ("te devuelvo por transferencia, pasame tu CBU", "me passa sua chave
   pix", "resolver por fora"). Phrase patterns in `evasion_claim_phrases.txt`, with exceptions
   ("cuando se cierre el reclamo ...") that are blanked first.
2. `ml_links_paypal` — a link to an external payment means: PayPal and peers (Stripe checkout,
   PagSeguro, PicPay, Ualá, MODO, ...), `external_payment_domains.txt`.
3. `link_mercadopago` — a link to Mercado Pago (`mpago.la`, `mpago.li`, `mercadopago.com.*`).
4. `link_short_url` — a link through a shortener: the eight services of §9.3 (Bitly, Bl.ink, Polr,
   Rebrandly, T2M, TinyURL, Zapier's `zpr.io`, YOURLS) plus common public ones, `shorteners.txt`.
5. `social_network_link` — a link to a social network or messenger (Instagram, Facebook,
   WhatsApp `wa.me`, TikTok, Telegram `t.me`, X/Twitter, LinkedIn, YouTube, ...), or an
   invitation to one without a link ("seguinos en Instagram", "me chama no zap"), or an `@handle`
   in a message that names a network.
6. `personal_data` — a phone number or an e-mail address (see below). Documents (DNI, CUIT, CPF,
   RUT) and delivery addresses are **not** personal data here: buyers must give them for invoices
   and deliveries, and the action guide itself asks for billing data.
7. `out_of_place_language` — a word or phrase of the site language's list (`offensive_es.txt`
   on Spanish sites, `offensive_pt.txt` on MLB).
8. `automatic_message` — **sellers only**: an unrendered template placeholder (`{{{{nombre}}}}`,
   `{{buyer_name}}`, `${{name}}`, `%s`, `[NOME]`), a message that opens with its label
   ("Respuesta automática: ..."), or one that calls itself automatic ("Este es un mensaje
   automático", "não responda esta mensagem").

Why this order: money and claims first, because the buyer's protection is at stake; then the
specific link kinds before the contact data they may contain (`wa.me/5491155554444` is a
WhatsApp link, not just a phone; a shortener may hide any of the others); then language; then the
mildest, automatic messages.

Links to any other site — a carrier's tracking page, the seller's own manual, Mercado Libre
itself — stay clean: §10.4 has no reason for them and §6.1 shows how to send a tracking link.

## Method and libraries

Each library replaces something that would otherwise be a home-made regex:

* **`phonenumbers`** (Google's libphonenumber metadata): phone numbers are matched with
  `PhoneNumberMatcher` at `Leniency.VALID` in the site's region (MLA→AR, MLB→BR, MLM→MX,
  MCO→CO, MLC→CL, MLU→UY, MPE→PE, MEC→EC, and the smaller sites), so a number must have a real
  area code and length for that country; `+`-prefixed numbers of any country are found anywhere.
  Before matching, the digits of prices (`$ 15.999,00`, `R$ 1.299,90`), runs of 13+ digits
  (pack/order ids, barcodes, CBU) and letter+digit codes (`AB123456789BR`, `MEL12345678ARG`) are
  blanked, and a number right after an id label ("guía", "pedido nº", "envio", "CPF") is skipped.
  A number that is only *possible* (a local number without area code, "4555-1234") counts when a
  contact word precedes it ("cel", "whatsapp", "me liga").
* **`text2num`** (`alpha2digit`, Spanish and Portuguese): number words become digits before a
  second phone pass ("once cincuenta y cinco ...", "onze nove oito ..."), and spaced digit groups
  are joined ("1 1 5 5 ..."). It is a maintained Rust-backed parser; writing number grammar for
  two languages by hand would be neither short nor right.
* **`linkify-it-py`** (port of the `linkify-it` JavaScript library used by markdown-it): finds
  links with or without scheme and e-mail addresses, with the full IANA TLD list **bundled in the
  package** (`.tlds(TLDS)`), so `bl.ink`, `rebrand.ly`, `mpago.la` are links while `producto.Es`
  (a missing space) is harmless because only listed hosts matter. Chosen over `urlextract`,
  which reads and may try to refresh its TLD list from a cache directory with a file lock (and
  downloads it from IANA when asked to update): I/O and a network path have no place in a rule
  that runs inside the send transaction. `linkify-it-py` has no dependencies and does no I/O.
  Before extraction, the usual disguises are undone: "juan arroba gmail punto com",
  "ventas(at)tienda(punto)com", "bit(.)ly", "gmail . com".
* Word lists: matched on whole words after case and accent folding (á→a, ç→c; **ñ is kept**, so
  "año" never becomes "ano"), and after undoing light leetspeak inside words (`put@`, `m1erda`).
  "puta" matches, "computadora", "disputa", "reputación" and the town of Putaendo do not.
  Ambiguous words (forro, concha, perra, pau, piranha, ...) are left out on purpose; each list
  says which. No profanity library covers Rioplatense, Mexican, Chilean and Brazilian slang; the
  lists are data, reviewed like code.
* Phrase patterns (evasion, automatic messages, social invitations) use a tiny syntax over folded
  text: one word position per space, `a|b` alternatives, `*` for up to three words, `!` for an
  exception.

Everything is loaded once per process from package data; a call does no I/O. Timing on this
machine (Python {python}, 2 cores): median {p50:.2f} ms, p99 {p99:.2f} ms per message over the
corpus, well under the cost of the send's database transaction.

## Corpus

{n} texts: {corpus_line}. Sites: {sites_line}. Clean texts are mostly near-misses: prices,
pack and shipment ids, dates and hours, CEP and códigos postales, CUIT/CPF/RUT/DNI, quantities,
tracking codes, words containing listed words, and messages that mention claims, Mercado Pago or
automatic e-mails innocently.

The corpus was written in three batches: batch 1 together with the rules; batch 2 without
looking at the rules (its first run got 34 of 40 right; the rules were then fixed for five of the
six misses: voseo verb forms, "at/dot" e-mails, numbers labelled as ids, two list words); batch 3
is a holdout that was run once and not tuned against, so its row below is the honest estimate
for unseen text (on that first run one holdout text, labelled `personal_data` when written, came
out `social_network_link` as the precedence above says — "escribinos al whatsapp ... 11 4321-8765";
its label was corrected, nothing else was changed). The author of the rules wrote every batch,
so these numbers measure agreement with the policy described above, not with Mercado Libre's
own moderation, which is not public.

Cases marked `known_limitation` are expected misses, asserted as strict expected failures in
`tests/rules/test_moderation.py`: fixing one makes the test suite say so.

## Results ({day})

{tables}

Breakdown:

{breakdown}

Misses:

{misses}

## Not covered (deliberately)

* History-based signals (the same text sent to many buyers, bursts of messages): the rule sees
  one message; that belongs to the send action if ever needed.
* Shorteners on private domains (self-hosted Polr/YOURLS, Rebrandly custom domains): they look
  like any other site.
* Attachments (no upload endpoint yet) and images of text.
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    cases = json.loads(CORPUS.read_text("utf-8"))
    run(cases[:5])  # warm the caches (lists, compiled patterns) before timing
    results = run(cases)
    report = [f"{len(results)} texts", tables(results), breakdown(results), misses(results)]
    sys.stdout.write("\n\n".join(report) + "\n")
    if not args.no_write:
        OUTPUT.write_text(render(results, day=datetime.now(UTC).date().isoformat()), "utf-8")
        sys.stdout.write(f"\nwrote {OUTPUT.relative_to(ROOT)}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
