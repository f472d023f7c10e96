"""What the trading parts of the dashboard read and change, on behalf of one user: the accounts the
trade-block form offers, the block lines and fills over a chart, the blocks table, and the user's
drawings on a chart. Thin: each opens one session and calls the engine module that does the work;
the series-bound reads check first that the user watches the series (charts.watched)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from db.enums import AccountKind
from engine import charts
from engine.accounts import ensure_default_paper_account, user_accounts
from engine.block_queries import BlockTradeRow, ChartOverlays, block_rows, chart_overlays
from engine.drawings import load_drawings, save_drawings
from engine.runtime import Runtime


@dataclass(frozen=True)
class AccountChoice:
    id: int
    name: str
    exchange: str
    kind: AccountKind

    @property
    def label(self) -> str:
        return f"{self.name} · {self.exchange} · {self.kind.value}"


def account_choices(runtime: Runtime, user_id: int, create_default: bool = True) -> list[AccountChoice]:
    """The user's accounts that can trade; a user with none first gets the default paper account
    on the first configured exchange."""
    if create_default:
        ensure_default_paper_account(runtime.sessions, user_id, runtime.settings.exchanges[0])
    with runtime.sessions() as session:
        accounts = user_accounts(session, user_id)
    # Retired (disabled) accounts keep their history but take no new block.
    return [AccountChoice(a.id, a.name, a.exchange, a.kind) for a in accounts if not a.disabled]


def overlays(runtime: Runtime, user_id: int, series_id: int | None) -> ChartOverlays:
    """Lines and fills of the user's live blocks on the market of a series they watch."""
    entry = charts.watched(runtime, user_id, series_id)
    with runtime.sessions() as session:
        return chart_overlays(session, user_id, entry.exchange, entry.symbol)


def table_rows(runtime: Runtime, user_id: int, live: bool | None) -> list[BlockTradeRow]:
    with runtime.sessions() as session:
        return block_rows(session, user_id, live)


def drawings(runtime: Runtime, user_id: int, series_id: int) -> list[dict[str, Any]]:
    with runtime.sessions() as session:
        return load_drawings(session, user_id, series_id)


def keep_drawings(runtime: Runtime, user_id: int, series_id: int, shapes: list[dict[str, Any]]) -> list[dict]:
    """Save the drawings (engine.drawings checks them) and return them as stored."""
    with runtime.sessions.begin() as session:
        save_drawings(session, user_id, series_id, shapes)
    return drawings(runtime, user_id, series_id)
