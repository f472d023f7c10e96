"""Column types shared by the models.

`Money` keeps Decimal values exact on both databases: NUMERIC(36, 18) on PostgreSQL, and decimal
text on SQLite, whose NUMERIC affinity would store them as doubles (0.1 read back as
0.100000000000000006). Values are cut to 18 decimals on write, so what Python holds after a
flush is what the database stores.
"""

from __future__ import annotations

from decimal import Context, Decimal
from typing import Any

from sqlalchemy import Dialect, Numeric, String
from sqlalchemy.types import TypeDecorator, TypeEngine

SCALE = Decimal("1e-18")
_WIDE = Context(prec=60)


def to_scale(value: Decimal) -> Decimal:
    """`value` with at most 18 decimals (the column's scale)."""
    exponent = value.as_tuple().exponent
    return value.quantize(SCALE, context=_WIDE) if isinstance(exponent, int) and exponent < -18 else value


class Money(TypeDecorator[Decimal]):
    impl = Numeric(36, 18)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(String(64))
        return dialect.type_descriptor(Numeric(36, 18, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            value = Decimal(str(value))
        if not value.is_finite():
            raise ValueError(f"money must be finite, got {value}")
        value = to_scale(value)
        return format(value, "f") if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return value if isinstance(value, Decimal) else Decimal(str(value))
