"""Each export format parsed from recorded responses; malformed, truncated, duplicated and
hostile rows quarantined with their reason, never loaded and never a crash."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from collectors.bills import anthropic, openai
from collectors.bills.load import detect, parse, read_file
from collectors.errors import InputError
from tests.bills.conftest import FIXTURES


def _doc(name: str) -> object:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"), parse_float=Decimal)


def test_openai_costs_docs_example_is_a_day_total_in_exact_dollars() -> None:
    p = read_file(FIXTURES / "openai" / "costs_docs_example.json")
    assert p.export_format == "openai-costs"
    (line,) = p.lines
    assert (line.day, line.model, line.token_class, line.amount_usd) == (
        date(2024, 11, 1), None, None, Decimal("0.06"))  # fmt: skip
    assert not p.has_more


def test_openai_line_items_name_model_and_token_class() -> None:
    p = openai.parse_costs(_doc("openai/costs_page1.json"), "p1")
    assert [(x.model, x.token_class, x.amount_usd) for x in p.lines] == [
        ("gpt-4o-mini", "input", Decimal("0.06")),
        ("gpt-4o-mini", "cached_input", Decimal("0.0135")),
        ("gpt-4o-mini", "output", Decimal("0.18")),
    ]
    assert p.lines[0].billed_model == "gpt-4o-mini-2024-07-18"
    assert (p.has_more, p.next_page) == (True, "page_AAAAAGdGxdEiJdKOAAAAAGcqsYA=")
    p2 = openai.parse_costs(_doc("openai/costs_page2.json"), "p2")
    other = [x for x in p2.lines if x.token_class == "other"]
    assert other[0].model is None and other[0].line_item == "web search tool calls"
    assert p2.lines[-1].empty_day and p2.lines[-1].amount_usd == 0  # an empty bucket: $0


def test_openai_usage_splits_cached_out_of_input() -> None:
    p = openai.parse_usage(_doc("openai/usage_page.json"), "u")
    assert {x.token_class: x.tokens for x in p.lines} == {
        "input": 1000, "cached_input": 4000, "output": 1000}  # fmt: skip
    assert all(x.amount_usd is None and x.kind == "usage" for x in p.lines)


def test_anthropic_amounts_are_cents() -> None:
    p = anthropic.parse_cost(_doc("anthropic/cost_report_page1.json"), "c")
    assert [(x.model, x.token_class, x.amount_usd) for x in p.lines] == [
        ("claude-sonnet-4", "input", Decimal("1.2378912")),
        ("claude-sonnet-4", "output", Decimal("4.565")),
    ]
    assert p.next_page == "page_MjAyNS0wNS0xNFQwMDowMDowMFo="
    p2 = anthropic.parse_cost(_doc("anthropic/cost_report_page2.json"), "c")
    assert [(x.model, x.token_class, x.amount_usd) for x in p2.lines] == [
        ("claude-sonnet-4", "cached_input", Decimal("0.1234")),
        (None, "other", Decimal("1")),
    ]


def test_anthropic_usage_has_every_token_class() -> None:
    p = anthropic.parse_usage(_doc("anthropic/usage_report_page.json"), "u")
    assert {x.token_class: x.tokens for x in p.lines} == {
        "input": 1500, "cached_input": 200, "cache_write_5m": 500, "cache_write_1h": 1000,
        "output": 500}  # fmt: skip


def test_console_csvs() -> None:
    o = read_file(FIXTURES / "openai" / "costs_export.csv")
    assert o.export_format == "openai-costs-csv" and len(o.lines) == 7
    assert o.lines[0].amount_usd == Decimal("0.8958740000000000")
    assert [x.day for x in o.lines if x.empty_day] == [date(2025, 10, 9)]
    a = read_file(FIXTURES / "anthropic" / "cost_export.csv")
    assert a.export_format == "anthropic-cost-csv"
    assert [(x.model, x.token_class, x.amount_usd) for x in a.lines][:2] == [
        ("claude-haiku-4-5", "input", Decimal("0.05")),
        ("claude-haiku-4-5", "output", Decimal("0.02")),
    ]
    assert sum(x.amount_usd or 0 for x in a.lines) == Decimal("0.47")


@pytest.mark.parametrize(
    ("result", "reason"),
    [
        ({"amount": {"value": "NaN", "currency": "usd"}}, "bad_amount"),
        ({"amount": {"value": 1e400, "currency": "usd"}}, "bad_amount"),
        ({"amount": {"value": -0.5, "currency": "usd"}}, "negative_amount"),
        ({"amount": {"value": 0.5, "currency": "eur"}}, "not_usd"),
        ({"amount": {"value": True, "currency": "usd"}}, "bad_amount"),
        (
            {"amount": {"value": 0.5, "currency": "usd"}, "line_item": "x\u202egpt, input"},
            "bad_model",
        ),
        (
            {"amount": {"value": 0.5, "currency": "usd"}, "line_item": "a" * 500 + ", input"},
            "bad_model",
        ),
        ({"amount": {"value": 0.5, "currency": "usd"}, "line_item": ["nested"]}, "bad_model"),
        ("not an object", "bad_amount"),
    ],
)
def test_hostile_openai_results_are_quarantined(result: object, reason: str) -> None:
    doc = {"data": [{"start_time": 1730419200, "end_time": 1730505600, "results": [result]}]}
    p = openai.parse_costs(json.loads(json.dumps(doc), parse_float=Decimal), "h")
    assert p.lines == [] and [q.reason for q in p.quarantined] == [reason]


def test_a_bucket_that_is_not_one_utc_day_is_quarantined() -> None:
    doc = {"data": [{"start_time": 1730419200, "end_time": 1730422800, "results": []}]}
    p = openai.parse_costs(doc, "h")
    assert [q.reason for q in p.quarantined] == ["not_daily"] and p.lines == []


def test_duplicates_in_one_export_count_once_and_conflicts_are_quarantined() -> None:
    r = {"object": "organization.costs.result", "amount": {"value": Decimal("0.5"),
         "currency": "usd"}, "line_item": "gpt-4o, input"}  # fmt: skip
    bucket = {"start_time": 1730419200, "end_time": 1730505600, "results": [r, dict(r)]}
    p = openai.parse_costs({"data": [bucket]}, "d")
    assert len(p.lines) == 1 and p.duplicates == 1 and not p.quarantined
    other = {**r, "amount": {"value": Decimal("0.7"), "currency": "usd"}}
    p = openai.parse_costs({"data": [{**bucket, "results": [r, other]}]}, "d")
    assert len(p.lines) == 1 and [q.reason for q in p.quarantined] == ["conflicting_duplicate"]


def test_truncated_json_is_one_quarantined_row_and_a_truncated_csv_row_too() -> None:
    content = (FIXTURES / "anthropic" / "cost_report_page1.json").read_bytes()[:300]
    p = parse(content, "anthropic-cost", "t.json")
    assert p.lines == [] and [q.reason for q in p.quarantined] == ["invalid_json"]
    csv = (FIXTURES / "anthropic" / "cost_export.csv").read_text(encoding="utf-8")
    p = anthropic.parse_cost_csv(csv.rstrip("\n")[:-40], "t.csv")
    assert len(p.lines) == 3 and [q.reason for q in p.quarantined] == ["truncated_row"]


def test_detection_names_what_it_found() -> None:
    assert detect((FIXTURES / "openai" / "usage_page.json").read_bytes(), "x") == "openai-usage"
    assert detect((FIXTURES / "anthropic" / "usage_report_page.json").read_bytes(), "x") == (
        "anthropic-usage")  # fmt: skip
    with pytest.raises(InputError, match="CSV columns: foo, bar"):
        detect(b"foo,bar\n1,2\n", "x.csv")
    with pytest.raises(InputError, match="--format"):
        detect(b'{"data": []}', "empty.json")
