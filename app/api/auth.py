"""API authentication: `Authorization: Bearer <token>`, nothing else.

An API token is stored only as a hash, belongs to one user and one of their
organisations, and can be revoked. The session cookie is never looked at, so
a page in a browser cannot call the API with someone's login.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, g, request

from app.extensions import db
from app.models import Purpose, Role, User
from app.services import tokens
from app.services.policy import Actor


@dataclass(frozen=True)
class Caller:
    user: User
    organisation_id: int

    @property
    def role(self) -> Role:
        return self.user.role

    @property
    def actor(self) -> Actor:
        """The token's user, as the services see them: in its one organisation."""
        return Actor.of_user(self.user, self.organisation_id)


def authenticate() -> None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        abort(401, description="Send an API token: Authorization: Bearer <token>.")
    record = tokens.resolve(token.strip(), frozenset({Purpose.API}))
    user = db.session.get(User, record.subject_id) if record else None
    if record is None or user is None or not user.active:
        abort(401, description="This API token is unknown or revoked.")
    if record.organisation_id not in user.organisation_ids:
        abort(401, description="The token's user no longer belongs to its organisation.")
    g.api_caller = Caller(user, record.organisation_id)


def caller() -> Caller:
    return g.api_caller  # type: ignore[no-any-return]
