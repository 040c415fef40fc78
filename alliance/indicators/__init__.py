"""Counterfeit indicators.

The pure part lives here first: every indicator type, how its value is normalised to one
canonical string, and the further keys it is matched on. ``normalise`` is the entry point.
"""

from alliance.indicators.errors import IndicatorErrorCode, InvalidIndicator
from alliance.indicators.indicator_type import IndicatorType
from alliance.indicators.normalise import normalise
from alliance.indicators.normalised import Normalised
from alliance.indicators.serial_pattern import matches

__all__ = [
    "IndicatorErrorCode",
    "IndicatorType",
    "InvalidIndicator",
    "Normalised",
    "matches",
    "normalise",
]
