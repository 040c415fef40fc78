"""The assembled schema: queries, mutations, limits and error masking."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaskErrors,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.extensions.query_depth_limiter import create_validator as create_depth_rule
from strawberry.types import Info

from alliance.config import GraphQLSettings
from alliance.errors import InvalidInput
from alliance.observability.context import current_request_id, set_operation
from schema import lean
from schema.audit.denials import AuditDenials
from schema.audit.queries import AuditQuery
from schema.auth.mutations.add_trusted_issuer import AddTrustedIssuer
from schema.auth.mutations.create_local_user import CreateLocalUser
from schema.auth.mutations.create_oauth_client import CreateOAuthClient
from schema.auth.mutations.disable_oauth_client import DisableOAuthClient
from schema.auth.mutations.enable_oauth_client import EnableOAuthClient
from schema.auth.mutations.remove_trusted_issuer import RemoveTrustedIssuer
from schema.auth.mutations.rotate_oauth_client_secret import RotateOAuthClientSecret
from schema.auth.queries import AuthQuery, resolve_identity_node
from schema.blobs.mutations.create_image_indicator_from_blob import CreateImageIndicatorFromBlob
from schema.blobs.mutations.upload_blob import UploadBlob
from schema.blobs.queries import BlobsQuery
from schema.cases.mutations.case_mutations import (
    AcceptCase,
    AddToCase,
    AttachSalesRecords,
    CloseCase,
    DeclineCase,
    OpenCase,
    ReferCase,
)
from schema.cases.mutations.export_case_package import ExportCasePackage
from schema.cases.mutations.record_test_buy import RecordTestBuy
from schema.cases.queries import CasesQuery, resolve_case_node
from schema.cases.types import Case, TestBuy
from schema.changelog.queries import ChangelogQuery
from schema.changelog.subscriptions import ChangelogSubscription
from schema.errors import PublicError, bad_input
from schema.federation.queries import FederationQuery
from schema.guides.mutations import GuideMutations
from schema.guides.queries import GuidesQuery, load_guide
from schema.indicators.mutations.accept_proposal import AcceptProposal
from schema.indicators.mutations.add_allowlist_entry import AddAllowlistEntry
from schema.indicators.mutations.import_indicators import ImportIndicators, ImportJobQuery
from schema.indicators.mutations.propose_correction import ProposeCorrection
from schema.indicators.mutations.react import React
from schema.indicators.mutations.reject_proposal import RejectProposal
from schema.indicators.mutations.remove_allowlist_entry import RemoveAllowlistEntry
from schema.indicators.mutations.revoke_assertion import RevokeAssertion
from schema.indicators.mutations.submit_indicator import SubmitIndicator
from schema.indicators.mutations.submit_indicators import SubmitIndicators
from schema.indicators.queries import IndicatorsQuery, resolve_indicator_node
from schema.limits import cost_rule
from schema.listings.queries import ListingsQuery
from schema.orgs.mutations.add_working_group_member import AddWorkingGroupMember
from schema.orgs.mutations.change_working_group_role import ChangeWorkingGroupRole
from schema.orgs.mutations.create_organisation import CreateOrganisation
from schema.orgs.mutations.create_working_group import CreateWorkingGroup
from schema.orgs.mutations.disable_person import DisablePerson
from schema.orgs.mutations.enable_person import EnablePerson
from schema.orgs.mutations.grant_organisation_admin import GrantOrganisationAdmin
from schema.orgs.mutations.remove_working_group_member import RemoveWorkingGroupMember
from schema.orgs.mutations.withdraw_organisation_admin import WithdrawOrganisationAdmin
from schema.orgs.people_queries import PeopleQuery
from schema.orgs.queries import OrgsQuery
from schema.orgs.types import Membership, Organisation, Person, WorkingGroup
from schema.permissions import AUTHENTICATED, query_field
from schema.relay import Node, from_global_id
from schema.rules.mutations.activate_rule import ActivateRule
from schema.rules.mutations.create_rule import CreateRule
from schema.rules.mutations.retire_rule import RetireRule
from schema.rules.mutations.update_rule import UpdateRule
from schema.rules.queries import RulesQuery, load_rule
from schema.rules.types import Rule
from schema.search.queries import SearchQueries
from schema.webhooks.mutations import WebhookMutations
from schema.webhooks.queries import WebhooksQuery

logger = logging.getLogger("alliance.graphql")

# Distinct documents whose parse and validation are kept (bounded: a caller sending ever-new
# documents only evicts older ones).
DOCUMENT_CACHE_SIZE = 256


@strawberry.type
class Query(
    OrgsQuery,
    PeopleQuery,
    ChangelogQuery,
    AuditQuery,
    AuthQuery,
    IndicatorsQuery,
    ImportJobQuery,
    SearchQueries,
    RulesQuery,
    ListingsQuery,
    BlobsQuery,
    GuidesQuery,
    WebhooksQuery,
    CasesQuery,
    FederationQuery,
):
    @query_field(AUTHENTICATED, description="Any object by its global id.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        try:
            type_name, raw = from_global_id(id)
        except InvalidInput as exc:
            raise bad_input(exc) from exc
        loaders = info.context.loaders
        if type_name == "Organisation":
            org = await loaders.organisation.load(raw)
            return Organisation.from_model(org) if org else None
        if type_name == "WorkingGroup":
            group = await loaders.working_group.load(raw)
            return WorkingGroup.from_model(group) if group else None
        if type_name == "Membership":
            seat = await loaders.membership.load(raw)
            return Membership.from_model(seat) if seat else None
        if type_name == "Person":
            person = await loaders.person.load(raw)
            # People are visible to their own organisation only.
            principal = info.context.principal
            if (
                person is None
                or principal is None
                or person.organisation_id != principal.organisation_id
            ):
                return None
            return Person.from_model(person)
        if type_name == "Rule":
            return await load_rule(info, raw)
        if type_name == "Guide":
            return await load_guide(info, raw)
        if type_name in ("OAuthClient", "TrustedIssuer"):
            return await resolve_identity_node(info, type_name, raw)
        if type_name in ("Case", "TestBuy"):
            return await resolve_case_node(info, type_name, raw)
        return await resolve_indicator_node(info, type_name, raw)


@strawberry.type
class Mutation(
    CreateOrganisation,
    CreateWorkingGroup,
    AddWorkingGroupMember,
    ChangeWorkingGroupRole,
    RemoveWorkingGroupMember,
    CreateOAuthClient,
    DisableOAuthClient,
    EnableOAuthClient,
    RotateOAuthClientSecret,
    CreateLocalUser,
    GrantOrganisationAdmin,
    WithdrawOrganisationAdmin,
    DisablePerson,
    EnablePerson,
    AddTrustedIssuer,
    RemoveTrustedIssuer,
    SubmitIndicator,
    SubmitIndicators,
    React,
    ProposeCorrection,
    AcceptProposal,
    RejectProposal,
    RevokeAssertion,
    AddAllowlistEntry,
    RemoveAllowlistEntry,
    ImportIndicators,
    CreateRule,
    UpdateRule,
    ActivateRule,
    RetireRule,
    UploadBlob,
    CreateImageIndicatorFromBlob,
    GuideMutations,
    WebhookMutations,
    RecordTestBuy,
    OpenCase,
    AddToCase,
    ReferCase,
    AcceptCase,
    DeclineCase,
    CloseCase,
    AttachSalesRecords,
    ExportCasePackage,
):
    pass


@strawberry.type
class Subscription(ChangelogSubscription):
    pass


class MaskUnexpectedErrors(MaskErrors):
    """Hide unexpected exceptions behind a request id; our own public errors pass through."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=_should_mask, error_message="Unexpected error.")

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        return GraphQLError(
            message=f"Unexpected error. Quote request id {current_request_id()} when reporting it.",
            nodes=error.nodes,
            path=error.path,
            extensions={"code": "INTERNAL_SERVER_ERROR", "requestId": current_request_id()},
        )


def _should_mask(error: GraphQLError) -> bool:
    original = error.original_error
    # Parse, validation and variable errors describe the caller's document; keep them.
    # graphql-core wraps a bad variable value around its own GraphQLError, outside any field.
    if original is None or (error.path is None and isinstance(original, GraphQLError)):
        if error.extensions is not None and "code" not in error.extensions:
            error.extensions["code"] = "GRAPHQL_VALIDATION_FAILED"
        return False
    return not isinstance(original, PublicError)


class OperationLabel(SchemaExtension):
    """Names the request in metrics and logs after its GraphQL operation."""

    def on_execute(self) -> Iterator[None]:
        ctx = self.execution_context
        kind = ctx.operation_type.value if ctx.operation_type else "query"
        set_operation(f"graphql {kind} {ctx.operation_name or 'anonymous'}")
        yield


class AllianceSchema(strawberry.Schema):
    def process_errors(self, errors: list[GraphQLError], execution_context: object = None) -> None:
        """Log unexpected errors with their traceback; the caller's own mistakes are not ours to log."""
        for error in errors:
            if _should_mask(error):
                logger.error(
                    "unexpected error in GraphQL operation",
                    exc_info=error.original_error,
                    extra={"graphql_path": error.path},
                )


def build_schema(settings: GraphQLSettings) -> strawberry.Schema:
    # The limits' rules are made once, so a document's validation (depth and cost included,
    # which do not depend on variables) is cached with its parse: clients send the same few
    # documents again and again.
    limits = [
        create_depth_rule(settings.max_depth, None),
        cost_rule(settings.max_cost, settings.max_page_size),
    ]
    schema = AllianceSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[Organisation, WorkingGroup, Membership, Person, Rule, Case, TestBuy],
        extensions=[
            lambda: ParserCache(maxsize=DOCUMENT_CACHE_SIZE),
            lambda: AddValidationRules(limits),
            lambda: ValidationCache(maxsize=DOCUMENT_CACHE_SIZE),
            MaskUnexpectedErrors,
            OperationLabel,
            AuditDenials,
        ],
    )
    # Resolvers that need nothing of Strawberry's per-call wrapper skip it (see schema.lean).
    lean.install(schema)
    return schema


def export_sdl() -> str:
    """The schema as SDL; the committed ``schema/schema.graphql`` must equal this."""
    return build_schema(GraphQLSettings()).as_str() + "\n"
