"""Properties over large input spaces: idempotence, total refusal discipline, check digits."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable

import phonenumbers
import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st
from iso3166 import countries_by_alpha2

from alliance.indicators import (
    IndicatorErrorCode,
    IndicatorType,
    InvalidIndicator,
    Normalised,
    matches,
    normalise,
)
from alliance.indicators.platforms import registered_platforms
from alliance.indicators.serial_pattern import MAX_MATCH_INPUT
from alliance.indicators.wallet_providers import registered_wallet_providers
from alliance.indicators.waybill import CARRIERS

PROPERTY = settings(
    deadline=None,
    database=None,
    max_examples=150,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)

# Characters that reach the interesting branches: URL and e-mail delimiters, escapes, digits,
# separators, invisible and bidirectional characters, look-alikes, fullwidth forms, NUL.
TRICKY = list(
    "abcxyzAZ0189.:/?#@&=%+-_ [](){},;*$!|'\"\\~^<>\t\n"
) + ["\u200b", "\u200d", "\u202e", "\u2066", "\ufeff", "\u00ad", "\x00", "\x7f", "é", "і", "Ν",
     "ｎ", "１", "。", "．", "ß", "İ", "耐", "٣", "\u0301", "\U0001f600", "\ufffd"]  # fmt: skip
tricky_text = st.text(alphabet=st.sampled_from(TRICKY), max_size=60)
any_text = st.one_of(st.text(max_size=300), tricky_text)

FIELDS_FOR: dict[IndicatorType, dict[str, object]] = {
    IndicatorType.SELLER_ACCOUNT: {"platform": "ebay"},
    IndicatorType.WAYBILL: {"carrier": "dhl"},
    IndicatorType.IMAGE_PDQ: {"quality": 90},
}


def attempt(call: Callable[[], Normalised]) -> Normalised | InvalidIndicator:
    """The result, or the refusal as a value (any other exception propagates)."""
    try:
        return call()
    except InvalidIndicator as error:
        return error


def renormalised(result: Normalised, **fields: object) -> Normalised:
    return normalise(result.type, result.value, **fields)


# --- Nothing but InvalidIndicator, whatever the input -------------------------------------


@PROPERTY
@given(
    kind=st.sampled_from(list(IndicatorType)),
    text=any_text,
    country=st.sampled_from([None, "CN", "US", "DE"]),
)
def test_arbitrary_text_is_normalised_or_refused_with_invalid_indicator(
    kind: IndicatorType, text: str, country: str | None
) -> None:
    result = attempt(lambda: normalise(kind, text, country=country, **FIELDS_FOR.get(kind, {})))
    if isinstance(result, InvalidIndicator):
        assert result.field
        assert result.message
        assert isinstance(result.code, IndicatorErrorCode)
    else:
        assert result.type is kind
        assert result.value
        assert result.value == result.value.strip()


@PROPERTY
@given(
    kind=st.sampled_from(list(IndicatorType)),
    text=any_text,
    field_value=st.one_of(any_text, st.integers(), st.none(), st.booleans(), st.floats()),
)
def test_arbitrary_fields_are_normalised_or_refused_with_invalid_indicator(
    kind: IndicatorType, text: str, field_value: object
) -> None:
    names = {
        IndicatorType.SELLER_ACCOUNT: "platform",
        IndicatorType.WAYBILL: "carrier",
        IndicatorType.IMAGE_PDQ: "quality",
        IndicatorType.PAYMENT_ACCOUNT: "provider",
        IndicatorType.ADDRESS: "city",
    }
    fields = {names[kind]: field_value} if kind in names else {}
    country = field_value if kind is IndicatorType.PHONE else None
    result = attempt(lambda: normalise(kind, text, country=country, **fields))
    assert isinstance(result, Normalised) or result.message


@PROPERTY
@given(
    text=any_text,
    kind=st.sampled_from([None, "iban", "card", "wallet"]),
    bin_=st.one_of(st.none(), st.from_regex(r"[0-9 x*-]{0,12}", fullmatch=True)),
    last4=st.one_of(st.none(), st.from_regex(r"[0-9 ]{0,6}", fullmatch=True)),
)
def test_payment_inputs_never_fail_otherwise(
    text: str, kind: str | None, bin_: str | None, last4: str | None
) -> None:
    result = attempt(lambda: normalise("payment_account", text, kind=kind, bin=bin_, last4=last4))
    if isinstance(result, InvalidIndicator):
        assert result.message
    else:
        assert not re.search(r"[0-9]{12,}", result.value), "a full card number was stored"


# --- Idempotence: normalising a canonical value gives it back ------------------------------


@PROPERTY
@given(
    kind=st.sampled_from([IndicatorType.KEYWORD, IndicatorType.BRAND_MISSPELLING]), text=any_text
)
def test_keywords_are_idempotent(kind: IndicatorType, text: str) -> None:
    try:
        result = normalise(kind, text)
    except InvalidIndicator:
        reject()
    again = renormalised(result)
    assert again == result
    assert again.match_keys == result.match_keys


LABEL = st.one_of(
    st.from_regex(r"[a-zA-Z0-9]([a-zA-Z0-9-]{0,10}[a-zA-Z0-9])?", fullmatch=True),
    st.text(
        alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x4FFF), min_size=1, max_size=4
    ),
    st.text(
        alphabet=st.characters(min_codepoint=0x430, max_codepoint=0x44F), min_size=1, max_size=8
    ),
    st.text(alphabet="abcdeéèüöñç", min_size=1, max_size=8),
)
SUFFIX = st.sampled_from(
    ["com", "co.uk", "de", "com.cn", "中国", "XN--FIQS8S", "myshopify.com", "unknowntld", "shop"]
)
HOST = st.builds(
    lambda labels, suffix: ".".join([*labels, suffix]),
    st.lists(LABEL, min_size=1, max_size=3),
    SUFFIX,
)


@PROPERTY
@given(host=HOST, upper=st.booleans(), dot=st.booleans())
def test_domains_are_idempotent(host: str, upper: bool, dot: bool) -> None:
    text = (host.upper() if upper else host) + ("." if dot else "")
    try:
        result = normalise("domain", text)
    except InvalidIndicator:
        reject()
    assert renormalised(result) == result
    assert result.value.isascii()
    assert result.value == result.value.lower()
    assert normalise("domain", str(result.detail("unicode"))) == result


URL_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), max_size=12)


@st.composite
def urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["http://", "https://", "HTTPS://", "HtTp://", "", "//"]))
    host = draw(HOST)
    port = draw(st.sampled_from(["", ":80", ":443", ":8080"]))
    path = "/".join(draw(st.lists(URL_TEXT, max_size=4)))
    params = draw(
        st.lists(
            st.tuples(
                st.one_of(URL_TEXT, st.sampled_from(["utm_source", "spm", "fbclid", "id", "q"])),
                URL_TEXT,
            ),
            max_size=4,
        )
    )
    query = "&".join(f"{k}={v}" for k, v in params)
    fragment = draw(st.one_of(st.just(""), URL_TEXT.map(lambda f: "#" + f)))
    return f"{scheme}{host}{port}/{path}" + (f"?{query}" if params else "") + fragment


@PROPERTY
@given(kind=st.sampled_from([IndicatorType.STOREFRONT_URL, IndicatorType.LISTING_URL]), url=urls())
def test_urls_are_idempotent(kind: IndicatorType, url: str) -> None:
    try:
        result = normalise(kind, url)
    except InvalidIndicator:
        reject()
    assert renormalised(result) == result
    assert result.value.isascii()
    assert "#" not in result.value
    query = result.value.partition("?")[2]
    names = {part.partition("=")[0].lower() for part in query.split("&")}
    assert not names & {"utm_source", "spm", "fbclid"}
    assert result.match_key("location") == result.value.split("://", 1)[1]


@PROPERTY
@given(data=st.data())
def test_seller_accounts_are_idempotent(data: st.DataObject) -> None:
    platform = data.draw(
        st.sampled_from(sorted(registered_platforms().values(), key=lambda p: p.slug))
    )
    native = data.draw(st.from_regex(platform.seller_id.pattern, fullmatch=True))
    if data.draw(st.booleans()):
        native = native.swapcase()
    try:
        result = normalise("seller_account", native, platform=platform.name)
    except InvalidIndicator:
        reject()
    assert result.value == f"{platform.slug}:{result.detail('native_id')}"
    assert renormalised(result) == result
    assert (
        normalise("seller_account", str(result.detail("native_id")), platform=platform.slug)
        == result
    )


# Numbering regions that are ISO 3166-1 countries (not Ascension "AC" or Tristan da Cunha "TA").
REGIONS = sorted(phonenumbers.SUPPORTED_REGIONS & set(countries_by_alpha2))
NUMBER_TYPES = [phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE]


@PROPERTY
@given(region=st.sampled_from(REGIONS), number_type=st.sampled_from(NUMBER_TYPES), form=st.sampled_from([
    phonenumbers.PhoneNumberFormat.NATIONAL,
    phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    phonenumbers.PhoneNumberFormat.E164,
    phonenumbers.PhoneNumberFormat.RFC3966,
]))  # fmt: skip
def test_phone_numbers_of_every_region_converge_and_are_idempotent(
    region: str, number_type: int, form: int
) -> None:
    example = phonenumbers.example_number_for_type(region, number_type)
    if example is None or not phonenumbers.is_valid_number(example):
        reject()
    e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
    result = normalise("phone", phonenumbers.format_number(example, form), country=region)
    assert result.value == e164
    assert renormalised(result) == result


@PROPERTY
@given(
    local=st.from_regex(r"[a-zA-Z0-9._%-]{1,20}(\+[a-z0-9]{1,8})?", fullmatch=True),
    host=HOST,
)
def test_emails_are_idempotent(local: str, host: str) -> None:
    try:
        result = normalise("email", f"{local}@{host}")
    except InvalidIndicator:
        reject()
    assert renormalised(result) == result
    base = result.match_key("without_subaddress")
    assert base is not None
    assert "+" not in base.split("@")[0].lstrip("+")


@PROPERTY
@given(text=any_text, country=st.sampled_from(["CN", "US", "GB", "HK"]))
def test_addresses_are_idempotent(text: str, country: str) -> None:
    try:
        result = normalise("address", text, country=country)
    except InvalidIndicator:
        reject()
    assert result.value.startswith(f"{country}:")
    assert renormalised(result) == result
    assert renormalised(result, country=country) == result


@PROPERTY
@given(
    carrier=st.one_of(
        st.sampled_from(sorted(CARRIERS)),
        st.from_regex(r"[A-Za-z][A-Za-z0-9 &.-]{0,15}", fullmatch=True),
    ),
    number=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9 -]{5,30}", fullmatch=True),
)
def test_waybills_are_idempotent(carrier: str, number: str) -> None:
    try:
        result = normalise("waybill", number, carrier=carrier)
    except InvalidIndicator:
        reject()
    assert renormalised(result) == result
    assert result.value.endswith(":" + str(result.match_key("number")))


@PROPERTY
@given(pieces=st.lists(st.sampled_from([
    "[A-Z]{2}", r"\d{4}", "-?", r"\d{2,6}", "SN", "(?:19|20)", "[0-9A-F]{8}", "X+", r"\.", "(?i)",
]), min_size=1, max_size=6), anchored=st.booleans())  # fmt: skip
def test_serial_patterns_are_idempotent(pieces: list[str], anchored: bool) -> None:
    text = "".join(p for i, p in enumerate(pieces) if p != "(?i)" or i == 0)
    try:
        result = normalise("serial_pattern", f"^{text}$" if anchored else text)
    except InvalidIndicator:
        reject()
    assert renormalised(result) == result


@PROPERTY
@given(address=st.ip_addresses(), wrap=st.booleans())
def test_ip_addresses_are_idempotent(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, wrap: bool
) -> None:
    text = f"[{address}]" if wrap and address.version == 6 else str(address.exploded)
    result = normalise("ip", text)
    assert renormalised(result) == result
    network = ipaddress.ip_network(result.value)
    mapped = getattr(address, "ipv4_mapped", None)
    assert network.network_address == (mapped or address)
    assert network.num_addresses == 1


@PROPERTY
@given(address=st.ip_addresses(v=4), prefix=st.integers(min_value=16, max_value=32))
def test_ipv4_networks_are_idempotent(address: ipaddress.IPv4Address, prefix: int) -> None:
    network = ipaddress.ip_network(f"{address}/{prefix}", strict=False)
    result = normalise("ip", str(network))
    assert result.value == network.with_prefixlen
    assert renormalised(result) == result


# --- Check digits and hex round trips ------------------------------------------------------


def gs1_check_digit(body: str) -> int:
    """Independent of the code: weights 3 and 1 alternate from the digit next to the check."""
    weights = [3, 1] * 7
    return -sum(int(d) * w for d, w in zip(reversed(body), weights, strict=False)) % 10


@PROPERTY
@given(body=st.sampled_from([7, 11, 12, 13]).flatmap(lambda n: st.from_regex(rf"[0-9]{{{n}}}", fullmatch=True)), wrong=st.integers(1, 9))  # fmt: skip
def test_gtin_check_digit_round_trips(body: str, wrong: int) -> None:
    check = gs1_check_digit(body)
    result = normalise("gtin", body + str(check))
    assert result.value == (body + str(check)).rjust(14, "0")
    assert renormalised(result) == result
    with pytest.raises(InvalidIndicator) as refused:
        normalise("gtin", body + str((check + wrong) % 10))
    assert refused.value.code is IndicatorErrorCode.GTIN_CHECK_DIGIT


IBAN_FORMATS = {
    "DE": "8n10n",
    "AT": "5n11n",
    "GB": "4a6n8n",
    "NL": "4a10n",
    "FR": "5n5n11c2n",
    "CH": "5n12c",
    "IT": "1a5n5n12c",
    "PL": "8n16n",
    "AE": "3n16n",
    "SA": "2n18c",
}
CLASSES = {
    "n": "0123456789",
    "a": "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "c": "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
}


def mod97(iban: str) -> int:
    """Independent of the code: letters become two digits (A=10 … Z=35) in checking order."""
    moved = iban[4:] + iban[:4]
    return int("".join(str(ord(c) - 55) if c.isalpha() else c for c in moved)) % 97


@st.composite
def ibans(draw: st.DrawFn) -> str:
    country = draw(st.sampled_from(sorted(IBAN_FORMATS)))
    bban = ""
    for count, kind in re.findall(r"([0-9]+)([nac])", IBAN_FORMATS[country]):
        bban += draw(st.text(alphabet=CLASSES[kind], min_size=int(count), max_size=int(count)))
    check = 98 - mod97(f"{country}00{bban}")
    return f"{country}{check:02d}{bban}"


@PROPERTY
@given(iban=ibans(), spaced=st.booleans(), lower=st.booleans(), data=st.data())
def test_iban_mod97_accepts_valid_and_catches_every_single_substitution(
    iban: str, spaced: bool, lower: bool, data: st.DataObject
) -> None:
    assert mod97(iban) == 1
    text = " ".join(iban[i : i + 4] for i in range(0, len(iban), 4)) if spaced else iban
    result = normalise("payment_account", text.lower() if lower else text)
    assert result.value == f"iban:{iban}"
    assert renormalised(result) == result
    position = data.draw(st.integers(min_value=4, max_value=len(iban) - 1))
    old = iban[position]
    same_class = CLASSES["n"] if old.isdigit() else CLASSES["a"]
    new = data.draw(st.sampled_from([c for c in same_class if c != old]))
    broken = iban[:position] + new + iban[position + 1 :]
    assert mod97(broken) != 1
    with pytest.raises(InvalidIndicator) as refused:
        normalise("payment_account", broken)
    assert refused.value.code in (IndicatorErrorCode.IBAN_CHECKSUM, IndicatorErrorCode.IBAN_FORMAT)


@PROPERTY
@given(
    bin_=st.from_regex(r"[1-9][0-9]{5}([0-9]{2})?", fullmatch=True),
    last4=st.from_regex(r"[0-9]{4}", fullmatch=True),
    mask=st.sampled_from(["*", "x", "X", "•", "#"]),
    width=st.integers(min_value=1, max_value=9),
)
def test_masked_cards_are_idempotent(bin_: str, last4: str, mask: str, width: int) -> None:
    result = normalise("payment_account", f"{bin_}{mask * width}{last4}")
    assert result.value == f"card:{bin_}:{last4}"
    assert renormalised(result) == result
    assert normalise("payment_account", None, bin=bin_, last4=last4) == result


@PROPERTY
@given(data=st.data())
def test_wallets_are_idempotent(data: st.DataObject) -> None:
    provider = data.draw(
        st.sampled_from(sorted(registered_wallet_providers().values(), key=lambda p: p.slug))
    )
    account = data.draw(st.from_regex(provider.account_id.pattern, fullmatch=True))
    try:
        result = normalise("payment_account", account, provider=provider.name)
    except InvalidIndicator:
        reject()
    assert result.value.startswith(f"wallet:{provider.slug}:")
    assert renormalised(result) == result


@PROPERTY
@given(
    number=st.integers(min_value=0, max_value=2**64 - 1), upper=st.booleans(), prefix=st.booleans()
)
def test_phash_hex_round_trips(number: int, upper: bool, prefix: bool) -> None:
    text = f"{number:016x}"
    text = text.upper() if upper else text
    result = normalise("image_phash", f"0x{number:x}" if prefix else text)
    assert result.value == f"{number:016x}"
    assert int(result.value, 16) == number
    assert renormalised(result) == result


@PROPERTY
@given(
    number=st.integers(min_value=0, max_value=2**256 - 1),
    quality=st.integers(50, 100),
    upper=st.booleans(),
)
def test_pdq_hex_round_trips(number: int, quality: int, upper: bool) -> None:
    text = f"{number:064x}"
    result = normalise("image_pdq", f"{text.upper() if upper else text},{quality}")
    assert result.value == text
    assert int(result.value, 16) == number
    assert result.detail("quality") == quality
    assert renormalised(result, quality=quality) == result


@PROPERTY
@given(quality=st.integers(min_value=-1000, max_value=49))
def test_pdq_quality_below_50_is_always_refused(quality: int) -> None:
    expected = (
        IndicatorErrorCode.QUALITY_TOO_LOW if quality >= 0 else IndicatorErrorCode.INVALID_QUALITY
    )
    with pytest.raises(InvalidIndicator) as refused:
        normalise("image_pdq", "0" * 64, quality=quality)
    assert refused.value.code is expected


# --- Serial patterns: anything goes in, nothing hangs -------------------------------------

REGEX_ALPHABET = st.sampled_from(list("()[]{}*+?|\\^$.ab1,:-=!<>Pd"))


@PROPERTY
@given(
    pattern=st.text(alphabet=REGEX_ALPHABET, max_size=30), value=st.text(max_size=MAX_MATCH_INPUT)
)
def test_any_pattern_is_refused_or_matches_within_bounds(pattern: str, value: str) -> None:
    result = attempt(lambda: normalise("serial_pattern", pattern))
    if isinstance(result, InvalidIndicator):
        assert result.message
        return
    assert isinstance(matches(result.value, value), bool)
    assert isinstance(matches(result.value, "a" * MAX_MATCH_INPUT), bool)
    assert isinstance(matches(result.value, "1" * (MAX_MATCH_INPUT - 1) + "!"), bool)
