"""Users' passwords: the one rule (README: 10 characters or more), the one hashing (scrypt, via
Werkzeug), creating a user and the first admin.

Every place that sets or checks a password (the CLI's create-user, the admin Users page, the
settings page's password change, sign-in) goes through this module, so the rule is written once.
"""

from __future__ import annotations

import logging
import secrets
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.security import check_password_hash, generate_password_hash

from db.enums import Role
from db.models import User

log = logging.getLogger(__name__)
MIN_PASSWORD = 10


class UserError(ValueError):
    """A user could not be created or changed; the message says why."""


def password_problem(password: str) -> str | None:
    """What is wrong with this new password (the message shown at its field), or None if it will do."""
    if len(password) < MIN_PASSWORD:
        return f"Use at least {MIN_PASSWORD} characters."
    return None


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def check_password(stored_hash: str, password: str) -> bool:
    return check_password_hash(stored_hash, password)


def create_user(session: Session, username: str, password: str, role: Role) -> User:
    username = username.strip()
    if not username or len(username) > 64:
        raise UserError("username must be 1 to 64 characters")
    problem = password_problem(password)
    if problem:
        raise UserError(problem)
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise UserError(f"user {username!r} already exists")
    user = User(username=username, password_hash=hash_password(password), role=role)
    session.add(user)
    session.flush()
    return user


def ensure_first_admin(
    sessions: sessionmaker[Session], instance_dir: Path, username: str | None, password: str | None
) -> User | None:
    """Create the first admin when there are no users yet; return it (None if users existed).

    With TRADEBLOCK_ADMIN_USERNAME/PASSWORD set, that account is created; otherwise `admin` with a
    random password written to `instance/admin-password.txt` (never to the log).
    """
    with sessions.begin() as session:
        if session.scalar(select(func.count()).select_from(User)):
            return None
        if username and password:
            return create_user(session, username, password, Role.ADMIN)
        password = secrets.token_urlsafe(12)
        user = create_user(session, "admin", password, Role.ADMIN)
    path = instance_dir / "admin-password.txt"
    instance_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(f"username: admin\npassword: {password}\n")
    path.chmod(0o600)
    log.warning("first admin 'admin' created; its password is in %s", path)
    return user
