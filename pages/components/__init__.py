"""Reusable pieces of the pages: the app shell, figures."""
