"""``journal=`` for the runners: open the store, fold it, build the ``Session`` from it.

The runners' plumbing for a journal (carrying out ``PersistRecords``, acknowledging what
the user took, closing the store) is ``SessionRunner``'s, in ``_common``; this module only
builds the session, once for the three runners.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from kraken_proto import Credentials, Session, SessionConfig
from kraken_proto.adapters.journal import SharedNonceSource, SqliteJournal
from kraken_proto.session._journal import JournalStore

__all__ = ["build_session"]


def build_session(
    credentials: Credentials, config: SessionConfig, options: dict[str, Any]
) -> Session:
    """A new ``Session`` for ``open_session`` and its kin. ``options["journal"]`` (popped): a
    path (an ``SqliteJournal`` is opened there; ``JournalLockedError`` at once when another
    store holds it) or a ``JournalStore``; the session starts from its folded records, and
    ``options["journal_store"]`` is set for the runner (which closes it at the end). With a
    path, REST nonces come from a ``SharedNonceSource`` in the journal's directory
    (``options["journal_nonces"]``): processes on one API key never reuse a nonce."""
    journal = options.pop("journal", None)
    if journal is None:
        return Session(credentials, config=config, seed=os.urandom(16))
    shared = not isinstance(journal, JournalStore)
    store: JournalStore = SqliteJournal(journal) if shared else journal
    nonces = None
    try:
        state = store.load()
        if shared:
            nonces = SharedNonceSource(
                Path(journal).parent, credentials.api_key, last=state.nonce_high_water
            )
    except BaseException:
        store.close()
        raise
    options["journal_store"] = store
    options["journal_nonces"] = nonces
    return Session(credentials, config=config, seed=os.urandom(16), journal=state, nonces=nonces)
