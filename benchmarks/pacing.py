"""Add-then-cancel pairs as fast as a session allows, with pacing off and on (issue 19).

Against the built-in simulator over loopback (127.0.0.1, a free port) with the blocking runner:
each run starts a fresh simulator whose per-pair trading counter has the tier's threshold
(``maxratecount``) and decay, opens a session (v1 or v2, ``SessionConfig(pace_orders=...)``),
subscribes to ownTrades and openOrders, and then, ``--pairs`` times, places a resting limit
order on XBT/USD and cancels it, each call waiting for its outcome before the next is made.
A cancel of an order younger than 5 s costs 8 and an add 1, so an unpaced session soon gets
``EOrder:Rate limit exceeded``; a paced one waits (``OrderPaced``) instead.

    python benchmarks/pacing.py [--tier Intermediate] [--pairs 120] [--time-scale 1]
                                [--protocol v1|v2|both] [--pacing off|on|both]

``--time-scale S`` multiplies the counter's decay by S on both sides: the simulator's
(``SimulatorConfig.rate_decay_per_second``) and the session's model
(``SessionConfig.pace_decay_per_second``). Ages (the cancel penalty's 5 s, ...) stay real, so a
scaled run is a faster run of the same schedule, not a different one. At scale 1 a paced run of
120 pairs takes minutes (Intermediate: about 400 s).

Prints one line per run (refused adds and cancels, the ``OrderPaced`` events, the calls whose
outcome stayed unknown, wall time) and, last, one JSON object with every run.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from collections import Counter
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from kraken_proto import Credentials, OrderPaced, SessionConfig, SubscriptionReady
from kraken_proto.adapters import OutcomeUnknownError, RequestRefusedError, open_session
from kraken_proto.adapters.simulator.server import make_config, run_in_thread
from kraken_proto.session._pacing import TRADING_TIERS

__all__ = ["RunResult", "main", "run"]

PAIR = "XBT/USD"
# Far below the market, so it rests; worth 1 USD, above XBT/USD's costmin (0.5).
VOLUME = Decimal("0.0001")
PRICE = Decimal("10000.0")
CALL_TIMEOUT = 600.0  # a paced call waits for room on the counter: never the limit here


@dataclasses.dataclass(frozen=True)
class RunResult:
    """One run: ``pairs`` add-then-cancel pairs on one session."""

    protocol: str
    pacing: bool
    tier: str
    pairs: int
    time_scale: float
    refused_adds: int
    refused_cancels: int
    unknown: int  # calls that ended without an outcome (OutcomeUnknownError)
    order_paced: int
    wall_seconds: float
    errors: dict[str, int]  # refusal texts, counted

    def line(self) -> str:
        return (
            f"{self.protocol}  pacing {'on ' if self.pacing else 'off'}  {self.tier:<12}  "
            f"{self.pairs} pairs  refused adds {self.refused_adds:>3}  "
            f"cancels {self.refused_cancels:>3}  unknown {self.unknown}  "
            f"OrderPaced {self.order_paced:>4}  {self.wall_seconds:8.2f} s"
        )


def run(
    *, protocol: str, pacing: bool, tier: str, pairs: int, time_scale: float, seed: int = 19
) -> RunResult:
    """One fresh simulator and session; ``pairs`` add-then-cancel pairs; what happened."""
    threshold, decay = TRADING_TIERS[tier]
    sim_config = dataclasses.replace(
        make_config(seed),
        maxratecount=threshold,
        rate_decay_per_second=Decimal(str(decay)) * Decimal(str(time_scale)),
    )
    config = SessionConfig(
        protocol=protocol,
        pace_orders=pacing,
        rest_tier=tier,
        pace_decay_per_second=None if time_scale == 1 else decay * time_scale,
    )
    refused_adds = refused_cancels = unknown = paced = 0
    errors: Counter[str] = Counter()
    with run_in_thread(sim_config, seed=seed) as sim:
        credentials = Credentials(api_key=sim.api_key, api_secret=sim.api_secret)
        with open_session(
            credentials, rest_url=sim.rest_url, ws_url=sim.ws_url, config=config
        ) as session:
            session.subscribe("ownTrades")
            session.subscribe("openOrders")
            ready: set[str] = set()
            for event in session.events(timeout=30.0):
                if isinstance(event, SubscriptionReady):
                    ready.add(event.channel)
                if ready == {"ownTrades", "openOrders"}:
                    break
            if ready != {"ownTrades", "openOrders"}:
                raise RuntimeError(f"the session never got both snapshots (only {ready})")
            started = time.perf_counter()
            for _ in range(pairs):
                try:
                    placed = session.add_order(
                        ordertype="limit",
                        type="buy",
                        pair=PAIR,
                        volume=VOLUME,
                        price=PRICE,
                        timeout=CALL_TIMEOUT,
                    )
                except RequestRefusedError as refused:
                    refused_adds += 1
                    errors[refused.error.text] += 1
                    continue
                except OutcomeUnknownError:
                    unknown += 1
                    continue
                try:
                    session.cancel_order(txid=(placed.txid,), timeout=CALL_TIMEOUT)
                except RequestRefusedError as refused:
                    refused_cancels += 1
                    errors[refused.error.text] += 1
                except OutcomeUnknownError:
                    unknown += 1
            wall = time.perf_counter() - started
            while events := session.next_events(timeout=0):
                paced += sum(isinstance(event, OrderPaced) for event in events)
    return RunResult(
        protocol=protocol,
        pacing=pacing,
        tier=tier,
        pairs=pairs,
        time_scale=time_scale,
        refused_adds=refused_adds,
        refused_cancels=refused_cancels,
        unknown=unknown,
        order_paced=paced,
        wall_seconds=round(wall, 2),
        errors=dict(errors),
    )


def _tier(text: str) -> str:
    tier = text.lower()
    if tier not in TRADING_TIERS:
        raise argparse.ArgumentTypeError(f"one of Starter, Intermediate, Pro (got {text!r})")
    return tier


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"a finite number > 0 (got {text!r})")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--tier", type=_tier, default="intermediate", help="Starter, Intermediate (default) or Pro"
    )
    parser.add_argument(
        "--pairs", type=int, default=120, help="add-then-cancel pairs per run (120)"
    )
    parser.add_argument(
        "--time-scale", type=_positive, default=1.0, help="counter decay speed-up on both sides (1)"
    )
    parser.add_argument("--protocol", choices=("v1", "v2", "both"), default="both")
    parser.add_argument("--pacing", choices=("off", "on", "both"), default="both")
    args = parser.parse_args(argv)
    if args.pairs < 1:
        parser.error("--pairs: at least 1")
    protocols = ("v1", "v2") if args.protocol == "both" else (args.protocol,)
    pacings = (False, True) if args.pacing == "both" else (args.pacing == "on",)
    results: list[dict[str, Any]] = []
    for pacing in pacings:
        for protocol in protocols:
            result = run(
                protocol=protocol,
                pacing=pacing,
                tier=args.tier,
                pairs=args.pairs,
                time_scale=args.time_scale,
            )
            print(result.line(), flush=True)
            results.append(dataclasses.asdict(result))
    print(json.dumps({"benchmark": "pacing", "runs": results}, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
