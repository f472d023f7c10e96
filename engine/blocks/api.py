"""The blocks package's public surface: submit, preview, amend and cancel a trade block; the blocks as
the pages show them (list, table rows, chart overlays) and as records for the REST API (list,
one with its orders and fills); the sync tick and start-up recovery the
engine runs. Plan (pure) -> commands (one transaction of intents) -> executor (the only venue
calls) -> sync (fills back, one transition function, follow-ups from the bracket rules)."""

from engine.blocks import notices  # noqa: F401 (registers the outbox hook: a before_flush listener)
from engine.blocks.amend import AmendOutcome, amend_block
from engine.blocks.amend_plan import BlockAmend, NewTarget
from engine.blocks.bounds import MAX_MINUTES, MAX_VALUE
from engine.blocks.commands import CancelOutcome, can_short, cancel_block, preview_block, submit_block
from engine.blocks.deadlines import next_deadline
from engine.blocks.detail import (
    BlockDetail,
    BlockSummary,
    FillRecord,
    OrderRecord,
    TradeRecord,
    block_detail,
    list_blocks,
)
from engine.blocks.markers import TradeMarker, trade_markers
from engine.blocks.parse import parse_account_id, parse_block
from engine.blocks.parse_amend import parse_amend
from engine.blocks.plan import (
    MAX_TARGETS,
    BlockPreview,
    BlockRejected,
    BlockRequest,
    FieldError,
    TargetSpec,
)
from engine.blocks.pnl import FeeParts, fee_parts
from engine.blocks.queries import (
    BlockAccessError,
    BlockTradeRow,
    ChartOverlays,
    OverlayFill,
    OverlayLine,
    block_overlays,
    overlays,
    table_rows,
)
from engine.blocks.sync import SyncReport, recover, sync_account, sync_tick

__all__ = [
    "MAX_MINUTES",
    "MAX_TARGETS",
    "MAX_VALUE",
    "AmendOutcome",
    "BlockAccessError",
    "BlockAmend",
    "BlockDetail",
    "BlockPreview",
    "BlockRejected",
    "BlockRequest",
    "BlockSummary",
    "BlockTradeRow",
    "CancelOutcome",
    "ChartOverlays",
    "FeeParts",
    "FieldError",
    "FillRecord",
    "NewTarget",
    "OrderRecord",
    "OverlayFill",
    "OverlayLine",
    "SyncReport",
    "TargetSpec",
    "TradeMarker",
    "TradeRecord",
    "amend_block",
    "block_detail",
    "block_overlays",
    "can_short",
    "cancel_block",
    "fee_parts",
    "list_blocks",
    "next_deadline",
    "overlays",
    "parse_account_id",
    "parse_amend",
    "parse_block",
    "preview_block",
    "recover",
    "submit_block",
    "sync_account",
    "sync_tick",
    "table_rows",
    "trade_markers",
]
