"""Fixtures of the blocks tests: the price feed the paper venue trades on."""

from __future__ import annotations

import pytest

from tests.helpers.trading import PathFeed


@pytest.fixture
def feed() -> PathFeed:
    f = PathFeed("101")
    f.flat("101", 2)
    return f
