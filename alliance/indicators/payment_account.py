"""Payment accounts: an IBAN, a card (BIN + last four), or an account at a wallet provider.

Values are written ``iban:DE89…``, ``card:411111:1111`` and ``wallet:paypal:shop@example.com``,
and those forms are read back. Without a ``kind`` the kind follows from the fields and the text:
a ``provider`` means a wallet, ``bin``/``last4`` a card, two letters and two digits an IBAN, a
masked number a card.
"""

from __future__ import annotations

import re

from stdnum import luhn

from alliance.indicators.errors import IndicatorErrorCode, InvalidIndicator
from alliance.indicators.iban import compact_iban, validate_iban
from alliance.indicators.indicator_type import IndicatorType
from alliance.indicators.normalised import Normalised
from alliance.indicators.payment_card import (
    card_bin_and_last4,
    looks_like_full_card_number,
    refuse_full_card_number,
)
from alliance.indicators.text_input import clean_text, optional_text
from alliance.indicators.wallet_providers import find_wallet_provider, registered_wallet_providers

MAX_PAYMENT_INPUT = 256
KINDS = ("iban", "card", "wallet")


def _kind(value: object) -> str:
    kind = clean_text(value, field="kind", max_length=16).lower()
    if kind not in KINDS:
        raise InvalidIndicator(
            "kind", IndicatorErrorCode.UNKNOWN_PAYMENT_KIND, "must be iban, card or wallet"
        )
    return kind


def _split_prefix(text: str) -> tuple[str | None, str]:
    head, colon, rest = text.partition(":")
    if colon and head.strip().lower() in KINDS:
        return head.strip().lower(), rest.strip()
    return None, text


def _guess_kind(text: str) -> str:
    if re.fullmatch(r"[A-Z]{2}[0-9]{2}", compact_iban(text)[:4]):
        return "iban"
    if looks_like_full_card_number(text):
        raise refuse_full_card_number("value")
    if re.search(r"[0-9][*xX•·#_.…]+[0-9]", re.sub(r"[\s-]", "", text)):
        return "card"
    raise InvalidIndicator(
        "kind",
        IndicatorErrorCode.UNKNOWN_PAYMENT_KIND,
        "is needed: say whether this is an iban, a card or a wallet (with its provider)",
    )


def _wallet(text: str, provider_name: object) -> Normalised:
    if provider_name is None:
        provider_text, colon, rest = text.partition(":")
        if not colon:
            raise InvalidIndicator(
                "provider", IndicatorErrorCode.REQUIRED, "is needed: say which wallet provider"
            )
        provider_name, text = provider_text, rest.strip()
    name = clean_text(provider_name, field="provider", max_length=64)
    provider = find_wallet_provider(name)
    if provider is None:
        known = ", ".join(sorted(registered_wallet_providers()))
        raise InvalidIndicator(
            "provider",
            IndicatorErrorCode.UNKNOWN_WALLET_PROVIDER,
            f"is not a known wallet provider (known: {known})",
        )
    if text.lower().startswith(f"{provider.slug}:"):
        text = text[len(provider.slug) + 1 :].strip()
    # Wallet ids may be phone numbers (long runs of digits): refuse only what checks out as a
    # card number and carries no "+" of an international phone number.
    digits = re.sub(r"[\s-]", "", text)
    if not text.startswith("+") and re.fullmatch(r"[0-9]{13,19}", digits) and luhn.is_valid(digits):
        raise refuse_full_card_number("value")
    account = provider.account_id.normalise(text, field="value", what=f"{provider.name} account")
    return Normalised(
        IndicatorType.PAYMENT_ACCOUNT,
        f"wallet:{provider.slug}:{account}",
        (),
        (("kind", "wallet"), ("provider", provider.slug)),
    )


def normalise_payment_account(
    value: object,
    *,
    kind: object = None,
    provider: object = None,
    bin_: object = None,
    last4: object = None,
) -> Normalised:
    bin_text = optional_text(bin_, field="bin", max_length=64)
    last4_text = optional_text(last4, field="last4", max_length=64)
    card_fields = bin_text is not None or last4_text is not None
    text = (
        ""
        if card_fields and value in (None, "")
        else clean_text(value, max_length=MAX_PAYMENT_INPUT)
    )
    chosen = _kind(kind) if kind is not None else None
    prefixed, text = _split_prefix(text)
    if chosen and prefixed and chosen != prefixed:
        raise InvalidIndicator(
            "kind",
            IndicatorErrorCode.UNKNOWN_PAYMENT_KIND,
            f"says {chosen} but the value is written as {prefixed}",
        )
    chosen = chosen or prefixed
    if chosen is None:
        if provider is not None:
            chosen = "wallet"
        elif card_fields:
            chosen = "card"
        else:
            chosen = _guess_kind(text)
    if chosen == "wallet":
        return _wallet(text, provider)
    if chosen == "iban":
        if not re.match(r"[A-Z]{2}", compact_iban(text)) and looks_like_full_card_number(text):
            raise refuse_full_card_number("value")
        number = validate_iban(text)
        return Normalised(
            IndicatorType.PAYMENT_ACCOUNT,
            f"iban:{number}",
            (),
            (("kind", "iban"), ("country", number[:2])),
        )
    if chosen == "card" and text.count(":") == 1 and not card_fields:
        # The canonical form "card:411111:1111" read back.
        head, _, tail = text.partition(":")
        text, bin_text, last4_text = "", head, tail
    first, last = card_bin_and_last4(text or None, bin_=bin_text, last4=last4_text)
    return Normalised(
        IndicatorType.PAYMENT_ACCOUNT,
        f"card:{first}:{last}",
        (("bin6_last4", f"card:{first[:6]}:{last}"),),
        (("kind", "card"), ("bin", first), ("last4", last)),
    )
