"""The retry schedule and the signature scheme, as pure functions."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta

from postventa.notifications import signing
from postventa.notifications.dispatcher import RetryPolicy, next_attempt_at

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


class _Fixed(random.Random):
    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value

    def random(self) -> float:
        return self.value


def _schedule(policy: RetryPolicy, rng: random.Random) -> list[timedelta]:
    """Offsets from the first attempt of every later attempt, until the policy gives up."""
    at, attempt, offsets = T0, 1, []
    while (retry := next_attempt_at(attempt, at, rng, policy)) is not None:
        offsets.append(retry - T0)
        at, attempt = retry, attempt + 1
    return offsets


def test_without_jitter_eight_attempts_double_their_gaps_and_fill_exactly_one_hour() -> None:
    offsets = _schedule(RetryPolicy(), _Fixed(0.0))
    assert len(offsets) == 7  # attempts 2..8
    gaps = [b - a for a, b in itertools.pairwise([timedelta(0), *offsets])]
    assert all(abs(later / earlier - 2) < 1e-4 for earlier, later in itertools.pairwise(gaps))
    assert abs(offsets[-1] - timedelta(hours=1)) < timedelta(milliseconds=1)
    assert round(gaps[0].total_seconds()) == 28


def test_jitter_only_shortens_gaps_so_every_attempt_stays_inside_the_window() -> None:
    for seed in range(200):
        offsets = _schedule(RetryPolicy(), random.Random(seed))
        assert len(offsets) == 7
        assert offsets[-1] <= timedelta(hours=1)
        assert offsets[0] >= timedelta(seconds=14)  # at most half of the 28 s gap is cut


def test_jitter_spreads_retries_of_a_burst() -> None:
    rng = random.Random(7)
    firsts = {next_attempt_at(1, T0, rng, RetryPolicy()) for _ in range(50)}
    assert len(firsts) == 50


def test_the_attempt_count_and_window_are_configurable() -> None:
    policy = RetryPolicy(max_attempts=3, window=timedelta(seconds=30))
    assert _schedule(policy, _Fixed(0.0)) == [timedelta(seconds=10), timedelta(seconds=30)]
    assert _schedule(RetryPolicy(max_attempts=1), _Fixed(0.0)) == []


def test_a_signature_verifies_only_for_the_same_secret_body_and_timestamp() -> None:
    secret = signing.application_secret("master", 42)
    body = b'{"resource":"abc"}'
    header = signing.signature_header(secret, 1_700_000_000, body)
    assert header.startswith("t=1700000000,v1=")
    assert signing.verify(secret, header, body).valid
    assert signing.verify(secret, header, body + b" ").reason == "signature mismatch"
    assert not signing.verify(signing.application_secret("master", 43), header, body).valid
    forged = header.replace("t=1700000000", "t=1700000001")
    assert not signing.verify(secret, forged, body).valid
    assert signing.verify(secret, None, body).reason == "missing signature header"
    assert signing.verify(secret, "v1=abc", body).reason == "malformed signature header"


def test_the_timestamp_tolerance_is_opt_in() -> None:
    secret = signing.application_secret("master", 42)
    header = signing.signature_header(secret, 1_000, b"{}")
    assert signing.verify(secret, header, b"{}", now=5_000).valid
    late = signing.verify(secret, header, b"{}", now=5_000, tolerance=300)
    assert late.reason == "timestamp outside tolerance"


def test_secrets_differ_per_application_and_per_master_secret() -> None:
    secrets = {signing.application_secret(m, a) for m in ("one", "two") for a in (1, 2)}
    assert len(secrets) == 4
    assert all(len(s) == 64 for s in secrets)
