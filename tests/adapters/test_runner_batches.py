"""Issue 19 item 3 on every runner: ``batch_add_orders`` (per-order outcomes, a refused row
returned beside the placed ones), ``batch_cancel_orders``, and ``subscribe("balances")`` on v2
(refused on v1), over loopback TLS against the simulator, v1 and v2."""

from __future__ import annotations

from decimal import Decimal

import pytest
from kraken_proto import (
    AddOrder,
    BalancesReceived,
    LocalProtocolError,
    RequestAccepted,
    RequestRefused,
)
from kraken_proto.adapters.runners._common import RequestRefusedError

from tests.adapters.test_session_runners import (
    LIMIT,
    OPEN,
    PROTOCOLS,
    RUNNERS,
    Calls,
    _is_open,
    drive,
    exchange,
)

CHEAPER = AddOrder(
    ordertype="limit", type="buy", pair="XBT/USD", volume=Decimal("0.02"), price=Decimal("999.0")
)
TOO_BIG = {
    "ordertype": "limit",
    "type": "buy",
    "pair": "XBT/USD",
    "volume": Decimal("1000000"),
    "price": Decimal("1000.0"),
}


@pytest.mark.timeout(90)
@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("kind", RUNNERS)
def test_batch_add_and_batch_cancel(kind: str, protocol: str) -> None:
    with exchange(seed=71) as (sim, urls, credentials):

        async def scenario(session: Calls) -> None:
            await session.subscribe("openOrders")
            first, second, refused = await session.batch_add_orders(
                [LIMIT, CHEAPER, TOO_BIG], timeout=20
            )
            assert isinstance(first, RequestAccepted)
            assert isinstance(second, RequestAccepted)
            assert isinstance(refused, RequestRefusedError)
            assert isinstance(refused.outcome, RequestRefused)
            assert refused.error.category == "Order"
            assert _is_open(session, first.txid)
            assert _is_open(session, second.txid)
            # each row went out with a cl_ord_id of its own
            ids = {session.orders.get(r.txid).cl_ord_id for r in (first, second)}
            assert len(ids) == 2
            assert None not in ids
            assert set(await session.off_loop(sim.open_orders)) == {first.txid, second.txid}
            cancelled = await session.batch_cancel_orders([first.txid, second.txid], timeout=20)
            assert isinstance(cancelled, RequestAccepted)
            assert not _is_open(session, first.txid)
            assert not _is_open(session, second.txid)
            assert await session.off_loop(sim.open_orders) == {}
            with pytest.raises(LocalProtocolError, match="2 to 15"):
                await session.batch_add_orders([LIMIT])

        drive(kind, OPEN[kind], scenario, credentials, **urls, protocol=protocol)


@pytest.mark.timeout(60)
@pytest.mark.parametrize("kind", RUNNERS)
def test_balances_on_v2_and_a_clear_refusal_on_v1(kind: str) -> None:
    with exchange(seed=72) as (_sim, urls, credentials):

        async def on_v2(session: Calls) -> None:
            await session.subscribe("openOrders")
            await session.subscribe("balances")
            seen: list[object] = []
            give_up = 0
            while not any(isinstance(e, BalancesReceived) for e in seen):
                seen += await session.collect(0.1)
                give_up += 1
                assert give_up < 150
            (snapshot,) = [e for e in seen if isinstance(e, BalancesReceived)]
            assert snapshot.snapshot
            assert all(isinstance(r.balance, Decimal) for r in snapshot.records)

        drive(kind, OPEN[kind], on_v2, credentials, **urls, protocol="v2")

        async def on_v1(session: Calls) -> None:
            with pytest.raises(LocalProtocolError, match="balances is a WebSocket v2 channel"):
                await session.subscribe("balances")

        drive(kind, OPEN[kind], on_v1, credentials, **urls, protocol="v1")
