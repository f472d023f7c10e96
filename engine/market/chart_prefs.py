"""Each user's chart studies, kept in the database (chart_preferences): the indicators drawn on
their charts (name, period, Bollinger's width) and whether closed trades' markers are shown.

An indicator is an IndicatorSpec, validated here once whoever sends it (a form, a stored row):
a bad one is a ChartPrefError with a message for the field, and nothing is written.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.orm import Session

from db.models import ChartPreference
from engine.market.indicators import BAND_WIDTH, INDICATORS, MAX_PERIOD, MAX_WIDTH
from engine.runtime import Runtime

MAX_INDICATORS = 8
BELOW = ("rsi", "atr")  # drawn in a pane of their own under the prices (not price-scaled)


class ChartPrefError(ValueError):
    """An indicator that cannot be drawn; the message says why, for the field."""


@dataclass(frozen=True)
class IndicatorSpec:
    name: str  # a key of engine.market.indicators.INDICATORS
    period: int | None  # None: the indicator has none (VWAP)
    width: float | None = None  # Bollinger's, in standard deviations

    @property
    def key(self) -> str:
        """A stable id: "sma-20", "bb-20-2", "vwap"."""
        parts = [self.name, *(str(p) for p in (self.period,) if p is not None)]
        if self.width is not None:
            parts.append(f"{self.width:g}")
        return "-".join(parts)

    @property
    def label(self) -> str:
        """ "SMA 20", "BB 20 2", "VWAP" as the chart's chips and pane titles say it."""
        short = "BB" if self.name == "bb" else INDICATORS[self.name].label.split(" ")[0]
        numbers = [str(p) for p in (self.period,) if p is not None]
        if self.width is not None:
            numbers.append(f"{self.width:g}")
        return " ".join([short, *numbers])

    @property
    def below(self) -> bool:
        return self.name in BELOW

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "period": self.period, "width": self.width}


@dataclass(frozen=True)
class ChartPrefs:
    indicators: tuple[IndicatorSpec, ...] = ()
    show_trades: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {"indicators": [s.as_dict() for s in self.indicators], "show_trades": self.show_trades}


def _whole(value: Any, label: str) -> int:
    text = str(value).strip() if value is not None else ""
    if not text.isdigit() or not 1 <= int(text) <= MAX_PERIOD:
        raise ChartPrefError(f"{label}: the period is a whole number from 1 to {MAX_PERIOD}.")
    return int(text)


def _width(value: Any) -> float:
    try:
        width = Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        raise ChartPrefError(f"Bollinger: the width is a number above 0 and at most {MAX_WIDTH:g}.") from None
    if not width.is_finite() or not 0 < width <= Decimal(str(MAX_WIDTH)):
        raise ChartPrefError(f"Bollinger: the width is a number above 0 and at most {MAX_WIDTH:g}.")
    return float(width)


def parse_spec(name: Any, period: Any = None, width: Any = None) -> IndicatorSpec:
    """An indicator from what a form or a stored row says (empty period or width: the default)."""
    found = INDICATORS.get(str(name or ""))
    if found is None:
        raise ChartPrefError(f"Pick an indicator: one of {', '.join(INDICATORS)}.")
    blank = period is None or str(period).strip() == ""
    chosen = None if found.period is None else (found.period if blank else _whole(period, found.label))
    band = None
    if name == "bb":
        band = BAND_WIDTH if width is None or str(width).strip() == "" else _width(width)
    return IndicatorSpec(str(name), chosen, band)


def parse_specs(rows: Sequence[Mapping[str, Any]]) -> tuple[IndicatorSpec, ...]:
    """The indicators of a list of {"name", "period", "width"}, duplicates once, at most MAX_INDICATORS."""
    specs: list[IndicatorSpec] = []
    for row in rows:
        spec = parse_spec(row.get("name"), row.get("period"), row.get("width"))
        if spec not in specs:
            specs.append(spec)
    if len(specs) > MAX_INDICATORS:
        raise ChartPrefError(f"A chart shows at most {MAX_INDICATORS} indicators: remove one first.")
    return tuple(specs)


def _stored(row: ChartPreference | None) -> ChartPrefs:
    if row is None:
        return ChartPrefs()
    specs = []
    for item in json.loads(row.indicators or "[]"):
        try:  # a row written under other limits: what still parses is kept
            specs.append(parse_spec(item.get("name"), item.get("period"), item.get("width")))
        except (ChartPrefError, AttributeError):
            continue
    return ChartPrefs(tuple(dict.fromkeys(specs))[:MAX_INDICATORS], bool(row.show_trades))


def load_prefs(session: Session, user_id: int) -> ChartPrefs:
    return _stored(session.get(ChartPreference, user_id))


def chart_prefs(runtime: Runtime, user_id: int) -> ChartPrefs:
    """The user's chart studies (none and trades shown until they choose)."""
    with runtime.sessions() as session:
        return load_prefs(session, user_id)


def keep_chart_prefs(
    runtime: Runtime,
    user_id: int,
    indicators: Sequence[IndicatorSpec] | None = None,
    show_trades: bool | None = None,
) -> ChartPrefs:
    """Store the user's indicators and/or the trades switch (None: unchanged); ChartPrefError for
    more than MAX_INDICATORS, with nothing written."""
    if indicators is not None and len(set(indicators)) > MAX_INDICATORS:
        raise ChartPrefError(f"A chart shows at most {MAX_INDICATORS} indicators: remove one first.")
    with runtime.sessions.begin() as session:
        row = session.get(ChartPreference, user_id)
        if row is None:
            row = ChartPreference(user_id=user_id, indicators="[]", show_trades=True)
            session.add(row)
        if indicators is not None:
            row.indicators = json.dumps([s.as_dict() for s in dict.fromkeys(indicators)])
        if show_trades is not None:
            row.show_trades = show_trades
        session.flush()
        return _stored(row)
