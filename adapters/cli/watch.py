"""``kraken-proto watch``: follow the account's orders and fills as they happen.

On a terminal it shows a live view, redrawn in place: the connection's state (connected,
reconnecting, reconciled), the open orders and the latest fills. With ``--json``, or when
stdout is not a terminal, it prints one JSON object per session event instead
(``"event_type"`` and its fields, Decimals as exact strings). It runs through a ``Session``,
so it reconnects by itself and reports every fill exactly once.

``--max-events N`` stops after N events, ``--duration S`` after S seconds; Ctrl-C stops it
too (exit 0; while it is still starting up, 130 like any command). Exit 1 when the session
fails for good (e.g. Kraken refuses the key, with its message), 2 on bad usage.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import TextIO

from kraken_proto import (
    Connected,
    LocalProtocolError,
    Order,
    Reconnected,
    Reconnecting,
    SessionClosed,
    SessionEvent,
    SessionFailed,
    SubscriptionReady,
    SystemStatusChanged,
    Trade,
)
from kraken_proto.adapters.runners.blocking import open_session

from ._common import (
    OK,
    REFUSED,
    USAGE,
    CliError,
    add_network_options,
    cell,
    credentials_from_env,
    guarded,
    print_json,
    protocol_option,
    reaching,
    ssl_context_for,
    unix_time_text,
    url_option,
)
from ._session import check_not_failed

__all__ = ["CHANNELS", "LiveView", "configure", "render_view", "run"]

CHANNELS = ("ownTrades", "openOrders")
_FILLS_SHOWN = 10
_REFRESH = 0.25  # seconds between redraws at most, and the longest wait for events
_HOME_AND_CLEAR = "\x1b[H\x1b[J"


def configure(parser: argparse.ArgumentParser) -> None:
    """Declare ``--channels``, ``--json``, ``--max-events``, ``--duration`` and the network."""
    parser.add_argument(
        "--channels",
        default=",".join(CHANNELS),
        help="comma-separated private channels (default ownTrades,openOrders)",
    )
    parser.add_argument(
        "--json", action="store_true", help="one JSON object per event (default when piped)"
    )
    parser.add_argument(
        "--max-events", type=int, default=None, metavar="N", help="stop after N events"
    )
    parser.add_argument(
        "--duration", type=float, default=None, metavar="S", help="stop after S seconds"
    )
    add_network_options(parser)


def _channels(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in CHANNELS]
    if unknown or not names:
        raise CliError(
            f"--channels {text!r}: expected a comma-separated list of {', '.join(CHANNELS)}",
            USAGE,
        )
    return list(dict.fromkeys(names))


def state_text(event: SessionEvent, previous: str) -> str:
    """The connection line after ``event`` (``previous`` when the event does not change it)."""
    if isinstance(event, Connected):
        return "connected"
    if isinstance(event, Reconnecting):
        return f"reconnecting (attempt {event.attempt}, in {event.delay:.1f} s): {event.reason}"
    if isinstance(event, Reconnected):
        return f"connected again after {event.downtime:.1f} s; orders and fills reconciled"
    if isinstance(event, SystemStatusChanged):
        return f"{previous.split(' | ')[0]} | engine {event.status}"
    if isinstance(event, SessionFailed):
        return f"failed: {event.reason}"
    if isinstance(event, SessionClosed):
        return "closed"
    return previous


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    texts = [[cell(value) for value in row] for row in rows]
    widths = [len(header) for header in headers]
    for row in texts:
        widths = [max(width, len(text)) for width, text in zip(widths, row, strict=True)]
    return [
        "  ".join(text.ljust(width) for text, width in zip(row, widths, strict=True)).rstrip()
        for row in [list(headers), *texts]
    ]


def render_view(
    *,
    where: str,
    state: str,
    orders: Mapping[str, Order],
    fills: Sequence[tuple[str, Trade]],
    fills_total: int,
    events: int,
    session_state: str = "",
    note: str = "",
    ready: Sequence[str] = (),
) -> str:
    """The live view as text (pure, so it can be tested without a terminal). ``ready``: the
    channels whose first snapshot arrived (``SubscriptionReady``), in order."""
    session = f"  (session {session_state})" if session_state else ""
    lines = [
        f"kraken-proto watch  {where}",
        f"connection: {state}{session}",
        f"events: {events}",
    ]
    if ready:
        lines.append(f"live channels: {', '.join(ready)}")
    if note:
        lines.append(f"last note: {note}")
    lines.append("")
    lines.append(f"OPEN ORDERS ({len(orders)})")
    if orders:
        headers = ["TXID", "STATUS", "SIDE", "TYPE", "VOLUME", "EXECUTED", "PAIR", "PRICE"]
        rows = []
        for txid, order in orders.items():
            descr = order.descr
            rows.append(
                [
                    txid,
                    order.status,
                    descr.type if descr else None,
                    descr.ordertype if descr else None,
                    order.vol,
                    order.vol_exec,
                    descr.pair if descr else None,
                    descr.price if descr else None,
                ]
            )
        lines += _table(headers, rows)
    else:
        lines.append("(none)")
    lines += ["", f"LATEST FILLS ({len(fills)} of {fills_total})"]
    if fills:
        headers = ["TRADE ID", "TIME", "SIDE", "VOLUME", "PAIR", "PRICE", "FEE", "ORDER"]
        rows = [
            [
                trade_id,
                unix_time_text(trade.time),
                trade.type,
                trade.vol,
                trade.pair,
                trade.price,
                trade.fee,
                trade.ordertxid,
            ]
            for trade_id, trade in reversed(fills)
        ]
        lines += _table(headers, rows)
    else:
        lines.append("(none)")
    lines += ["", "Ctrl-C to stop"]
    return "\n".join(lines) + "\n"


class LiveView(logging.Handler):
    """Redraws the view in place on a terminal, at most every ``_REFRESH`` seconds.

    It is also the logging handler of ``kraken_proto`` while it runs: the session's warnings
    (a lost connection, a failed token call) show as the view's last note instead of
    scrolling the terminal under it.
    """

    def __init__(self, out: TextIO, where: str) -> None:
        super().__init__(logging.WARNING)
        self.out = out
        self.where = where
        self.state = "connecting"
        self.events = 0
        self.note_text = ""
        self.ready: list[str] = []
        self._shown = ""

    def emit(self, record: logging.LogRecord) -> None:
        self.note_text = record.getMessage()

    @contextlib.contextmanager
    def capturing_logs(self) -> Iterator[None]:
        """Route the library's log records to the view for the block."""
        library = logging.getLogger("kraken_proto")
        library.addHandler(self)
        try:
            yield
        finally:
            library.removeHandler(self)

    def note(self, event: SessionEvent) -> None:
        """Count ``event`` and update the connection line. Once connected (again), the last
        warning (say, why the connection was lost) is history: the note is cleared."""
        self.events += 1
        self.state = state_text(event, self.state)
        if isinstance(event, Connected | Reconnected):
            self.note_text = ""
        elif isinstance(event, SubscriptionReady):
            self.ready.append(event.channel)

    def draw(
        self, orders: Mapping[str, Order], fills: Mapping[str, Trade], session_state: str = ""
    ) -> None:
        latest = list(fills.items())[-_FILLS_SHOWN:]
        text = render_view(
            where=self.where,
            state=self.state,
            orders=orders,
            fills=latest,
            fills_total=len(fills),
            events=self.events,
            session_state=session_state,
            note=self.note_text,
            ready=self.ready,
        )
        if text != self._shown:
            self.out.write(_HOME_AND_CLEAR + text)
            self.out.flush()
            self._shown = text


def _watch(args: argparse.Namespace, out: TextIO) -> int:
    channels = _channels(args.channels)
    if args.max_events is not None and args.max_events < 1:
        raise CliError("--max-events must be at least 1", USAGE)
    rest_url = url_option(args, "rest_url")
    ws_url = url_option(args, "ws_url")
    context = ssl_context_for(args)
    credentials = credentials_from_env()
    live = None if args.json or not out.isatty() else LiveView(out, ws_url)
    stop_at = None if args.duration is None else time.monotonic() + args.duration
    seen = 0
    logs = contextlib.nullcontext() if live is None else live.capturing_logs()
    with (
        logs,
        reaching(ws_url),
        open_session(
            credentials,
            rest_url=rest_url,
            ws_url=ws_url,
            ssl_context=context,
            protocol=protocol_option(args, ws_url),
        ) as session,
    ):
        check_not_failed(session)
        for channel in channels:
            try:
                session.subscribe(channel)
            except LocalProtocolError:
                check_not_failed(session)  # it failed for good in this first call: say why
                raise
        try:
            while True:
                wait = _REFRESH
                if stop_at is not None:
                    wait = min(wait, max(0.0, stop_at - time.monotonic()))
                for event in session.events(timeout=wait):
                    seen += 1
                    if live is None:
                        print_json(event, out)
                    else:
                        live.note(event)
                    if isinstance(event, SessionFailed):
                        message = event.reason + (f": {event.error}" if event.error else "")
                        raise CliError(f"the session failed: {message}", REFUSED)
                    if args.max_events is not None and seen >= args.max_events:
                        return OK
                if live is not None:
                    live.draw(
                        session.orders.open_orders(),
                        session.fills.trades(),
                        session.state.value,
                    )
                if stop_at is not None and time.monotonic() >= stop_at:
                    return OK
        except KeyboardInterrupt:
            return OK


def run(args: argparse.Namespace) -> int:
    """Watch until stopped."""
    return guarded("watch", lambda: _watch(args, sys.stdout))
