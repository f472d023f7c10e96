"""The journal package's public surface: a user's trades open and closed as the journal lists them
(filtered, paged, with P&L in money, % and R), the cumulative profit of the filtered closed trades,
and each block's journal fields (setup, notes, tags), which only its owner reads or edits."""

from engine.journal.fields import (
    MAX_NOTES,
    MAX_SETUP,
    MAX_TAG,
    MAX_TAGS,
    JournalFields,
    JournalRejected,
    clean_fields,
    journal_of,
    save_journal,
    split_tags,
)
from engine.journal.trades import (
    OUTCOMES,
    PAGE_SIZE,
    STATUSES,
    JournalPage,
    JournalTrade,
    ProfitPoint,
    TradeFilter,
    cumulative_profit,
    trade_page,
)

__all__ = [
    "MAX_NOTES",
    "MAX_SETUP",
    "MAX_TAG",
    "MAX_TAGS",
    "OUTCOMES",
    "PAGE_SIZE",
    "STATUSES",
    "JournalFields",
    "JournalPage",
    "JournalRejected",
    "JournalTrade",
    "ProfitPoint",
    "TradeFilter",
    "clean_fields",
    "cumulative_profit",
    "journal_of",
    "save_journal",
    "split_tags",
    "trade_page",
]
