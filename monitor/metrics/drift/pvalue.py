"""How a p-value is written for a person (pages, captions, hover text, the CLI's text).

JSON and CSV keep the float. Tiny p-values are common on large samples: they are written
in scientific notation with 3 significant digits ("1.67e-39"), never as a run of zeros,
and one that underflowed to 0 reads "< 1e-300".
"""

from __future__ import annotations

import math
from typing import Final

FLOOR: Final = 1e-300
"""Below this a p-value is written as "< 1e-300" (0.0 means it underflowed)."""


def format_p_value(p: float) -> str:
    """'0.432', '0.0307', '1.67e-39', '< 1e-300' (3 significant digits)."""
    if not math.isfinite(p):
        return "n/a"
    if p < FLOOR:
        return f"< {FLOOR:g}"
    return f"{p:.3g}"
