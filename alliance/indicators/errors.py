"""The one error every normaliser raises: which field, a stable code, and why in plain words."""

from __future__ import annotations

from enum import StrEnum

from alliance.errors import FieldProblem, InvalidInput


class IndicatorErrorCode(StrEnum):
    # Any type
    UNKNOWN_TYPE = "UNKNOWN_TYPE"
    UNEXPECTED_FIELD = "UNEXPECTED_FIELD"
    REQUIRED = "REQUIRED"
    NOT_TEXT = "NOT_TEXT"
    EMPTY = "EMPTY"
    TOO_LONG = "TOO_LONG"
    INVALID_CHARACTER = "INVALID_CHARACTER"
    INVALID_COUNTRY = "INVALID_COUNTRY"
    INVALID_FORMAT = "INVALID_FORMAT"
    # Seller accounts and wallets
    UNKNOWN_PLATFORM = "UNKNOWN_PLATFORM"
    PLATFORM_MISMATCH = "PLATFORM_MISMATCH"
    INVALID_ACCOUNT_ID = "INVALID_ACCOUNT_ID"
    UNKNOWN_WALLET_PROVIDER = "UNKNOWN_WALLET_PROVIDER"
    # Hosts and URLs
    INVALID_DOMAIN = "INVALID_DOMAIN"
    NOT_A_DOMAIN = "NOT_A_DOMAIN"
    INVALID_URL = "INVALID_URL"
    UNSUPPORTED_SCHEME = "UNSUPPORTED_SCHEME"
    INVALID_PORT = "INVALID_PORT"
    # Phones and e-mail
    INVALID_PHONE = "INVALID_PHONE"
    COUNTRY_NEEDED = "COUNTRY_NEEDED"
    INVALID_EMAIL = "INVALID_EMAIL"
    # Payment accounts
    UNKNOWN_PAYMENT_KIND = "UNKNOWN_PAYMENT_KIND"
    IBAN_COUNTRY = "IBAN_COUNTRY"
    IBAN_LENGTH = "IBAN_LENGTH"
    IBAN_FORMAT = "IBAN_FORMAT"
    IBAN_CHECKSUM = "IBAN_CHECKSUM"
    IBAN_NATIONAL_CHECKSUM = "IBAN_NATIONAL_CHECKSUM"
    FULL_CARD_NUMBER = "FULL_CARD_NUMBER"
    INVALID_CARD = "INVALID_CARD"
    # Waybills
    INVALID_CARRIER = "INVALID_CARRIER"
    INVALID_WAYBILL = "INVALID_WAYBILL"
    WAYBILL_CHECK_DIGIT = "WAYBILL_CHECK_DIGIT"
    # Image hashes
    INVALID_HASH = "INVALID_HASH"
    INVALID_QUALITY = "INVALID_QUALITY"
    QUALITY_TOO_LOW = "QUALITY_TOO_LOW"
    # GTIN
    GTIN_LENGTH = "GTIN_LENGTH"
    GTIN_CHECK_DIGIT = "GTIN_CHECK_DIGIT"
    # Serial patterns
    INVALID_PATTERN = "INVALID_PATTERN"
    UNSAFE_PATTERN = "UNSAFE_PATTERN"
    # IP addresses
    INVALID_IP = "INVALID_IP"
    HOST_BITS_SET = "HOST_BITS_SET"
    NETWORK_TOO_BROAD = "NETWORK_TOO_BROAD"


class InvalidIndicator(InvalidInput):
    """A value refused by its normaliser.

    It is an ``InvalidInput`` with one field problem, so the API layers already turn it into a
    typed field error. Messages never echo the refused value back (it may be a card number).
    """

    def __init__(self, field: str, code: IndicatorErrorCode, message: str) -> None:
        super().__init__([FieldProblem((field,), str(code), message)])
        self.field = field
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"InvalidIndicator({self.field!r}, {self.code.value!r}, {self.message!r})"
