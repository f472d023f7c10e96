"""gunicorn settings, read by `gunicorn app:server` (Procfile) from the project root.

One worker with threads: the engine runs inside the web process (engine/scheduler.py). More
workers are safe (only the holder of the engine lock runs the engine), but each keeps its own
caches and sign-in rate limits, so one is the default.
"""

import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8050')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
timeout = 120
# The pages poll every 3 s: keep a browser's connection open between polls. gunicorn's default (2 s)
# closes it just before the next poll, which then races the close and can fail ("connection reset").
keepalive = 30
# Long enough for a running sync tick to finish its order intents before the worker goes.
graceful_timeout = 30


def worker_exit(server, worker):  # gunicorn calls it with these names
    import faulthandler
    import sys

    # Should stopping the engine hang until the master's kill, the log shows every thread's stack.
    faulthandler.dump_traceback_later(graceful_timeout - 5, exit=False)

    built = vars(sys.modules["app"]).get("server") if "app" in sys.modules else None
    if built is not None:  # the worker built the app, and with it perhaps the engine
        from engine import scheduler

        scheduler.stop(built.config["TRADEBLOCK_RUNTIME"])
