"""``journal=`` for the runners: open the store, fold it, build the ``Session`` from it.

``JournalPlumbing`` is the runners' part of a journal, once for the three: carrying out
``PersistRecords``, acknowledging what the user took, closing the store.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from kraken_proto import (
    Credentials,
    FillReceived,
    RequestOutcome,
    Session,
    SessionAction,
    SessionConfig,
    SessionEvent,
)
from kraken_proto.adapters.journal import (
    SharedNonceSource,
    SharedRestCallCounter,
    SqliteFillLedger,
    SqliteJournal,
)
from kraken_proto.session._journal import JournalStore, PersistRecords
from kraken_proto.session._waiters import Waiters

from ._batch import Outcome

__all__ = ["JournalPlumbing", "build_session"]


def build_session(
    credentials: Credentials, config: SessionConfig, options: dict[str, Any]
) -> Session:
    """A new ``Session`` for ``open_session`` and its kin. ``options["journal"]`` (popped): a
    path (an ``SqliteJournal`` is opened there; ``JournalLockedError`` at once when another
    store holds it) or a ``JournalStore``; the session starts from its folded records, and
    ``options["journal_store"]`` is set for the runner (which closes it at the end). With a
    path, REST nonces come from a ``SharedNonceSource`` and the REST call budget from a
    ``SharedRestCallCounter`` in the journal's directory (``options["journal_nonces"]``,
    ``options["journal_counter"]``): processes on one API key never reuse a nonce, and
    together stay within the key's one budget; and the key's ``SqliteFillLedger`` there
    (``options["journal_ledger"]``) lets one session's backfill take what another saw live."""
    journal = options.pop("journal", None)
    if journal is None:
        return Session(credentials, config=config, seed=os.urandom(16))
    shared = not isinstance(journal, JournalStore)
    store: JournalStore = SqliteJournal(journal) if shared else journal
    nonces = counter = ledger = None
    try:
        state = store.load()
        if shared:
            directory = Path(journal).parent
            nonces = SharedNonceSource(directory, credentials.api_key, last=state.nonce_high_water)
            counter = SharedRestCallCounter(directory, credentials.api_key, config.rest_tier)
            ledger = SqliteFillLedger(directory, credentials.api_key)
    except BaseException:
        store.close()
        for shared_state in (nonces, counter):
            if shared_state is not None:
                shared_state.close()
        raise
    options["journal_store"] = store
    options["journal_nonces"] = nonces
    options["journal_counter"] = counter
    options["journal_ledger"] = ledger
    return Session(
        credentials,
        config=config,
        seed=os.urandom(16),
        journal=state,
        nonces=nonces,
        rest_counter=counter,
        fill_ledger=ledger,
    )


class JournalPlumbing:
    """A runner's journal duties (``SessionRunner`` inherits them): ``PersistRecords`` carried
    out in order with the other actions, fills and outcomes acknowledged once the user has
    taken them (without a journal, acknowledging costs nothing)."""

    session: Session
    _waiters: Waiters
    _clock: Callable[[], float]

    def _journal_init(
        self,
        journal_store: JournalStore | None,
        journal_nonces: SharedNonceSource | None,
        journal_counter: SharedRestCallCounter | None,
        journal_ledger: SqliteFillLedger | None = None,
    ) -> None:
        self._journal = journal_store
        self._journal_nonces = journal_nonces
        self._journal_counter = journal_counter
        self._journal_ledger = journal_ledger
        # The events last handed out (to acknowledge); () is shared, [] would cost 56 bytes.
        self._taken: Sequence[SessionEvent] = ()
        self._backlog: list[SessionAction] = []  # actions taken out by ``_route``, in order
        self.session.auto_ack = False

    def _acked(self) -> None:
        """An acknowledgement queued a ``PersistRecords``: the blocking runner carries it out
        in its next call; the async runners wake their driver."""

    def ack(self) -> None:
        """Acknowledge every fill and outcome taken so far: with a journal, not delivered
        again after a restart (the next call makes it durable). Taking the next events
        does this too."""
        self._ack_taken()

    def _take(self) -> list[SessionEvent]:
        """The waiting events for the user; the ones taken before are acknowledged."""
        self._ack_taken()
        self._taken = taken = self._waiters.take()
        return taken

    def _take_one(self) -> SessionEvent:
        if self._journal is None:  # nothing to acknowledge: no list per event
            return self._waiters.take_one()
        self._ack_taken()
        self._taken = [self._waiters.take_one()]
        return self._taken[0]

    def _result(self, handle: int, timeout: float | None) -> Outcome:
        """The order call's result; its outcome, now handed to the caller, is acknowledged."""
        if self._journal is not None and self._waiters.done(handle):
            self.session.ack((), handles=(handle,), now=self._clock())
            self._acked()
        return self._waiters.result(handle, timeout)

    def _ack_taken(self) -> None:
        taken = self._taken
        if taken and self._journal is not None:
            self.session.ack(
                [e.trade_id for e in taken if isinstance(e, FillReceived)],
                handles=[e.handle for e in taken if isinstance(e, RequestOutcome)],
                now=self._clock(),
            )
            self._acked()
        self._taken = ()

    def _next_actions(self) -> list[SessionAction]:
        """The session's actions to carry out next, in order."""
        actions = self._backlog + self.session.actions()
        self._backlog = []
        return actions

    def _persist(self, action: SessionAction) -> bool:
        """Carry out a ``PersistRecords`` (True) before any later action: a blocking append,
        synced when it asks. A failed append raises: nothing after it may be carried out."""
        if not isinstance(action, PersistRecords):
            return False
        if self._journal is not None:
            self._journal.append(action.records, sync=action.sync)
        return True

    def _close_journal(self) -> None:
        """The session has stopped: release the journal (and its lock)."""
        if self._journal is not None:
            self._journal.close()
        if self._journal_nonces is not None:
            self._journal_nonces.close()
        if self._journal_counter is not None:
            self._journal_counter.close()
        if self._journal_ledger is not None:
            self._journal_ledger.close()
