"""Notifications through apprise: see engine.notify.api."""
