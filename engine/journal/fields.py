"""A block's journal fields: its setup name, notes and tags, validated and saved by its owner only.

Validation is pure (`clean_fields`): text is trimmed, tags are lower-cased, split on commas and
de-duplicated in order; a refusal names the field and says why, and nothing is written. Saving
checks the block is the user's on the server: another user's block answers BlockAccessError,
which does not say whether the block exists.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from db.models import Block, BlockTag
from engine.blocks.api import BlockAccessError, FieldError
from engine.runtime import Runtime

MAX_SETUP = 64  # the column's length (blocks.setup)
MAX_TAG = 40  # block_tags.tag
MAX_TAGS = 12
MAX_NOTES = 10_000


@dataclass(frozen=True)
class JournalFields:
    block_id: int
    setup: str | None
    notes: str | None
    tags: tuple[str, ...]


class JournalRejected(ValueError):  # noqa: N818 - the name says what happened to the fields (as BlockRejected)
    """The fields were refused: one FieldError per field at fault."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))


def _printable(text: str) -> bool:
    return all(ch.isprintable() or ch in "\n\t" for ch in text)


def split_tags(raw: str | Iterable[str] | None) -> list[str]:
    """Tags as typed ("Breakout, news ,breakout") -> trimmed, lower-case, first occurrence kept."""
    if raw is None:
        return []
    parts = raw.split(",") if isinstance(raw, str) else [str(p) for p in raw]
    seen: list[str] = []
    for part in parts:
        tag = " ".join(part.split()).lower()  # inner runs of spaces become one
        if tag and tag not in seen:
            seen.append(tag)
    return seen


def clean_fields(setup: object, notes: object, tags: object) -> tuple[str | None, str | None, tuple[str, ...]]:
    """The fields as they will be stored, or JournalRejected naming what is wrong."""
    errors: list[FieldError] = []
    for name, value in (("setup", setup), ("notes", notes)):
        if value is not None and not isinstance(value, str):
            errors.append(FieldError(name, "Enter text."))
    if tags is not None and not isinstance(tags, str | list | tuple):
        errors.append(FieldError("tags", "Enter tags separated by commas."))
    if errors:
        raise JournalRejected(errors)
    setup_text = " ".join(str(setup or "").split()) or None
    notes_text = str(notes or "").strip() or None
    tag_list = split_tags(tags)  # type: ignore[arg-type]
    if setup_text is not None and len(setup_text) > MAX_SETUP:
        errors.append(FieldError("setup", f"A setup name has at most {MAX_SETUP} characters."))
    elif setup_text is not None and not setup_text.isprintable():
        errors.append(FieldError("setup", "A setup name cannot hold control characters."))
    if notes_text is not None and len(notes_text) > MAX_NOTES:
        errors.append(FieldError("notes", f"Notes have at most {MAX_NOTES:,} characters."))
    elif notes_text is not None and not _printable(notes_text):
        errors.append(FieldError("notes", "Notes cannot hold control characters."))
    long = [t for t in tag_list if len(t) > MAX_TAG]
    if long:
        errors.append(FieldError("tags", f"A tag has at most {MAX_TAG} characters ({long[0][:20]}… is longer)."))
    elif len(tag_list) > MAX_TAGS:
        errors.append(FieldError("tags", f"At most {MAX_TAGS} tags on a block."))
    elif not all(t.isprintable() for t in tag_list):
        errors.append(FieldError("tags", "Tags cannot hold control characters."))
    if errors:
        raise JournalRejected(errors)
    return setup_text, notes_text, tuple(tag_list)


def _owned(session: Session, user_id: int, block_id: object) -> Block:
    try:
        ident = int(str(block_id))  # from the browser: anything may come
    except (TypeError, ValueError):
        raise BlockAccessError(-1) from None
    block = session.get(Block, ident)
    if block is None or block.user_id != user_id:
        raise BlockAccessError(ident)
    return block


def journal_of(runtime: Runtime, user_id: int, block_id: object) -> JournalFields:
    """The block's journal fields; BlockAccessError unless it is the user's."""
    with runtime.sessions() as s:
        block = _owned(s, user_id, block_id)
        tags = s.scalars(select(BlockTag.tag).where(BlockTag.block_id == block.id).order_by(BlockTag.tag))
        return JournalFields(block.id, block.setup, block.notes, tuple(tags))


def save_journal(
    runtime: Runtime, user_id: int, block_id: object, setup: object, notes: object, tags: object
) -> JournalFields:
    """Validate and store the fields of the user's block (tags replaced as a set), in one transaction."""
    setup_text, notes_text, tag_list = clean_fields(setup, notes, tags)
    with runtime.sessions.begin() as s:
        block = _owned(s, user_id, block_id)
        block.setup, block.notes = setup_text, notes_text
        s.execute(delete(BlockTag).where(BlockTag.block_id == block.id))
        s.add_all(BlockTag(block_id=block.id, tag=t) for t in tag_list)
        return JournalFields(block.id, setup_text, notes_text, tuple(sorted(tag_list)))
