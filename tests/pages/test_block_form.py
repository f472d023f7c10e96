"""The trade-block form's pure helpers: form values to a BlockRequest, the engine's errors placed next
to their fields, and the shapes drawn over the chart (names, styles, what counts as a drawing)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from db.enums import EntryType, OrderRole, Side, SizeMode
from engine.blocks.plan import BlockRequest, FieldError
from engine.blocks.queries import ChartOverlays, OverlayFill, OverlayLine
from pages.components import block_form as bf
from pages.components import chart_shapes

D = Decimal


def values(**changes: object) -> bf.FormValues:
    base: dict[str, object] = {
        "account": "3",
        "side": "short",
        "entry_type": "stop",
        "entry": 100.5,
        "stop": "105",
        "target_prices": [95, None],
        "target_shares": [60, 40],
        "size_mode": "risk_pct",
        "size": 1,
        "breakeven": True,
        "timeout_min": 5,
        "duration_min": None,
    }
    base.update(changes)
    return bf.FormValues(**base)  # type: ignore[arg-type]


def test_form_values_become_the_engines_request() -> None:
    req = bf.to_request(values(), "SOL/USDT", "binance")
    assert isinstance(req, BlockRequest)
    assert (req.symbol, req.side, req.entry_type, req.size_mode) == (
        "SOL/USDT",
        Side.SHORT,
        EntryType.STOP,
        SizeMode.RISK_PCT,
    )
    assert (req.entry_price, req.stop_price, req.size_value) == (D("100.5"), D("105"), D("1"))
    assert [(t.price, t.share) for t in req.targets] == [(D("95"), D("0.6")), (None, D("0.4"))]
    assert (req.breakeven_after_first_target, req.entry_timeout_s, req.max_duration_s) == (True, 300, None)
    assert bf.account_id(values()) == 3
    # What is wrong is refused at its field, never replaced by a default; empty is left for the engine.
    odd = bf.to_request(values(entry="abc", side="sideways", size_mode=None, target_shares=[None]), "X/Y", "demo")
    assert isinstance(odd, list)
    assert [e.field for e in odd] == ["side", "entry_price", "targets", "size_mode"]
    empty = bf.to_request(values(entry="", target_shares=[None, None]), "X/Y", "demo")
    assert isinstance(empty, BlockRequest)
    assert empty.entry_price is None
    assert [t.share for t in empty.targets] == [None, None]
    assert bf.account_id(values(account=None)) is None
    assert bf.account_id(values(account=True)) is None


def test_errors_are_placed_next_to_their_fields() -> None:
    errors = [
        FieldError("stop_price", "Stop too high."),
        FieldError("targets[1].price", "Enter the target 2 price."),
        FieldError("targets[0].share", "Share must be more than 0%."),
        FieldError("targets[0]", "Target 1 gets too little."),
        FieldError("targets", "Shares add up to 90%."),
        FieldError("account", "Choose one of your accounts."),
        FieldError("targets[7].price", "A row the form no longer has."),
    ]
    placed = bf.place_errors(errors, 2)
    assert placed.fields == {bf.STOP: ["Stop too high."]}
    assert (placed.price, placed.share) == ([False, True], [True, False])
    assert placed.rows == [["Share must be more than 0%.", "Target 1 gets too little."], ["Enter the target 2 price."]]
    assert placed.general == ["Shares add up to 90%.", "Choose one of your accounts.", "A row the form no longer has."]
    # Shares that add up wrong mark every share field, with the message.
    shares = bf.place_errors([FieldError("targets.share", "Target shares add up to 90%.")], 3)
    assert (shares.share, shares.price, shares.general) == ([True] * 3, [False] * 3, ["Target shares add up to 90%."])


def test_the_chart_shapes_name_what_they_are() -> None:
    overlays = ChartOverlays(
        [
            OverlayLine(7, "entry", None, D("100"), "#7 entry 100", True),
            OverlayLine(7, "stop", None, D("95.50"), "#7 stop 95.5", False),
            OverlayLine(7, "target", 0, D("110"), "#7 T1 110", False),
        ],
        [OverlayFill(7, OrderRole.ENTRY, "buy", D("100"), D("0.5"), 1_706_745_600_000)],
    )
    preview = {"series_id": 1, "entry": 101, "stop": None, "targets": [111.5, None], "tick": "0.01"}
    drawings = [{"type": "line", "x0": 0, "x1": 1, "y0": 1, "y1": 2}]
    shapes, names = chart_shapes.compose(overlays, preview, drawings)
    assert names == [
        "tb-block-7-entry",
        "tb-block-7-stop-95.5",
        "tb-block-7-target-0",
        "tb-preview-entry",
        "tb-preview-target-0",
        "drawing-0",
    ]
    styles = [(s.get("line", {}).get("dash"), s["editable"]) for s in shapes]
    # A placed block's stop and target are dragged to amend it; its entry is not.
    assert styles[:5] == [("solid", False), ("dash", True), ("dash", True), ("dot", True), ("dot", True)]
    assert shapes[0]["label"]["text"] == "#7 entry 100 ✓"
    assert shapes[4]["label"]["text"] == "new T1 111.5"
    assert [chart_shapes.is_ours(s) for s in shapes] == [True] * 5 + [False]
    fills = chart_shapes.fills_update(overlays)
    assert (fills["x"], fills["y"], fills["marker"]["symbol"]) == ([1_706_745_600_000], [100.0], ["triangle-up"])
    assert datetime.fromtimestamp(fills["x"][0] / 1000, UTC).year == 2024


def test_empty_fields_never_visited_keep_their_enter_messages_back() -> None:
    form = values(entry="", stop=None, size=" ", target_prices=["", "110"], target_shares=[None, None])
    assert bf.untouched_empty(form, (0, None, 0, [0, 0], [0, 0])) == {
        "entry_price",
        "stop_price",
        "size_value",
        "targets[0].price",
        "targets[0].share",
        "targets[1].share",
    }
    # Visited fields (n_blur > 0) show their messages; junk a crafted request sends counts as unvisited.
    assert bf.untouched_empty(form, (1, 2, True, [1, 0], "x")) == {
        "size_value",
        "targets[0].share",
        "targets[1].share",
    }
