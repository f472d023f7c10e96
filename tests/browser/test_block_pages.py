"""The trade-block form, the block lines on the chart, drawings and the blocks page, served by the
real Dash app and driven in headless Chromium (Debian's), on the test database.

One app, server and browser for the module; every test opens a fresh browser context (empty local
storage) and the blocks table is emptied before each. Set TRADEBLOCK_SCREENSHOTS=1 to save light
and dark screenshots of the chart with the form and a block, and of /blocks.
"""

from __future__ import annotations

import json
import re
import time

import pytest
from dash import Dash
from playwright.sync_api import Page, expect
from sqlalchemy import delete, func, select

from db.enums import BlockStatus, Role
from db.models import (
    Block,
    Drawing,
    ExchangeAccount,
    Fill,
    Order,
    PaperAccount,
    PaperBalance,
    PaperFeedCursor,
    PaperFill,
    PaperOrder,
    Trade,
)
from engine.exchanges.demo import DemoExchange
from engine.market import api as market
from engine.market.markets import sync_markets
from engine.runtime import Runtime
from engine.users.directory import set_theme
from tests.helpers.block_form import enter, fill_form, target
from tests.helpers.browser import NewPage, shot, sign_in, wait_for_js
from tests.helpers.dashboard import NOW, app_runtime, make_user, watch_backfilled

pytestmark = pytest.mark.browser
VIEWPORT = {"width": 1400, "height": 860}
GD = "document.querySelector('#chart-graph .js-plotly-plot')"
SHAPES_JS = f"(({GD} || {{}}).layout || {{}}).shapes || []"
CHART_DRAWN = f"(((({GD} || {{}}).data || [])[0] || {{}}).x || []).length > 0"  # candles on the chart


@pytest.fixture(scope="module")
def desk(fresh_database: Runtime) -> dict[str, int]:
    """A trader with a backfilled BTC/USDT 1m (and no account yet: the form opens one), an analyst."""
    runtime_session = fresh_database
    runtime_session.sources["demo"] = DemoExchange(seed=7, clock=lambda: NOW)
    trader = make_user(runtime_session, "trader", Role.TRADER)
    analyst = make_user(runtime_session, "analyst", Role.ANALYST)
    series = watch_backfilled(runtime_session, trader.id)
    watch_backfilled(runtime_session, analyst.id)
    sync_markets(runtime_session.sessions, DemoExchange(seed=7, clock=lambda: NOW))
    runtime_session.sources.clear()
    return {"trader": trader.id, "analyst": analyst.id, "series": series.id}


@pytest.fixture
def runtime(app: Dash) -> Runtime:
    """The app's runtime with no blocks, accounts or drawings left from an earlier test (users and
    candles stay); the form opens a fresh paper account. SQLite reuses freed ids, so the venues
    cached by account id go too."""
    rt = app_runtime(app)
    models = (Fill, Order, Trade, Block, ExchangeAccount, PaperFill, PaperOrder, PaperFeedCursor, PaperBalance)
    with rt.sessions.begin() as s:
        for model in (*models, PaperAccount, Drawing):
            s.execute(delete(model))
    rt.reset_trading()
    return rt


def shapes(page: Page) -> list[dict]:
    return page.evaluate(f"({SHAPES_JS}).map(s => ({{name: s.name, y0: s.y0, dash: (s.line || {{}}).dash}}))")


def wait_for_shape(page: Page, predicate_js: str) -> None:
    try:
        wait_for_js(page, f"({SHAPES_JS}).some(s => {predicate_js})", timeout=15_000)
    except Exception:
        print("shapes on the chart:", shapes(page))  # says what was drawn instead
        raise


def blocks_in_db(runtime: Runtime) -> int:
    with runtime.sessions() as s:
        return s.scalar(select(func.count()).select_from(Block)) or 0


def test_a_valid_block_is_previewed_placed_drawn_and_listed(new_page: NewPage, base_url: str, runtime: Runtime) -> None:
    page = new_page()
    sign_in(page, base_url, "trader", ready=CHART_DRAWN)
    expect(page.locator("#bf-account")).to_contain_text("Paper · demo · paper")  # opened for them
    fill_form(page, "35000", "34500", ("36000", "37000"))
    # The engine's preview: 0.01 BTC split in two, 5 USDT at risk, 2 R and 4 R.
    expect(page.locator("#bf-preview-size")).to_have_text("0.01 BTC", timeout=10_000)
    expect(page.locator("#bf-preview-risk")).to_contain_text("5.00 USDT")
    expect(page.locator("#bf-preview-rr-0")).to_contain_text("2.00 R")
    expect(page.locator("#bf-preview-rr-1")).to_contain_text("4.00 R")
    wait_for_shape(page, "s.name === 'tb-preview-target-1' && s.y0 === 37000")
    names = [s["name"] for s in shapes(page)]
    assert names == ["tb-preview-entry", "tb-preview-stop", "tb-preview-target-0", "tb-preview-target-1"]

    page.click("#bf-submit")
    expect(page.locator("#bf-placed")).to_contain_text("placed on BTC/USDT", timeout=15_000)
    assert blocks_in_db(runtime) == 1
    with runtime.sessions() as s:
        block_id = s.scalar(select(Block.id))
    # The proposed lines give way to the live block's: entry, stop and two targets, dashed (unfilled).
    wait_for_shape(page, f"s.name === 'tb-block-{block_id}-entry'")
    drawn = shapes(page)
    assert not [s for s in drawn if s["name"].startswith("tb-preview-")]
    assert {(s["y0"], s["dash"]) for s in drawn} == {(35000, "dash"), (34500, "dash"), (36000, "dash"), (37000, "dash")}
    labels = page.evaluate(f"({SHAPES_JS}).map(s => s.label.text)")
    assert f"#{block_id} T2 37,000.00" in labels  # in the market's precision
    page.wait_for_timeout(500)
    shot(page, "chart-form-light")

    page.click("#nav-blocks")
    grid = page.locator("#blocks-grid")
    expect(grid).to_contain_text(f"{block_id}", timeout=10_000)
    expect(grid.locator(".ag-row")).to_have_count(2)  # one row per trade
    expect(grid).to_contain_text("pending")
    expect(grid).to_contain_text("accepted")  # the entries rest on the paper venue
    shot(page, "blocks-light")
    page.context.close()


def test_an_invalid_block_shows_the_error_at_its_field_and_stores_nothing(
    new_page: NewPage, base_url: str, runtime: Runtime
) -> None:
    page = new_page()
    sign_in(page, base_url, "trader", ready=CHART_DRAWN)
    fill_form(page, "35000", "36000", ("37000",))  # a long's stop above its entry
    page.click("#bf-submit")
    expect(page.locator("#bf-stop-price")).to_contain_class("is-invalid", timeout=10_000)
    feedback = page.locator("#bf-stop-price-feedback")
    expect(feedback).to_be_visible()
    expect(feedback).to_contain_text("Stop 36000 must be below the entry 35000 for a long.")
    expect(page.locator("#bf-entry-price")).not_to_contain_class("is-invalid")
    expect(page.locator("#bf-rejected")).to_be_visible()
    assert blocks_in_db(runtime) == 0
    # Corrected, the field loses its mark and its reason, and the refusal's "see the fields" goes.
    enter(page, "#bf-stop-price", "34500")
    expect(page.locator("#bf-stop-price")).not_to_contain_class("is-invalid", timeout=10_000)
    expect(feedback).to_have_text("")
    expect(page.locator("#bf-rejected")).to_have_count(0)
    page.context.close()


def test_a_decimal_comma_is_read_as_the_point_and_an_ambiguous_one_refused_at_its_field(
    new_page: NewPage, base_url: str, runtime: Runtime
) -> None:
    """Typed key by key, as a person does: a number input would have sent "0,05" as "005" (5 BTC)."""
    page = new_page()
    sign_in(page, base_url, "trader", ready=CHART_DRAWN)
    fill_form(page, "35000", "34500", ("36000",))
    page.fill("#bf-size-value", "")
    page.type("#bf-size-value", "0,005")
    page.press("#bf-size-value", "Tab")
    expect(page.locator("#bf-preview-size")).to_have_text("0.005 BTC", timeout=10_000)
    expect(page.locator("#bf-preview-risk")).to_contain_text("2.50 USDT")
    page.fill("#bf-size-value", "")
    page.type("#bf-size-value", "1,000")
    page.press("#bf-size-value", "Tab")
    page.click("#bf-submit")
    expect(page.locator("#bf-size-value")).to_contain_class("is-invalid", timeout=10_000)
    expect(page.locator("#bf-size-value-feedback")).to_contain_text('Size "1,000" could mean 1000 or 1.000')
    assert blocks_in_db(runtime) == 0
    page.context.close()


def test_a_spot_market_on_an_account_without_margin_offers_long_only(new_page: NewPage, base_url: str) -> None:
    page = new_page()
    sign_in(page, base_url, "trader", ready=CHART_DRAWN)
    page.wait_for_selector("#block-form")
    expect(page.locator("#bf-side input")).to_have_count(1, timeout=10_000)
    expect(page.locator("#bf-side")).to_have_text("Long")
    expect(page.locator("#bf-side input")).to_be_checked()
    page.context.close()


def test_a_placed_block_empties_the_form_so_a_second_click_places_nothing(
    new_page: NewPage, base_url: str, runtime: Runtime
) -> None:
    page = new_page()
    sign_in(page, base_url, "trader", ready=CHART_DRAWN)
    fill_form(page, "35000", "34500", ("36000", "37000"))
    expect(page.locator("#bf-preview-size")).to_have_text("0.01 BTC", timeout=10_000)
    page.click("#bf-submit")
    expect(page.locator("#bf-placed")).to_be_visible(timeout=15_000)
    for field in ("#bf-entry-price", "#bf-stop-price", "#bf-size-value", target(0), target(1)):
        expect(page.locator(field)).to_have_value("")
    expect(page.locator("#bf-size-mode")).to_have_value("base")  # the choices stay
    expect(page.locator("#bf-preview")).not_to_contain_text("Enter the")  # a fresh form waits for visits
    page.click("#bf-submit")  # the same click again
    expect(page.locator("#bf-rejected")).to_be_visible(timeout=10_000)
    expect(page.locator("#bf-stop-price-feedback")).to_contain_text("Enter the stop price.")
    assert blocks_in_db(runtime) == 1
    page.context.close()


def test_at_ten_targets_the_add_button_is_off_and_says_why_and_t10_fits_its_line(
    new_page: NewPage, base_url: str
) -> None:
    page = new_page()
    sign_in(page, base_url, "trader", ready=CHART_DRAWN)
    page.wait_for_selector("#block-form")
    for count in range(2, 11):
        page.click("#bf-add-target")
        expect(page.locator(".target-row")).to_have_count(count, timeout=10_000)
    expect(page.locator("#bf-add-target")).to_be_disabled()
    expect(page.locator("#bf-add-target")).to_have_attribute("title", "A block has at most 10 profit targets.")
    label = page.locator(".target-row span", has_text="T10")
    box, first = label.bounding_box(), page.locator(".target-row span", has_text="T1").first.bounding_box()
    assert box is not None
    assert first is not None
    assert box["height"] == first["height"]  # one line, not "T1" over "0"
    page.click(f"[id='{json.dumps({'row': 9, 'type': 'bf-target-remove'}, separators=(',', ':'))}']")
    expect(page.locator("#bf-add-target")).to_be_enabled(timeout=10_000)
    page.context.close()


def test_shares_adding_up_to_90_percent_mark_every_share_field(new_page: NewPage, base_url: str) -> None:
    page = new_page()
    sign_in(page, base_url, "trader", ready=CHART_DRAWN)
    fill_form(page, "35000", "34500", ("36000", "37000"))
    enter(page, target(0, "share"), "50")
    enter(page, target(1, "share"), "40")
    page.click("#bf-submit")
    expect(page.locator("#bf-rejected")).to_contain_text("Target shares add up to 90%", timeout=10_000)
    for row in (0, 1):
        expect(page.locator(target(row, "share"))).to_contain_class("is-invalid")
        expect(page.locator(target(row))).not_to_contain_class("is-invalid")
    page.context.close()


def test_enter_messages_wait_until_the_field_is_visited_or_place_is_pressed(new_page: NewPage, base_url: str) -> None:
    page = new_page()
    sign_in(page, base_url, "trader", ready=CHART_DRAWN)
    page.wait_for_selector("#block-form")
    expect(page.locator("#bf-preview-size")).to_be_visible(timeout=10_000)
    page.wait_for_timeout(500)
    expect(page.locator("#bf-preview")).not_to_contain_text("Enter")  # nothing typed yet
    page.click("#bf-stop-price")
    page.press("#bf-stop-price", "Tab")  # visited, left empty
    expect(page.locator("#bf-preview-errors")).to_contain_text("Enter the stop price.", timeout=10_000)
    expect(page.locator("#bf-preview-errors")).not_to_contain_text("Enter the entry price.")
    page.click("#bf-submit")
    expect(page.locator("#bf-rejected")).to_be_visible(timeout=10_000)
    enter(page, "#bf-entry-price", "35000")  # the preview after a refused place names every field
    expect(page.locator("#bf-preview-errors")).to_contain_text("Enter the target 1 price.", timeout=10_000)
    page.context.close()


def test_an_off_tick_price_is_noted_at_its_field_and_previewed_as_sent(new_page: NewPage, base_url: str) -> None:
    page = new_page()
    sign_in(page, base_url, "trader", ready=CHART_DRAWN)
    fill_form(page, "35000.123", "34500", ("36000", "37000.456"))
    expect(page.locator("#bf-entry-price-note")).to_have_text("Rounded to the tick 0.01: 35,000.12.", timeout=10_000)
    expect(page.locator("#bf-preview-entry")).to_have_text("35,000.12")
    expect(page.locator("#bf-stop-price-note")).to_have_text("")
    expect(page.locator("#bf-size-value-note")).to_have_text("")
    enter(page, "#bf-size-value", "0.0123456789")  # finer than the demo market's amount step
    expect(page.locator("#bf-size-value-note")).to_contain_text("Rounded down to the amount step", timeout=10_000)
    expect(
        page.locator(f"[id='{json.dumps({'row': 1, 'type': 'bf-target-note'}, separators=(',', ':'))}']")
    ).to_have_text("Rounded to the tick 0.01: 37,000.46.")
    expect(page.locator("#bf-preview-rr-1")).to_contain_text("37,000.46")
    # where the exits rest: a paper account rests the stop, the desk watches the targets
    expect(page.locator("#bf-preview-protection")).to_have_text(
        "The stop rests on the paper account; targets are watched by the desk (a market exit when crossed)."
    )
    page.context.close()


def test_dragging_a_proposed_line_moves_its_field_rounded_to_the_tick(new_page: NewPage, base_url: str) -> None:
    page = new_page()
    sign_in(page, base_url, "trader", ready=CHART_DRAWN)
    fill_form(page, "35000", "34500", ("36000", "37000"))
    wait_for_shape(page, "s.name === 'tb-preview-stop'")
    index = page.evaluate(f"({SHAPES_JS}).findIndex(s => s.name === 'tb-preview-stop')")
    # What plotly sends after a drag of the line: both ends moved.
    page.evaluate(f"Plotly.relayout({GD}, {{'shapes[{index}].y0': 34321.237, 'shapes[{index}].y1': 34321.237}})")
    expect(page.locator("#bf-stop-price")).to_have_value("34321.24", timeout=10_000)
    wait_for_shape(page, "s.name === 'tb-preview-stop' && s.y0 === 34321.24")
    t2 = page.evaluate(f"({SHAPES_JS}).findIndex(s => s.name === 'tb-preview-target-1')")
    page.evaluate(f"Plotly.relayout({GD}, {{'shapes[{t2}].y0': 38000.004, 'shapes[{t2}].y1': 38000.004}})")
    expect(page.locator(target(1))).to_have_value("38000", timeout=10_000)
    expect(page.locator("#bf-preview-rr-1")).to_contain_text("4.41 R")  # 3000 / 678.76, rounded down
    page.context.close()


def line_point(page: Page, name: str) -> dict:
    """Where the named horizontal line crosses the middle of the plot, in page pixels, and the
    price of one pixel there."""
    return page.evaluate(
        f"""(name) => {{
            const gd = {GD}, fl = gd._fullLayout, box = gd.getBoundingClientRect();
            const s = gd.layout.shapes.find(s => s.name === name), ya = fl.yaxis, xa = fl.xaxis;
            const y = ya.l2p(s.y0);
            return {{x: box.left + xa._offset + xa._length / 2, y: box.top + ya._offset + y,
                     per_px: Math.abs(ya.p2l(y + 1) - ya.p2l(y)), range: fl.xaxis.range.map(String)}};
        }}""",
        name,
    )


def settled_line(page: Page, name: str) -> dict:
    """`line_point` once the price axis has refit around the line (two reads 0.3 s apart agree)."""
    before = line_point(page, name)
    for _ in range(20):
        page.wait_for_timeout(300)
        now = line_point(page, name)
        if now == before:
            return now
        before = now
    raise AssertionError(f"the line {name} kept moving: {now}")


def test_a_proposed_line_is_dragged_by_the_mouse_from_beside_it_without_panning(
    new_page: NewPage, base_url: str
) -> None:
    page = new_page()
    sign_in(page, base_url, "trader", ready=CHART_DRAWN)
    fill_form(page, "35000", "34500", ("36000", "37000"))
    wait_for_shape(page, "s.name === 'tb-preview-stop' && s.y0 === 34500")
    page.evaluate(f"window.scrollBy(0, {line_point(page, 'tb-preview-stop')['y']} - 400)")  # the line in view
    line = settled_line(page, "tb-preview-stop")
    page.mouse.move(line["x"], line["y"] - 5)  # beside the 2-px dotted line, not on its dots
    assert line_point(page, "tb-preview-stop")["y"] == line["y"]  # the chart did not jump (the readout kept one line)
    expect(page.locator("#chart-graph .js-plotly-plot.tb-grab-near")).to_have_count(1)
    page.mouse.down()
    page.mouse.move(line["x"], line["y"] + 35, steps=8)
    page.mouse.up()
    expected = 34500 - 40 * line["per_px"]
    expect(page.locator("#bf-stop-price")).not_to_have_value("34500", timeout=10_000)
    moved = float(page.input_value("#bf-stop-price"))
    assert abs(moved - expected) <= 2 * line["per_px"], (moved, expected)
    assert line_point(page, "tb-preview-stop")["range"] == line["range"]  # the chart did not pan
    page.context.close()


def test_form_values_and_target_rows_survive_a_reload(new_page: NewPage, base_url: str) -> None:
    page = new_page()
    sign_in(page, base_url, "trader", ready=CHART_DRAWN)
    fill_form(page, "35000", "34500", ("36000", "37000"))
    page.click("#bf-add-target")
    enter(page, target(2), "38000")
    page.click(f"[id='{json.dumps({'row': 1, 'type': 'bf-target-remove'}, separators=(',', ':'))}']")
    expect(page.locator(".target-row")).to_have_count(2)
    page.reload()
    page.wait_for_selector("#block-form")
    expect(page.locator(".target-row")).to_have_count(2, timeout=10_000)
    expect(page.locator("#bf-entry-price")).to_have_value("35000")
    expect(page.locator("#bf-size-mode")).to_have_value("base")
    expect(page.locator(target(0))).to_have_value("36000")
    expect(page.locator(target(2))).to_have_value("38000")
    page.context.close()


def test_drawings_are_saved_and_restored_after_a_reload(
    new_page: NewPage, base_url: str, runtime: Runtime, desk: dict[str, int]
) -> None:
    page = new_page()
    sign_in(page, base_url, "analyst", ready=CHART_DRAWN)  # analysts draw too
    page.wait_for_timeout(500)
    assert page.locator(".modebar-btn[data-attr='dragmode'][data-val='drawline']").count() == 1
    line = {"type": "line", "x0": NOW - 3_600_000, "x1": NOW, "y0": 35000, "y1": 36000, "xref": "x", "yref": "y"}
    # What plotly sends after a line is drawn: every shape, the new one included. Only Tradeblock's
    # own shapes are kept from the chart, so that drawing again (a redraw still in flight from the
    # first load replaced the figure meanwhile, on a slow machine) replaces the line instead of
    # adding a second one: the saved drawings are the other shapes of the last relayout.
    ours = f"({SHAPES_JS}).filter(s => String(s.name || '').startsWith('tb-'))"
    for attempt in range(3):
        page.evaluate(f"Plotly.relayout({GD}, {{shapes: [...({ours}), {json.dumps(line)}]}})")
        try:  # saved, then sent back as one of the figure's shapes
            wait_for_js(page, f"({SHAPES_JS}).some(s => s.name === 'drawing-0')", timeout=10_000)
            break
        except Exception:
            if market.drawings(runtime, desk["analyst"], desk["series"]):
                break
            if attempt == 2:
                print("shapes on the chart:", shapes(page))
                raise
    # What matters is what was saved (the restore below reads it). Under load in CI a saved line
    # was once not sent back with its name before the reload: the reload is the check that counts.
    deadline = time.monotonic() + 20
    while not market.drawings(runtime, desk["analyst"], desk["series"]) and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    saved = market.drawings(runtime, desk["analyst"], desk["series"])
    assert [(d["type"], d["y0"], d["y1"]) for d in saved] == [("line", 35000, 36000)]
    assert market.drawings(runtime, desk["trader"], desk["series"]) == []  # per user
    page.reload()
    wait_for_js(page, f"({SHAPES_JS}).some(s => s.name === 'drawing-0' && s.y1 === 36000)", timeout=20_000)
    # Moving it is saved too.
    # By its name: the figure's other shapes (the last-price line) may come first after a reload.
    index = page.evaluate(f"{GD}.layout.shapes.findIndex(s => s.name === 'drawing-0')")
    page.evaluate(f"Plotly.relayout({GD}, {{'shapes[{index}].y1': 36500}})")
    deadline = time.monotonic() + 15  # saved by a callback: a slow machine took over the 1 s once waited
    while market.drawings(runtime, desk["analyst"], desk["series"])[0]["y1"] != 36500 and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    assert market.drawings(runtime, desk["analyst"], desk["series"])[0]["y1"] == 36500
    page.context.close()


def test_an_analyst_sees_no_form_no_blocks_link_and_is_refused_the_blocks_page(
    new_page: NewPage, base_url: str
) -> None:
    page = new_page()
    sign_in(page, base_url, "analyst", ready=CHART_DRAWN)
    page.wait_for_timeout(500)
    assert page.locator("#block-form").count() == 0
    assert page.locator("#nav-blocks").count() == 0
    response = page.goto(base_url + "/blocks")
    assert response is not None
    assert response.status == 403
    page.context.close()


def test_a_block_is_canceled_from_the_blocks_table(
    new_page: NewPage, base_url: str, runtime: Runtime, desk: dict[str, int]
) -> None:
    page = new_page()
    sign_in(page, base_url, "trader", ready=CHART_DRAWN)
    fill_form(page, "35000", "34500", ("36000",))
    page.click("#bf-submit")
    expect(page.locator("#bf-placed")).to_be_visible(timeout=15_000)
    page.click("#nav-blocks")
    grid = page.locator("#blocks-grid")
    expect(grid.locator(".ag-row")).to_have_count(1, timeout=10_000)
    page.click("#blocks-cancel")
    expect(page.locator("#blocks-message")).to_contain_text("Select a block first.")
    grid.locator(".ag-row .ag-cell[col-id='symbol']").first.click()
    page.click("#blocks-cancel")
    expect(page.locator("#cancel-question")).to_contain_text("keep their stop and targets", timeout=5_000)
    expect(page.locator("#blocks-message")).to_have_text("")  # the earlier hint is not left behind the dialog
    page.click("#cancel-keep")
    expect(page.locator("#blocks-alert")).to_have_text(
        re.compile(r"^Block #\d+ canceled: none of its entries had filled\.$")
    )
    expect(grid.locator(".ag-row")).to_have_count(0, timeout=1_000)  # no longer open, at once (was ~8 s)
    page.click("label[for='_dbcprivate_radioitems_blocks-filter_input_closed']")
    expect(grid).to_contain_text("canceled", timeout=10_000)
    with runtime.sessions() as s:
        assert s.scalar(select(Block.status)) is BlockStatus.CANCELED
    page.context.close()


def test_a_filled_market_block_draws_a_solid_entry_and_fill_markers_in_the_dark_theme(
    new_page: NewPage, base_url: str, runtime: Runtime, desk: dict
) -> None:
    """Solid entry line and fill markers for a filled market block beside a new proposal; the
    screenshots of the dark theme come from here when TRADEBLOCK_SCREENSHOTS is set."""
    set_theme(runtime, desk["trader"], "dark")
    try:
        page = new_page()
        sign_in(page, base_url, "trader", ready=CHART_DRAWN)
        # A market entry fills at once: a solid entry line at its price and a marker per fill.
        page.select_option("#bf-entry-type", "market")
        fill_form(page, "", "35000", ("36000", "37000"))
        page.click("#bf-submit")
        expect(page.locator("#bf-placed")).to_be_visible(timeout=15_000)
        wait_for_js(page, f"{GD}.data[2].x.length === 2", timeout=10_000)
        wait_for_shape(page, "s.name.endsWith('-entry') && s.line.dash === 'solid'")
        page.select_option("#bf-entry-type", "limit")
        fill_form(page, "35200", "34800", ("35800", "36400"))
        expect(page.locator("#bf-preview-size")).to_have_text("0.01 BTC", timeout=10_000)
        wait_for_shape(page, "s.name === 'tb-preview-entry' && s.y0 === 35200")
        page.wait_for_timeout(500)
        shot(page, "chart-form-dark")
        page.click("#nav-blocks")
        expect(page.locator("#blocks-grid .ag-row")).to_have_count(2, timeout=10_000)
        # Open trades: P&L at the engine's last price to cents, targets watched by the desk.
        pnl = page.locator("#blocks-grid .ag-row .ag-cell[col-id='pnl']")
        expect(pnl.first).to_have_text(re.compile(r"^[+-]\d[\d,]*\.\d{2} \(open\)$"))
        target = page.locator("#blocks-grid .ag-row .ag-cell[col-id='tp_order']")
        expect(target.first).to_have_text("watched")
        shot(page, "blocks-dark")
        page.context.close()
    finally:
        set_theme(runtime, desk["trader"], "light")
