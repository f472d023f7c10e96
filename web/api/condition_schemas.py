"""The REST API's schemas of conditional blocks (engine.conditions): a condition as a client saves
it (its block has the same fields as POST /blocks, read by the same parser) and as it is shown.
Loosely typed where the engine's parser names each problem (the price, the block's numbers)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from web.api.schemas import MAX_ID, BlockFields, NumberIn, Utc, _Out

Kind = Literal["close_above", "close_below", "crosses", "at_time"]
Status = Literal["pending", "waiting", "fired", "refused", "canceled"]


class ConditionsQuery(BaseModel):
    status: Literal["open", "done", "all"] = "open"


class ConditionIn(BaseModel):
    """A block that waits: close_above / close_below (a closed candle of `series_id` at
    `timeframe`), crosses (the last price reaching `price`), at_time (`at`); `then`, another
    condition, is armed when this one fires."""

    kind: Kind
    account_id: int = Field(ge=1, le=MAX_ID, description="the account that places the block")
    series_id: int | None = Field(None, ge=1, le=MAX_ID, description="a series of your watchlist (price conditions)")
    timeframe: str | None = Field(None, max_length=8, description="the candle's timeframe (close conditions)")
    price: NumberIn | None = None
    at: datetime | None = Field(None, description="when (at_time); without an offset, UTC")
    block: BlockFields
    then: ConditionIn | None = None

    def raw(self) -> dict:
        """The fields as engine.conditions.api.create_condition reads them."""
        raw = self.model_dump(exclude={"block", "then", "at"})
        block = self.block.model_dump()
        for choice in ("side", "entry_type", "size_mode"):
            block[choice] = block[choice].value
        raw["block"] = block
        if self.at is not None:
            at = self.at if self.at.tzinfo is not None else self.at.replace(tzinfo=UTC)
            raw["at"] = at.isoformat()
        if self.then is not None:
            raw["then"] = self.then.raw()
        return raw


class ConditionOut(_Out):
    id: int
    parent_id: int | None = Field(description="the step whose firing arms this one")
    kind: Kind
    account_id: int
    series_id: int | None
    exchange: str | None
    symbol: str | None
    timeframe: str | None
    price: Decimal | None
    at_ms: int | None = Field(description="ms since the epoch, UTC (at_time)")
    status: Status
    reason: str | None = Field(description="why it was refused or canceled")
    block_id: int | None = Field(description="the block it placed")
    block_symbol: str
    block_side: str
    block_entry: str
    created_at: Utc
    done_at: Utc | None
    text: str = Field(description='the condition in words: "when BTC/USDT closes above 70,000 on 15m"')


class ConditionList(BaseModel):
    conditions: list[ConditionOut]
