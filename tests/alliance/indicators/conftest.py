from __future__ import annotations

from collections.abc import Callable

import pytest

from alliance.indicators import IndicatorErrorCode, InvalidIndicator


def refused(call: Callable[[], object]) -> InvalidIndicator:
    """The InvalidIndicator ``call`` raises (fails the test if it returns)."""
    with pytest.raises(InvalidIndicator) as info:
        call()
    return info.value


def assert_refused(
    call: Callable[[], object],
    code: IndicatorErrorCode,
    *,
    field: str = "value",
    says: str | None = None,
) -> InvalidIndicator:
    error = refused(call)
    assert error.code == code, error
    assert error.field == field, error
    assert error.message, "a refusal must say why"
    if says is not None:
        assert says in error.message, error.message
    return error
