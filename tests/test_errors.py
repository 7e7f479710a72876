"""The error table agrees with the reference, character for character.

API tests compare responses against ``postventa.errors``; this test compares that table against
``shared/reference/ml-messages-api.md``, so a typo cannot hide in the table.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from postventa.errors import Code, PostventaError

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "ml-messages-api.md"


@pytest.fixture(scope="module")
def reference() -> str:
    if not REFERENCE.exists():
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"{REFERENCE} is missing; CI lays shared/ beside the clone")
        pytest.skip(f"{REFERENCE} not found (shared/ is not beside this checkout)")
    return REFERENCE.read_text(encoding="utf-8")


def _pattern(template: str) -> re.Pattern[str]:
    """The template as a regex: each ``{field}`` matches the reference's placeholder or example."""
    parts = re.split(r"\{[a-z_]+\}", template)
    return re.compile(r"[^\s`]+".join(re.escape(p) for p in parts))


@pytest.mark.parametrize("code", [c for c in Code if c.spec.documented], ids=lambda c: c.name)
def test_message_appears_in_the_reference(code: Code, reference: str) -> None:
    assert _pattern(code.spec.template).search(reference), code.spec.template


@pytest.mark.parametrize("code", list(Code), ids=lambda c: c.name)
def test_envelope_shape(code: Code) -> None:
    fields = {name: "1" for name in re.findall(r"\{([a-z_]+)\}", code.spec.template)}
    body = PostventaError(code, **fields).body()
    if code.spec.envelope == "status_code":
        # The non-standard body of a send into a blocked conversation (§1.3, §6.3).
        assert body == {"status_code": 403, "code": "forbidden", "message": code.spec.template}
        return
    if code.spec.envelope == "action_guide":
        # §1.3/§11.6: a cause string (when any), error, message, status_code.
        cause = {"cause": code.spec.cause} if code.spec.cause else {}
        assert body == {
            **cause,
            "error": code.spec.error,
            "message": PostventaError(code, **fields).message,
            "status_code": code.spec.status,
        }
        return
    assert list(body) == ["message", "error", "status", "cause"]
    assert body["status"] == code.spec.status
    assert body["cause"] == []


def test_every_message_is_declared_once() -> None:
    templates = [c.spec.template for c in Code]
    assert len(templates) == len(set(templates))
