"""The pure core over a plain socket and wsproto, with no adapter: about 40 lines of loop.

    python examples/plain_socket.py            # against the in-process simulator
    python examples/plain_socket.py --kraken   # against Kraken, KRAKEN_API_KEY/KRAKEN_API_SECRET

It subscribes to openOrders and prints every event until the snapshot has arrived.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import sys
import time
from urllib.parse import urlsplit

from kraken_proto import Credentials, MissingCredentialError
from kraken_proto.adapters.clients.blocking_client import fetch_token
from kraken_proto.adapters.simulator.server import run_in_thread
from kraken_proto.v1 import ChannelSnapshot, Connection, Subscribe
from wsproto import ConnectionType, WSConnection
from wsproto.events import AcceptConnection, CloseConnection, Message, Ping, Request, TextMessage


def stream_orders(credentials: Credentials, rest_url: str, ws_url: str) -> None:
    token = fetch_token(credentials, rest_url=rest_url).token  # a signed REST call
    url = urlsplit(ws_url)
    port = url.port or (443 if url.scheme == "wss" else 80)
    sock = socket.create_connection((url.hostname, port), timeout=10)
    if url.scheme == "wss":
        sock = ssl.create_default_context().wrap_socket(sock, server_hostname=url.hostname)
    ws, core = WSConnection(ConnectionType.CLIENT), Connection()
    sock.sendall(ws.send(Request(host=url.netloc, target=url.path or "/")))
    while True:
        now = time.monotonic()
        deadline = core.next_deadline()
        sock.settimeout(None if deadline is None else max(0.01, deadline - now))
        try:
            ws.receive_data(sock.recv(65536) or None)
        except TimeoutError:
            core.handle_timeout(time.monotonic())  # pings, request timeouts, token expiry
        for event in ws.events():
            if isinstance(event, AcceptConnection):
                core.connection_made(time.monotonic())
                core.provide_token(token, time.monotonic())
                core.send(Subscribe(name="openOrders"), time.monotonic())
            elif isinstance(event, TextMessage):
                core.receive_message(event.data, time.monotonic())
            elif isinstance(event, Ping):
                sock.sendall(ws.send(event.response()))
            elif isinstance(event, CloseConnection):
                core.connection_lost(time.monotonic())
                return
        for text in core.data_to_send():
            sock.sendall(ws.send(Message(data=text)))
        for item in core.events_received():
            print(item)
            if isinstance(item, ChannelSnapshot):
                with contextlib.suppress(OSError):
                    sock.close()
                return


def main(argv: list[str]) -> int:
    if "--kraken" in argv:
        try:
            credentials = Credentials.from_env()
        except MissingCredentialError as error:
            print(error, file=sys.stderr)
            return 2
        stream_orders(credentials, "https://api.kraken.com", "wss://ws-auth.kraken.com")
        return 0
    with run_in_thread() as sim:
        credentials = Credentials(api_key=sim.api_key, api_secret=sim.api_secret)
        stream_orders(credentials, sim.rest_url, sim.ws_url)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
