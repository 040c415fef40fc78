"""The typed errors every mutation may return as members of its result union."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError

from alliance import errors as domain


@strawberry.interface(description="An expected failure, returned as data rather than raised.")
class Error:
    message: str
    code: str


@strawberry.type
class FieldError:
    path: list[str]
    code: str
    message: str


@strawberry.type(
    description="The input was refused; `fields` says which parts and why. Nothing was written."
)
class ValidationError(Error):
    fields: list[FieldError]


@strawberry.type(description="A referenced object does not exist or is not visible to the caller.")
class NotFound(Error):
    pass


@strawberry.type(description="The caller may not do this.")
class Forbidden(Error):
    pass


@strawberry.type(
    description="The request conflicts with the current state (e.g. a duplicate slug)."
)
class Conflict(Error):
    pass


def to_error(exc: domain.DomainError) -> Error:
    if isinstance(exc, domain.InvalidInput):
        return ValidationError(
            message="invalid input",
            code=exc.code,
            fields=[
                FieldError(path=list(p.path), code=p.code, message=p.message) for p in exc.problems
            ],
        )
    if isinstance(exc, domain.NotFound):
        return NotFound(message=exc.message, code=exc.code)
    if isinstance(exc, domain.Forbidden):
        return Forbidden(message=exc.message, code=exc.code)
    if isinstance(exc, domain.Conflict):
        return Conflict(message=exc.message, code=exc.code)
    raise TypeError(f"no GraphQL error type for {type(exc).__name__}")


class PublicError(GraphQLError):
    """An error whose message is meant for the caller (never masked)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message, extensions={"code": code})


def unauthenticated() -> PublicError:
    return PublicError(
        "authentication required: send an access token as 'Authorization: Bearer …'",
        "UNAUTHENTICATED",
    )


def bad_input(exc: domain.InvalidInput) -> PublicError:
    error = PublicError(exc.message, "BAD_USER_INPUT")
    error.extensions["fields"] = [
        {"path": list(p.path), "code": p.code, "message": p.message} for p in exc.problems
    ]
    return error
