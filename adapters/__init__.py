"""I/O adapters for kraken_proto: everything that touches sockets, TLS, clocks or threads.

Installed as ``kraken_proto.adapters``. Adapters only move bytes and read the clock; protocol
policy lives in the pure core.
"""
