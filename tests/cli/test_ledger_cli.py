"""``proctor verify --ledger``, ``proctor audit`` and ``proctor ledger`` as a user runs them."""

from __future__ import annotations

import csv
import json
import sqlite3
from contextlib import closing

import pytest

from tests.cli.test_sandbox_cli import proctor
from tests.ledger.conftest import raw_connection

TOML_TASK = (
    '[[tasks]]\nid = "inc"\nentry_point = "inc"\n'
    'reference = "def inc(x: int) -> int:\\n    return x + 1\\n"\n'
    "cases = [{ args = [1], expected = 2 }, { args = [41], expected = 42 }]\n"
)


@pytest.fixture
def verified_ledger(tmp_path):
    """A ledger holding one accepted and one rejected verification, recorded by the CLI."""
    (tmp_path / "t.toml").write_text(TOML_TASK)
    (tmp_path / "good.py").write_text("def inc(x):\n    return x + 1\n")
    (tmp_path / "bad.py").write_text("import os\ndef inc(x):\n    os._exit(0)\n")
    book = tmp_path / "v.ledger"
    assert (
        proctor(
            "verify", str(tmp_path / "t.toml"), str(tmp_path / "good.py"), "--verifiers", "hack_scan,tests", "--ledger", str(book)
        ).returncode
        == 0
    )
    assert (
        proctor(
            "verify", str(tmp_path / "t.toml"), str(tmp_path / "bad.py"), "--verifiers", "hack_scan,tests", "--ledger", str(book)
        ).returncode
        == 1
    )
    return book


def test_verify_records_task_candidate_verdicts_and_decision(verified_ledger):
    done = proctor("ledger", "show", str(verified_ledger), "--json", "--limit", "0")
    entries = [json.loads(line) for line in done.stdout.splitlines()]
    kinds = [e["kind"] for e in entries]
    assert kinds == ["run_start", "task", "proposal", "verdict", "decision", "run_end"] * 2
    decisions = [e["data"]["outcome"] for e in entries if e["kind"] == "decision"]
    assert decisions == ["accept", "reject"]
    verdict = next(e for e in entries if e["kind"] == "verdict")
    assert [m["verifier"] for m in verdict["data"]["evidence"]["verdicts"]] == ["hack_scan", "tests"]


def test_audit_verifies_and_summarises_each_run(verified_ledger):
    done = proctor("audit", str(verified_ledger), "--json")
    report = json.loads(done.stdout)
    assert done.returncode == 0 and report["integrity"]["ok"] and report["integrity"]["entries"] == 12
    first, second = report["runs"]
    assert (first["accepted"], second["accepted"]) == (1, 0)
    assert second["claims"]["none"]["verified_not_pass"] == 1
    text = proctor("audit", str(verified_ledger)).stdout
    assert "integrity OK: 12 entries" in text and "GV-gap" in text


def test_audit_names_the_first_bad_entry_and_exits_1(verified_ledger):
    conn = sqlite3.connect(verified_ledger, isolation_level=None)
    conn.execute("DROP TRIGGER IF EXISTS entries_no_update")
    conn.execute('UPDATE entries SET payload = replace(payload, \'"outcome":"reject"\', \'"outcome":"accept"\') WHERE seq = 11')
    conn.close()
    done = proctor("audit", str(verified_ledger))
    assert done.returncode == 1
    assert "INTEGRITY FAILURE: chain: entry 11: its hash does not cover its payload" in done.stdout


def test_checkpoint_export_and_anchor_catch_a_restored_older_copy(verified_ledger, tmp_path):
    older = tmp_path / "older.ledger"
    older.write_bytes(verified_ledger.read_bytes())
    (tmp_path / "good.py").write_text("def inc(x):\n    return x + 1\n")
    proctor("verify", str(tmp_path / "t.toml"), str(tmp_path / "good.py"), "--verifiers", "tests", "--ledger", str(verified_ledger))
    done = proctor("ledger", "checkpoint", str(verified_ledger), "--export", str(tmp_path / "anchor.json"))
    assert done.returncode == 0 and json.loads(done.stdout)["size"] == 18
    assert proctor("audit", str(verified_ledger), "--anchor", str(tmp_path / "anchor.json")).returncode == 0
    done = proctor("audit", str(older), "--anchor", str(tmp_path / "anchor.json"))
    assert done.returncode == 1 and "truncated, or an older copy" in done.stdout


def test_signed_checkpoints_and_a_trusted_key(verified_ledger, tmp_path):
    public = proctor("ledger", "keygen", str(tmp_path / "key.pem")).stdout.strip()
    assert len(public) == 64
    assert proctor("audit", str(verified_ledger), "--trusted-key", public).returncode == 1  # nothing is signed yet
    anchor = str(tmp_path / "anchor.json")
    done = proctor("ledger", "checkpoint", str(verified_ledger), "--key", str(tmp_path / "key.pem"), "--export", anchor)
    assert done.returncode == 0 and json.loads(done.stdout)["public_key"] == public
    # The head's checkpoint in the file was made unsigned at the run's end (and stays so); the signed export covers it.
    assert "not covered by a checkpoint signed" in proctor("audit", str(verified_ledger), "--trusted-key", public).stdout
    assert proctor("audit", str(verified_ledger), "--trusted-key", public, "--anchor", anchor).returncode == 0
    other = proctor("ledger", "keygen", str(tmp_path / "other.pem")).stdout.strip()
    done = proctor("audit", str(verified_ledger), "--trusted-key", other, "--anchor", anchor)
    assert done.returncode == 1 and "not the trusted key" in done.stdout
    assert proctor("ledger", "keygen", str(tmp_path / "key.pem")).returncode == 2


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_export_writes_every_entry(verified_ledger, tmp_path, fmt):
    out = tmp_path / f"out.{fmt}"
    assert proctor("ledger", "export", str(verified_ledger), "-o", str(out)).returncode == 0
    if fmt == "jsonl":
        rows = [json.loads(line) for line in out.read_text().splitlines()]
    else:
        rows = list(csv.DictReader(out.open()))
        assert json.loads(rows[1]["data"])["task_id"] == "inc"
    assert [int(r["seq"]) for r in rows] == list(range(1, 13))


def test_export_to_parquet(verified_ledger, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet", reason="Parquet export needs the optional pyarrow")
    out = tmp_path / "out.parquet"
    assert proctor("ledger", "export", str(verified_ledger), "-o", str(out)).returncode == 0
    assert pq.read_table(out).num_rows == 12


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (lambda p: None, "no such ledger"),
        (lambda p: p.write_text("not sqlite at all\n" * 50), "not a readable proctor ledger"),
        (lambda p: sqlite3.connect(p).execute("CREATE TABLE x (y)"), "not a proctor ledger"),
        (lambda p: p.write_bytes(b""), "an empty file, not a proctor ledger"),
        (lambda p: p.mkdir(), "a directory, not a ledger file"),
    ],
)
def test_bad_ledgers_get_one_line_and_exit_2(tmp_path, setup, message):
    path = tmp_path / "bad.ledger"
    setup(path)
    for command in (
        ["audit", str(path)],
        ["ledger", "show", str(path)],
        ["ledger", "export", str(path), "-o", str(tmp_path / "o.jsonl")],
    ):
        done = proctor(*command)
        assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr


def _damage(path, seq: int, payload: str) -> None:
    with closing(raw_connection(path)) as conn:
        conn.execute("UPDATE entries SET payload = ? WHERE seq = ?", (payload, seq))


def test_show_lists_damaged_entries_as_stored_and_exits_1(verified_ledger):
    _damage(verified_ledger, 3, "not json")
    _damage(verified_ledger, 4, '{"data":{"status":"pass"}, "seq":4}')
    done = proctor("ledger", "show", str(verified_ledger))
    lines = done.stdout.splitlines()
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert len(lines) == 12 and "DAMAGED: not json" in lines[2] and "DAMAGED: {" in lines[3] and "task_id=inc" in lines[1]
    assert done.stderr.strip() == f"proctor: damaged entries: 3, 4; run `proctor audit {verified_ledger}` to see what changed"
    shown = [json.loads(line) for line in proctor("ledger", "show", str(verified_ledger), "--json").stdout.splitlines()]
    assert [row.get("damaged", False) for row in shown[:5]] == [False, False, True, True, False]
    assert shown[2]["payload"] == "not json" and "data" not in shown[2] and shown[4]["data"]


def test_export_of_a_damaged_ledger_names_the_entry_and_writes_nothing(verified_ledger, tmp_path):
    _damage(verified_ledger, 3, "not json")
    out = tmp_path / "out.jsonl"
    done = proctor("ledger", "export", str(verified_ledger), "-o", str(out))
    assert done.returncode == 1 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "nothing exported: ledger entry 3 is damaged" in done.stderr and not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".partial")]


@pytest.mark.parametrize(
    "command",
    [
        ["ledger", "export", "{ledger}", "-o", "{missing}/out.jsonl"],
        ["ledger", "checkpoint", "{ledger}", "--export", "{missing}/anchor.json"],
        ["ledger", "keygen", "{missing}/key.pem"],
    ],
)
def test_writing_into_a_missing_directory_exits_2_before_anything_is_done(verified_ledger, tmp_path, command):
    checkpoints = sqlite3.connect(verified_ledger).execute("SELECT count(*) FROM checkpoints").fetchone()
    args = [arg.format(ledger=verified_ledger, missing=tmp_path / "nope") for arg in command]
    done = proctor(*args)
    assert done.returncode == 2 and "no such directory" in done.stderr and "Traceback" not in done.stderr
    assert sqlite3.connect(verified_ledger).execute("SELECT count(*) FROM checkpoints").fetchone() == checkpoints


def test_a_newer_schema_exits_2(verified_ledger):
    conn = sqlite3.connect(verified_ledger)
    conn.execute("PRAGMA user_version = 7")
    conn.close()
    done = proctor("audit", str(verified_ledger))
    assert done.returncode == 2 and "newer proctor" in done.stderr


def test_a_malformed_anchor_is_named(verified_ledger, tmp_path):
    (tmp_path / "a.json").write_text('{"ledger": "x", "size": 0}')
    done = proctor("audit", str(verified_ledger), "--anchor", str(tmp_path / "a.json"))
    assert done.returncode == 2 and "a.json: not a proctor checkpoint" in done.stderr


def test_batch_verify_records_every_sample_in_one_run(tmp_path):
    from proctor.tasks import humaneval_tasks

    tasks = humaneval_tasks()
    samples = tmp_path / "s.jsonl"
    lines = [
        {"task_id": "HumanEval/0", "solution": tasks["HumanEval/0"].reference},
        {"task_id": "HumanEval/2", "completion": "    return 0\n"},
    ]
    samples.write_text("".join(json.dumps(line) + "\n" for line in lines))
    book = tmp_path / "b.ledger"
    assert proctor("verify", "--samples", str(samples), "--verifiers", "tests", "--k", "1", "--ledger", str(book)).returncode == 0
    (run,) = json.loads(proctor("audit", str(book), "--json").stdout)["runs"]
    assert (run["tasks"], run["proposals"], run["accepted"], run["verified_pass"]) == (2, 2, 1, 1)


def test_prove_inclusion_and_consistency_against_an_anchor(verified_ledger, tmp_path):
    anchor = tmp_path / "anchor.json"
    assert proctor("ledger", "checkpoint", str(verified_ledger), "--export", str(anchor)).returncode == 0
    size = json.loads(anchor.read_text())["size"]
    (tmp_path / "good.py").write_text("def inc(x):\n    return x + 1\n")
    proctor("verify", str(tmp_path / "t.toml"), str(tmp_path / "good.py"), "--verifiers", "tests", "--ledger", str(verified_ledger))
    included = proctor("ledger", "prove", str(verified_ledger), "3", "--anchor", str(anchor))
    proof = json.loads(included.stdout)
    assert included.returncode == 0 and proof["verified"] and proof["size"] == size and proof["entry"]["seq"] == 3
    assert proof["root"] == json.loads(anchor.read_text())["root"] and len(proof["proof"]) >= 1
    now = json.loads(proctor("ledger", "prove", str(verified_ledger), str(size + 2)).stdout)
    assert now["verified"] and now["size"] > size
    extends = proctor("ledger", "prove", str(verified_ledger), "--anchor", str(anchor))
    assert extends.returncode == 0 and json.loads(extends.stdout)["first"] == size

    forged = json.loads(anchor.read_text()) | {"root": "ab" * 32}
    (tmp_path / "forged.json").write_text(json.dumps(forged))
    for args in (["3"], []):
        done = proctor("ledger", "prove", str(verified_ledger), *args, "--anchor", str(tmp_path / "forged.json"))
        assert done.returncode == 1 and not json.loads(done.stdout)["verified"] and "does NOT verify" in done.stderr
    outside = proctor("ledger", "prove", str(verified_ledger), str(size + 1), "--anchor", str(anchor))
    assert outside.returncode == 2 and f"not in a tree of {size} entries" in outside.stderr
    assert proctor("ledger", "prove", str(verified_ledger)).returncode == 2


def test_verify_and_run_sign_their_checkpoints_with_key(tmp_path):
    public = proctor("ledger", "keygen", str(tmp_path / "key.pem")).stdout.strip()
    (tmp_path / "t.toml").write_text(TOML_TASK)
    (tmp_path / "good.py").write_text("def inc(x):\n    return x + 1\n")
    book = str(tmp_path / "signed.ledger")
    key = ["--key", str(tmp_path / "key.pem")]
    assert proctor("verify", str(tmp_path / "t.toml"), str(tmp_path / "good.py"), "--ledger", book, *key).returncode == 0
    assert proctor("run", "humaneval:HumanEval/0", "--ledger", book, *key).returncode == 0
    done = proctor("audit", book, "--trusted-key", public, "--json")
    assert done.returncode == 0, done.stdout
    assert json.loads(done.stdout)["integrity"]["signed_checkpoints"] == 2


def test_show_says_when_more_entries_follow_than_it_printed_and_refuses_an_unknown_kind(verified_ledger):
    shown = proctor("ledger", "show", str(verified_ledger), "--limit", "2")
    assert shown.returncode == 0 and len(shown.stdout.splitlines()) == 2
    assert "more entries follow from 3" in shown.stderr and "--limit 0" in shown.stderr
    everything = proctor("ledger", "show", str(verified_ledger), "--limit", "0")
    assert everything.returncode == 0 and "more entries follow" not in everything.stderr
    bogus = proctor("ledger", "show", str(verified_ledger), "--kind", "bogus")
    assert bogus.returncode == 2 and "'bogus' is no kind of entry" in bogus.stderr and "verdict" in bogus.stderr


def test_commands_leave_no_hypothesis_cache_where_they_run(tmp_path):
    (tmp_path / "c.py").write_text("def flip_case(string):\n    return string.swapcase()\n")
    done = proctor("verify", "humaneval:HumanEval/27", str(tmp_path / "c.py"), cwd=tmp_path)
    assert done.returncode == 0 and not (tmp_path / ".hypothesis").exists()


def test_report_refuses_an_output_that_is_a_file_in_one_line(verified_ledger, tmp_path):
    (tmp_path / "taken").write_text("keep me")
    done = proctor("report", str(verified_ledger), "-o", str(tmp_path / "taken"))
    assert done.returncode == 2 and "is not a directory" in done.stderr and "Traceback" not in done.stderr
    assert (tmp_path / "taken").read_text() == "keep me"


def test_verify_with_a_ledger_decides_as_gate_does(verified_ledger, tmp_path, namespace_sandbox):
    from proctor.ledger import Ledger, Recorder
    from proctor.loop import gate
    from proctor.models import Proposal
    from proctor.tasks import load_task_file
    from proctor.verifiers import named_pipeline

    with Ledger(verified_ledger, readonly=True) as book:
        by_cli = [(e.data["outcome"], e.data["reason"]) for e in book.entries(kinds=["decision"])]
    task = load_task_file(tmp_path / "t.toml")["inc"]
    expected = []
    with Ledger(tmp_path / "g.ledger") as book:
        for name in ("good.py", "bad.py"):
            proposal = Proposal(task_id=task.id, code=(tmp_path / name).read_text())
            decided = gate(task, proposal, named_pipeline(["hack_scan", "tests"], namespace_sandbox), Recorder(book)).decision
            expected.append((decided.outcome, decided.reason))
    assert [outcome for outcome, _ in by_cli] == [outcome for outcome, _ in expected] == ["accept", "reject"]
    assert [reason.split(" — ")[0] for _, reason in by_cli] == [reason.split(" — ")[0] for _, reason in expected]


def test_the_ledger_says_what_isolated_each_verdict_and_audit_flags_an_unisolated_one(tmp_path):
    from proctor.ledger import Ledger

    (tmp_path / "t.toml").write_text(TOML_TASK)
    (tmp_path / "c.py").write_text("def inc(x):\n    return x + 1\n")
    book = tmp_path / "p.ledger"
    assert proctor("verify", str(tmp_path / "t.toml"), str(tmp_path / "c.py"), "--ledger", str(book)).returncode == 0
    unsafe = proctor(
        "verify", str(tmp_path / "t.toml"), str(tmp_path / "c.py"), "--ledger", str(book), "--sandbox", "local", "--unsafe-local"
    )
    assert unsafe.returncode == 0
    with Ledger(book, readonly=True) as ledger:
        ran = [e.data["sandbox"] for e in ledger.entries(kinds=["verdict"])]
        starts = [e.data for e in ledger.entries(kinds=["run_start"])]
    assert [(r["backend"], r["isolated"]) for r in ran] == [("namespace", True), ("local", False)]
    assert all({"id", "version"} <= set(v) for s in starts for v in s["verifiers"]) and all(s["verifiers"] for s in starts)
    assert {v["id"] for v in starts[0]["verifiers"]} >= {"tests", "properties", "smt", "hack_scan"}
    audited = proctor("audit", str(book))
    assert audited.returncode == 0 and "1 isolated, 0 unisolated" in audited.stdout and "UNISOLATED: 1 verdict" in audited.stdout


def test_a_c2sp_checkpoint_is_a_signed_note_transparency_log_tooling_reads(verified_ledger, tmp_path):
    import base64
    import re

    from proctor.ledger._note import verify

    proctor("ledger", "keygen", str(tmp_path / "key.pem"))
    note = tmp_path / "checkpoint.note"
    done = proctor(
        "ledger", "checkpoint", str(verified_ledger), "--key", str(tmp_path / "key.pem"), "--export", str(note), "--format", "c2sp"
    )
    assert done.returncode == 0, done.stderr
    vkey = re.search(r"verifier key: (\S+)", done.stderr).group(1)
    made = json.loads(done.stdout)
    origin, size, root = verify(note.read_text(), vkey).splitlines()  # exactly the three lines of c2sp.org/tlog-checkpoint
    assert origin == vkey.split("+")[0] == f"proctor.ledger/{made['ledger']}"
    assert int(size) == made["size"] and base64.b64decode(root).hex() == made["root"]
    assert note.read_text().count("\n\n") == 1 and note.read_text().splitlines()[-1].startswith(f"\u2014 {origin} ")


def test_a_c2sp_checkpoint_needs_a_key_and_a_file(verified_ledger, tmp_path):
    done = proctor("ledger", "checkpoint", str(verified_ledger), "--format", "c2sp", "--export", str(tmp_path / "c.note"))
    assert done.returncode == 2 and "give --export FILE and --key KEY" in done.stderr and "Traceback" not in done.stderr
    done = proctor("ledger", "checkpoint", str(verified_ledger), "--format", "xml")
    assert done.returncode == 2 and "--format must be json or c2sp" in done.stderr
