"""Fixtures of the notify tests: the blocks tests' price feed (defined there, once)."""

from tests.blocks.conftest import feed

__all__ = ["feed"]
