"""The plain HTML pages outside Dash: the sign-in form, styled by the Bootstrap in assets/ (no
JavaScript needed to sign in, so the Dash renderer and its callback endpoint stay behind the
login), and the page that refuses a page to a user's role.

The theme follows what the user last chose in this browser (localStorage, set by the app's theme
switch), else the system's colour scheme.
"""

from __future__ import annotations

from markupsafe import Markup, escape

THEME_KEY = "tradeblock-theme"
# The page's one inline script, kept apart so the Content-Security-Policy can allow it by its hash
# (web.hardening) and nothing else inline.
THEME_SCRIPT = f"""
(function () {{
  var saved = null;
  try {{ saved = window.localStorage.getItem("{THEME_KEY}"); }} catch (e) {{}}
  var dark = saved ? saved === "dark" : window.matchMedia("(prefers-color-scheme: dark)").matches;
  document.documentElement.setAttribute("data-bs-theme", dark ? "dark" : "light");
}})();
"""

# The page around both cards: the theme script, the local Bootstrap, a centred card.
_SHELL = """<!DOCTYPE html>
<html lang="en" data-bs-theme="light">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} · Tradeblock</title>
<link rel="icon" href="/_favicon.ico">
<link rel="stylesheet" href="/assets/00-bootstrap.min.css">
<script>{script}</script>
</head>
<body class="bg-body-tertiary">
<main class="container d-flex align-items-center justify-content-center" style="min-height: 100vh">
  <div class="card shadow-sm" style="width: 100%; max-width: {width}px">
{card}
  </div>
</main>
</body>
</html>
"""

_LOGIN_CARD = """    <div class="card-body p-4">
      <h1 class="h4 mb-1">Tradeblock</h1>
      <p class="text-body-secondary mb-4">Sign in to your trading desk</p>
      {alert}
      <form method="post" action="/login" id="login-form" novalidate>
        <input type="hidden" name="csrf_token" value="{csrf}">
        <input type="hidden" name="next" value="{next}">
        <div class="mb-3">
          <label class="form-label" for="username">Username</label>
          <input class="form-control" id="username" name="username" value="{username}"
                 autocomplete="username" autofocus required maxlength="64">
        </div>
        <div class="mb-4">
          <label class="form-label" for="password">Password</label>
          <input class="form-control" id="password" name="password" type="password"
                 autocomplete="current-password" required>
        </div>
        <button class="btn btn-primary w-100" type="submit" id="login-submit">Sign in</button>
      </form>
    </div>"""

_REFUSED_CARD = """    <div class="card-body p-4" id="refused">
      <h1 class="h4 mb-2">Not for your role</h1>
      <p class="text-body-secondary mb-4">{message}</p>
      <a class="btn btn-primary" href="/" id="refused-home">Back to the chart</a>
    </div>"""


def _page(title: str, width: int, card: str) -> str:
    return _SHELL.format(title=title, script=THEME_SCRIPT, width=width, card=card)


def render_login(csrf: str, next_path: str, username: str = "", error: str | None = None) -> str:
    alert = (
        Markup('<div class="alert alert-danger py-2" role="alert" id="login-error">{}</div>').format(error)
        if error
        else ""
    )
    card = _LOGIN_CARD.format(alert=alert, csrf=escape(csrf), next=escape(next_path), username=escape(username))
    return _page("Sign in", 380, card)


def render_refused(username: str, role: str) -> str:
    """The page a signed-in user gets for a page their role may not open (HTTP 403)."""
    message = escape(f"This page is not open to {username} ({role}). An admin can change your role.")
    return _page("Not for your role", 440, _REFUSED_CARD.format(message=message))
