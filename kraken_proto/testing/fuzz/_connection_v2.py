"""Fuzz target ``connection_v2``: ``V2Connection.receive_message`` in the states it can reach.

The same input layout and invariants as the v1 ``connection`` target, whose code it reuses:
byte 0 picks a scenario (bit 7: frames as ``str``), the rest is frames split on ``\\n``
(``T``/``t``: ``handle_timeout`` 11 s/1 s later). In OPEN or CLOSING, ``receive_message``
returns or raises ``RemoteProtocolError``; a failed connection stays failed; only ``Event``
objects come out; the token is in no exception message or repr; every request that went out
(``req_id``) ends exactly once.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal
from typing import Literal

from kraken_proto import v2
from kraken_proto.testing._examples import V2_EXAMPLE_FRAMES

from ._connection import TOKEN, Run, run_scenario, scenario_seeds
from ._core import FuzzTarget

__all__ = ["CONNECTION_V2", "SCENARIOS", "check_connection_v2", "connection_v2_seeds"]

_STATUS = (
    '{"channel":"status","data":[{"api_version":"v2","connection_id":1383477438020003277,'
    '"system":"online","version":"2.0.0"}],"type":"update"}'
)
_ACK = '{{"method":"subscribe","req_id":{reqid},"result":{{"channel":"{name}"}},"success":true}}'
_SNAPSHOT = '{{"channel":"{name}","type":"snapshot","data":[],"sequence":1}}'
_CHANNELS: tuple[Literal["executions", "balances"], ...] = ("executions", "balances")


def _new(config: v2.V2ConnectionConfig | None = None) -> Run:
    return Run(connection=v2.V2Connection(config), reqid_key="req_id", ping=v2.Ping)


def _open(*, token: bool = True, config: v2.V2ConnectionConfig | None = None) -> Run:
    r = _new(config)
    r.conn.connection_made(r.now)
    r.feed(_STATUS)
    if token:
        r.conn.provide_token(TOKEN, r.now)
        r.drain()
    return r


def _subscribing(config: v2.V2ConnectionConfig | None = None) -> Run:
    r = _open(config=config)
    for name in _CHANNELS:
        r.subscribe_reqids[name] = r.send(v2.Subscribe(channel=name))
    return r


def _streaming(config: v2.V2ConnectionConfig | None = None) -> Run:
    r = _subscribing(config)
    for name, reqid in r.subscribe_reqids.items():
        r.feed(_ACK.format(name=name, reqid=reqid))
        r.feed(_SNAPSHOT.format(name=name))
    return r


def _orders_pending(r: Run | None = None) -> Run:
    r = r or _streaming()
    r.send(
        v2.AddOrder(
            order_type="limit",
            side="buy",
            symbol="BTC/USD",
            order_qty=Decimal("0.5"),
            limit_price=Decimal("9000"),
        )
    )
    r.send(v2.CancelOrder(order_id=("OLUMT4-UTEGU-ZYM7E9", "OM5CRX-N2HAL-GFGWE9")))
    r.send(v2.CancelAll())
    r.send(v2.CancelAllOrdersAfter(timeout=60))
    r.send(v2.Ping())
    return r


def _timed_out() -> Run:
    r = _orders_pending()
    r.timeout(11.0)
    return r


def _resyncing() -> Run:
    r = _streaming()
    r.feed('{"channel":"executions","type":"update","data":[],"sequence":5}')
    return r


def _closing() -> Run:
    r = _orders_pending()
    r.conn.close(r.now)
    r.drain()
    return r


def _stale() -> Run:
    r = _streaming()
    r.timeout(5.0)
    r.timeout(5.0)
    return r


def _closed() -> Run:
    r = _orders_pending()
    r.conn.connection_lost(r.now)
    r.drain()
    return r


SCENARIOS: tuple[tuple[str, Callable[[], Run]], ...] = (
    ("open, no token", lambda: _open(token=False)),
    ("open, fresh token", _open),
    ("subscriptions pending", _subscribing),
    ("streaming", _streaming),
    ("trading requests pending", _orders_pending),
    ("requests timed out", _timed_out),
    ("resyncing after a gap", _resyncing),
    ("closing with requests pending", _closing),
    ("stale", _stale),
    ("closed", _closed),
    ("idle (never opened)", _new),
)


def check_connection_v2(data: bytes) -> None:
    """The ``connection_v2`` target's check: ``run_scenario`` over the v2 ``SCENARIOS``."""
    run_scenario(SCENARIOS, data)


def connection_v2_seeds() -> list[bytes]:
    """The ``connection_v2`` target's seeds: ``scenario_seeds`` with the v2 example frames."""
    return scenario_seeds(
        SCENARIOS, V2_EXAMPLE_FRAMES, re.compile(rb'"req_id":\d+'), b'"req_id":%d'
    )


CONNECTION_V2 = FuzzTarget(
    "connection_v2",
    check_connection_v2,
    connection_v2_seeds,
    (
        b'"req_id":1',
        b'"req_id":3',
        b'"sequence":2',
        b'"success":true',
        b'"success":false',
        b'"error":"ESession:Invalid session"',
        b'"type":"snapshot"',
        b'"channel":"executions"',
        b'"method":"unsubscribe"',
        b"\nT\n",
    ),
    max_len=16384,
)
"""``V2Connection.receive_message`` in 11 states: the ``connection`` target's invariants."""
