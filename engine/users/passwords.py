"""Users: creation, password hashing (scrypt, via Werkzeug) and the first admin."""

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
MIN_PASSWORD = 8


class UserError(ValueError):
    """A user could not be created or changed; the message says why."""


def create_user(session: Session, username: str, password: str, role: Role) -> User:
    username = username.strip()
    if not username or len(username) > 64:
        raise UserError("username must be 1 to 64 characters")
    if len(password) < MIN_PASSWORD:
        raise UserError(f"password must be at least {MIN_PASSWORD} characters")
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise UserError(f"user {username!r} already exists")
    user = User(username=username, password_hash=generate_password_hash(password, method="scrypt"), role=role)
    session.add(user)
    session.flush()
    return user


def authenticate(session: Session, username: str, password: str) -> User | None:
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None or not user.is_active or not check_password_hash(user.password_hash, password):
        return None
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
