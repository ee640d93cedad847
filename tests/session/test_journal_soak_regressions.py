"""Regressions found by ``benchmarks/soak.py --crash`` and ``--processes`` (issue 16).

* A fill delivered while a REST backfill was still wanted moved the journal's fill cursor past
  fills only the backfill would bring; a crash then lost them for good (257 in one run).
* Each session counted its REST calls alone, so two processes on one key overran the key's
  one budget (``Session(rest_counter=...)``).
* A first snapshot's trades made after the session started (by another process on the key)
  were reported as ``history``.
* Two senders on one key could be overtaken on the way to Kraken (``EAPI:Invalid nonce``):
  the REST queue now holds the key's turn to send (``NonceSource.acquire``) from drawing a
  nonce until the answer.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from kraken_proto import (
    Credentials,
    FillReceived,
    HttpCall,
    LocalProtocolError,
    Session,
    SessionConfig,
)
from kraken_proto.adapters.simulator.model.exchange import SimulatorConfig
from kraken_proto.rest import NonceSource, RestCallCounter
from kraken_proto.session._journal import (
    Checkpoint,
    FillCursor,
    FillDelivered,
    InMemoryJournal,
    JournalCorruptError,
    decode_record,
    encode_record,
    fold,
)
from kraken_proto.session._rest import RestQueue
from kraken_proto.v1 import Subscribe, Trade

from tests.session.session_wire import Wire
from tests.session.test_journal_crash import Durable, check, order
from tests.session.test_session_parts import OK, _job

pytestmark = pytest.mark.timeout(60)

_SIM = SimulatorConfig()
CREDENTIALS = Credentials(api_key=_SIM.api_key, api_secret=_SIM.api_secret)


# --- the fill cursor while a backfill is wanted -------------------------------------------


class HoldingDurable(Durable):
    """``Durable`` whose TradesHistory calls can be held back (no answer yet)."""

    hold = False

    def _do(self, action: object) -> None:
        if self.hold and isinstance(action, HttpCall) and action.purpose == "TradesHistory":
            return  # in flight until the process dies
        super()._do(action)

    def drop(self) -> None:
        for conn, sid in list(self.sid_of.items()):
            self.exchange.close_session(sid, self.now)
            del self.sid_of[conn]
            self.session.connection_lost(conn, self.now)
        self.pump()


def _journal_cursor(durable: Durable) -> FillCursor | None:
    return durable.journal.load().cursor


def test_fills_delivered_while_a_backfill_is_wanted_do_not_move_the_cursor() -> None:
    durable = HoldingDurable({})
    durable.settle()
    durable.submit(order("market", "sell", tag=100))  # a fill: the journal has a cursor
    durable.advance(0.5)
    # 55 resting orders: more than the 50 trades an ownTrades snapshot holds.
    for tag in range(1, 56):
        durable.submit(order("limit", "buy", "29000.0", tag))
    durable.advance(0.5)
    before = _journal_cursor(durable)
    assert before is not None
    durable.hold = True
    durable.drop()
    durable.exchange.set_reference_price("XBT/USD", Decimal("28000"), durable.now)
    durable.advance(0.5)  # reconnected: the snapshot brings the newest 50, the backfill waits
    missing = set(durable.exchange.trades()) - {f.trade_id for f in durable.seen}
    assert missing  # only the backfill can bring these
    durable.advance(5.0)
    durable.submit(order("market", "buy", tag=99))  # a live fill, 5 s later
    durable.advance(0.5)
    assert set(durable.exchange.trades()) - {f.trade_id for f in durable.seen} == missing
    records = durable.journal.records()
    held = [r for r in records if isinstance(r, FillDelivered) and not r.advances]
    assert len(held) >= 51  # the snapshot's and the live one: a backfill was wanted
    assert _journal_cursor(durable) == before  # so the cursor stayed where it was
    # The process dies before the backfill answers; the next one must bring the other 5.
    durable.hold = False
    durable._crash(durable.journal.pending)
    durable.settle()
    check(durable)
    assert missing <= {f.trade_id for f in durable.seen}
    # Its backfill done, the new process records the cursor past the held fills (with a
    # checkpoint, or with the fills of the last page, recorded once the backfill is done:
    # a bounded backfill stops at the page that makes up its count).
    cursor = _journal_cursor(durable)
    assert cursor is not None
    # (the latest fill it delivered itself: the earlier process's are only remembered)
    assert cursor.time > before.time


def test_a_backfill_without_fills_records_no_checkpoint() -> None:
    durable = HoldingDurable({})
    durable.settle()
    durable.drop()  # a backfill is wanted, no fill was ever delivered
    durable.settle()
    assert not [r for r in durable.journal.records() if isinstance(r, Checkpoint)]


def test_fills_not_held_advance_the_cursor() -> None:
    durable = HoldingDurable({})
    durable.settle()
    durable.submit(order("market", "buy", tag=1))
    durable.advance(0.5)
    fills = [r for r in durable.journal.records() if isinstance(r, FillDelivered)]
    assert fills
    assert all(r.advances for r in fills)
    cursor = _journal_cursor(durable)
    assert cursor is not None
    assert cursor.trade_id == fills[-1].trade_id


def test_advances_is_written_only_when_false() -> None:
    trade = Trade(time=Decimal("1700000000.5"), vol=Decimal("0.01"))
    plain = FillDelivered(at=1.0, trade_id="T1", trade=trade, source="live")
    held = FillDelivered(at=1.0, trade_id="T1", trade=trade, source="snapshot", advances=False)
    assert b"advances" not in encode_record(plain)  # byte for byte format 1
    assert b'"advances":false' in encode_record(held)
    assert decode_record(encode_record(plain)) == plain
    assert decode_record(encode_record(held)) == held
    assert held.cursor() is None
    assert plain.cursor() == FillCursor(trade_id="T1", time=Decimal("1700000000.5"))
    # Folding: a held fill is remembered (not reported again) but moves no cursor.
    state = fold([held])
    assert "T1" in state.seen_trade_ids
    assert state.cursor is None
    with pytest.raises(LocalProtocolError, match="advances"):
        FillDelivered(at=1.0, trade_id="T1", trade=trade, source="live", advances=1)  # type: ignore[arg-type]
    with pytest.raises(JournalCorruptError, match="advances"):
        decode_record(encode_record(plain)[:-1] + b',"advances":0}')


def test_a_session_checkpoint_moves_only_the_cursor() -> None:
    journal = InMemoryJournal()
    cursor = FillCursor(trade_id="T9", time=Decimal("1700000009"))
    from kraken_proto.session._journal import NonceRecorded

    journal.append([NonceRecorded(at=1.0, nonce=500)], sync=True)
    journal.append([Checkpoint(at=2.0, cursor=cursor)], sync=False)
    state = journal.load()
    assert state.cursor == cursor
    assert state.nonce_high_water == 500


# --- one REST budget per key ------------------------------------------------------------


def test_sessions_on_one_key_share_the_rest_counter() -> None:
    counter = RestCallCounter("starter")
    first = Wire()
    first.session = Session(
        CREDENTIALS,
        seed=b"first-session",
        nonces=NonceSource(last=int(first.now * 1e6)),
        rest_counter=counter,
    )
    first.session.start(first.now)
    first.pump()
    assert counter.level(first.now) >= 1  # the token call was charged to the shared counter
    spent = counter.level(first.now)
    second = Session(CREDENTIALS, seed=b"second-session", rest_counter=counter)
    second.start(first.now)
    assert [a for a in second.actions() if isinstance(a, HttpCall)]
    assert counter.level(first.now) == pytest.approx(spent + 1)


def test_rest_counter_must_be_a_counter() -> None:
    with pytest.raises(LocalProtocolError, match="rest_counter"):
        Session(CREDENTIALS, seed=b"some-seed", rest_counter=object())  # type: ignore[arg-type]


# --- history in the first snapshot -----------------------------------------------------------


def test_first_snapshot_trades_since_the_start_are_new() -> None:
    # Another process on the key trades while this session is still connecting.
    other = Wire()
    other.session.start(other.now)
    other.session.subscribe(Subscribe(name="ownTrades"), other.now)
    other.pump()
    other.session.submit(order("market", "buy", tag=1), other.now)
    other.advance(1.0)
    old = {e.trade_id for e in other.events if isinstance(e, FillReceived)}
    assert old
    other.advance(1.0)
    late = Session(
        CREDENTIALS, seed=b"late-session", nonces=NonceSource(last=int(other.now * 1e6) + 10**6)
    )
    late.start(other.now)  # its start: after the first fill, before the second
    other.session.submit(order("market", "sell", tag=2), other.now)
    other.advance(1.0)
    other.session, other.events = late, []
    late.subscribe(Subscribe(name="ownTrades"), other.now)
    other.pump()
    sources = {e.trade_id: e.source for e in other.events if isinstance(e, FillReceived)}
    assert len(sources) == 2
    assert {sources[t] for t in old} == {"history"}
    assert {s for t, s in sources.items() if t not in old} == {"snapshot"}


# --- the key's turn to send ------------------------------------------------------------------


class Turn(NonceSource):
    """A nonce source whose turn another sender may hold."""

    def __init__(self) -> None:
        super().__init__()
        self.free = True
        self._held = False
        self.releases = 0

    def held(self) -> bool:
        return self._held

    def acquire(self) -> bool:
        if self.free:
            self._held = True
        return self.free

    def release(self) -> None:
        self.releases += 1
        self._held = False


def _turn_queue(counter: RestCallCounter | None = None) -> tuple[RestQueue, Turn]:
    turn = Turn()
    queue = RestQueue(
        counter=counter or RestCallCounter(), nonces=turn, retry_delay=2.0, retry_max=10.0
    )
    return queue, turn


def test_the_queue_waits_for_the_turn_and_gives_it_back() -> None:
    queue, turn = _turn_queue()
    answers: list[Any] = []
    queue.add(_job(answers))
    queue.add(_job(answers))
    queue.add(_job(answers))
    turn.free = False
    assert queue.pump(1.0) is None  # another sender has a request out
    assert queue.wake_at == pytest.approx(1.02)
    assert turn.last == 0  # no nonce drawn
    turn.free = True
    call = queue.pump(1.02)
    assert call is not None
    assert turn.held()
    queue.answer(call[0], 200, OK, 1.1)
    assert not turn.held()
    assert answers
    call = queue.pump(1.1)
    assert call is not None
    queue.failed(call[0], "timed out", 1.2)  # no answer: given back too
    assert not turn.held()
    call = queue.pump(20.0)
    assert call is not None
    queue.clear()  # the session stopped with a call out
    assert not turn.held()
    assert turn.releases == 3
    queue.clear()
    assert turn.releases == 3


def test_the_turn_is_given_back_when_the_counter_refuses() -> None:
    class Stubborn(RestCallCounter):
        def spend(self, cost: int, now: float) -> None:
            raise LocalProtocolError("another process spent it")

    queue, turn = _turn_queue(Stubborn())
    queue.add(_job([]))
    assert queue.pump(5.0) is None
    assert not turn.held()
    assert turn.releases == 1


def test_a_plain_source_always_has_the_turn() -> None:
    source = NonceSource()
    assert source.acquire()
    assert source.acquire()
    source.release()
    assert source.next(1.0) == 1_000_000


def test_config_is_unchanged_by_a_shared_counter() -> None:
    counter = RestCallCounter("pro")
    session = Session(
        CREDENTIALS, seed=b"pro-counter", config=SessionConfig(), rest_counter=counter
    )
    assert session.state.value == "idle"


# --- a reconnect snapshot that already covers the backfill ------------------------------------


def _snapshot(*times: str | None) -> Any:
    from kraken_proto.v1 import OwnTrades

    return OwnTrades(
        trades=tuple(
            (f"TS{n}", Trade(time=None if t is None else Decimal(t))) for n, t in enumerate(times)
        )
    )


@pytest.mark.parametrize(
    ("times", "still_wanted"),
    [
        (("1005", "995"), False),  # reaches back past the start (1000 - margin): covered
        (("1005", "998.6"), True),  # its oldest is after the start: some may be missing
        ((), True),  # empty: where it reaches back is not known
        (("1005", None), True),  # an undated trade: not known either
        (("1005", "NaN"), True),
    ],
)
def test_a_snapshot_reaching_back_past_the_backfill_start_makes_it_unneeded(
    times: tuple[str | None, ...], still_wanted: bool
) -> None:
    """Found by ``--processes 2``: every reconnect backfilled through REST what its
    ownTrades snapshot had just listed, and two processes spent the key's budget on it."""
    from tests.session.test_session_defects import _feed

    feed, _ = _feed()
    feed.cursor = Decimal("1000.5")
    feed.want_backfill()  # from the cursor less the margin (2 s): 998.5
    assert feed.backfill_from == Decimal("998.5")
    feed.deliver(_snapshot(*times), "snapshot")
    assert (feed.backfill_from is not None) is still_wanted
    assert feed.held is still_wanted


def test_a_live_update_is_not_a_covering_snapshot() -> None:
    from tests.session.test_session_defects import _feed

    feed, _ = _feed()
    feed.cursor = Decimal("1000.5")
    feed.want_backfill()
    feed.deliver(_snapshot("900"), "live")
    assert feed.backfill_from is not None
    feed.backfill(unconsolidated=False)
    feed.want_backfill()  # wanted again while one runs
    feed.deliver(_snapshot("900"), "live")
    assert feed.backfill_from is not None
    assert feed.backfilling
