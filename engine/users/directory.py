"""Users as the web app sees them: sign-in checks, loading the signed-in user, the admin page's list
and changes (role, enabled), and each user's theme.

Callers get `UserView`s (plain frozen values), never ORM rows, so nothing outside the engine holds a
session. Guards that protect the desk itself live here: the last active admin cannot be demoted
or disabled, and nobody disables themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.enums import Role
from db.models import User
from engine.runtime import Runtime
from engine.users.activity import as_utc
from engine.users.passwords import UserError, check_password, create_user, hash_password

THEMES = ("light", "dark")
# Checked against when the username is unknown, so a miss costs as much time as a wrong password
# and response times do not tell which usernames exist.
_DUMMY_HASH = hash_password("not-a-real-password")


@dataclass(frozen=True)
class UserView:
    id: int
    username: str
    role: Role
    is_active: bool
    theme: str
    timezone: str
    # Bumped by a password change or an admin's "end sessions": a web session opened with an
    # older number is refused (engine.users.web_sessions).
    session_version: int = 0
    # The last signed-in request (engine.users.activity: at most once a minute), UTC; None: never.
    last_seen_at: datetime | None = None


def _view(user: User) -> UserView:
    return UserView(
        user.id,
        user.username,
        Role(user.role),
        user.is_active,
        user.theme,
        user.timezone,
        user.session_version or 0,
        as_utc(user.last_seen_at),
    )


def load_user(runtime: Runtime, user_id: int) -> UserView | None:
    """The user with this id (enabled or not), or None."""
    with runtime.sessions() as session:
        user = session.get(User, user_id)
        return None if user is None else _view(user)


def check_login(runtime: Runtime, username: str, password: str) -> UserView | None:
    """The enabled user these credentials belong to, or None (same cost either way)."""
    with runtime.sessions() as session:
        user = session.scalar(select(User).where(User.username == username.strip()))
        if user is None:
            check_password(_DUMMY_HASH, password)
            return None
        if not check_password(user.password_hash, password) or not user.is_active:
            return None
        return _view(user)


def list_users(runtime: Runtime) -> list[UserView]:
    with runtime.sessions() as session:
        return [_view(u) for u in session.scalars(select(User).order_by(User.username))]


def add_user(runtime: Runtime, username: str, password: str, role: Role) -> UserView:
    """Create a user; raises UserError (name taken, password too short...)."""
    with runtime.sessions.begin() as session:
        return _view(create_user(session, username, password, Role(role)))


def _get(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise UserError(f"no user with id {user_id}")
    return user


def _other_active_admins(session: Session, user_id: int) -> int:
    query = select(func.count()).where(User.role == Role.ADMIN, User.is_active.is_(True), User.id != user_id)
    return int(session.scalar(query) or 0)


def set_role(runtime: Runtime, user_id: int, role: Role) -> UserView:
    """Change a user's role; the desk always keeps one active admin."""
    role = Role(role)
    with runtime.sessions.begin() as session:
        user = _get(session, user_id)
        if user.role == Role.ADMIN and role != Role.ADMIN and not _other_active_admins(session, user_id):
            raise UserError(f"{user.username} is the last active admin")
        user.role = role
        return _view(user)


def set_active(runtime: Runtime, actor_id: int, user_id: int, active: bool) -> UserView:
    """Enable or disable a user (a disabled user is signed out on their next request)."""
    with runtime.sessions.begin() as session:
        user = _get(session, user_id)
        if not active and user_id == actor_id:
            raise UserError("you cannot disable yourself")
        if not active and user.role == Role.ADMIN and not _other_active_admins(session, user_id):
            raise UserError(f"{user.username} is the last active admin")
        user.is_active = active
        return _view(user)


def set_theme(runtime: Runtime, user_id: int, theme: str) -> None:
    if theme not in THEMES:
        raise UserError(f"theme must be one of {', '.join(THEMES)}")
    with runtime.sessions.begin() as session:
        _get(session, user_id).theme = theme
