"""A local, faithful Kraken private endpoint (v1 on ``/``, v2 on ``/v2``): a pure exchange
model plus a server.

``exchange`` holds the sans-IO model (no sockets, no clock, randomness passed in);
the server module wraps it in HTTP and WebSocket I/O, with a control API under ``/_sim/``
(``_control``) that ``kraken-proto simulator-ctl`` (``ctl``) drives, bounds per connection
(``_bounds``) and a replay mode (``_replay``).
"""

from __future__ import annotations

from kraken_proto.adapters.simulator.model.exchange import (
    Exchange,
    Faults,
    OrderView,
    PairConfig,
    RandomLike,
    RestReply,
    SimulatorConfig,
    TradeView,
)

__all__ = [
    "Exchange",
    "Faults",
    "OrderView",
    "PairConfig",
    "RandomLike",
    "RestReply",
    "SimulatorConfig",
    "TradeView",
]
