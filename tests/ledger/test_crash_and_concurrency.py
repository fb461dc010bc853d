"""Real processes: writers SIGKILLed mid-append lose nothing acknowledged; concurrent writers stay linear."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time

from proctor.ledger import Ledger, verify_ledger

WRITER = """
import sys
from proctor.ledger import Event, Ledger
path, name, count, batch = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
with Ledger(path, checkpoint_every=7) as book:
    for i in range(count):
        events = [Event("verdict", {"writer": name, "i": i, "j": j, "detail": "x" * (i % 50)}, run=name, id=f"{name}:{i}:{j}")
                  for j in range(batch)]
        for entry in book.extend(events):
            print(entry.id, entry.hash, flush=True)  # printed only once the append returned: acknowledged
"""


def _writer(path, name, count, batch=1):
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), name, str(count), str(batch)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_sigkill_mid_append_never_breaks_the_chain_or_loses_an_acknowledged_entry(tmp_path):
    path = tmp_path / "crash.ledger"
    rng = random.Random(7)
    acknowledged: dict[str, str] = {}
    for round_ in range(12):
        writer = _writer(path, f"w{round_}", 100_000, batch=rng.choice([1, 3]))
        first = writer.stdout.readline()  # appending now, however slow start-up was on a loaded machine
        time.sleep(rng.random() * 0.3)
        writer.send_signal(signal.SIGKILL)
        out = writer.stdout.read()  # through the same buffer as readline: communicate() would skip what it read ahead
        writer.wait()
        writer.stderr.close()
        for line in (first + out).splitlines():
            event_id, _, digest = line.partition(" ")
            if len(digest) == 64:  # a line cut by the kill was never acknowledged
                acknowledged[event_id] = digest
        with Ledger(path, readonly=True) as book:
            assert verify_ledger(book).ok, f"round {round_}"
            stored = {e.id: e.hash for e in book.entries()}
        assert all(stored.get(k) == v for k, v in acknowledged.items()), f"round {round_} lost an acknowledged entry"
    assert len(acknowledged) > 100  # the kills really landed mid-run


def test_concurrent_writer_processes_extend_one_linear_chain(tmp_path):
    path = tmp_path / "shared.ledger"
    Ledger(path).close()
    writers = [_writer(path, f"w{n}", 60, batch=1 + n % 2) for n in range(4)]
    results = [w.communicate(timeout=120) for w in writers]
    for writer, (_, err) in zip(writers, results, strict=True):
        assert writer.returncode == 0, err
        assert "locked" not in err and "busy" not in err
    with Ledger(path, readonly=True) as book:
        report = verify_ledger(book)
        entries = list(book.entries())
    assert report.ok
    assert len(entries) == 60 * (1 + 2 + 1 + 2)
    assert [e.seq for e in entries] == list(range(1, len(entries) + 1))
    for n in range(4):
        mine = [e.data["i"] for e in entries if e.run == f"w{n}" and e.data["j"] == 0]
        assert mine == list(range(60))  # each writer's own order survives the interleaving
