from __future__ import annotations

from dataclasses import dataclass, field

from alliance.indicators.indicator_type import IndicatorType

Detail = str | int


@dataclass(frozen=True, slots=True)
class Normalised:
    """A value in canonical form.

    ``value`` is the string matched exactly: one canonical indicator exists per (type, value).
    ``match_keys`` are further strings the same value is also matched on (for a URL its
    registrable domain, for an e-mail the address without its +tag, for a keyword its confusable
    skeleton). ``details`` describe the value (its platform, country, components, quality) and
    take no part in equality: two inputs that reach the same value and keys are the same
    indicator, whatever form they came in.
    """

    type: IndicatorType
    value: str
    match_keys: tuple[tuple[str, str], ...] = ()
    details: tuple[tuple[str, Detail], ...] = field(default=(), compare=False)

    def match_key(self, name: str) -> str | None:
        return next((v for k, v in self.match_keys if k == name), None)

    def detail(self, name: str) -> Detail | None:
        return next((v for k, v in self.details if k == name), None)
