"""Query cost: every field costs 1, and a list field multiplies its children by its page size.

A query asking for 100 groups with 100 members each costs about 10,000; the limit
(``ALLIANCE_GRAPHQL_MAX_COST``) refuses a request before it runs. A ``first`` given
as a variable counts as the maximum page size, since validation runs before variables
are known.
"""

from __future__ import annotations

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)

PAGE_ARGUMENTS = ("first", "last", "limit")
DEFAULT_PAGE = 20


def cost_rule(max_cost: int, max_page_size: int) -> type[ValidationRule]:
    class CostLimit(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self.fragments: dict[str, FragmentDefinitionNode] = {
                d.name.value: d
                for d in context.document.definitions
                if isinstance(d, FragmentDefinitionNode)
            }

        def enter_operation_definition(self, node: OperationDefinitionNode, *_args: object) -> None:
            cost = self._selection_cost(node.selection_set, depth=0)
            if cost > max_cost:
                self.report_error(
                    GraphQLError(
                        f"query cost {cost} exceeds the limit of {max_cost}; ask for smaller pages",
                        node,
                        extensions={"code": "QUERY_TOO_COSTLY", "cost": cost, "limit": max_cost},
                    )
                )

        def _selection_cost(self, selection_set: SelectionSetNode | None, depth: int) -> int:
            if selection_set is None or depth > 64:
                return 0
            total = 0
            for selection in selection_set.selections:
                if isinstance(selection, FieldNode):
                    children = self._selection_cost(selection.selection_set, depth + 1)
                    total += 1 + self._multiplier(selection) * children
                elif isinstance(selection, InlineFragmentNode):
                    total += self._selection_cost(selection.selection_set, depth + 1)
                elif isinstance(selection, FragmentSpreadNode):
                    fragment = self.fragments.get(selection.name.value)
                    if fragment is not None:
                        total += self._selection_cost(fragment.selection_set, depth + 1)
            return total

        def _multiplier(self, field: FieldNode) -> int:
            for argument in field.arguments or ():
                if argument.name.value in PAGE_ARGUMENTS:
                    if isinstance(argument.value, IntValueNode):
                        return max(1, int(argument.value.value))
                    return max_page_size
            return 1 if field.selection_set is None or not _is_connection(field) else DEFAULT_PAGE

    return CostLimit


def _is_connection(field: FieldNode) -> bool:
    selections = field.selection_set.selections if field.selection_set else ()
    return any(isinstance(s, FieldNode) and s.name.value == "edges" for s in selections)
