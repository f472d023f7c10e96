"""The vendored plotly.js partial bundle (assets/vendor) matches the plotly.js that the pinned
plotly package writes figures for, and holds every trace type the pages build."""

from __future__ import annotations

import re
from pathlib import Path

from plotly.offline import get_plotlyjs_version

BUNDLE = Path(__file__).parents[2] / "assets" / "vendor" / "plotly-finance.min.js"
PAGES = Path(__file__).parents[2] / "pages"
IN_BUNDLE = {"Bar", "Candlestick", "Scatter", "Figure"}  # go.Figure is the container, not a trace


def test_the_bundle_targets_the_plotly_js_of_the_plotly_package() -> None:
    header = BUNDLE.read_text(encoding="utf-8")[:300]
    found = re.search(r"plotly\.js \(finance - minified\) v(\d+)\.(\d+)\.\d+", header)
    assert found is not None, "assets/vendor/plotly-finance.min.js is not plotly.js's finance bundle"
    assert found.groups() == tuple(get_plotlyjs_version().split(".")[:2])


def test_the_pages_build_only_trace_types_the_bundle_holds() -> None:
    used = {
        name
        for source in PAGES.rglob("*.py")
        for name in re.findall(r"\bgo\.([A-Z][A-Za-z]+)\(", source.read_text(encoding="utf-8"))
    }
    assert used, "no figure found: the scan is broken"
    assert used <= IN_BUNDLE, f"trace types missing from the finance bundle: {sorted(used - IN_BUNDLE)}"
