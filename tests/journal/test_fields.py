"""A block's journal fields: validation (trimmed, lower-case de-duplicated tags, lengths, counts,
control characters, wrong types from a crafted request), saving them (tags replaced as a set), and
that only the block's owner reads or edits them."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from db.models import Block, BlockTag
from engine.blocks.api import BlockAccessError
from engine.journal.api import (
    MAX_SETUP,
    MAX_TAG,
    MAX_TAGS,
    JournalRejected,
    clean_fields,
    journal_of,
    save_journal,
    split_tags,
)
from engine.runtime import Runtime
from tests.helpers.portfolio import add_account, add_trade, ms
from tests.helpers.trading import add_user


def test_tags_are_trimmed_lower_cased_and_de_duplicated_in_order() -> None:
    assert split_tags(" Breakout, news ,BREAKOUT,,  Late   entry ") == ["breakout", "news", "late entry"]
    assert split_tags(["A", "a ", "b"]) == ["a", "b"]
    assert split_tags(None) == []
    assert split_tags("") == []


def test_clean_fields_trims_and_empties_to_none() -> None:
    assert clean_fields("  Opening   range ", "  first note \n", "x") == ("Opening range", "first note", ("x",))
    assert clean_fields("", "   ", "") == (None, None, ())
    assert clean_fields(None, None, None) == (None, None, ())


def errors_of(setup: Any, notes: Any, tags: Any) -> dict[str, str]:
    with pytest.raises(JournalRejected) as caught:
        clean_fields(setup, notes, tags)
    return {e.field: e.message for e in caught.value.errors}


@pytest.mark.parametrize(
    ("setup", "notes", "tags", "field", "says"),
    [
        ("x" * (MAX_SETUP + 1), None, None, "setup", f"at most {MAX_SETUP} characters"),
        (None, None, "ok, " + "t" * (MAX_TAG + 1), "tags", f"at most {MAX_TAG} characters"),
        (None, None, ",".join(f"t{i}" for i in range(MAX_TAGS + 1)), "tags", f"At most {MAX_TAGS} tags"),
        ("bad\x00name", None, None, "setup", "control characters"),
        (None, "a\x07b", None, "notes", "control characters"),
        (None, None, "a\x1bb", "tags", "control characters"),
        (5, None, None, "setup", "Enter text."),
        (None, ["x"], None, "notes", "Enter text."),
        (None, None, {"a": 1}, "tags", "separated by commas"),
    ],
)
def test_refusals_name_the_field_and_say_why(setup: Any, notes: Any, tags: Any, field: str, says: str) -> None:
    assert says in errors_of(setup, notes, tags)[field]


def test_limits_are_inclusive() -> None:
    setup, _, tags = clean_fields("s" * MAX_SETUP, "n\tline\nline", ",".join(f"t{i}" for i in range(MAX_TAGS)))
    assert len(setup or "") == MAX_SETUP
    assert len(tags) == MAX_TAGS
    assert clean_fields(None, None, "t" * MAX_TAG)[2] == ("t" * MAX_TAG,)
    # Duplicates do not count against the limit: they are removed first.
    assert len(clean_fields(None, None, ",".join(["same"] * (MAX_TAGS + 5)))[2]) == 1


@pytest.fixture
def blocks(runtime: Runtime) -> dict[str, int]:
    alice, mallory = add_user(runtime.sessions, "alice"), add_user(runtime.sessions, "mallory")
    trade = add_trade(runtime.sessions, alice, add_account(runtime.sessions, alice), ms("2024-05-01 10:00"), [])
    with runtime.sessions() as s:
        block = s.scalar(select(Block.id).where(Block.user_id == alice))
    return {"alice": alice, "mallory": mallory, "block": int(block or 0), "trade": trade}


def stored(runtime: Runtime, block_id: int) -> tuple[str | None, str | None, set[str]]:
    with runtime.sessions() as s:
        block = s.get(Block, block_id)
        assert block is not None
        tags = set(s.scalars(select(BlockTag.tag).where(BlockTag.block_id == block_id)))
        return block.setup, block.notes, tags


def test_saving_replaces_the_tags_as_a_set(runtime: Runtime, blocks: dict) -> None:
    saved = save_journal(runtime, blocks["alice"], blocks["block"], "Breakout ", "Waited for the retest.", "News, A")
    assert saved.tags == ("a", "news")
    assert stored(runtime, blocks["block"]) == ("Breakout", "Waited for the retest.", {"a", "news"})
    save_journal(runtime, blocks["alice"], str(blocks["block"]), "", "", "news, fomo")
    assert stored(runtime, blocks["block"]) == (None, None, {"news", "fomo"})
    assert journal_of(runtime, blocks["alice"], blocks["block"]).tags == ("fomo", "news")


def test_a_refused_save_writes_nothing(runtime: Runtime, blocks: dict) -> None:
    save_journal(runtime, blocks["alice"], blocks["block"], "Keep", None, "keep")
    with pytest.raises(JournalRejected):
        save_journal(runtime, blocks["alice"], blocks["block"], "New", None, "t" * 41)
    assert stored(runtime, blocks["block"]) == ("Keep", None, {"keep"})


@pytest.mark.parametrize("block", ["other", "missing", "junk"])
def test_only_the_owner_reads_or_edits(runtime: Runtime, blocks: dict, block: str) -> None:
    target = {"other": blocks["block"], "missing": 999_999, "junk": "1; drop table"}[block]
    with pytest.raises(BlockAccessError):
        save_journal(runtime, blocks["mallory"], target, "Stolen", "mine now", "x")
    with pytest.raises(BlockAccessError):
        journal_of(runtime, blocks["mallory"], target)
    assert stored(runtime, blocks["block"]) == (None, None, set())
