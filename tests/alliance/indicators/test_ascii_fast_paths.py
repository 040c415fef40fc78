"""The ASCII fast paths of case folding and the confusable skeleton give what the full
Unicode steps give, on any text: plain ASCII, ASCII with every look-alike it holds ("0", "1",
"I", "|", "m", "%", quotes), and mixtures with Cyrillic and Greek look-alikes, full-width
forms, invisible characters and digits written for letters."""

from __future__ import annotations

import string

import idna
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from alliance.indicators.confusable_skeleton import skeleton, unicode_skeleton
from alliance.indicators.domain_name import unicode_host
from alliance.indicators.keyword import fold_case, leet_key, unicode_fold_case

LOOK_ALIKES = "аеіорсхѕԁΑΒΕΗΙΚΜΝΟΡΤΧΥΖνοιΝ０１ＡＢａｂ𝐍𝐢ıİß\u200b\u200d\u00ad\u202e\u3000\u00a0"
texts = st.one_of(
    st.text(alphabet=string.printable, max_size=40),
    st.text(alphabet=string.ascii_letters + string.digits + "01I|lm%!@$€` \"'", max_size=40),
    st.text(alphabet=string.ascii_letters + string.digits + LOOK_ALIKES + " ", max_size=40),
    st.text(max_size=40),
)


@settings(max_examples=1500, deadline=None)
@given(texts)
def test_fold_case_equals_the_unicode_steps(text: str) -> None:
    assert fold_case(text) == unicode_fold_case(text)


@settings(max_examples=1500, deadline=None)
@given(texts)
def test_skeleton_equals_the_unicode_steps(text: str) -> None:
    assert skeleton(text) == unicode_skeleton(text)


@pytest.mark.parametrize("char", [chr(c) for c in range(128)])
def test_every_ascii_character_alone_and_in_a_word(char: str) -> None:
    for text in (char, f"a{char}b", f"{char}{char}", f"N{char}KE"):
        assert skeleton(text) == unicode_skeleton(text)
        assert fold_case(text) == unicode_fold_case(text)


@pytest.mark.parametrize(
    ("value", "key"),
    [("a1rbag", "airbag"), ("A1RBAG", "airbag"), ("4IRB4G", "airbag"), ("AMAZON", "arnazon")],
)
def test_leetspeak_on_the_fast_path_folds_as_before(value: str, key: str) -> None:
    assert leet_key(fold_case(value)) == leet_key(fold_case(key))


hosts = st.one_of(
    st.text(alphabet=string.ascii_lowercase + string.digits + ".-_", max_size=40),
    st.sampled_from(["xn--nke-8cd.com", "example.com.", "ab--cd.com", "a..b", "-a.com", ""]),
    st.text(alphabet=string.ascii_letters + ".-", max_size=20),
)


@settings(max_examples=1500, deadline=None)
@given(hosts)
def test_unicode_host_of_a_plain_ascii_host_is_what_idna_decoding_gives(host: str) -> None:
    try:
        decoded = idna.decode(host)
    except (idna.IDNAError, UnicodeError):
        decoded = host
    assert unicode_host(host) == decoded
