"""``SqliteFillLedger``'s order ids: shared between instances on one key, the first txid kept,
bounded, and a failure that only stops the sharing."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from kraken_proto.adapters.journal import SqliteFillLedger


def test_order_ids_are_shared_by_every_instance_on_the_key(tmp_path: Path) -> None:
    with SqliteFillLedger(tmp_path, "key-A") as one, SqliteFillLedger(tmp_path, "key-A") as two:
        one.publish_order("cl-1", "OTX-1")
        assert two.order_of("cl-1") == "OTX-1"
        two.publish_order("cl-1", "OTX-9")  # the first txid stored for an id is kept
        assert one.order_of("cl-1") == "OTX-1"
        assert one.order_of("unknown") is None
    with SqliteFillLedger(tmp_path, "key-B") as other:  # another key: another ledger
        assert other.order_of("cl-1") is None


def test_order_ids_beyond_the_bound_are_pruned(tmp_path: Path) -> None:
    with SqliteFillLedger(tmp_path, "key", prune_every=1, max_orders=2) as ledger:
        for n in range(4):
            ledger.publish_order(f"cl-{n}", f"OTX-{n}")
        assert [ledger.order_of(f"cl-{n}") for n in range(4)] == [None, None, "OTX-2", "OTX-3"]


def test_a_failing_ledger_logs_once_and_then_knows_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ledger = SqliteFillLedger(tmp_path, "key")
    ledger.publish_order("cl-1", "OTX-1")
    assert ledger._db is not None
    ledger._db.close()  # every statement now raises sqlite3.ProgrammingError
    with caplog.at_level(logging.WARNING):
        assert ledger.order_of("cl-1") is None
        ledger.publish_order("cl-2", "OTX-2")
        assert ledger.order_of("cl-1") is None
    assert len(caplog.records) == 1
    assert "backfills go to REST" in caplog.records[0].getMessage()
    ledger.close()
    ledger.close()  # idempotent
    ledger.publish_order("cl-3", "OTX-3")  # closed: nothing, no raise
    assert ledger.order_of("cl-3") is None


def test_a_publish_that_fails_is_logged_not_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ledger = SqliteFillLedger(tmp_path, "key")
    assert ledger._db is not None
    ledger._db.close()
    with caplog.at_level(logging.WARNING):
        ledger.publish_order("cl-1", "OTX-1")
    assert len(caplog.records) == 1
    assert "ProgrammingError" in caplog.records[0].getMessage()
    ledger.close()
