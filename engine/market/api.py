"""The market package's public surface: markets, watchlists, candles (fetch, backfill, gaps,
export), chart reads within a point budget, drawings, and the data inventory (what the store holds,
the data page's jobs and downloads, `candles_frame` for notebooks). Pages, the CLI, benches and the other
packages import this module only."""

from engine.market.candles import FetchResult, Progress, RepairResult, get_or_create_series
from engine.market.chart import (
    Window,
    add_series,
    candles_since,
    chart_candles,
    drawings,
    exchanges,
    keep_drawings,
    pick_series,
    recent_window,
    remove_series,
    search_symbols,
    start_backfill,
    stored_window,
    timeframes,
    watched,
    watchlist,
)
from engine.market.data import DOWNLOAD_MAX_ROWS, Download, data_detail, data_inventory, download
from engine.market.data_jobs import DataJobError, start_data_job
from engine.market.drawings import DrawingError
from engine.market.export import EXPORT_FORMATS, XLSX_MAX_ROWS, ExportTooLargeError, export_series
from engine.market.frame import base_series, candles_frame
from engine.market.gaps import Gap, find_gaps
from engine.market.inventory import JobView, LevelInventory, SeriesDetail, SeriesInventory, inventory, rebuild_levels
from engine.market.jobs import (
    backfill_from,
    backfill_recent,
    ensure_markets,
    fetch_due,
    repair,
    repair_all,
    unfinished_backfills,
    watch,
)
from engine.market.markets import Ticks, get_market, list_markets, sync_markets, ticks
from engine.market.reads import ChartCandles, read_candles
from engine.market.rollups import ingest_candles, refresh_rollups
from engine.market.watchlist import NotWatchedError, WatchEntry, WatchError, remove_watch, user_watchlist

__all__ = [
    "DOWNLOAD_MAX_ROWS",
    "EXPORT_FORMATS",
    "XLSX_MAX_ROWS",
    "ChartCandles",
    "DataJobError",
    "Download",
    "DrawingError",
    "ExportTooLargeError",
    "FetchResult",
    "Gap",
    "JobView",
    "LevelInventory",
    "NotWatchedError",
    "Progress",
    "RepairResult",
    "SeriesDetail",
    "SeriesInventory",
    "Ticks",
    "WatchEntry",
    "WatchError",
    "Window",
    "add_series",
    "backfill_from",
    "backfill_recent",
    "base_series",
    "candles_frame",
    "candles_since",
    "chart_candles",
    "data_detail",
    "data_inventory",
    "download",
    "drawings",
    "ensure_markets",
    "exchanges",
    "export_series",
    "fetch_due",
    "find_gaps",
    "get_market",
    "get_or_create_series",
    "ingest_candles",
    "inventory",
    "keep_drawings",
    "list_markets",
    "pick_series",
    "read_candles",
    "rebuild_levels",
    "recent_window",
    "refresh_rollups",
    "remove_series",
    "remove_watch",
    "repair",
    "repair_all",
    "search_symbols",
    "start_backfill",
    "start_data_job",
    "stored_window",
    "sync_markets",
    "ticks",
    "timeframes",
    "unfinished_backfills",
    "user_watchlist",
    "watch",
    "watched",
    "watchlist",
]
