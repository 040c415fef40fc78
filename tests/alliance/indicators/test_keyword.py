from __future__ import annotations

import pytest

from alliance.indicators import IndicatorErrorCode, IndicatorType, normalise
from alliance.indicators.confusable_skeleton import skeleton
from alliance.indicators.leetspeak import LEET_FOLDS, fold_leetspeak

from .conftest import assert_refused


def keys(value: str, kind: str = "keyword") -> tuple[str, str | None, str | None]:
    result = normalise(kind, value)
    return result.value, result.match_key("skeleton"), result.match_key("leet")


@pytest.mark.parametrize(
    "value",
    ["nike", "NIKE", "Nike", "ＮＩＫＥ", " n i k e ".replace(" ", ""), "ni\u200bke", "N\u200dIKE"],
)
def test_case_width_and_invisible_characters_fold_into_the_value(value: str) -> None:
    assert normalise("keyword", value).value == "nike"


def test_spaces_collapse_and_case_folds_fully() -> None:
    assert normalise("keyword", "  Louis\u3000\u00a0 Vuitton\t").value == "louis vuitton"
    assert normalise("keyword", "STRASSE").value == normalise("keyword", "Straße").value


@pytest.mark.parametrize(
    "value",
    [
        "Nіke",  # Cyrillic і (U+0456)
        "NІKE",  # Cyrillic capital І (U+0406)
        "ｎｉｋｅ",
        "nıke",  # dotless i
        "𝐍𝐢𝐤𝐞",  # mathematical bold
        "Nike\u202e",
    ],
)
def test_look_alike_letters_meet_on_the_skeleton_key(value: str) -> None:
    value_, skeleton_key, leet_key = keys(value)
    assert skeleton_key == keys("nike")[1] == "nike"
    assert leet_key == "nike"


@pytest.mark.parametrize("value", ["Νike", "ΝΙΚΕ", "NΙKΕ"])
def test_capitals_of_other_scripts_meet_on_the_leet_key_only(value: str) -> None:
    # Case is folded before the skeleton, and a lower-case Greek ν looks like v, not n: the
    # skeleton key misses these; the leet key takes skeletons in upper case too.
    value_, skeleton_key, leet_key = keys(value)
    assert skeleton_key != "nike"
    assert leet_key == keys("nike")[2] == "nike"


def test_lower_case_look_alikes_meet_in_either_case() -> None:
    assert keys("arnazon")[1] == keys("AMAZON")[1] == keys("amazon")[1] == "arnazon"
    assert keys("arnazon")[2] == keys("AMAZON")[2]


def test_confusables_data_folds_digits_only_where_they_look_alike() -> None:
    # 1 looks like l and 0 like O in print; 3, 4, 5, 7, @ and $ are no letter's confusable.
    assert keys("N1KE")[1] == "nlke"
    assert keys("n0ke")[1] == "nOke"
    assert keys("4d1d4s")[1] == "4dld4s"
    assert skeleton("m") == "rn"
    assert skeleton("раypal") == "paypal"


@pytest.mark.parametrize(
    ("value", "brand"),
    [
        ("N1KE", "nike"),
        ("N!KE", "nike"),
        ("N|KE", "nike"),
        ("Nіk3", "nike"),
        ("4D1D4S", "adidas"),
        ("@didas", "adidas"),
        ("AD!DA$", "adidas"),
        ("r0lex", "rolex"),
        ("1ouis vuitt0n", "louis vuitton"),
        ("g.u.c.c.1", "g.u.c.c.i"),
        ("5upreme", "supreme"),
        ("7ommy", "tommy"),
        ("gucc€", "gucce"),
    ],
)
def test_leetspeak_meets_the_brand_on_the_leet_key(value: str, brand: str) -> None:
    assert keys(value)[2] == keys(brand)[2]
    assert keys(value)[0] != keys(brand)[0]


def test_leet_key_leaves_numbers_alone() -> None:
    assert keys("air max 90")[2] == keys("AIR MAX 90")[2] == "air rnax 90"
    assert keys("iphone 15 pro")[2] == "iphone 15 pro"
    assert keys("iphone 15 pro")[1] == "iphone l5 pro"  # the skeleton does fold 1 to l
    assert fold_leetspeak("501 jeans") == "501 jeans"
    assert fold_leetspeak("$ 4") == "$ 4"


def test_leet_folding_table_covers_the_common_substitutions() -> None:
    assert {k: LEET_FOLDS[k] for k in "013457@$"} == {
        "0": "o",
        "1": "i",
        "3": "e",
        "4": "a",
        "5": "s",
        "7": "t",
        "@": "a",
        "$": "s",
    }
    # "1" stands for i and for l, so both fold to one letter.
    assert LEET_FOLDS["l"] == LEET_FOLDS["1"] == "i"


def test_brand_misspelling_normalises_like_a_keyword_under_its_own_type() -> None:
    result = normalise("brand_misspelling", "Rolexx")
    assert result.type is IndicatorType.BRAND_MISSPELLING
    assert result.value == "rolexx"
    assert keys("R0LEXX", "brand_misspelling")[2] == result.match_key("leet")


def test_non_latin_keywords_keep_their_script() -> None:
    assert normalise("keyword", "耐克 正品").value == "耐克 正品"
    assert normalise("keyword", "НАЙК").value == "найк"


def test_skeleton_drops_default_ignorables_and_decomposes() -> None:
    assert skeleton("ni\u200bke") == "nike"
    assert skeleton("é") == "e\u0301"


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("", IndicatorErrorCode.EMPTY),
        ("\u200b\u200c", IndicatorErrorCode.EMPTY),
        ("nike\x00", IndicatorErrorCode.INVALID_CHARACTER),
        ("nike\x1b[31m", IndicatorErrorCode.INVALID_CHARACTER),
        ("x" * 257, IndicatorErrorCode.TOO_LONG),
        ("x" * 1_000_000, IndicatorErrorCode.TOO_LONG),
    ],
)
def test_adversarial_keywords_are_refused(value: str, code: IndicatorErrorCode) -> None:
    assert_refused(lambda: normalise("keyword", value), code)
