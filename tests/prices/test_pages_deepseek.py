"""DeepSeek pricing page (HTML, transposed table), spot-checked against the recording by hand."""

from __future__ import annotations

import re
from datetime import time
from decimal import Decimal

import pytest

from collectors.errors import TerminalSourceError
from collectors.prices.pages import deepseek
from tests.prices.conftest import OBSERVED, PAGES, one

D = Decimal
PAGE = (PAGES / "deepseek_pricing_2026-09.html").read_text(encoding="utf-8")
PEAK_1 = (time(1), time(4))
PEAK_2 = (time(6), time(10))


@pytest.fixture(scope="module")
def obs():
    return deepseek.parse(PAGE, OBSERVED)


def test_cache_hit_and_cache_miss_input_off_peak_and_peak(obs):
    # PRICING rows: 1M INPUT TOKENS (CACHE HIT)  OFF-PEAK $0.003 | $0.022, PEAK $0.006 | $0.044
    #               1M INPUT TOKENS (CACHE MISS) OFF-PEAK $0.15  | $0.66,  PEAK $0.3   | $1.32
    #               1M OUTPUT TOKENS             OFF-PEAK $0.6   | $1.98,  PEAK $1.2   | $3.96
    flash = one(obs, "deepseek-flash", provider="deepseek")
    assert flash.cached_input_per_mtok == D("0.003") and flash.input_per_mtok == D("0.15")
    assert flash.output_per_mtok == D("0.6") and flash.window_start_utc is None
    pro_peak = one(obs, "deepseek-v4-pro", window=PEAK_2)
    assert (pro_peak.cached_input_per_mtok, pro_peak.input_per_mtok) == (D("0.044"), D("1.32"))
    assert pro_peak.output_per_mtok == D("3.96")


def test_peak_windows_come_from_the_footnote(obs):
    # (3) "Peak hours are 01:00 - 04:00 and 06:00 - 10:00 UTC, Monday through Friday"
    peaks = [o for o in obs if o.model_id == "deepseek-flash" and o.window_start_utc]
    assert sorted((o.window_start_utc, o.window_end_utc) for o in peaks) == [PEAK_1, PEAK_2]
    assert all(o.weekdays_only and o.input_per_mtok == D("0.3") for o in peaks)


def test_legacy_names_from_the_footnote_are_aliases(obs):
    # (1) "The legacy names deepseek-v4-flash and deepseek-v4-flash-vision-exp are still accepted"
    alias = one(obs, "deepseek-v4-flash")
    assert alias.match_rule == "alias" and alias.extra["alias_of"] == "deepseek-flash"
    assert alias.input_per_mtok == D("0.15")
    assert one(obs, "deepseek-v4-flash-vision-exp", window=PEAK_1).input_per_mtok == D("0.3")


def test_moved_renamed_and_added_column_still_parse(obs):
    table = re.search(r'<div style="font-size:14px"><b><table.*?</table></b></div>', PAGE, re.S)
    assert table
    html = table.group(0)
    html = html.replace(
        "<td>deepseek-v4-pro<sup>(2)</sup></td>",
        "<td>deepseek-v4-pro<sup>(2)</sup></td><td>deepseek-v5</td>",
    )
    html = re.sub(r"(<td>\$[\d.]+</td>)(</tr>)", r"\1<td>$9</td>\2", html)
    page = PAGE.replace(table.group(0), "").replace("</article>", html + "</article>")
    page = page.replace("Model Details", "Our models")
    changed = deepseek.parse(page, OBSERVED)
    assert one(changed, "deepseek-v5").input_per_mtok == D(9)
    assert one(changed, "deepseek-v5", window=PEAK_1).output_per_mtok == D(9)
    assert one(changed, "deepseek-v4-pro").input_per_mtok == D("0.66")
    assert len(changed) == len(obs) + 3


def test_peak_prices_without_a_readable_schedule_are_terminal():
    page = PAGE.replace("Peak hours are 01:00 - 04:00 and 06:00 - 10:00 UTC", "Peak hours vary")
    with pytest.raises(TerminalSourceError, match="peak schedule"):
        deepseek.parse(page, OBSERVED)
    local = PAGE.replace("06:00 - 10:00 UTC", "06:00 - 10:00 Beijing time")
    with pytest.raises(TerminalSourceError, match="not given in UTC"):
        deepseek.parse(local, OBSERVED)


def test_page_without_the_table_is_terminal_naming_source_and_url():
    page = re.sub(r"<table.*?</table>", "", PAGE, flags=re.S)
    with pytest.raises(TerminalSourceError) as err:
        deepseek.parse(page, OBSERVED)
    assert str(err.value).startswith(f"deepseek ({deepseek.URL}):")
