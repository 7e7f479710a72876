"""API timestamps read ``2020-12-05T20:01:46.000Z``: UTC, milliseconds, ``Z`` (§1.2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from postventa.api.serializers import timestamp


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (datetime(2020, 12, 5, 20, 1, 46, tzinfo=UTC), "2020-12-05T20:01:46.000Z"),
        # milliseconds are truncated, never rounded up into the next second
        (datetime(2020, 12, 5, 20, 1, 46, 999_999, tzinfo=UTC), "2020-12-05T20:01:46.999Z"),
        (datetime(2020, 12, 5, 20, 1, 46, 1_500, tzinfo=UTC), "2020-12-05T20:01:46.001Z"),
        # another offset is converted to UTC first
        (
            datetime(2020, 12, 5, 20, 1, 46, tzinfo=timezone(timedelta(hours=-3))),
            "2020-12-05T23:01:46.000Z",
        ),
        (
            datetime(2020, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1))),
            "2019-12-31T23:30:00.000Z",
        ),
        (None, None),
    ],
)
def test_timestamps_are_utc_milliseconds_with_z(
    value: datetime | None, expected: str | None
) -> None:
    assert timestamp(value) == expected
