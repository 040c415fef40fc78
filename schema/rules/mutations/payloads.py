from __future__ import annotations

from typing import Annotated

import strawberry

from alliance.rules.models import Rule as RuleModel
from alliance.rules.models import RuleVersion as VersionModel
from schema.errors import Conflict, Forbidden, NotFound, ValidationError
from schema.rules.types import Rule, RuleVersion

WRITE = ("rules:write", "admin")


@strawberry.type
class RulePayload:
    rule: Rule
    version: RuleVersion | None = strawberry.field(
        description="The version this mutation wrote or put in force."
    )

    @classmethod
    def of(cls, rule: RuleModel, version: VersionModel | None = None) -> RulePayload:
        return cls(
            rule=Rule.from_model(rule),
            version=RuleVersion.from_model(version) if version is not None else None,
        )


RuleResult = Annotated[
    RulePayload | ValidationError | NotFound | Forbidden | Conflict,
    strawberry.union("RuleResult"),
]
