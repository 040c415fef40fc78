from __future__ import annotations

import base64
import enum
import hashlib
from typing import Annotated

import strawberry
from strawberry.types import Info

from alliance.cases import package
from alliance.cases.exporting import export_case_package
from alliance.errors import Conflict as ConflictError
from alliance.errors import InvalidInput
from schema.cases.inputs import one_id
from schema.cases.queries import READ
from schema.errors import Conflict, Forbidden, NotFound, ValidationError
from schema.indicators.dataloaders import viewer
from schema.indicators.inputs import prefixed
from schema.mutations import run_mutation
from schema.permissions import mutation_field, scopes


@strawberry.enum(description="Personal data a package may withhold from its recipient.")
class PersonalDataField(enum.Enum):
    BUYER_NAME = "buyer_name"
    SHIPPING_ADDRESS = "shipping_address"
    RETURN_ADDRESS = "return_address"
    PEOPLE = "people"


@strawberry.input(description="What to redact for this recipient (nothing by default).")
class FieldsPolicyInput:
    redact: list[PersonalDataField] = strawberry.field(default_factory=list)


@strawberry.type
class CasePackage:
    filename: str
    size_bytes: int
    sha256: str = strawberry.field(description="Of the ZIP.")
    manifest_head: str = strawberry.field(description="The signed head of the evidence chain.")
    content_base64: str = strawberry.field(
        description="The ZIP: manifest.json, evidence/…, summary.html, signature.jws."
    )


ExportCasePackageResult = Annotated[
    CasePackage | ValidationError | NotFound | Forbidden | Conflict,
    strawberry.union("ExportCasePackageResult"),
]


@strawberry.type
class ExportCasePackage:
    @mutation_field(
        scopes(*READ),
        description=(
            "A signed evidence package of a case you take part in, personal data redacted as "
            "fieldsPolicy says (audited). Verify it with `alliance evidence verify`."
        ),
    )
    async def export_case_package(
        self, info: Info, case_id: strawberry.ID, fields_policy: FieldsPolicyInput | None = None
    ) -> ExportCasePackageResult:
        async def work(session, principal):  # type: ignore[no-untyped-def]
            try:
                raw = one_id(case_id, "caseId", "Case")
            except InvalidInput as exc:
                raise prefixed(exc) from exc
            policy = package.FieldsPolicy(
                frozenset(f.value for f in (fields_policy.redact if fields_policy else []))
            )
            settings = info.context.settings
            keys = info.context.request.app.state.keys
            exported = await export_case_package(
                session,
                await viewer(info),
                raw,
                policy,
                data_dir=settings.data_dir,
                key=keys.current,
                issuer=settings.base_url,
            )
            if len(exported.content) > settings.cases.max_package_bytes_over_api:
                raise ConflictError("the package is too large for the API; export it with the CLI")
            return CasePackage(
                filename=exported.filename,
                size_bytes=len(exported.content),
                sha256=hashlib.sha256(exported.content).hexdigest(),
                manifest_head=exported.head,
                content_base64=base64.b64encode(exported.content).decode(),
            )

        return await run_mutation(info, work)
