"""The local simulator in a child process, driven line by line, for the latency benchmarks.

The simulator runs in its own process so that its work never shares the client's interpreter
(or its GIL): the client process's CPU time is then the client's alone. The benchmark places
and fills orders through this process, which records the moment it makes the exchange model
emit each update (``time.perf_counter_ns``: on Linux a system-wide monotonic clock, so the
client process can subtract it from its own readings).

Protocol on stdin/stdout, one JSON line each way:

* on start it prints ``{"rest_url", "ws_url", "api_key", "api_secret"}``;
* ``{"cmd": "place", "price": "999.9"}``: a resting buy of 0.001 XBT/USD at ``price``, placed
  through a session of the model's own (not one of the client's connections): every client
  subscribed to openOrders gets it as a new order. Replies ``{"t0": ns}``, read just before;
* ``{"cmd": "fill", "price": "999.9"}``: moves XBT/USD to ``price``, which fills the order
  resting there: openOrders and ownTrades updates for every subscriber. Replies ``{"t0": ns}``;
* ``{"cmd": "quit"}`` (or end of input) stops it.

Every client here uses the simulator's one API key, which Kraken would not let a thousand
sessions share: this simulator therefore has its REST call counter off and does not require
nonces to arrive in increasing order (concurrent sessions' token calls overtake each other).

    python benchmarks/sim_process.py      (used through ``SimulatorProcess``)
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = ["SimulatorProcess"]

PAIR = "XBT/USD"


class SimulatorProcess:
    """Start ``sim_process.py`` as a child; ``place``/``fill`` return the emit time (ns)."""

    def __init__(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve())],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        hello = self._read()
        self.rest_url: str = hello["rest_url"]
        self.ws_url: str = hello["ws_url"]
        self.api_key: str = hello["api_key"]
        self.api_secret: str = hello["api_secret"]

    def _read(self) -> dict[str, Any]:
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError("the simulator process ended")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def send(self, cmd: str, price: Decimal) -> None:
        """Ask for an update without waiting (the reply is read by ``reply``)."""
        assert self._process.stdin is not None
        self._process.stdin.write(json.dumps({"cmd": cmd, "price": str(price)}) + "\n")
        self._process.stdin.flush()

    def reply(self) -> int:
        """The emit time of the oldest update asked for and not yet answered."""
        reply = self._read()
        if "error" in reply:
            raise RuntimeError(f"simulator: {reply['error']}")
        return int(reply["t0"])

    def close(self) -> None:
        """Stop the child process."""
        if self._process.poll() is None:
            assert self._process.stdin is not None
            try:
                self._process.stdin.write(json.dumps({"cmd": "quit"}) + "\n")
                self._process.stdin.close()
            except BrokenPipeError:  # pragma: no cover - it died already
                pass
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:  # pragma: no cover
                self._process.kill()
                self._process.wait()

    def __enter__(self) -> SimulatorProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _serve() -> None:
    """The child: serve the simulator and answer commands until told to quit."""
    import trio
    from kraken_proto import Credentials
    from kraken_proto.adapters.simulator.model._rest import KeyState
    from kraken_proto.adapters.simulator.server import make_config, open_simulator
    from kraken_proto.rest import build_token_request

    class AnyNonceOrder(dict[str, KeyState]):
        """Nonce bookkeeping that forgets: each call sees a key that has used no nonce yet."""

        def setdefault(self, key: str, default: KeyState | None = None) -> KeyState:
            return KeyState()

    config = dataclasses.replace(make_config(31), maxratecount=10**9)

    async def main() -> None:
        async with open_simulator(config, seed=31) as server:
            exchange = server.exchange
            exchange._keys = exchange.rest.keys = AnyNonceOrder()
            exchange.rest.counter.tier = None
            now = time.time()
            own = exchange.open_session(now)
            request = build_token_request(
                Credentials(api_key=config.api_key, api_secret=config.api_secret),
                nonce=time.time_ns(),
            )
            answer = exchange.handle_rest(
                method=request.method,
                path=request.path,
                headers=dict(request.headers),
                body=request.body,
                now=now,
            )
            token = json.loads(answer.body)["result"]["token"]
            print(
                json.dumps(
                    {
                        "rest_url": server.rest_url,
                        "ws_url": server.ws_url,
                        "api_key": server.api_key,
                        "api_secret": server.api_secret,
                    }
                ),
                flush=True,
            )
            while True:
                line = await trio.to_thread.run_sync(sys.stdin.readline)
                if not line:
                    return
                command = json.loads(line)
                if command["cmd"] == "quit":
                    return
                price = Decimal(command["price"])
                t0 = time.perf_counter_ns()
                if command["cmd"] == "place":
                    order = {
                        "event": "addOrder",
                        "token": token,
                        "ordertype": "limit",
                        "type": "buy",
                        "pair": PAIR,
                        "volume": "0.001",
                        "price": str(price),
                    }
                    text = json.dumps(order)

                    def place(exchange: Any, at: float, text: str = text) -> None:
                        exchange.receive(own, text, at)

                    server.apply(place)
                else:
                    server.set_reference_price(PAIR, price)
                exchange.take_outgoing(own, time.time())  # our own session's replies
                print(json.dumps({"t0": t0}), flush=True)

    trio.run(main)


if __name__ == "__main__":
    _serve()
