"""The session's journal wiring, one behaviour each (the crash-point test is
test_journal_crash.py): acknowledgements, history fills, requests held while recovering."""

from __future__ import annotations

from decimal import Decimal

from kraken_proto import Credentials, FillLog, FillReceived, Session, SessionConfig
from kraken_proto.adapters.simulator.model.exchange import SimulatorConfig
from kraken_proto.rest import NonceSource
from kraken_proto.session._journal import (
    FillAcknowledged,
    FillDelivered,
    InMemoryJournal,
    IntentRecorded,
    JournalRecord,
    PersistRecords,
    fold,
)
from kraken_proto.v1 import OwnTrades, Subscribe, Trade

from tests.session.session_wire import START, Wire
from tests.session.test_journal_crash import Durable, order

_SIM = SimulatorConfig()
CREDENTIALS = Credentials(api_key=_SIM.api_key, api_secret=_SIM.api_secret)


def test_without_a_journal_the_first_snapshot_is_history() -> None:
    wire = Wire()
    wire.session.start(wire.now)
    wire.session.subscribe(Subscribe(name="ownTrades"), wire.now)
    wire.pump()
    wire.session.submit(order("market", "buy", tag=1), wire.now)
    wire.advance(1.0)
    live = [e for e in wire.events if isinstance(e, FillReceived)]
    assert live
    assert {e.source for e in live} == {"live"}
    wire.drop()
    wire.session.close(wire.now)
    wire.pump()
    wire.advance(0.5)
    # A restarted bot: its first snapshot lists the fills it already counted.
    wire.session = Session(
        CREDENTIALS, seed=b"second-process", nonces=NonceSource(last=int(wire.now * 1e6))
    )
    wire.events.clear()
    wire.session.start(wire.now)
    wire.session.subscribe(Subscribe(name="ownTrades"), wire.now)
    wire.pump()
    again = [e for e in wire.events if isinstance(e, FillReceived)]
    assert {e.trade_id for e in again} == {e.trade_id for e in live}
    assert {e.source for e in again} == {"history"}
    assert wire.session.auto_ack
    wire.session.ack(now=wire.now)  # no journal: nothing to record
    assert not [a for a in wire.session.actions() if isinstance(a, PersistRecords)]


def test_requests_wait_for_the_recovered_ones_and_acks_are_recorded() -> None:
    durable = Durable({})
    durable.submit(order("market", "buy", tag=1))
    durable.advance(1.0)
    intent = IntentRecorded(at=durable.now, handle=7, request=order("limit", "buy", "100.0", 9))
    durable.journal.append([intent], sync=True)
    durable._crash(0)  # the new process finds an intent it never saw the end of
    (outcome,) = durable.outcomes[intent.cl_ord_id or ""]
    assert outcome.recovered
    assert outcome.handle == 7
    # A session from the same journal: a request submitted before any link is held, and
    # acknowledging everything records the fills and outcomes not acknowledged yet.
    # Here no fill was acknowledged: all come again, flagged.
    kept = [r for r in durable.journal.records() if not isinstance(r, FillAcknowledged)]
    session = Session(durable.credentials, seed=b"third-seed", journal=fold(kept))
    session.auto_ack = False
    assert not session.auto_ack
    assert session.submit(order("market", "sell", tag=3), durable.now) > 7
    again = [e for e in session.events() if isinstance(e, FillReceived)]
    assert again
    assert all(e.redelivered for e in again)
    session.ack(["unknown"], now=durable.now)
    session.ack(handles=[7], now=durable.now)  # outcomes only: no fill acknowledged
    assert not session.actions()  # nothing sent, nothing acknowledged
    session.ack(now=durable.now)
    records = [r for a in session.actions() if isinstance(a, PersistRecords) for r in a.records]
    assert {r.trade_id for r in records if isinstance(r, FillAcknowledged)} == {
        e.trade_id for e in again
    }
    assert all(isinstance(r, FillAcknowledged) for r in records)


def test_fill_log_remember_keeps_the_window() -> None:
    log = FillLog(window=50, max_trades=0)
    log.remember(f"T{i}" for i in range(60))
    assert len(log) == 50
    assert not log.seen("T0")
    assert log.seen("T59")


def test_a_journal_session_starts_at_the_first_intent_time() -> None:
    journal = InMemoryJournal(
        [IntentRecorded(at=START, handle=1, request=order("market", "buy", tag=1))]
    )
    session = Session(CREDENTIALS, seed=b"fourth-seed", journal=journal.load())
    assert set(session.pending()) == {1}


def test_a_restored_session_repeats_no_journal_fill_whatever_its_fill_window() -> None:
    # 60 dated fills and one undated, delivered and acknowledged by an earlier process. The
    # FillLog (window 50) keeps the newest ids; the dated fills also count among those a
    # snapshot or backfill may repeat, so none is reported again when one does.
    def trade(i: int | None) -> Trade:
        return Trade(time=None if i is None else Decimal(100 + i), vol=Decimal("0.1"))

    ids: list[tuple[str, int | None]] = [(f"T{i}", i) for i in range(60)]
    ids.append(("undated", None))
    records: list[JournalRecord] = []
    for trade_id, i in ids:
        records.append(FillDelivered(at=1.0, trade_id=trade_id, trade=trade(i), source="live"))
        records.append(FillAcknowledged(at=2.0, trade_id=trade_id))
    session = Session(
        CREDENTIALS,
        seed=b"fifth-seed",
        config=SessionConfig(fill_window=50),
        journal=fold(records),
    )
    assert not session.events()  # everything was acknowledged
    assert not session.fills.seen("T0")  # beyond the window...
    session._fills.deliver(
        OwnTrades(trades=tuple((trade_id, trade(i)) for trade_id, i in ids)), "snapshot"
    )
    assert not session.events()  # ...yet not reported again
