"""The conditional-block form's pure pieces (pages/components/condition_form.py): its values with
a next step become the chain the engine parses (engine.conditions.api.parse_condition, the REST
API's own reader), and the engine's errors of either step come back under that step's fields."""

from __future__ import annotations

from types import SimpleNamespace

from engine.blocks.api import FieldError
from engine.conditions.api import ConditionSpec, parse_condition
from pages.components.condition_form import FIELDS, NEXT, chain_raw, field_messages

BTC = SimpleNamespace(symbol="BTC/USDT", exchange="demo")
ETH = SimpleNamespace(symbol="ETH/USDT", exchange="demo")


def values(prefix: str, price: str, at: str | None = None) -> dict[str, object]:
    named: dict[str, object] = {
        "kind": "at_time" if at else "close_above", "series": 3, "price": price, "timeframe": "15m", "at": at,
        "account": 7, "side": "long", "entry-type": "limit", "entry-price": "41000", "stop": "40000",
        "target": "43000", "size-mode": "base", "size": "0.01",
    }  # fmt: skip
    return {f"{prefix}{k}": v for k, v in named.items()}


def test_the_next_step_is_sent_under_then_only_when_switched_on() -> None:
    named = {**values("cf-", "50000"), **values(NEXT, "", at="2030-01-02T03:04")}
    assert "then" not in chain_raw(named, BTC, ETH, False)
    raw = chain_raw(named, BTC, ETH, True)
    spec = parse_condition(raw)
    assert isinstance(spec, ConditionSpec)
    assert spec.then is not None
    assert (spec.kind, spec.then.kind, spec.then.at_ms) == ("close_above", "at_time", 1893553440000)
    assert (spec.block["symbol"], spec.then.block["symbol"]) == ("BTC/USDT", "ETH/USDT")


def test_the_next_steps_errors_are_shown_under_its_own_fields() -> None:
    named = {**values("cf-", "50000"), **values(NEXT, "50,000")}
    errors = parse_condition(chain_raw(named, BTC, None, True))
    assert isinstance(errors, list)
    shown, rest = field_messages(errors)
    assert "positive number" in shown["cf-then-price"]
    assert "cf-price" not in shown
    assert "cf-then-series" in shown  # the block's market is missing: said at the step's market
    assert rest == []
    shown, rest = field_messages([FieldError("then.block.targets[0].price", "Too low."), FieldError("x", "Else.")])
    assert shown == {"cf-then-target": "Too low."}
    assert rest == ["Else."]


def test_every_field_of_both_steps_has_its_own_input() -> None:
    ids = [input_id for input_id, _label, _field in FIELDS]
    assert len(ids) == len(set(ids)) == 26
    assert {field for _i, _l, field in FIELDS if field.startswith("then.")} == {
        f"then.{field}" for _i, _l, field in FIELDS if not field.startswith("then.")
    }
