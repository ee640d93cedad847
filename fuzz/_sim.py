"""A fresh, seeded simulator exchange for the simulator targets, with a valid token."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
from dataclasses import dataclass

import kraken_proto.rest as kp_rest
from kraken_proto.adapters.simulator.model.exchange import Exchange, SimulatorConfig

__all__ = ["SETUP_MESSAGES", "START", "SimRun", "new_exchange", "signed_headers", "trade"]

START = 1_700_000_000.0


@dataclass
class SimRun:
    exchange: Exchange
    config: SimulatorConfig
    token: str
    now: float
    nonce: int
    protocol: str = "v1"


def signed_headers(config: SimulatorConfig, path: str, nonce: str, body: bytes) -> dict[str, str]:
    """API-Key and a valid API-Sign for ``body`` (whose nonce field is ``nonce``), computed
    here rather than with ``kp_rest.sign``, which refuses the nonces the fuzzer makes up."""
    digest = hashlib.sha256(nonce.encode("utf-8", "surrogateescape") + body).digest()
    mac = hmac.new(base64.b64decode(config.api_secret), path.encode() + digest, hashlib.sha512)
    signature = base64.b64encode(mac.digest()).decode()
    return {
        "API-Key": config.api_key,
        "API-Sign": signature,
        "Content-Type": "application/x-www-form-urlencoded",
    }


def new_exchange() -> SimRun:
    """An exchange at ``START`` that has issued one token (``SimRun.token``)."""
    config = SimulatorConfig()
    exchange = Exchange(config, rng=random.Random(0), now=START)
    nonce = 1
    body = b"nonce=%d" % nonce
    reply = exchange.handle_rest(
        method="POST",
        path=kp_rest.TOKEN_PATH,
        headers=signed_headers(config, kp_rest.TOKEN_PATH, str(nonce), body),
        body=body,
        now=START,
    )
    token = json.loads(reply.body)["result"]["token"]
    return SimRun(exchange, config, token, START, nonce)


# Subscribe both channels, then place orders that end up resting, filled and canceled.
SETUP_MESSAGES = (
    '{"event":"subscribe","reqid":1,"subscription":{"name":"openOrders","token":"$T"}}',
    '{"event":"subscribe","reqid":2,"subscription":{"name":"ownTrades","token":"$T"}}',
    '{"event":"addOrder","ordertype":"limit","pair":"XBT/USD","price":"20000.0","reqid":3,'
    '"token":"$T","type":"buy","volume":"0.5","userref":"7"}',
    '{"event":"addOrder","ordertype":"market","pair":"XBT/USD","reqid":4,"token":"$T",'
    '"type":"sell","volume":"0.25"}',
    '{"event":"addOrder","ordertype":"limit","pair":"ETH/USD","price":"1000.00","reqid":5,'
    '"token":"$T","type":"buy","volume":"1.5","cl_ord_id":"fuzz-1"}',
    '{"event":"cancelOrder","reqid":6,"token":"$T","cl_ord_id":["fuzz-1"]}',
)


def trade(sim: SimRun, session: int) -> list[str]:
    """Send ``SETUP_MESSAGES`` on ``session``; return every frame that came back."""
    frames: list[str] = []
    for message in SETUP_MESSAGES:
        sim.now += 0.01
        sim.exchange.receive(session, message.replace("$T", sim.token), sim.now)
        frames += sim.exchange.take_outgoing(session, sim.now)
    return frames
