"""Rules every callback of the app keeps, checked on the real app's callback map.

What a callback says about a click (an alert, a field message) is never in a callback a poll also
triggers: dash-renderer keeps only the answer of the latest request of a callback, so a
poll sent while a click's request was on its way would supersede it, and the click's "canceled"
would never be shown (the conditions list of /blocks did so in CI: the condition was canceled, the
page still said "saved")."""

from __future__ import annotations

import re

from dash import Dash

from engine.config import Settings
from engine.runtime import Runtime
from tests.helpers.dashboard import build_app

SAYING = re.compile(r"(message|alert|msg|saved)\.children")


def answers_lost_to_a_poll(app: Dash) -> list[str]:
    """The callbacks that answer a click and are triggered by an interval too."""
    lost = []
    for key, entry in app.callback_map.items():
        triggers = {spec["property"] for spec in entry["inputs"]}
        if SAYING.search(key) and {"n_clicks", "n_intervals"} <= triggers:
            lost.append(key)
    return lost


def test_no_answer_to_the_user_shares_its_callback_with_a_poll(
    test_settings: Settings, runtime_session: Runtime
) -> None:
    app = build_app(test_settings)
    assert any(SAYING.search(key) for key in app.callback_map)  # the rule has callbacks to read
    assert answers_lost_to_a_poll(app) == []
