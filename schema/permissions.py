"""Every Query and Mutation field declares who may call it; nothing is open by default.

The declaration gates the operation (authentication and scopes). Which objects the
caller then sees is the sharing policy's business, inside the services.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import strawberry
from strawberry.extensions import FieldExtension
from strawberry.types import Info

from alliance import errors as domain
from alliance.auth.principal import Principal
from alliance.errors import InvalidInput
from schema.audit.denials import deny
from schema.errors import Forbidden, PublicError, bad_input, unauthenticated


@dataclass(frozen=True, slots=True)
class Access:
    authenticated: bool = True
    any_scope: tuple[str, ...] = ()

    def denial(self, principal: Principal | None) -> str | None:
        if not self.authenticated:
            return None
        if principal is None:
            return "UNAUTHENTICATED"
        if self.any_scope and not any(principal.has_scope(s) for s in self.any_scope):
            return "FORBIDDEN"
        return None

    def describe(self) -> str:
        if not self.authenticated:
            return "open to anonymous callers"
        if self.any_scope:
            return "requires one of the scopes: " + ", ".join(self.any_scope)
        return "requires a valid access token"


ANONYMOUS = Access(authenticated=False)
AUTHENTICATED = Access()


def scopes(*names: str) -> Access:
    return Access(any_scope=names)


class AccessExtension(FieldExtension):
    """Enforces an :class:`Access`; on mutations a denial is a ``Forbidden`` result, on queries an
    error. Every denial is audited, as is a query whose service refuses with ``Forbidden``."""

    def __init__(self, access: Access, *, returns_errors: bool) -> None:
        self.access = access
        self.returns_errors = returns_errors

    async def resolve_async(
        self, next_: Callable[..., Awaitable[Any]], source: Any, info: Info, **kwargs: Any
    ) -> Any:
        denial = self.access.denial(info.context.principal)
        if denial == "UNAUTHENTICATED":
            deny(info, denial, "authentication required")
            if self.returns_errors:
                return Forbidden(message="authentication required", code="UNAUTHENTICATED")
            raise unauthenticated()
        if denial is not None:
            message = f"{info.field_name} {self.access.describe()}"
            deny(info, denial, message)
            if self.returns_errors:
                return Forbidden(message=message, code="FORBIDDEN")
            raise PublicError(message, "FORBIDDEN")
        try:
            return await next_(source, info, **kwargs)
        except InvalidInput as exc:
            if self.returns_errors:
                raise
            raise bad_input(exc) from exc
        except domain.Forbidden as exc:
            # Mutations turn it into a typed result (and audit it) in ``run_mutation``.
            if self.returns_errors:
                raise
            deny(info, exc.code, exc.message)
            raise PublicError(exc.message, "FORBIDDEN") from exc


def query_field(access: Access, **kwargs: Any) -> Any:
    description = kwargs.pop("description", "")
    return strawberry.field(
        extensions=[AccessExtension(access, returns_errors=False)],
        description=f"{description} ({access.describe()})".strip(),
        **kwargs,
    )


class SubscriptionAccessExtension(AccessExtension):
    """An :class:`AccessExtension` for subscriptions: the resolver returns its event stream
    (an async generator, not awaited); a denial is an error, as on queries."""

    async def resolve_async(
        self, next_: Callable[..., Any], source: Any, info: Info, **kwargs: Any
    ) -> Any:
        denial = self.access.denial(info.context.principal)
        if denial == "UNAUTHENTICATED":
            deny(info, denial, "authentication required")
            raise unauthenticated()
        if denial is not None:
            message = f"{info.field_name} {self.access.describe()}"
            deny(info, denial, message)
            raise PublicError(message, "FORBIDDEN")
        return next_(source, info, **kwargs)


def subscription_field(access: Access, **kwargs: Any) -> Any:
    description = kwargs.pop("description", "")
    return strawberry.subscription(
        extensions=[SubscriptionAccessExtension(access, returns_errors=False)],
        description=f"{description} ({access.describe()})".strip(),
        **kwargs,
    )


def mutation_field(access: Access, **kwargs: Any) -> Any:
    description = kwargs.pop("description", "")
    return strawberry.mutation(
        extensions=[AccessExtension(access, returns_errors=True)],
        description=f"{description} ({access.describe()})".strip(),
        **kwargs,
    )
