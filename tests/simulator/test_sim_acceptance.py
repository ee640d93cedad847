"""Issue 9's acceptance check, as a user runs it: two processes and a WebSocket client.

``kraken-proto simulator`` runs as a subprocess; a WebSocket client places a resting buy;
``kraken-proto simulator-ctl price XBT/USD 29000`` (a second subprocess) moves the market
through it; the client sees the order fill: a fill delta carrying the totals, then a
``closed`` delta repeating them (the shape of the live service).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from decimal import Decimal

import trio
from kraken_proto.v1 import AddOrderStatus, OpenOrders, OrderRecord, SystemStatus

from tests.simulator.test_sim_cli import Announcement, _read_announcement, _simulator_process
from tests.simulator.test_sim_server import STEP, fetch_token, subscribe_private, ws_connect

VOLUME = Decimal("0.50000000")


def _simulator_ctl(*args: str, url: str) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "KRAKEN_SIMULATOR_URL": url}
    command = [sys.executable, "-m", "kraken_proto.adapters.cli", "simulator-ctl", *args]
    return subprocess.run(
        command, capture_output=True, text=True, timeout=STEP * 4, check=False, env=environment
    )


async def _resting_buy_fills_when_ctl_moves_the_price(endpoint: Announcement) -> None:
    token = await fetch_token(endpoint)
    async with ws_connect(endpoint.ws_url) as client:
        assert isinstance(await client.receive(), SystemStatus)
        await subscribe_private(client, token)
        await client.send(
            {
                "event": "addOrder",
                "token": token,
                "reqid": 1,
                "ordertype": "limit",
                "type": "buy",
                "pair": "XBT/USD",
                "price": "29500.0",
                "volume": str(VOLUME),
            }
        )
        reply, before = await client.receive_until(AddOrderStatus)
        assert isinstance(reply, AddOrderStatus)
        assert reply.status == "ok", reply
        txid = reply.txid
        deltas: list[OrderRecord] = [
            record
            for event in before
            if isinstance(event, OpenOrders)
            for oid, record in event.orders
            if oid == txid
        ]

        # The other shell. Run it in a worker thread so this task keeps reading frames.
        moved = await trio.to_thread.run_sync(
            lambda: _simulator_ctl("price", "XBT/USD", "29000", url=endpoint.rest_url)
        )
        assert moved.returncode == 0, moved.stderr
        assert '"price": "29000"' in moved.stdout

        with trio.fail_after(STEP):
            while not any(record.status == "closed" for record in deltas):
                event = await client.receive()
                if isinstance(event, OpenOrders):
                    deltas += [record for oid, record in event.orders if oid == txid]

    assert [record.status for record in deltas[:2]] == ["pending", "open"]
    fills, closed = deltas[2:-1], deltas[-1]
    assert closed.status == "closed"
    # At least one fill delta, each without a status; the last one carries the full volume.
    assert fills, f"no fill delta before closed: {deltas}"
    assert all(record.status is None and record.vol_exec is not None for record in fills)
    last = fills[-1]
    assert last.vol_exec == VOLUME
    assert last.avg_price == Decimal("29500.0")  # a resting limit fills at its own price
    # The closed delta repeats the totals of the last fill; a client must not add them up.
    assert (closed.vol_exec, closed.cost, closed.fee, closed.avg_price) == (
        last.vol_exec,
        last.cost,
        last.fee,
        last.avg_price,
    )


def test_simulator_ctl_price_fills_a_resting_order_with_a_fill_then_a_closed_delta() -> None:
    with _simulator_process() as process:
        try:
            announcement, _ = _read_announcement(process)
            trio.run(_resting_buy_fills_when_ctl_moves_the_price, announcement)

            # book and trades from the shell agree with what the client saw.
            book = _simulator_ctl("book", url=announcement.rest_url)
            assert book.returncode == 0, book.stderr
            assert '"open_orders": {}' in book.stdout
            trades = _simulator_ctl("trades", url=announcement.rest_url)
            assert trades.returncode == 0, trades.stderr
            assert '"price": "29500.0"' in trades.stdout

            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=STEP) == 0
        finally:
            process.kill()
