"""FillLog: each trade id reported once across re-snapshots and overlapping updates."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import kraken_proto
import pytest
from hypothesis import given
from hypothesis import strategies as st
from kraken_proto import FillLog, Trade
from kraken_proto._fills import MIN_FILL_WINDOW
from kraken_proto.v1 import OwnTrades


def trade_id(number: int) -> str:
    text = f"{number:016X}"
    return f"T{text[:5]}-{text[5:10]}-{text[10:16]}"


def trade_json(number: int) -> dict[str, Any]:
    return {
        "cost": f"{100 + number}.12345",
        "fee": "0.26000",
        "margin": "0.00000",
        "ordertxid": "OQCLML-BW3P3-BUCMWZ",
        "ordertype": "limit",
        "pair": "XBT/EUR",
        "postxid": "TKH2SE-M7IF5-CFI7LT",
        "price": "26000.10000",
        "time": f"1699987{number:03d}.892228",
        "type": "buy",
        "vol": "0.00390000",
    }


def frame(numbers: list[int], sequence: int) -> OwnTrades:
    """A real ownTrades frame carrying the given trades, decoded by ``kraken_proto.decode``."""
    text = json.dumps(
        [[{trade_id(n): trade_json(n)} for n in numbers], "ownTrades", {"sequence": sequence}]
    )
    event = kraken_proto.decode(text)
    assert isinstance(event, OwnTrades)
    return event


def bare_frame(ids: list[str]) -> OwnTrades:
    return OwnTrades(trades=tuple((tid, Trade()) for tid in ids))


# --- the guarantee as properties ---------------------------------------------------------


operations = st.lists(
    st.one_of(
        st.tuples(st.just("execute"), st.integers(1, 6)),
        st.tuples(st.just("resnapshot"), st.booleans()),
        st.tuples(st.just("redeliver"), st.lists(st.integers(0, 400), max_size=8)),
    ),
    max_size=25,
)


@given(operations)
def test_every_delivered_trade_is_reported_exactly_once(ops: list[tuple[str, Any]]) -> None:
    """Executions arrive in updates; reconnects replay the last 50; stray frames overlap."""
    log = FillLog()
    executed = 0  # trades 0..executed-1 exist on the account
    delivered: set[str] = set()
    reported: list[str] = []
    sequence = 0
    for kind, argument in ops:
        if kind == "execute":
            numbers = list(range(executed, executed + argument))
            executed += argument
            sequence += 1
        elif kind == "resnapshot":
            numbers = list(range(max(0, executed - 50), executed))
            if argument:
                numbers.reverse()  # the live service lists newest first
            sequence = 1
        else:
            numbers = [n % executed for n in argument] if executed else []
            sequence += 1
        event = frame(numbers, sequence)
        new = log.apply(event)
        # What comes back is the frame's not-yet-reported trades, in wire order.
        fresh = [tid for tid, _ in event.trades if tid not in delivered]
        assert [tid for tid, _ in new] == list(dict.fromkeys(fresh))
        assert all(trade is dict(event.trades)[tid] for tid, trade in new)
        delivered.update(tid for tid, _ in event.trades)
        reported.extend(tid for tid, _ in new)
        assert all(log.seen(tid) for tid, _ in event.trades)
    assert len(reported) == len(set(reported))
    assert set(reported) == delivered


@given(st.lists(st.lists(st.integers(0, 150), max_size=60), max_size=20))
def test_window_semantics_match_a_renewing_lru_model(frames: list[list[int]]) -> None:
    """With a small window, an id is suppressed exactly while it is among the last N seen."""
    window = MIN_FILL_WINDOW
    log = FillLog(window=window)
    model: list[str] = []  # oldest sighting first
    for numbers in frames:
        ids = [trade_id(n) for n in numbers]
        expected = []
        for tid in ids:
            if tid in model:
                model.remove(tid)
            else:
                expected.append(tid)
            model.append(tid)
            del model[:-window]
        assert [tid for tid, _ in log.apply(bare_frame(ids))] == expected
        assert len(log) == len(model) <= window
        assert all(log.seen(tid) for tid in model)
        assert not any(log.seen(trade_id(n)) for n in range(151) if trade_id(n) not in model)


# --- examples ------------------------------------------------------------------------------


def test_docs_example_frame_reported_once_with_exact_decimals() -> None:
    text = (
        '[[{"TDLH43-DVQXD-2KHVYY":{"cost":"1000000.00000","fee":"600.00000","margin":"0.00000",'
        '"ordertxid":"TDLH43-DVQXD-2KHVYY","ordertype":"limit","pair":"XBT/EUR",'
        '"postxid":"OGTT3Y-C6I3P-XRI6HX","price":"100000.00000","time":"1560520332.914664",'
        '"type":"buy","vol":"1000000000.00000000"}}],"ownTrades",{"sequence":2948}]'
    )
    log = FillLog()
    assert not log.seen("TDLH43-DVQXD-2KHVYY")
    event = kraken_proto.decode(text)
    assert isinstance(event, OwnTrades)
    ((tid, trade),) = log.apply(event)
    assert tid == "TDLH43-DVQXD-2KHVYY"
    assert trade.fee == Decimal("600.00000")
    assert trade.time == Decimal("1560520332.914664")
    assert log.seen(tid)
    assert log.apply(event) == ()
    assert len(log) == 1


def test_empty_snapshot_reports_nothing() -> None:
    log = FillLog()
    assert log.apply(frame([], 1)) == ()
    assert len(log) == 0


def test_resnapshot_after_reconnect_reports_only_the_missed_trades() -> None:
    log = FillLog()
    log.apply(frame(list(range(50)), 1))
    log.apply(frame([50, 51], 2))
    # Reconnected after trades 52..54 happened: the snapshot is the last 50, newest first.
    new = log.apply(frame(list(range(54, 4, -1)), 1))
    assert [tid for tid, _ in new] == [trade_id(54), trade_id(53), trade_id(52)]


def test_default_and_custom_window() -> None:
    assert FillLog().window == 100_000
    assert FillLog(window=MIN_FILL_WINDOW).window == MIN_FILL_WINDOW


@pytest.mark.parametrize("bad", [MIN_FILL_WINDOW - 1, 0, -5, 100.0, "100", True])
def test_window_smaller_than_a_snapshot_is_rejected(bad: Any) -> None:
    with pytest.raises(ValueError, match="window"):
        FillLog(window=bad)


def test_oldest_id_is_forgotten_once_the_window_is_full() -> None:
    log = FillLog(window=MIN_FILL_WINDOW)
    log.apply(bare_frame([trade_id(n) for n in range(MIN_FILL_WINDOW)]))
    log.apply(bare_frame([trade_id(0)]))  # seen again: renewed, now the newest
    log.apply(bare_frame([trade_id(MIN_FILL_WINDOW)]))
    assert len(log) == MIN_FILL_WINDOW
    assert log.seen(trade_id(0))
    assert not log.seen(trade_id(1))
    assert [tid for tid, _ in log.apply(bare_frame([trade_id(1)]))] == [trade_id(1)]


@given(
    st.lists(st.lists(st.integers(0, 80), max_size=3), max_size=40),
    st.booleans(),
    st.integers(0, 5),
)
def test_one_trade_frames_report_and_keep_as_longer_ones_do(
    frames: list[list[int]], as_list: bool, max_trades: int
) -> None:
    """The one-trade fast path agrees with the general loop: what ``apply`` returns (always a
    tuple, even for a frame built with a list) and the trades the log keeps."""
    fast = FillLog(window=MIN_FILL_WINDOW, max_trades=max_trades)
    general = FillLog(window=MIN_FILL_WINDOW, max_trades=max_trades)
    for numbers in frames:
        pairs = [(trade_id(n), Trade(userref=n)) for n in numbers]
        trades: Any = pairs if as_list else tuple(pairs)
        new = fast.apply(OwnTrades(trades=trades))
        # The general path, one frame per trade and a padding of seen ids around each.
        expected: list[tuple[str, Trade]] = []
        for pair in pairs:
            got = general.apply(OwnTrades(trades=(pair, pair)))
            expected.extend(got)
        assert type(new) is tuple
        assert list(new) == expected
        assert list(fast._trades) == list(general._trades)
        assert len(fast) == len(general)
