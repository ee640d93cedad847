"""Issue 19 item 3: an openOrders record keeps ``trigger`` and ``reduce_only`` (they were
dropped), and the order table carries them across deltas."""

from __future__ import annotations

from kraken_proto import OrderTable
from kraken_proto.v1 import OpenOrders, decode

FRAME = (
    '[[{"OABC-1":{"status":"pending","descr":{"pair":"XBT/USD","type":"sell",'
    '"ordertype":"stop-loss","price":"25000.0"},"vol":"0.5","vol_exec":"0",'
    '"trigger":"index","reduce_only":true}}],"openOrders",{"sequence":1}]'
)


def test_trigger_and_reduce_only_are_kept_and_merged() -> None:
    for frame in (FRAME, FRAME.encode()):
        event = decode(frame)
        assert isinstance(event, OpenOrders)
        ((_, record),) = event.orders
        assert record.trigger == "index"
        assert record.reduce_only is True
    table = OrderTable()
    table.apply(decode(FRAME), snapshot=True)  # type: ignore[arg-type]
    delta = decode('[[{"OABC-1":{"status":"open"}}],"openOrders",{"sequence":2}]')
    table.apply(delta, snapshot=False)  # type: ignore[arg-type]
    order = table.get("OABC-1")
    assert order is not None
    assert order.status == "open"
    assert order.trigger == "index"
    assert order.reduce_only is True
