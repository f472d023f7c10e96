"""The one place that calls apprise: check a URL, and send one message to one URL.

apprise logs request URLs (with their tokens) at DEBUG level, so its logger is held at WARNING
whatever the app's level; what it warns about during a send is captured and returned (scrubbed) as
the reason of a failure instead of being logged. apprise is imported on first use (a quarter of a
second of start-up otherwise, for every process that imports the blocks engine).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from engine.notify.messages import scrub

logging.getLogger("apprise").setLevel(logging.WARNING)
URL_MAX = 2000


@dataclass(frozen=True)
class SendResult:
    ok: bool
    detail: str  # why it failed ("" when sent)


def is_valid(url: str) -> bool:
    """Whether apprise knows this URL (scheme and the parts its service needs); no network."""
    import apprise

    return len(url) <= URL_MAX and bool(apprise.Apprise().add(url))


def scheme_of(url: str) -> str:
    return url.split("://", 1)[0].lower()[:32]


def send(url: str, title: str, body: str) -> SendResult:
    """Send through apprise; never raises (a failure is a result: the outbox retries it)."""
    import apprise

    box = apprise.Apprise()
    if not box.add(url):
        return SendResult(False, "the notification URL is not valid")
    with apprise.LogCapture(level=logging.WARNING) as captured:
        try:
            ok = bool(box.notify(body=body, title=title))
        except Exception as exc:  # a plugin bug must not reach the job
            return SendResult(False, scrub(f"{type(exc).__name__}: {exc}"))
        lines = [line.split(" - ", 2)[-1] for line in captured.getvalue().splitlines() if line.strip()]
    return SendResult(True, "") if ok else SendResult(False, scrub("; ".join(lines) or "the service refused it"))
