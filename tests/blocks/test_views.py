"""The engine behind the trade-block form, the chart's block lines, the blocks table and drawings:
preview_block, ensure_default_paper_account, chart_overlays, block_rows, drawings (both databases)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from db.enums import AccountKind, BlockStatus, EntryType, OrderRole, OrderStatus, SizeMode, TradeStatus
from db.models import Drawing, ExchangeAccount, Market, PaperBalance
from engine.blocks.commands import cancel_block, preview_block, submit_block
from engine.blocks.plan import BlockRejected
from engine.blocks.queries import block_rows, chart_overlays
from engine.market.drawings import MAX_SHAPES, DrawingError, NotWatchedError, load_drawings, save_drawings
from engine.market.jobs import watch
from engine.runtime import Runtime
from engine.users.accounts import AccountAccessError, ensure_default_paper_account
from tests.helpers.trading import D, PathFeed, add_user, counts, request, setup


def test_the_preview_sizes_like_the_submit_and_writes_nothing(runtime: Runtime, feed: PathFeed) -> None:
    user, account = setup(runtime, feed)
    req = request(entry="100.004", stop="95", targets=("105", "110"), size="1", size_mode=SizeMode.RISK_PCT)
    shown = preview_block(runtime, user, account, req)
    assert shown.errors == ()
    assert shown.size == D("20.000")  # 1% of 10,000 over a 5.00 risk per coin
    assert (shown.risk, shown.risk_pct) == (D("100.00000"), D("1.00"))
    assert shown.reward_risk == (D("1.00"), D("2.00"))
    assert (shown.entry_price, shown.stop_price, shown.target_prices) == (D("100.00"), D("95"), (D("105"), D("110")))
    assert shown.price_tick == D("0.01")
    assert counts(runtime.sessions) == (0, 0, 0, 0)
    block_id = submit_block(runtime, user, account, req, drive=False)
    assert block_rows_of(runtime, user)[0].amount + block_rows_of(runtime, user)[1].amount == shown.size
    assert block_id


def block_rows_of(runtime: Runtime, user: int, live: bool | None = None) -> list:
    with runtime.sessions() as s:
        return block_rows(s, user, live)


def test_the_preview_reports_every_field_error_and_draws_the_wrong_stop_anyway(
    runtime: Runtime, feed: PathFeed
) -> None:
    user, account = setup(runtime, feed)
    shown = preview_block(runtime, user, account, request(stop="102.005", targets=("99",)))
    assert {e.field for e in shown.errors} == {"stop_price", "targets[0].price"}
    assert shown.stop_price == D("102.01")  # rounded to the tick, for the chart, though wrong
    unknown = preview_block(runtime, user, account, request(symbol="NOPE/USDT"))
    assert [e.field for e in unknown.errors] == ["symbol"]
    other = add_user(runtime.sessions, "mallory")
    with pytest.raises(AccountAccessError):
        preview_block(runtime, other, account, request())


def test_an_account_that_cannot_trade_is_refused_at_the_account_field(runtime: Runtime, feed: PathFeed) -> None:
    user, _paper = setup(runtime, feed)
    with runtime.sessions.begin() as s:
        live = ExchangeAccount(user_id=user, name="live", kind=AccountKind.LIVE, exchange="demo", live_enabled=False)
        s.add(live)
        s.flush()
        live_id = live.id
    shown = preview_block(runtime, user, live_id, request())
    assert [(e.field, "switched off" in e.message) for e in shown.errors] == [("account", True)]
    with pytest.raises(BlockRejected) as refused:
        submit_block(runtime, user, live_id, request())
    assert [e.field for e in refused.value.errors] == ["account"]
    assert counts(runtime.sessions) == (0, 0, 0, 0)


def test_a_user_without_accounts_gets_one_paper_account_with_10000_usdt(runtime: Runtime) -> None:
    user = add_user(runtime.sessions, "bob")
    first = ensure_default_paper_account(runtime.sessions, user)
    again = ensure_default_paper_account(runtime.sessions, user)
    assert first.id == again.id
    with runtime.sessions() as s:
        assert s.scalar(select(func.count()).select_from(ExchangeAccount)) == 1
        balance = s.scalar(select(PaperBalance).where(PaperBalance.account_id == first.paper_account_id))
    assert (first.exchange, balance.currency, balance.free) == ("demo", "USDT", D("10000"))


def test_overlays_show_the_live_blocks_lines_and_fills_of_one_market_for_their_owner(
    runtime: Runtime, feed: PathFeed
) -> None:
    user, account = setup(runtime, feed)
    limit = submit_block(runtime, user, account, request(targets=("105", "110")))
    market = submit_block(runtime, user, account, request(entry=None, entry_type=EntryType.MARKET, stop="96"))
    submit_block(runtime, user, account, request(symbol="ETH/USDT", entry="100"))  # another market
    with runtime.sessions() as s:
        shown = chart_overlays(s, user, "demo", "SOL/USDT")
        other = chart_overlays(s, add_user(runtime.sessions, "mallory"), "demo", "SOL/USDT")
        elsewhere = chart_overlays(s, user, "binance", "SOL/USDT")
    assert (other.lines, other.fills, elsewhere.lines) == ([], [], [])
    by_block = {
        b: [(ln.role, ln.index, ln.price, ln.filled) for ln in shown.lines if ln.block_id == b] for b in (limit, market)
    }
    assert by_block[limit] == [
        ("entry", None, D("100"), False),
        ("stop", None, D("95"), False),
        ("target", 0, D("105"), False),
        ("target", 1, D("110"), False),
    ]
    entry = by_block[market][0]
    assert entry[0] == "entry"
    assert entry[3] is True  # filled at once, drawn at its average
    assert [f.role for f in shown.fills] == [OrderRole.ENTRY, OrderRole.ENTRY]
    assert {f.block_id for f in shown.fills} == {market}
    assert shown.lines[0].label == f"#{limit} entry 100.00"  # in the market's precision
    # A canceled block leaves the chart.
    cancel_block(runtime, user, limit, close_positions=False)
    with runtime.sessions() as s:
        assert {ln.block_id for ln in chart_overlays(s, user, "demo", "SOL/USDT").lines} == {market}


def test_the_blocks_table_has_a_row_per_trade_with_its_orders_and_filters_open_and_closed(
    runtime: Runtime, feed: PathFeed
) -> None:
    user, account = setup(runtime, feed)
    first = submit_block(runtime, user, account, request(targets=("105", "110", "115")))
    second = submit_block(runtime, user, account, request(entry=None, entry_type=EntryType.MARKET, stop="96"))
    cancel_block(runtime, user, first, close_positions=False)
    rows = block_rows_of(runtime, user)
    assert [(r.block_id, r.trade_index) for r in rows] == [(second, 0), (second, 1), (first, 0), (first, 1), (first, 2)]
    assert {(r.trade_status, r.entry_order) for r in rows if r.block_id == first} == {
        (TradeStatus.CANCELED, OrderStatus.CANCELED)
    }
    live = {r.block_id: r for r in rows if r.block_id == second}
    assert live[second].entry_order is OrderStatus.FILLED
    assert live[second].sl_order is not None
    assert {r.block_status for r in block_rows_of(runtime, user, live=False)} == {BlockStatus.CANCELED}
    assert {r.block_id for r in block_rows_of(runtime, user, live=True)} == {second}
    assert block_rows_of(runtime, add_user(runtime.sessions, "mallory")) == []
    assert rows[0].account == "paper-alice"
    with runtime.sessions() as s:  # each row carries its market's ticks, for showing its prices
        market = s.scalars(select(Market).where(Market.exchange == "demo", Market.symbol == "SOL/USDT")).one()
    assert market.price_tick is not None
    assert {(r.price_tick, r.amount_tick) for r in rows} == {(market.price_tick, market.amount_tick)}


LINE = {"type": "line", "x0": "2024-02-01 00:00", "x1": "2024-02-01 01:00", "y0": 100, "y1": 110.5}


def test_drawings_are_saved_per_user_and_series_and_checked(runtime: Runtime) -> None:
    alice, bob = add_user(runtime.sessions, "alice"), add_user(runtime.sessions, "bob")
    series = watch(runtime, alice, "demo", "BTC/USDT", "1m")
    watch(runtime, bob, "demo", "BTC/USDT", "1m")
    rect = {**LINE, "type": "rect", "line": {"color": "#ff0000", "width": 2}, "onclick": "alert(1)"}
    path = {"type": "path", "path": "M1,2L3,4", "opacity": 0.5}
    with runtime.sessions.begin() as s:
        assert save_drawings(s, alice, series.id, [LINE, rect, path]) == 3
    with runtime.sessions() as s:
        mine = load_drawings(s, alice, series.id)
        theirs = load_drawings(s, bob, series.id)
    assert [d["type"] for d in mine] == ["line", "rect", "path"]
    assert "onclick" not in mine[1]
    assert mine[1]["line"] == {"color": "#ff0000", "width": 2.0}
    assert theirs == []
    with runtime.sessions.begin() as s:  # saving again replaces; one row per user and series
        save_drawings(s, alice, series.id, [LINE])
    with runtime.sessions() as s:
        assert len(load_drawings(s, alice, series.id)) == 1
        assert s.scalar(select(func.count()).select_from(Drawing)) == 1
    carol = add_user(runtime.sessions, "carol")  # watches nothing
    with runtime.sessions.begin() as s, pytest.raises(NotWatchedError):
        save_drawings(s, carol, series.id, [LINE])
    with runtime.sessions() as s, pytest.raises(NotWatchedError):
        load_drawings(s, carol, series.id)
    for bad in (
        [{"type": "image", "source": "x"}],
        [{**LINE, "y0": float("nan")}],
        [{**LINE, "x0": "x" * 100}],
        [LINE] * (MAX_SHAPES + 1),
        [{"type": "path", "path": "M" + "1" * 30_000}],
        "line",
    ):
        with runtime.sessions.begin() as s, pytest.raises(DrawingError):
            save_drawings(s, alice, series.id, bad)  # type: ignore[arg-type]


def test_a_disabled_account_is_not_offered_for_new_blocks(runtime: Runtime, feed: PathFeed) -> None:
    from engine.users.api import account_choices

    user_id, account_id = setup(runtime, feed)
    assert [c.id for c in account_choices(runtime, user_id)] == [account_id]
    with runtime.sessions.begin() as s:
        s.get(ExchangeAccount, account_id).disabled = True
    assert account_choices(runtime, user_id, create_default=False) == []


def test_open_trades_in_the_blocks_table_carry_unrealized_pnl_at_the_engines_last_price(
    runtime: Runtime, feed: PathFeed
) -> None:
    from engine.blocks.queries import table_rows
    from engine.blocks.sync import sync_tick

    user, account = setup(runtime, feed)
    block = submit_block(runtime, user, account, request(entry=None, entry_type=EntryType.MARKET, stop="96"))
    waiting = submit_block(runtime, user, account, request(entry="90", stop="85"))
    feed.bar("101", "102.5", "100.5", "102")
    sync_tick(runtime)  # the tick's ticker is the price the table uses: no call of its own
    rows = {(r.block_id, r.trade_index): r for r in table_rows(runtime, user, True)}
    for index in (0, 1):
        row = rows[(block, index)]
        assert row.open_amount == row.amount
        assert row.unrealized_pnl == (D("102") - row.entry_average) * row.amount
    assert rows[(waiting, 0)].unrealized_pnl is None  # nothing held
    assert rows[(waiting, 0)].open_amount == 0
