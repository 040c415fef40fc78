from __future__ import annotations

import pytest

from alliance.indicators import IndicatorErrorCode, normalise
from alliance.indicators.wallet_providers import registered_wallet_providers

from .conftest import assert_refused, refused

PAN = "4111 1111 1111 1111"


def with_check_digits(country: str, bban: str) -> str:
    """An IBAN with correct ISO 7064 check digits, computed independently of the code."""
    digits = "".join(str(ord(c) - 55) if c.isalpha() else c for c in f"{bban}{country}00")
    return f"{country}{98 - int(digits) % 97:02d}{bban}"


def payment(value: object, **fields: object) -> str:
    return normalise("payment_account", value, **fields).value


@pytest.mark.parametrize(
    ("value", "fields"),
    [
        ("DE89370400440532013000", {}),
        ("DE89 3704 0044 0532 0130 00", {}),
        ("de89 3704 0044 0532 0130 00", {}),
        ("DE89-3704-0044-0532-0130-00", {}),
        ("IBAN DE89 3704 0044 0532 0130 00", {}),
        ("IBAN: DE89370400440532013000", {}),
        ("ＤＥ８９ ３７０４ ００４４ ０５３２ ０１３０ ００", {}),
        ("DE89\u200b370400440532013000", {}),
        ("iban:DE89370400440532013000", {}),
        ("DE89370400440532013000", {"kind": "IBAN"}),
    ],
)
def test_iban_forms_converge(value: str, fields: dict[str, object]) -> None:
    result = normalise("payment_account", value, **fields)
    assert result.value == "iban:DE89370400440532013000"
    assert result.detail("kind") == "iban"
    assert result.detail("country") == "DE"


@pytest.mark.parametrize(
    "iban",
    [
        "GB82WEST12345698765432",
        "FR1420041010050500013M02606",
        "NL91ABNA0417164300",
        "ES9121000418450200051332",
        "CH9300762011623852957",
        "AE070331234567890123456",
    ],
)
def test_valid_ibans_of_many_countries(iban: str) -> None:
    assert payment(iban) == f"iban:{iban}"


@pytest.mark.parametrize(
    ("value", "code", "says"),
    [
        ("DE89370400440532013001", IndicatorErrorCode.IBAN_CHECKSUM, "IBAN checksum fails"),
        ("DE98370400440532013000", IndicatorErrorCode.IBAN_CHECKSUM, "IBAN checksum fails"),
        ("DE8937040044053201300", IndicatorErrorCode.IBAN_LENGTH, "from DE has 22"),
        ("XX89370400440532013000", IndicatorErrorCode.IBAN_COUNTRY, "XX"),
        (
            with_check_digits("GB", "W3ST12345698765432"),
            IndicatorErrorCode.IBAN_FORMAT,
            "format of GB",
        ),
        ("DE89 3704 0044 0532 0130 0!", IndicatorErrorCode.IBAN_FORMAT, "is not an IBAN"),
        (
            with_check_digits("ES", "21000418460200051332"),
            IndicatorErrorCode.IBAN_NATIONAL_CHECKSUM,
            "ES national",
        ),
    ],
)
def test_invalid_ibans_are_refused_saying_why(
    value: str, code: IndicatorErrorCode, says: str
) -> None:
    assert_refused(lambda: normalise("payment_account", value), code, says=says)


def test_check_digit_oracle_agrees_with_published_ibans() -> None:
    assert with_check_digits("DE", "370400440532013000") == "DE89370400440532013000"
    assert with_check_digits("GB", "WEST12345698765432") == "GB82WEST12345698765432"


def test_unknown_bank_code_is_no_reason_to_refuse() -> None:
    # Belgium's national check looks the bank up in a list; a checksum-valid IBAN passes.
    assert payment("BE68539007547034") == "iban:BE68539007547034"


@pytest.mark.parametrize(
    ("value", "fields"),
    [
        ("411111******1111", {}),
        ("4111 11** **** 1111", {}),
        ("4111-11XX-XXXX-1111", {}),
        ("411111xxxxxx1111", {}),
        ("411111…1111", {}),
        ("411111•••••1111", {}),
        ("card:411111:1111", {}),
        ("411111:1111", {"kind": "card"}),
        ("", {"bin": "411111", "last4": "1111"}),
        (None, {"bin": "4111 11", "last4": " 1111"}),
    ],
)
def test_card_forms_converge_on_bin_and_last_four(value: str | None, fields: dict) -> None:
    result = normalise("payment_account", value, **fields)
    assert result.value == "card:411111:1111"
    assert result.match_key("bin6_last4") == "card:411111:1111"
    assert result.detail("bin") == "411111"


def test_eight_digit_bin_meets_the_six_digit_one_on_its_key() -> None:
    long = normalise("payment_account", "41111122****1111")
    short = normalise("payment_account", "411111******1111")
    assert long.value == "card:41111122:1111"
    assert long.value != short.value
    assert long.match_key("bin6_last4") == short.match_key("bin6_last4")


@pytest.mark.parametrize(
    ("value", "fields", "field"),
    [
        (PAN, {}, "value"),
        ("4111111111111111", {}, "value"),
        ("4111111111111112", {}, "value"),  # Luhn-invalid: still a card number
        (PAN, {"kind": "card"}, "value"),
        (PAN, {"kind": "iban"}, "value"),
        ("", {"bin": "4111111111111111", "last4": "1111"}, "bin"),
        ("", {"bin": "411111", "last4": "4111111111111111"}, "last4"),
        ("4111111111111111", {"provider": "alipay"}, "value"),
        ("card:4111111111111111", {}, "value"),
    ],
)
def test_a_full_card_number_is_always_refused_and_never_echoed(
    value: str, fields: dict, field: str
) -> None:
    error = assert_refused(
        lambda: normalise("payment_account", value, **fields),
        IndicatorErrorCode.FULL_CARD_NUMBER,
        field=field,
        says="a full card number is never stored: give the BIN and last four digits",
    )
    assert "4111" not in str(error)
    assert "4111" not in repr(error)


@pytest.mark.parametrize(
    ("value", "fields", "field"),
    [
        ("4111******1111", {}, "bin"),
        ("411111******11", {}, "last4"),
        ("", {"bin": "411111"}, "last4"),
        ("", {"last4": "1111"}, "bin"),
        ("", {"bin": "41111a", "last4": "1111"}, "bin"),
        ("411111******1111", {"bin": "411111", "last4": "1111"}, "value"),
        ("visa ending 1111", {"kind": "card"}, "value"),
    ],
)
def test_malformed_cards_are_refused(value: str, fields: dict, field: str) -> None:
    error = refused(lambda: normalise("payment_account", value, **fields))
    assert error.field == field
    assert error.code in (IndicatorErrorCode.INVALID_CARD, IndicatorErrorCode.REQUIRED)


@pytest.mark.parametrize(
    ("value", "fields", "expected"),
    [
        ("Seller@Example.com", {"provider": "PayPal"}, "wallet:paypal:seller@example.com"),
        ("paypal.me/CheapBags", {"provider": "paypal"}, "wallet:paypal:cheapbags"),
        ("wallet:paypal:seller@example.com", {}, "wallet:paypal:seller@example.com"),
        ("paypal:Seller@Example.com", {"kind": "wallet"}, "wallet:paypal:seller@example.com"),
        ("$CheapKicks", {"provider": "Cash App"}, "wallet:cashapp:cheapkicks"),
        ("@Cheap-Kicks", {"provider": "venmo"}, "wallet:venmo:cheap-kicks"),
        ("+8613812345678", {"provider": "zhifubao"}, "wallet:alipay:+8613812345678"),
        (
            "TJRabPrwbZy45sbavfcjinPJC18kjpRTv8",
            {"provider": "trc20"},
            "wallet:usdt_trc20:TJRabPrwbZy45sbavfcjinPJC18kjpRTv8",
        ),
        (
            "0x52908400098527886E0F7030069857D2E4169EE7",
            {"provider": "eth"},
            "wallet:ethereum:0x52908400098527886e0f7030069857d2e4169ee7",
        ),
        (
            "BC1QAR0SRRR7XFKVY5L643LYDNW9RE59GTZZWF5MDQ",
            {"provider": "bitcoin"},
            "wallet:bitcoin:bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
        ),
        (
            "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
            {"provider": "btc"},
            "wallet:bitcoin:1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
        ),
    ],
)
def test_wallet_ids_follow_their_providers_rules(value: str, fields: dict, expected: str) -> None:
    result = normalise("payment_account", value, **fields)
    assert result.value == expected
    assert result.detail("kind") == "wallet"


def test_case_sensitive_wallets_keep_case() -> None:
    a = payment("TJRabPrwbZy45sbavfcjinPJC18kjpRTv8", provider="usdt_trc20")
    assert "TJRabPrwbZy45sbavfcjinPJC18kjpRTv8" in a


def test_wallet_refusals() -> None:
    error = assert_refused(
        lambda: normalise("payment_account", "x", provider="moneygram"),
        IndicatorErrorCode.UNKNOWN_WALLET_PROVIDER,
        field="provider",
    )
    assert "paypal" in error.message
    assert_refused(
        lambda: normalise("payment_account", "T123", provider="usdt_trc20"),
        IndicatorErrorCode.INVALID_ACCOUNT_ID,
        says="TRON address",
    )
    assert_refused(
        lambda: normalise("payment_account", "seller@example.com", kind="wallet"),
        IndicatorErrorCode.REQUIRED,
        field="provider",
    )
    assert sorted(registered_wallet_providers())[:3] == ["alipay", "bitcoin", "cashapp"]


def test_kind_must_be_known_and_consistent() -> None:
    assert_refused(
        lambda: normalise("payment_account", "x", kind="cheque"),
        IndicatorErrorCode.UNKNOWN_PAYMENT_KIND,
        field="kind",
    )
    assert_refused(
        lambda: normalise("payment_account", "card:411111:1111", kind="iban"),
        IndicatorErrorCode.UNKNOWN_PAYMENT_KIND,
        field="kind",
    )
    assert_refused(
        lambda: normalise("payment_account", "some account"),
        IndicatorErrorCode.UNKNOWN_PAYMENT_KIND,
        field="kind",
        says="iban, a card or a wallet",
    )
