"""``run_all``'s causes for the peer targets (ccxt, python-kraken-sdk) name the cases where the
careful client misses the target too, from the ratios ``bench_clients`` measured."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from tests.benchmarks.loader import load_benchmark


def _run_all() -> ModuleType:
    return load_benchmark("run_all")


def _row(case: str, ours: float, careful: float, peer: float, **extra: Any) -> dict[str, Any]:
    return {
        "case": case,
        "ours_us": ours,
        "careful_us": careful,
        "ccxt_us": peer,
        "kraken-sdk_us": peer,
        "ours_vs_ccxt": ours / peer,
        "careful_vs_ccxt": careful / peer,
        "ours_vs_sdk": ours / peer,
        "careful_vs_sdk": careful / peer,
        **extra,
    }


def test_sdk_cause_names_the_cases_the_careful_client_also_loses() -> None:
    run_all = _run_all()
    rows = [
        _row("fast", ours=1.0, careful=1.0, peer=2.0),
        _row("careful loses too", ours=12.0, careful=11.0, peer=10.0),
        _row("only ours loses", ours=12.0, careful=8.0, peer=10.0),
    ]
    _, _, verdict, gap, cause = run_all._sdk_target(rows)
    assert "**missed**" in verdict
    assert gap.startswith("2 of 3 cases slower")
    assert "careful loses too ours 12.00 us vs sdk 10.00 us (careful 11.00 us)" in cause
    assert "too on 1 of these 2 (careful loses too 0.91x)" in cause
    assert cause.endswith("cost more than python-kraken-sdk's whole path of floats")
    assert "only ours loses 0." not in cause.split("too on")[1]


def test_no_careful_sentence_when_the_careful_client_meets_the_target() -> None:
    run_all = _run_all()
    rows = [_row("only ours loses", ours=12.0, careful=8.0, peer=10.0)]
    assert "careful client (orjson" not in run_all._sdk_target(rows)[4]
    assert run_all._careful_misses(rows, "careful_vs_sdk", 1.0, "slower", "why") == ""
    # Rows measured before the careful ratios existed give no sentence either.
    bare = [{"case": "old", "ours_us": 2.0}]
    assert run_all._careful_misses(bare, "careful_vs_sdk", 1.0, "slower", "why") == ""


def test_ccxt_cause_gives_the_careful_client_and_v2_decode() -> None:
    run_all = _run_all()
    slow = [
        _row("v2 trade fill", ours=19.0, careful=19.5, peer=40.0, **{"v2 decode_us": 5.5}),
        _row("ownTrades fill", ours=10.0, careful=9.0, peer=42.0),
    ]
    pipeline = {
        "results": [
            {"case": "ownTrades fill", "decode_us": 4.0, "connection_us": 5.3, "pipeline_us": 4.8}
        ]
    }
    cause = run_all._ccxt_cause(slow, pipeline)
    assert "v2 trade fill: ccxt 40.00 us, so 5x needs 8.00 us, ours 19.00 us" in cause
    assert "v2.decode alone takes 5.50 us, the careful client 19.50 us" in cause
    assert "our decode alone takes 4.00 us and Connection 0.50 us, the careful client 9.00" in cause
    assert "too on 2 of these 2 (v2 trade fill 2.05x, ownTrades fill 4.67x)" in cause
    assert cause.endswith("needs more than 1/5 of ccxt's time.")
    no_breakdown = run_all._ccxt_cause([_row("x", ours=10.0, careful=9.0, peer=42.0)], None)
    assert "ours 10.00 us, the careful client 9.00 us" in no_breakdown
    assert run_all._ccxt_cause([], None) == ""


def test_connection_cause_splits_ours_with_parts_from_the_same_repeats() -> None:
    run_all = _run_all()
    row = {
        "case": "openOrders status-only delta",
        "ours_us": 4.5,
        "careful_us": 3.5,
        "ours_vs_careful": 1.3,
        "decode_us": 1.25,
        "decode + table_us": 4.0,
    }
    assert run_all._ours_split(row) == (
        "decode 1.25 us, sequence check and table 2.75 us, Connection 0.50 us"
    )
    targets = run_all._clients_targets({"results": [row]}, None)
    cause = targets[0][4]
    assert cause.startswith("per frame, medians of the same repeats: openOrders status-only")
    assert "ours 4.50 us (decode 1.25 us, sequence check and table 2.75 us" in cause
    assert "against the careful client's 3.50 us" in cause
    # Without the parts (an older run) the pipeline table's figures stand in.
    bare = {
        key: value for key, value in row.items() if key not in {"decode_us", "decode + table_us"}
    }
    assert run_all._ours_split(bare) is None
    pipeline = {
        "results": [
            {
                "case": "openOrders status-only delta",
                "decode_us": 1.0,
                "apply_us": 1.5,
                "pipeline_us": 2.5,
                "connection_us": 3.0,
                "orjson_us": 0.7,
            }
        ]
    }
    cause = run_all._clients_targets({"results": [bare]}, pipeline)[0][4]
    assert "decode 1.00 us, apply 1.50 us, Connection 0.50 us (pipeline table)" in cause
    ccxt_row = {**row, "ccxt_us": 20.0, "ours_vs_ccxt": 0.225}
    assert "ours 4.50 us (decode 1.25 us" in run_all._ccxt_cause([ccxt_row], pipeline)


def _decode_row(case: str, decode: float, floor: float, **extra: Any) -> dict[str, Any]:
    return {
        "case": case,
        "decode_us": decode,
        "floor_us": floor,
        "decode_vs_floor": decode / floor,
        "decode_cold_vs_floor": decode / floor,
        "decimals": 6,
        "decimal_construction_us": 0.9,
        **extra,
    }


def test_decode_cause_splits_the_text_first_case_it_missed() -> None:
    run_all = _run_all()
    rows = [
        _decode_row("met", decode=1.0, floor=1.0),
        _decode_row("ownTrades fill", decode=3.0, floor=1.5, text_read_us=0.75),
    ]
    target = run_all._decode_target({"target_ratio": 1.1, "results": rows})
    assert "**missed**" in target[2]
    assert target[3] == "worst 2.00x (ownTrades fill); 1 of 2 cases over"
    assert (
        "ownTrades fill is read text-first (a fill's numbers seldom repeat, so the memo cannot"
        " help them, and a hook per number costs more): msgspec reads the frame with its"
        " numbers as text in 0.75 us (the floor reads it with Decimals in 1.50 us); the other"
        " 2.25 us are the 6 Decimal() calls (0.90 us alone)"
    ) in target[4]


def test_decode_cause_has_no_text_first_sentence_when_that_case_met() -> None:
    run_all = _run_all()
    rows = [
        _decode_row("over", decode=2.0, floor=1.0),
        _decode_row("ownTrades fill", decode=1.0, floor=1.0, text_read_us=0.5),
    ]
    cause = run_all._decode_target({"target_ratio": 1.1, "results": rows})[4]
    assert "over" in cause
    assert "text-first" not in cause
