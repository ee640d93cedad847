"""``kraken-proto journal PATH``: the text and JSON views of a session journal."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from kraken_proto import replace_request
from kraken_proto.adapters import cli
from kraken_proto.adapters.journal import SqliteJournal
from kraken_proto.session._journal import (
    FillAcknowledged,
    FillDelivered,
    IntentRecorded,
    JournalRecord,
    NonceRecorded,
    OutcomeRecorded,
    SubscriptionRecorded,
)
from kraken_proto.v1 import AddOrder, CancelAll, Subscribe, Trade

T0 = 1_700_000_000.0
ORDER = AddOrder(
    ordertype="limit",
    type="buy",
    pair="XBT/USD",
    volume=Decimal("0.50000000"),
    price=Decimal("27000.1"),
    cl_ord_id="0f0e0d0c-0b0a-4908-8706-050403020100",
)


def trade(n: int) -> FillDelivered:
    return FillDelivered(
        at=T0 + n,
        trade_id=f"T{n:05d}-AAAAA-BBBBBB",
        trade=Trade(
            pair="XBT/USD",
            type="buy",
            time=Decimal(f"{T0 + n:.0f}.123456"),
            vol=Decimal("0.00000001"),
            price=Decimal("27000.1"),
        ),
        source="live",
    )


RECORDS: list[JournalRecord] = [
    SubscriptionRecorded(at=T0, name="ownTrades", request=Subscribe(name="ownTrades")),
    IntentRecorded(at=T0, handle=1, request=ORDER),
    IntentRecorded(at=T0 + 1, handle=2, request=CancelAll(), open_at_send=("OAAAAA-BBBBB-CCCCCC",)),
    OutcomeRecorded(at=T0 + 2, handle=2, result="refused", error="EOrder:Unknown order"),
    IntentRecorded(at=T0 + 3, handle=3, request=replace_request(ORDER, cl_ord_id="x")),
    OutcomeRecorded(
        at=T0 + 4, handle=3, result="applied", txid="OTX123-AAAAA-BBBBBB", detail="openOrders"
    ),
    trade(5),
    trade(6),
    FillAcknowledged(at=T0 + 7, trade_id=trade(5).trade_id),
    NonceRecorded(at=T0 + 8, nonce=1_700_000_008_000_000),
]


@pytest.fixture
def journal(tmp_path: Path) -> Path:
    path = tmp_path / "session.journal"
    with SqliteJournal(path) as store:
        store.append(RECORDS, sync=True)
    return path


def test_the_text_view_shows_marks_intents_outcomes_and_fills(
    journal: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["journal", str(journal)]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == f"journal {journal}"
    assert lines[1] == (
        "next handle 4, nonce high-water 1700000008000000, subscriptions: ownTrades"
    )
    assert lines[2] == "fill cursor: T00006-AAAAA-BBBBBB at 1700000006.123456"
    assert "open intents (1): may have reached Kraken, no outcome yet" in out
    intent_row = lines[lines.index("open intents (1): may have reached Kraken, no outcome yet") + 2]
    assert intent_row.split() == [
        "1",
        "2023-11-14",
        "22:13:20",
        "addOrder",
        "XBT/USD",
        "buy",
        "0.50000000",
        ORDER.cl_ord_id,
    ]
    assert "outcomes (latest 2 of 2)" in out
    assert "EOrder:Unknown order" in out
    assert "OTX123-AAAAA-BBBBBB" in out
    assert "fills (latest 2 of 2; 1 not acknowledged)" in out
    fill_rows = [line.split() for line in lines if line.startswith("T0000")]
    assert [row[-1] for row in fill_rows] == ["yes", "no"]
    assert fill_rows[0][4] == "0.00000001"  # exact digits, no exponent


def test_the_json_view_is_one_object_with_exact_decimals(
    journal: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["journal", str(journal), "--json"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    document = json.loads(out)
    assert document["journal"] == str(journal)
    assert (document["next_handle"], document["nonce_high_water"]) == (4, 1_700_000_008_000_000)
    assert document["cursor"] == {"trade_id": "T00006-AAAAA-BBBBBB", "time": "1700000006.123456"}
    assert document["subscriptions"] == [{"request": "subscribe", "name": "ownTrades"}]
    [intent] = document["open_intents"]
    assert intent["handle"] == 1
    assert intent["cl_ord_id"] == ORDER.cl_ord_id
    assert intent["request"]["volume"] == "0.50000000"
    assert document["outcomes_total"] == 2
    assert [o["result"] for o in document["outcomes"]] == ["refused", "applied"]
    assert document["outcomes"][0]["request"] == "cancelAll"
    assert [f["acknowledged"] for f in document["fills"]] == [True, False]
    assert document["fills"][0]["trade"]["vol"] == "0.00000001"
    assert document["unacknowledged"] == ["T00006-AAAAA-BBBBBB"]


def test_limit_keeps_the_latest(journal: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["journal", str(journal), "--json", "--limit", "1"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert [o["handle"] for o in document["outcomes"]] == [3]
    assert [f["trade_id"] for f in document["fills"]] == ["T00006-AAAAA-BBBBBB"]
    assert document["fills_total"] == 2
    assert cli.main(["journal", str(journal), "--limit", "0"]) == 0
    assert "outcomes (latest 2 of 2)" in capsys.readouterr().out


def test_an_empty_journal(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "empty.journal"
    SqliteJournal(path).close()
    assert cli.main(["journal", str(path)]) == 0
    out = capsys.readouterr().out
    assert "subscriptions: none" in out
    assert "fill cursor: none" in out
    assert "open intents (0)" in out
    assert "fills (latest 0 of 0; 0 not acknowledged)" in out
    # An outcome whose intent was pruned (or never sent) shows without a request.
    with SqliteJournal(path) as store:
        store.append([OutcomeRecorded(at=T0, handle=9, result="not_applied")], sync=True)
    assert cli.main(["journal", str(path), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["outcomes"][0]["request"] is None
    assert cli.main(["journal", str(path)]) == 0
    assert "not_applied" in capsys.readouterr().out


def test_it_reads_a_journal_a_session_has_open(
    journal: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with SqliteJournal(journal) as store:
        store.append([IntentRecorded(at=T0 + 9, handle=4, request=CancelAll())], sync=False)
        assert cli.main(["journal", str(journal), "--json"]) == 0
    handles = [i["handle"] for i in json.loads(capsys.readouterr().out)["open_intents"]]
    assert handles == [1, 4]


def test_no_journal_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["journal", str(tmp_path / "missing")]) == 2
    assert "no journal at" in capsys.readouterr().err
    assert not (tmp_path / "missing").exists()


def test_a_damaged_or_foreign_journal_is_refused(
    journal: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    garbage = tmp_path / "garbage"
    garbage.write_bytes(b"\x00garbage" * 200)
    assert cli.main(["journal", str(garbage)]) == 1
    assert "not a kraken_proto journal" in capsys.readouterr().err
    db = sqlite3.connect(journal)
    db.execute("UPDATE meta SET value = '9' WHERE key = 'format'")
    db.commit()
    db.close()
    assert cli.main(["journal", str(journal)]) == 1
    assert "format version 9" in capsys.readouterr().err


def test_the_console_script_runs_it(journal: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "kraken_proto", "journal", str(journal), "--json"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert json.loads(result.stdout)["next_handle"] == 4
    assert "journal" in cli.COMMANDS
