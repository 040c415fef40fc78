"""GraphQL documents and helpers shared by the indicator API tests."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from schema.relay import to_global_id

TABLES = (
    "indicators",
    "indicator_assertions",
    "indicator_reactions",
    "indicator_proposals",
    "brand_allowlist_entries",
    "indicator_links",
    "indicator_submission_batches",
    "change_log",
)

ERROR_FIELDS = """
  __typename
  ... on Error { message code }
  ... on ValidationError { fields { path code message } }
"""

ASSERTION_FIELDS = """
  id confidence severity brands tags status score version distribution tlp groupKey
  revocationReason organisation { slug } workingGroup { slug }
"""

INDICATOR_FIELDS = """
  id type value status score confidence organisationsAsserting firstSeenAt lastSeenAt
"""

SUBMIT = f"""
mutation ($input: SubmitIndicatorInput!) {{
  submitIndicator(input: $input) {{
    {ERROR_FIELDS}
    ... on SubmitIndicatorPayload {{
      created
      indicator {{ {INDICATOR_FIELDS} }}
      assertion {{ {ASSERTION_FIELDS} }}
    }}
  }}
}}
"""

SUBMIT_MANY = f"""
mutation ($input: SubmitIndicatorsInput!) {{
  submitIndicators(input: $input) {{
    {ERROR_FIELDS}
    ... on SubmitIndicatorsPayload {{
      accepted refused
      results {{
        index created
        indicator {{ id value }}
        assertion {{ id }}
        error {{ {ERROR_FIELDS} }}
      }}
    }}
  }}
}}
"""

REACT = f"""
mutation ($input: ReactInput!) {{
  react(input: $input) {{
    {ERROR_FIELDS}
    ... on ReactPayload {{
      reaction {{ id kind verdict organisation {{ slug }} }}
      assertion {{ {ASSERTION_FIELDS} }}
    }}
  }}
}}
"""

REVOKE = f"""
mutation ($input: RevokeAssertionInput!) {{
  revokeAssertion(input: $input) {{
    {ERROR_FIELDS}
    ... on RevokeAssertionPayload {{ assertion {{ {ASSERTION_FIELDS} revocationNote }} }}
  }}
}}
"""

PROPOSAL_FIELDS = "proposal { id state changes reason decisionReason proposer { slug } }"

PROPOSE = f"""
mutation ($input: ProposeCorrectionInput!) {{
  proposeCorrection(input: $input) {{
    {ERROR_FIELDS}
    ... on ProposalPayload {{ {PROPOSAL_FIELDS} }}
  }}
}}
"""

ACCEPT = f"""
mutation ($input: AcceptProposalInput!) {{
  acceptProposal(input: $input) {{
    {ERROR_FIELDS}
    ... on ProposalPayload {{ {PROPOSAL_FIELDS} }}
  }}
}}
"""

REJECT = f"""
mutation ($input: RejectProposalInput!) {{
  rejectProposal(input: $input) {{
    {ERROR_FIELDS}
    ... on ProposalPayload {{ {PROPOSAL_FIELDS} }}
  }}
}}
"""

ADD_ALLOWLIST = f"""
mutation ($input: AddAllowlistEntryInput!) {{
  addAllowlistEntry(input: $input) {{
    {ERROR_FIELDS}
    ... on AllowlistEntryPayload {{ entry {{ id kind type value brand label organisation {{ slug }} }} }}
  }}
}}
"""

REMOVE_ALLOWLIST = f"""
mutation ($input: RemoveAllowlistEntryInput!) {{
  removeAllowlistEntry(input: $input) {{
    {ERROR_FIELDS}
    ... on RemoveAllowlistEntryPayload {{ removedEntryId }}
  }}
}}
"""

INDICATORS = f"""
query ($filter: IndicatorFilter, $first: Int, $after: String, $orderBy: IndicatorOrder) {{
  indicators(filter: $filter, first: $first, after: $after, orderBy: $orderBy) {{
    totalCount
    pageInfo {{ hasNextPage endCursor }}
    edges {{ node {{ {INDICATOR_FIELDS}
      assertions(first: 10) {{ totalCount edges {{ node {{ {ASSERTION_FIELDS} }} }} }}
    }} }}
  }}
}}
"""

LOOKUP = f"""
query ($type: IndicatorType!, $value: String!, $country: String, $parts: [IndicatorPartInput!]) {{
  lookupIndicator(type: $type, value: $value, country: $country, parts: $parts) {{
    {INDICATOR_FIELDS}
    assertions {{ totalCount edges {{ node {{ {ASSERTION_FIELDS}
      reactions {{ totalCount edges {{ node {{ kind organisation {{ slug }} }} }} }}
      proposals {{ totalCount edges {{ node {{ state reason }} }} }}
    }} }} }}
  }}
}}
"""

NETWORK = """
query ($id: ID!) {
  sellerNetwork(indicatorId: $id) {
    truncated
    indicators { id type value }
    links { reason groupKey source { value } target { value } }
  }
}
"""

WRITE = "indicators:read indicators:write"


def group_id(demo: dict[str, Any], slug: str) -> str:
    return to_global_id("WorkingGroup", demo["groups"][slug].id)


def shop(**overrides: Any) -> dict[str, Any]:
    return {
        "type": "SELLER_ACCOUNT",
        "value": "https://shopee.cn/shop/123456789",
        "distribution": "ALLIANCE",
        "tlp": "GREEN",
        "confidence": 70,
        **overrides,
    }


async def row_counts(session: Any) -> dict[str, int]:
    return {
        table: int(await session.scalar(text(f"SELECT count(*) FROM {table}"))) for table in TABLES
    }


def field_codes(error: dict[str, Any]) -> list[tuple[list[str], str]]:
    return [(f["path"], f["code"]) for f in error["fields"]]


class Api:
    """Calls as one organisation, with read and write scopes unless told otherwise."""

    def __init__(self, gql: Any, issue_token: Any, org: Any, scopes: str = WRITE) -> None:
        self.gql = gql
        self.token = issue_token(org, scopes)

    async def __call__(self, document: str, **variables: Any) -> dict[str, Any]:
        result = await self.gql(document, variables, token=self.token)
        assert "errors" not in result, result
        return result["data"]

    async def mutate(self, document: str, field: str, input: dict[str, Any]) -> dict[str, Any]:
        return (await self(document, input=input))[field]

    async def submit(self, **overrides: Any) -> dict[str, Any]:
        outcome = await self.mutate(SUBMIT, "submitIndicator", shop(**overrides))
        assert outcome["__typename"] == "SubmitIndicatorPayload", outcome
        return outcome
