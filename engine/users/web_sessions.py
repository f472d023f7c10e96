"""Ending a user's web sessions: every session records the user's session version it was opened
with, and the web app refuses one whose version is no longer the user's. Bumping the version
therefore signs the user out everywhere at their next request, whatever store holds the sessions.
"""

from __future__ import annotations

import logging

from db.models import User
from engine.runtime import Runtime
from engine.users.directory import UserView, _view
from engine.users.passwords import UserError

log = logging.getLogger(__name__)


def end_sessions(runtime: Runtime, actor_id: int, user_id: int) -> UserView:
    """End every open web session of `user_id` (an admin's action, done by `actor_id`)."""
    with runtime.sessions.begin() as session:
        user = session.get(User, user_id)
        if user is None:
            raise UserError(f"no user with id {user_id}")
        user.session_version = (user.session_version or 0) + 1
        view = _view(user)
    log.warning("user %s ended every session of %s", actor_id, view.username)
    return view
