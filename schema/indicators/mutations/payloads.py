"""Payloads shared by several indicator mutations."""

from __future__ import annotations

import strawberry

from alliance.errors import DomainError, InvalidInput
from schema.indicators.inputs import prefixed
from schema.indicators.types import Indicator, IndicatorAssertion, IndicatorProposal


@strawberry.type
class AssertionPayload:
    assertion: IndicatorAssertion
    indicator: Indicator


@strawberry.type
class ProposalPayload:
    proposal: IndicatorProposal


def relocated(exc: DomainError, *prefix: str) -> DomainError:
    return prefixed(exc, *prefix) if isinstance(exc, InvalidInput) else exc
