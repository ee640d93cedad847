"""``SharedNonceSource`` and ``SharedRestCallCounter``: one key's nonces and REST budget
shared by real concurrent processes, across restarts and a clock stepped back."""

from __future__ import annotations

import itertools
import json
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from kraken_proto import LocalProtocolError
from kraken_proto.adapters.journal import (
    SharedNonceSource,
    SharedRestCallCounter,
    SharedStateError,
    key_state_path,
)
from kraken_proto.rest import NonceSource, RestCallCounter

KEY = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789+/AbCdEfGhIjKlMnOpQrSt"

# Each child waits for "go" on stdin so that all of them draw at the same time, then prints
# its draws as one JSON list.
_NONCE_CHILD = """
import json, sys, time
from kraken_proto.adapters.journal import SharedNonceSource
directory, key, count, fixed = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
source = SharedNonceSource(directory, key)
print("ready", flush=True)
sys.stdin.readline()
drawn = [source.next(float(fixed) if fixed != "clock" else time.time()) for _ in range(count)]
print(json.dumps(drawn), flush=True)
"""

_COUNTER_CHILD = """
import json, sys
from kraken_proto import LocalProtocolError
from kraken_proto.adapters.journal import SharedRestCallCounter
directory, key, attempts = sys.argv[1], sys.argv[2], int(sys.argv[3])
counter = SharedRestCallCounter(directory, key, "starter")
print("ready", flush=True)
sys.stdin.readline()
spent = 0
for _ in range(attempts):
    try:
        counter.spend(1, 1000.0)  # the same instant: no decay, only the budget
    except LocalProtocolError:
        continue
    spent += 1
print(json.dumps(spent), flush=True)
"""


def run_together(script: str, args: list[list[str]]) -> list[object]:
    """Start one child per argument list, release them at once, return what each printed."""
    children = [
        subprocess.Popen(
            [sys.executable, "-c", script, *arguments],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for arguments in args
    ]
    results: list[object] = []
    try:
        for child in children:
            assert child.stdout is not None
            assert child.stdout.readline() == "ready\n"
        for child in children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        for child in children:
            out, _ = child.communicate(timeout=50)
            assert child.returncode == 0
            results.append(json.loads(out))
    finally:
        for child in children:
            child.kill()
            child.wait()
            for stream in (child.stdin, child.stdout):
                if stream is not None:
                    stream.close()
    return results


# --- nonces -----------------------------------------------------------------------------------


@pytest.mark.timeout(60)
def test_processes_drawing_at_once_with_a_frozen_clock_get_one_gapless_sequence(
    tmp_path: Path,
) -> None:
    # With `now` frozen in the past every nonce comes from the shared mark: the draws of all
    # processes together must be exactly start+1 .. start+total, each exactly once, so each
    # draw saw every earlier one.
    start = SharedNonceSource(tmp_path, KEY).next(1000.0)
    results = run_together(_NONCE_CHILD, [[str(tmp_path), KEY, "60", "999.0"]] * 4)
    draws = [list(map(int, result)) for result in results]  # type: ignore[call-overload]
    for drawn in draws:
        assert drawn == sorted(drawn)
        assert len(set(drawn)) == len(drawn)
    everything = sorted(n for drawn in draws for n in drawn)
    assert everything == list(range(start + 1, start + 1 + 4 * 60))
    with SharedNonceSource(tmp_path, KEY) as source:
        assert source.high_water() == everything[-1]


@pytest.mark.timeout(60)
def test_processes_drawing_at_once_on_the_clock_never_share_a_nonce(tmp_path: Path) -> None:
    results = run_together(_NONCE_CHILD, [[str(tmp_path), KEY, "60", "clock"]] * 3)
    draws = [list(map(int, result)) for result in results]  # type: ignore[call-overload]
    for drawn in draws:
        assert all(a < b for a, b in itertools.pairwise(drawn))
    everything = [n for drawn in draws for n in drawn]
    assert len(set(everything)) == len(everything)


def test_a_restart_with_the_clock_stepped_back_still_goes_up(tmp_path: Path) -> None:
    first = SharedNonceSource(tmp_path, KEY)
    before = first.next(2_000_000_000.0)
    first.close()
    with SharedNonceSource(tmp_path, KEY) as restarted:  # an hour earlier by its clock
        after = restarted.next(2_000_000_000.0 - 3600)
        assert after == before + 1
        assert restarted.next(2_000_000_100.0) == 2_000_000_100_000_000  # the clock leads again


def test_two_sources_in_one_process_share_the_mark(tmp_path: Path) -> None:
    with SharedNonceSource(tmp_path, KEY) as one, SharedNonceSource(tmp_path, KEY) as two:
        drawn = [one.next(5.0), two.next(5.0), one.next(5.0), two.next(1.0)]
    assert drawn == [5_000_000, 5_000_001, 5_000_002, 5_000_003]


def test_other_keys_do_not_share(tmp_path: Path) -> None:
    with SharedNonceSource(tmp_path, KEY) as one, SharedNonceSource(tmp_path, "other") as two:
        assert one.next(5.0) == two.next(5.0) == 5_000_000


def test_it_is_a_nonce_source_seeded_like_one(tmp_path: Path) -> None:
    with SharedNonceSource(tmp_path, KEY, last=77) as source:
        assert isinstance(source, NonceSource)
        assert source.last == 77
        assert source.next(0.0) == 78
    with SharedNonceSource(tmp_path, KEY, last=10) as later:  # a lower seed changes nothing
        assert later.last == 78
        assert later.next(0.0) == 79
        assert repr(later) == (
            f"SharedNonceSource({str(later.path)!r}, units_per_second=1000000, last=79)"
        )


def test_mixing_units_on_a_key_is_refused(tmp_path: Path) -> None:
    SharedNonceSource(tmp_path, KEY).close()
    with pytest.raises(LocalProtocolError, match="drawn in 1000000 units per second, not 1000"):
        SharedNonceSource(tmp_path, KEY, units_per_second=1000)


def test_a_bad_now_or_an_overflow_changes_nothing(tmp_path: Path) -> None:
    with SharedNonceSource(tmp_path, KEY) as source:
        source.next(10.0)
        with pytest.raises(LocalProtocolError, match="now"):
            source.next(float("nan"))
        with pytest.raises(LocalProtocolError, match="2\\*\\*64-1"):
            source.next(1e15)
        assert source.high_water() == 10_000_000
        assert source.next(10.0) == 10_000_001


def test_a_closed_source_refuses_to_draw(tmp_path: Path) -> None:
    source = SharedNonceSource(tmp_path, KEY)
    source.close()
    source.close()
    with pytest.raises(SharedStateError, match="closed"):
        source.next(1.0)


def test_the_file_is_named_by_a_hash_and_holds_no_key(tmp_path: Path) -> None:
    directory = tmp_path / "keys"
    with SharedNonceSource(directory, KEY) as source:
        source.next(1.0)
    with SharedRestCallCounter(directory, KEY) as counter:
        counter.spend(1, 1.0)
    path = key_state_path(directory, KEY)
    assert path == source.path == counter.path
    assert path.name.startswith("key-")
    assert len(path.name) == len("key-") + 32 + len(".json")
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    for file in directory.iterdir():
        assert KEY not in file.name
        assert KEY.encode() not in file.read_bytes()
    assert json.loads(path.read_text()) == {
        "format": 1,
        "nonce": 1_000_000,
        "units_per_second": 1_000_000,
        "rest_level": 1.0,
        "rest_since": 1.0,
    }
    assert not [p for p in directory.iterdir() if p.name.endswith(".tmp")]
    with pytest.raises(LocalProtocolError, match="api_key"):
        key_state_path(directory, "")


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"[]",
        b'{"format": 1}',
        b'{"format": 1, "nonce": -1, "units_per_second": null, "rest_level": 0, '
        b'"rest_since": null}',
        b'{"format": 1, "nonce": true, "units_per_second": null, "rest_level": 0, '
        b'"rest_since": null}',
        b'{"format": 1, "nonce": 5, "units_per_second": 0, "rest_level": 0, "rest_since": null}',
        b'{"format": 1, "nonce": 5, "units_per_second": null, "rest_level": NaN, '
        b'"rest_since": null}',
        b'{"format": 1, "nonce": 5, "units_per_second": null, "rest_level": 0, "rest_since": "x"}',
    ],
)
def test_a_damaged_state_file_is_never_repaired_silently(tmp_path: Path, content: bytes) -> None:
    key_state_path(tmp_path, KEY).write_bytes(content)
    with pytest.raises(SharedStateError, match="damaged shared key state"):
        SharedNonceSource(tmp_path, KEY)
    assert key_state_path(tmp_path, KEY).read_bytes() == content


def test_a_state_file_of_another_format_is_refused(tmp_path: Path) -> None:
    key_state_path(tmp_path, KEY).write_text(
        '{"format": 2, "nonce": 5, "units_per_second": null, "rest_level": 0, "rest_since": null}'
    )
    with pytest.raises(SharedStateError, match="format 2"):
        SharedRestCallCounter(tmp_path, KEY).level(0.0)


def test_a_directory_that_cannot_be_written_is_an_os_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(OSError, match=r"Not a directory|File exists"):
        SharedNonceSource(blocker / "keys", KEY)


# --- the REST call counter --------------------------------------------------------------------


@pytest.mark.timeout(60)
def test_processes_spending_at_once_stay_within_the_keys_budget(tmp_path: Path) -> None:
    results = run_together(_COUNTER_CHILD, [[str(tmp_path), KEY, "10"]] * 4)
    assert sum(results) == 14  # type: ignore[arg-type]  # starter: 15 less 1 of headroom
    with SharedRestCallCounter(tmp_path, KEY) as counter:
        assert counter.level(1000.0) == 14.0
        assert counter.ready_at(1, 1000.0) > 1000.0


def test_the_level_is_shared_and_decays_for_everyone(tmp_path: Path) -> None:
    with (
        SharedRestCallCounter(tmp_path, KEY, "starter") as one,
        SharedRestCallCounter(tmp_path, KEY, "pro", headroom=0) as two,
    ):
        assert isinstance(one, RestCallCounter)
        one.spend(10, 100.0)
        assert two.level(100.0) == 10.0
        assert two.level(110.0) == pytest.approx(0.0)  # pro decays 1 per second
        assert one.level(110.0) == pytest.approx(10.0 - 3.3)  # starter's own decay rate
        with pytest.raises(LocalProtocolError, match="do not fit"):
            one.spend(5, 100.0)  # 10 + 5 > 14: refused, nothing changes
        assert two.level(100.0) == 10.0
        one.saturate(200.0)
        assert two.level(200.0) == 15.0  # Kraken's word: full
        assert one.ready_at(1, 200.0) == pytest.approx(200.0 + 2.0 / 0.33)
        assert "tier='pro'" in repr(two)


def test_a_stepped_back_clock_does_not_drain_the_counter(tmp_path: Path) -> None:
    with SharedRestCallCounter(tmp_path, KEY) as counter:
        counter.spend(5, 1000.0)
        assert counter.level(900.0) == 5.0


def test_a_closed_counter_refuses_work(tmp_path: Path) -> None:
    counter = SharedRestCallCounter(tmp_path, KEY)
    counter.close()
    with pytest.raises(SharedStateError, match="closed"):
        counter.spend(1, 0.0)


def test_nonces_and_counter_live_in_one_file_without_clobbering_each_other(
    tmp_path: Path,
) -> None:
    with SharedNonceSource(tmp_path, KEY) as nonces, SharedRestCallCounter(tmp_path, KEY) as c:
        for second in range(5):
            c.spend(1, float(second))
            nonces.next(float(second))
        state = json.loads(nonces.path.read_text())
    assert state["nonce"] == 4_000_000
    assert state["rest_since"] == 4.0
