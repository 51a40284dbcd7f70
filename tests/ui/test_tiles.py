"""KPI tiles: a change that shows as zero is steady (no arrow, no colour)."""

from __future__ import annotations

import pytest

from monitor.ui.health import Tile, signed_change


@pytest.mark.parametrize(
    ("shown", "expected"),
    [
        ("+0 ms", "±0 ms"),
        ("-0 ms", "±0 ms"),
        ("+0.00 pp", "±0.00 pp"),
        ("-0.00 pp", "±0.00 pp"),
        ("+1 ms", "+1 ms"),
        ("-12 ms", "-12 ms"),
        ("+0.01 pp", "+0.01 pp"),
        ("+1,024 ms", "+1,024 ms"),
    ],
)
def test_signed_change(shown: str, expected: str) -> None:
    assert signed_change(shown) == expected


def test_a_steady_tile_has_no_arrow_and_no_colour() -> None:
    steady, worse = Tile("38 ms", "±0 ms"), Tile("45 ms", "+7 ms")
    assert (steady.steady, steady.delta_color, steady.delta_arrow) == (True, "off", "off")
    assert (worse.steady, worse.delta_color, worse.delta_arrow) == (False, "inverse", "auto")
    assert not Tile("n/a", None).steady
