"""Each runner with ``journal=`` (SQLite) over loopback against the simulator: the journal is
locked while open; a session closed without acknowledging its last fill delivers it again,
flagged, from the same journal, and reports no fill twice unflagged."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from kraken_proto import Credentials, FillReceived, RequestOutcome, SessionConfig
from kraken_proto.adapters.journal import JournalLockedError, SqliteJournal
from kraken_proto.adapters.runners._journal import build_session
from kraken_proto.adapters.simulator.model.exchange import SimulatorConfig
from kraken_proto.session._journal import (
    InMemoryJournal,
    JournalCorruptError,
    JournalError,
    JournalState,
)

from tests.adapters.test_session_runners import MARKET, OPEN, RUNNERS, Calls, drive, exchange


@pytest.mark.timeout(90)
@pytest.mark.parametrize("kind", RUNNERS)
def test_reopen_from_the_journal_redelivers_only_unacknowledged_fills(
    kind: str, tmp_path: Path
) -> None:
    path = tmp_path / "bot.journal"
    with exchange(seed=61) as (_sim, urls, credentials):
        first: list[FillReceived] = []
        taken: list[object] = []

        async def trade(session: Calls) -> None:
            with pytest.raises(JournalLockedError):
                SqliteJournal(path)
            await session.subscribe("ownTrades")
            await session.subscribe("openOrders")
            placed = await session.add_order(MARKET, timeout=20)
            assert not placed.recovered

            def bought() -> Decimal:
                return sum((f.trade.vol or Decimal(0) for f in first), Decimal(0))

            while bought() < MARKET.volume:
                taken.extend(await session.collect(0.1))
                first[:] = [e for e in taken if isinstance(e, FillReceived)]

        drive(kind, OPEN[kind], trade, credentials, **urls, journal=str(path))
        second: list[FillReceived] = []
        outcomes: list[RequestOutcome] = []

        async def reopen(session: Calls) -> None:
            await session.subscribe("ownTrades")
            for event in await session.collect(1.5):
                if isinstance(event, FillReceived):
                    second.append(event)
                elif isinstance(event, RequestOutcome):
                    outcomes.append(event)

        drive(kind, OPEN[kind], reopen, credentials, **urls, journal=path)
    first_ids = {f.trade_id for f in first}
    assert first_ids
    assert not outcomes  # the order call's outcome was acknowledged when it returned
    # Only the last event taken was not acknowledged (taking the next one acknowledges).
    last = taken[-1]
    expected = [last.trade_id] if isinstance(last, FillReceived) else []
    assert [f.trade_id for f in second if f.redelivered] == expected
    assert not [f for f in second if not f.redelivered and f.trade_id in first_ids]
    with SqliteJournal(path) as store:  # released at the end of the block
        assert not store.load().open_intents


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", RUNNERS)
def test_a_journal_store_object_and_an_explicit_ack(kind: str) -> None:
    store = InMemoryJournal()
    with exchange(seed=62) as (_sim, urls, credentials):

        async def scenario(session: Calls) -> None:
            await session.subscribe("ownTrades")
            await session.add_order(MARKET, timeout=20)
            fills: list[FillReceived] = []
            while not fills:
                fills += [e for e in await session.next_events(0.2) if isinstance(e, FillReceived)]
            assert set(store.load().unacked) >= {f.trade_id for f in fills}  # persisted first
            session.runner.ack()
            session.runner.ack()  # nothing more to acknowledge
            await session.next_events(0.2)  # the runner carries the acknowledgement out
            assert not {f.trade_id for f in fills} & set(store.load().unacked)

        drive(kind, OPEN[kind], scenario, credentials, **urls, journal=store)


class _Damaged(InMemoryJournal):
    __slots__ = ()

    def load(self) -> JournalState:
        raise JournalCorruptError("journal: damaged")


def test_a_store_that_cannot_be_read_is_released() -> None:
    sim = SimulatorConfig()
    credentials = Credentials(api_key=sim.api_key, api_secret=sim.api_secret)
    store = _Damaged()
    options: dict[str, object] = {"journal": store}
    with pytest.raises(JournalCorruptError):
        build_session(credentials, SessionConfig(), options)
    with pytest.raises(JournalError):
        store.append([], sync=False)  # closed
    assert "journal_store" not in options
