"""``proctor audit`` and ``proctor ledger``: verify, summarise, show, export and anchor a ledger."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from proctor._display import shown
from proctor._files import check_writable
from proctor.errors import InputError, IntegrityError

if TYPE_CHECKING:
    from proctor.ledger import Entry, IntegrityReport, Ledger

ledger_app = typer.Typer(help="Show, export, checkpoint and sign proctor ledgers.", no_args_is_help=True)

KEY_HELP = "Sign the ledger's checkpoints with this Ed25519 private key (see `proctor ledger keygen`)."
LEDGER_HELP = "A ledger file written by proctor (read-only: safe on a ledger another process is writing)."


def open_ledger(path: Path, *, readonly: bool = True) -> Ledger:
    from proctor.ledger import Ledger

    return Ledger(path, readonly=readonly)


def open_writer(path: Path, key: Path | None) -> Ledger:
    """The ledger at ``path`` for appending, signing its checkpoints with ``key`` when given."""
    from proctor.ledger import Ledger, load_key

    return Ledger(path, signing_key=load_key(key) if key else None)


def audit(
    ledger: Path = typer.Argument(..., help=LEDGER_HELP, show_default=False),
    anchors: list[Path] = typer.Option(
        [], "--anchor", help="A checkpoint exported earlier (repeatable): catches truncation and rewrites."
    ),
    trusted_key: str = typer.Option(
        None, "--trusted-key", help="Hex Ed25519 public key every checkpoint and anchor must be signed with."
    ),
    run: str = typer.Option(None, "--run", help="Summarise only this run."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object instead of tables.", metavar=""),
) -> None:
    """Verify a ledger's integrity, then summarise each run; exit 1 on any integrity failure.

    Checks the hash chain, every payload's canonical form, stored contents, checkpoints (and
    their signatures) and each --anchor; names the first bad entry and what is wrong with it.
    Then, per run: proposals, acceptances, the claim-vs-verdict confusion matrix, the false-accept
    rate of the proposer's claims, the GV-gap and accepted hacks. Without an anchor, a truncated
    ledger or an older copy restored in its place cannot be told from a shorter run.
    """
    from proctor.ledger import Auditor, read_anchor, verify_ledger

    kept = [read_anchor(path) for path in anchors]
    if trusted_key is not None and not _is_hex_key(trusted_key):
        raise InputError(f"--trusted-key must be 64 hex digits (an Ed25519 public key), got {trusted_key!r}")
    auditor = Auditor(run)
    with open_ledger(ledger) as book:
        report = verify_ledger(book, kept, trusted_key=trusted_key, visit=auditor.visit)
    runs = [a.summary() for a in auditor.runs.values()]
    if as_json:
        typer.echo(json.dumps({"ledger": str(ledger), "integrity": report.as_dict(), "runs": runs}, default=dict))
    else:
        _print_integrity(ledger, report)
        for summary in runs:
            _print_run(summary)
    if not report.ok:
        raise typer.Exit(IntegrityError.exit_code)


def _is_hex_key(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text)


def _print_integrity(path: Path, report: IntegrityReport) -> None:
    if report.ok:
        signed = f", {report.signed_checkpoints} signed" if report.signed_checkpoints else ""
        anchors = f", {report.anchors} anchor(s) match" if report.anchors else ", no anchor given"
        typer.secho(f"{path}: integrity OK: {report.entries} entries, {report.checkpoints} checkpoint(s){signed}{anchors}", fg="green")
        return
    typer.secho(f"{path}: INTEGRITY FAILURE: {shown(str(report.problems[0]))}", fg="red", bold=True)
    for problem in report.problems[1:]:
        typer.echo(f"  also {shown(str(problem))}")
    if report.truncated:
        typer.echo("  … and more")


def _print_run(s: dict[str, Any]) -> None:
    typer.echo(f"\nrun {shown(str(s['run']))}  ({shown(str(s['started_at'] or '?'))} → {shown(str(s['ended_at'] or 'not ended'))})")
    typer.echo(f"  proposals {s['proposals']}, accepted {s['accepted']}, verified pass {s['verified_pass']}, tasks {s['tasks']}")
    typer.echo("  claim      verified pass   verified not pass")
    for claim, row in s["claims"].items():
        if row["verified_pass"] or row["verified_not_pass"]:
            typer.echo(f"  {claim:<10} {row['verified_pass']:>13}   {row['verified_not_pass']:>17}")
    typer.echo(
        f"  claims' false-accept rate {_pct(s['claim_false_accept_rate'])}, false-reject rate {_pct(s['claim_false_reject_rate'])}"
    )
    gap = "n/a (nothing accepted)" if s["gv_gap"] is None else f"{s['gv_gap']:+.3f}"
    typer.echo(f"  GV-gap {gap} (truth: {s['truth']}), accepted hacks {s['accepted_hacks']}")
    _print_isolation(s.get("isolation") or {})


def _print_isolation(isolation: dict[str, Any]) -> None:
    """How the run's verdicts ran the candidate; a verdict made without isolation is flagged."""
    backends = shown(", ".join(isolation.get("backends", [])) or "none")
    ran = f"  verdicts: {isolation.get('isolated', 0)} isolated, {isolation.get('unisolated', 0)} unisolated"
    typer.echo(f"{ran}, {isolation.get('not_run', 0)} without running the candidate (backends: {backends})")
    if isolation.get("unisolated"):
        typer.secho(
            f"  UNISOLATED: {isolation['unisolated']} verdict(s) ran the candidate with no isolation (--unsafe-local)",
            fg="red",
            bold=True,
        )


def _pct(rate: float | None) -> str:
    return "n/a" if rate is None else f"{rate:.1%}"


@ledger_app.command("show")
def show(
    ledger: Path = typer.Argument(..., help=LEDGER_HELP, show_default=False),
    run: str = typer.Option(None, "--run", help="Only this run's entries."),
    kinds: list[str] = typer.Option([], "--kind", help="Only entries of this kind (repeatable): proposal, verdict, decision, ..."),
    since: int = typer.Option(1, "--since", min=1, help="Start at this entry number."),
    limit: int = typer.Option(50, "--limit", min=0, help="At most this many entries (0: all)."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per line, payload decoded.", metavar=""),
) -> None:
    """List a ledger's entries in order: number, time, kind, run and a one-line summary."""
    from proctor.ledger import EVENT_KINDS

    unknown = sorted(set(kinds) - set(EVENT_KINDS))
    if unknown:
        raise InputError(f"--kind {unknown[0]!r} is no kind of entry (kinds: {', '.join(EVENT_KINDS)})")
    damaged = []
    with open_ledger(ledger) as book:
        for count, entry in enumerate(book.entries(start=since, run=run, kinds=kinds or None), 1):
            if limit and count > limit:  # one more exists than was asked for: say so, never stop silently
                typer.echo(f"… more entries follow from {entry.seq}: --since {entry.seq} shows the next, --limit 0 all", err=True)
                break
            try:
                _show_entry(entry, as_json)
            except IntegrityError:  # shown as it is, and named below: show is how one looks at damage
                damaged.append(entry.seq)
                _show_damaged(entry, as_json)
    if damaged:
        listed = ", ".join(map(str, damaged[:10])) + (" …" if len(damaged) > 10 else "")
        typer.secho(f"proctor: damaged entries: {listed}; run `proctor audit {ledger}` to see what changed", err=True, fg="red")
        raise typer.Exit(IntegrityError.exit_code)


def _show_entry(entry: Entry, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(entry.as_dict()))  # ASCII: a terminal never meets a raw control or bidi character
    else:
        typer.echo(shown(f"{_columns(entry)}  {_gist(entry.data)}"))


def _show_damaged(entry: Entry, as_json: bool) -> None:
    """The entry's columns, and its payload as stored (not to be trusted)."""
    if as_json:
        stored = entry.payload.decode(errors="replace")
        typer.echo(json.dumps({**entry.columns(), "damaged": True, "payload": stored}))
    else:
        stored = entry.payload.decode(errors="replace")[:80]
        typer.secho(shown(f"{_columns(entry)}  DAMAGED: {stored}"), fg="red")


def _columns(entry: Entry) -> str:
    return f"{entry.seq:>6}  {entry.at[:19]}  {entry.kind:<14} {(entry.run or '-')[:12]:<12}"


def _gist(data: dict[str, Any]) -> str:
    keys = ("task_id", "proposal_id", "verifier", "status", "claimed", "outcome", "detail", "reason")
    parts = [f"{k}={data[k]}" for k in keys if data.get(k) not in (None, "")]
    return " ".join(parts)[:110]


@ledger_app.command("export")
def export_ledger(
    ledger: Path = typer.Argument(..., help=LEDGER_HELP, show_default=False),
    output: Path = typer.Option(..., "-o", "--output", help="The file to write.", show_default=False),
    fmt: str = typer.Option(None, "--format", help="jsonl, csv or parquet (default: from the output's suffix)."),
    run: str = typer.Option(None, "--run", help="Only this run's entries."),
) -> None:
    """Export entries (payload decoded) as JSONL, CSV, or Parquet (needs pyarrow)."""
    from proctor.ledger import FORMATS, export

    chosen = fmt or output.suffix.lstrip(".").lower()
    if chosen not in FORMATS:
        raise InputError(f"unknown export format {chosen!r}: pass --format with one of {', '.join(FORMATS)}")
    with open_ledger(ledger) as book, _progress_bar("exporting", None if run else book.size) as progress:
        count = export(book, output, chosen, run=run, progress=progress)
    typer.echo(f"wrote {count} entries to {output}", err=True)


@contextmanager
def _progress_bar(what: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A bar on stderr (when it is a terminal) that the yielded callable moves to a count."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn(what), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True, disable=not sys.stderr.isatty()) as bar:
        task = bar.add_task(what, total=total)
        yield lambda done: bar.update(task, completed=done)


@ledger_app.command("checkpoint")
def checkpoint(
    ledger: Path = typer.Argument(..., help="The ledger to checkpoint (opened for writing).", show_default=False),
    export_to: Path = typer.Option(None, "--export", help="Also write the checkpoint here, to keep (anchor) somewhere else."),
    key: Path = typer.Option(None, "--key", help="Sign with this Ed25519 private key (see `proctor ledger keygen`)."),
    export_format: str = typer.Option(
        "json",
        "--format",
        help="The exported file's format: json (proctor's anchor, for `proctor audit --anchor`) or c2sp "
        "(a C2SP tlog-checkpoint signed note that transparency-log tooling reads; needs --key).",
    ),
) -> None:
    """Record a checkpoint (size, Merkle root, head) of the ledger as it is now, and print it.

    Keep the exported file outside the ledger's reach (another machine, a commit, a timestamping
    service); `proctor audit --anchor FILE` later proves the ledger still extends it.
    """
    from proctor.ledger import Ledger, load_key, write_anchor

    if not ledger.exists():
        raise InputError(f"{ledger}: no such ledger")
    if export_format not in ("json", "c2sp"):
        raise InputError(f"--format must be json or c2sp (got {export_format!r})")
    if export_format == "c2sp" and (export_to is None or key is None):
        raise InputError("--format c2sp writes a signed note: give --export FILE and --key KEY")
    if export_to is not None:
        check_writable(export_to)  # before a checkpoint is recorded
    signing_key = load_key(key) if key else None
    with Ledger(ledger, signing_key=signing_key) as book:
        if book.size == 0:
            raise InputError(f"{ledger}: the ledger is empty; there is nothing to checkpoint")
        made = book.checkpoint()
        if signing_key is not None and made.signature is None:
            made = made.signed(signing_key)  # the head was checkpointed unsigned before: sign the export
    if export_to is not None and export_format == "c2sp":
        _write_note(made, signing_key, export_to)
    elif export_to is not None:
        write_anchor(made, export_to)
        typer.echo(f"wrote checkpoint to {export_to}", err=True)
    typer.echo(made.model_dump_json())


def _write_note(made: Any, key: Any, path: Path) -> None:
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    from proctor._files import written_whole
    from proctor.ledger._note import origin, signed_checkpoint, verifier_key

    with written_whole(path) as partial:
        partial.write_text(signed_checkpoint(made, key), encoding="utf-8")
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    typer.echo(f"wrote a C2SP signed checkpoint to {path}; its verifier key: {verifier_key(origin(made), public)}", err=True)


@ledger_app.command("keygen")
def keygen(key: Path = typer.Argument(..., help="Where to write the new private key (must not exist).", show_default=False)) -> None:
    """Create an Ed25519 key for signing checkpoints; prints its public key for --trusted-key."""
    from proctor.ledger import generate_key

    check_writable(key)
    try:
        public = generate_key(key)
    except FileExistsError:
        raise InputError(f"{key}: already exists; refusing to overwrite a key") from None
    typer.echo(public)


@ledger_app.command("prove")
def prove(
    ledger: Path = typer.Argument(..., help=LEDGER_HELP, show_default=False),
    seq: int = typer.Argument(
        None, min=1, help="The entry number to prove included (omit with --anchor: prove consistency).", show_default=False
    ),
    anchor: Path = typer.Option(
        None, "--anchor", help="A checkpoint exported earlier: prove against its root instead of the current one."
    ),
) -> None:
    """Prove an entry is in the ledger's Merkle tree, or that the ledger extends an anchor; exit 1 if the proof fails.

    With SEQ: an RFC 6962 inclusion proof of that entry in the tree of the anchor (or of the whole
    ledger now). Without SEQ, with --anchor: a consistency proof that the ledger now extends the
    anchored one. Prints the proof as JSON, checked element by element as RFC 9162 says, so it can
    be handed to someone who trusts only the root.
    """
    from proctor.ledger import read_anchor

    if seq is None and anchor is None:
        raise InputError("give an entry number to prove included, or --anchor FILE to prove the ledger extends it")
    kept = read_anchor(anchor) if anchor is not None else None
    with open_ledger(ledger) as book:
        if kept is not None and kept.ledger != book.ledger_id:
            raise InputError(f"{anchor}: anchors ledger {kept.ledger}, but {ledger} is ledger {book.ledger_id}")
        proof = _inclusion(book, seq, kept) if seq is not None else _consistency(book, kept)
    typer.echo(json.dumps(proof))
    if not proof["verified"]:
        typer.secho("proctor: the proof does NOT verify", err=True, fg="red")
        raise typer.Exit(IntegrityError.exit_code)


def _inclusion(book: Ledger, seq: int, kept: Any) -> dict[str, Any]:
    from proctor.ledger import leaf_hash, root, verify_inclusion

    size = kept.size if kept is not None else book.size
    if seq > size:
        raise InputError(f"entry {seq} is not in a tree of {size} entries")
    entry = next(book.entries(start=seq))
    leaves = book.leaves(size)
    tree_root = bytes.fromhex(kept.root) if kept is not None else root(leaves)
    path = book.inclusion_proof(seq, size)
    ok = verify_inclusion(leaf_hash(entry.payload), seq - 1, size, path, tree_root)
    return {
        "ledger": book.ledger_id,
        "entry": {"seq": seq, "id": entry.id, "kind": entry.kind, "leaf": leaf_hash(entry.payload).hex()},
        "size": size,
        "root": tree_root.hex(),
        "proof": [h.hex() for h in path],
        "verified": ok,
    }


def _consistency(book: Ledger, kept: Any) -> dict[str, Any]:
    from proctor.ledger import root, verify_consistency

    if kept.size > book.size:
        return {
            "ledger": book.ledger_id,
            "first": kept.size,
            "size": book.size,
            "verified": False,
            "why": "the ledger is shorter than the anchor",
        }
    new_root = root(book.leaves(book.size))
    path = book.consistency_proof(kept.size, book.size)
    ok = verify_consistency(kept.size, bytes.fromhex(kept.root), book.size, new_root, path)
    return {
        "ledger": book.ledger_id,
        "first": kept.size,
        "first_root": kept.root,
        "size": book.size,
        "root": new_root.hex(),
        "proof": [h.hex() for h in path],
        "verified": ok,
    }
