"""The users package's public surface: users and sign-in, roles and themes, the settings page
(timezone, password, exchange accounts with encrypted credentials), the keys of those credentials
(status, rotation: the command line's, over every account), the accounts a user trades with, and
when each user was last seen (the web app stamps it at most once a minute). Every other call takes
the signed-in user's id and touches only that user's rows."""

from engine.users.accounts import (
    AccountAccessError,
    AccountChoice,
    account_choices,
    ensure_default_paper_account,
    get_account,
    is_margin,
    open_paper_account,
    user_accounts,
)
from engine.users.activity import SEEN_EVERY, as_utc, seen_is_stale, touch_last_seen
from engine.users.directory import (
    UserView,
    add_user,
    check_login,
    list_users,
    load_user,
    set_active,
    set_role,
    set_theme,
)
from engine.users.keys import KeyStatus, RotationReport, key_status, rotate_credentials
from engine.users.passwords import MIN_PASSWORD, UserError, create_user, ensure_first_admin
from engine.users.settings import (
    NAME_MAX,
    AccountView,
    ConnectionResult,
    PasswordError,
    SettingsError,
    add_live,
    change_password,
    check_connection,
    list_accounts,
    live_exchanges,
    open_paper,
    paper_exchanges,
    remove_account,
    set_live_enabled,
    set_timezone,
    timezones,
)
from engine.users.web_sessions import end_sessions

__all__ = [
    "MIN_PASSWORD",
    "NAME_MAX",
    "SEEN_EVERY",
    "AccountAccessError",
    "AccountChoice",
    "AccountView",
    "ConnectionResult",
    "KeyStatus",
    "PasswordError",
    "RotationReport",
    "SettingsError",
    "UserError",
    "UserView",
    "account_choices",
    "add_live",
    "add_user",
    "as_utc",
    "change_password",
    "check_connection",
    "check_login",
    "create_user",
    "end_sessions",
    "ensure_default_paper_account",
    "ensure_first_admin",
    "get_account",
    "is_margin",
    "key_status",
    "list_accounts",
    "list_users",
    "live_exchanges",
    "load_user",
    "open_paper",
    "open_paper_account",
    "paper_exchanges",
    "remove_account",
    "rotate_credentials",
    "seen_is_stale",
    "set_active",
    "set_live_enabled",
    "set_role",
    "set_theme",
    "set_timezone",
    "timezones",
    "touch_last_seen",
    "user_accounts",
]
