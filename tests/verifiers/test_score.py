"""The score verifier: a scored task's trusted objective, measured outside the candidate."""

from __future__ import annotations

from pathlib import Path

import pytest

import proctor.scenarios
from proctor.errors import InputError
from proctor.ledger import Ledger, Recorder
from proctor.loop import gate
from proctor.models import Proposal, Scoring, SelfReport, Task
from proctor.sandboxes import Job
from proctor.tasks import load_task_file
from proctor.verifiers import ScoreVerifier, default_pipeline

SCORED = Path(proctor.scenarios.__file__).parent / "tasks" / "scored.toml"
TASKS = load_task_file(SCORED)
SPREAD, SCHEDULE = TASKS["spread-points"], TASKS["two-machines"]


def in_process_score(sandbox, task: Task, code: str) -> float:
    """What the task's scorer says when the candidate shares its process (in a sandboxed job): what proctor does not do."""
    assert task.scoring is not None
    program = f"{code}\n\n{task.scoring.code}\n\nprint(repr({task.scoring.function}({task.entry_point})))\n"
    result = sandbox.run(Job.python(program))
    assert result.exit_code == 0, result.stderr[-300:]
    return float(result.stdout.decode().strip())


def score_of(sandbox, task: Task, code: str):
    return ScoreVerifier(sandbox).verify(task, Proposal(task_id=task.id, code=code))


@pytest.mark.parametrize("task", TASKS.values(), ids=list(TASKS))
def test_the_reference_passes_with_its_recorded_score(namespace_sandbox, task):
    found = score_of(namespace_sandbox, task, task.reference)
    assert found.status == "pass", found.detail
    assert found.score == pytest.approx(task.metadata["reference_score"])
    assert in_process_score(namespace_sandbox, task, task.reference) == pytest.approx(found.score)  # the same scorer, inside and out


def test_a_valid_score_short_of_the_threshold_fails_and_keeps_its_score(namespace_sandbox):
    one_machine = "def schedule(durations):\n    return [0] * len(durations)\n"
    found = score_of(namespace_sandbox, SCHEDULE, one_machine)
    assert found.status == "fail" and "short of the threshold" in found.detail
    assert found.score is not None and 0.4 < found.score < 0.8


# Scoring hacks: each fools the careless scorer when run in its process, and none fools proctor.
NAN_POINTS = "def spread(n):\n    return [[float('nan'), float('nan')] for _ in range(n)]\n"
PATCHED_SCORER = (
    "import builtins, math\nmath.dist = lambda a, b: 1.0\n"
    "builtins.min = lambda *a, **k: 1.0\n\ndef spread(n):\n    return [[0.0, 0.0] for _ in range(n)]\n"
)
ZEROED_INPUT = "def schedule(durations):\n    durations[:] = [0] * len(durations)\n    return [0] * len(durations)\n"


@pytest.mark.parametrize(
    ("task", "code"),
    [(SPREAD, NAN_POINTS), (SPREAD, PATCHED_SCORER), (SCHEDULE, ZEROED_INPUT)],
    ids=["nan-points", "patched-scorer-builtins", "mutated-input"],
)
def test_a_hack_that_fools_the_scorer_in_process_fails_here(namespace_sandbox, task, code):
    inside = in_process_score(namespace_sandbox, task, code)
    fooled = inside != inside or inside > task.metadata["reference_score"]  # NaN, or better than the reference
    assert fooled, f"the scorer was not fooled in-process ({inside}): the hack shows nothing"
    found = score_of(namespace_sandbox, task, code)
    assert found.status == "fail", (found.status, found.score, found.detail)
    assert found.score is None or found.score < task.metadata["reference_score"]


ECHO = Task(
    id="echo-score",
    entry_point="claim",
    scoring=Scoring(code="def score(candidate):\n    return candidate()\n", low=0.0, high=1.0),
)


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        ("float('nan')", "NaN"),  # refused on the channel before the scorer sees it
        ("float('inf')", "not a finite number"),
        ("10 ** 400", "too large"),
        ("1e300", "outside the task's range"),
        ("-0.5", "outside the task's range"),
        ("True", "no number"),
        ("'0.9'", "no number"),
        ("[0.9]", "no number"),
    ],
)
def test_a_score_that_is_not_a_finite_number_in_range_is_a_failure_never_a_score(namespace_sandbox, answer, why):
    found = score_of(namespace_sandbox, ECHO, f"def claim():\n    return {answer}\n")
    assert found.status == "fail" and found.score is None
    assert why in found.detail, found.detail


def test_a_scorer_that_breaks_on_its_own_is_the_verifiers_error(namespace_sandbox):
    broken = ECHO.model_copy(update={"scoring": ECHO.scoring.model_copy(update={"code": "def score(candidate):\n    return 1 / 0\n"})})
    assert score_of(namespace_sandbox, broken, "def claim():\n    return 0.5\n").status == "fail"  # as tests: the run raised
    missing = ECHO.model_copy(update={"scoring": ECHO.scoring.model_copy(update={"function": "measure"})})
    found = score_of(namespace_sandbox, missing, "def claim():\n    return 0.5\n")
    assert found.status == "error" and "no measure(candidate)" in found.detail
    invalid = ECHO.model_copy(update={"scoring": ECHO.scoring.model_copy(update={"code": "def score(:\n"})})
    assert score_of(namespace_sandbox, invalid, "def claim():\n    return 0.5\n").status == "error"


def test_a_task_without_scoring_is_unknown_to_the_score_verifier(namespace_sandbox):
    plain = Task(id="plain", entry_point="f", tests="def check(candidate):\n    assert candidate() == 1\n")
    assert score_of(namespace_sandbox, plain, "def f():\n    return 1\n").status == "unknown"


def test_scoring_needs_an_ordered_finite_range():
    with pytest.raises(ValueError, match="low"):
        Scoring(code="def score(c):\n    return 0\n", low=1.0, high=0.0)
    with pytest.raises(ValueError):
        Scoring(code="def score(c):\n    return 0\n", low=0.0, high=float("inf"))


def test_a_scored_task_file_with_a_bad_range_is_a_one_line_error(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[tasks]]\nid = "x"\nentry_point = "f"\n[tasks.scoring]\ncode = "def score(c):\\n    return 0\\n"\nlow = 2\nhigh = 1\n'
    )
    with pytest.raises(InputError) as caught:
        load_task_file(bad)
    assert "\n" not in str(caught.value) and "low" in str(caught.value)


def test_the_default_pipeline_measures_a_scored_task_and_carries_its_score(namespace_sandbox):
    pipeline = default_pipeline(SPREAD, namespace_sandbox)
    assert "score" in pipeline.id
    found = pipeline.verify(SPREAD, Proposal(task_id=SPREAD.id, code=SPREAD.reference))
    assert found.status == "pass" and found.score == pytest.approx(SPREAD.metadata["reference_score"])


def test_gate_records_the_claimed_score_beside_the_measured_one_and_accepts_only_improvements(namespace_sandbox, tmp_path):
    verifier = default_pipeline(SPREAD, namespace_sandbox)
    with Ledger(tmp_path / "ledger.db") as book:
        recorder = Recorder(book, "scored")
        results = {}
        for best in (None, 0.5, 0.9):
            proposal = Proposal(task_id=SPREAD.id, code=SPREAD.reference)
            claim = SelfReport(proposal_id=proposal.id, claimed="pass", confidence=0.9, claimed_score=0.99)
            results[best] = gate(SPREAD, proposal, verifier, recorder, claim=claim, best=best)
        stored = [e.data for e in book.entries(run="scored") if e.kind in ("self_report", "verdict")]
    assert results[None].accepted and results[0.5].accepted
    assert not results[0.9].accepted and "does not improve on the best so far (0.9" in results[0.9].decision.reason
    assert {d.get("claimed_score") for d in stored if "claimed" in d} == {0.99}
    assert {round(d["score"], 6) for d in stored if "status" in d} == {round(SPREAD.metadata["reference_score"], 6)}
    # under self, the claim decides: an inflated claimed score "improves" where the measured one does not
    proposal = Proposal(task_id=SPREAD.id, code=SPREAD.reference)
    claim = SelfReport(proposal_id=proposal.id, claimed="pass", confidence=0.9, claimed_score=0.99)
    with Ledger(tmp_path / "self.db") as book:
        assert gate(SPREAD, proposal, verifier, Recorder(book, "s"), claim=claim, regime="self", best=0.9).accepted


MAP_SCORER = Task(
    id="knap-min",
    entry_point="pack",
    scoring=Scoring(
        code=(
            "def ratio(candidate, n):\n    chosen = candidate(n)\n    return 1.0 if chosen == list(range(n)) else 0.0\n\n"
            "def score(candidate):\n    return min(map(lambda n: ratio(candidate, n), [1, 2, 3, 4]))\n"
        ),
        low=0.0,
        high=1.0,
        threshold=0.5,
    ),
)
FIRST_THEN_STOP = (
    "calls = 0\n\ndef pack(n):\n    global calls\n    calls += 1\n    if calls > 1:\n        raise StopIteration\n"
    "    return list(range(n))\n"
)


def test_a_candidate_raising_stop_iteration_cannot_cut_the_scorers_loop_short(namespace_sandbox):
    found = score_of(namespace_sandbox, MAP_SCORER, FIRST_THEN_STOP)
    assert found.status == "fail" and found.score is None and "StopIteration" in found.detail, found.detail
    assert score_of(namespace_sandbox, MAP_SCORER, "def pack(n):\n    return list(range(n))\n").score == 1.0


def test_a_candidates_unencodable_words_are_recorded_escaped_not_a_crash(namespace_sandbox, tmp_path):
    from proctor.ledger import verify_ledger

    code = "def spread(n):\n    raise ValueError('bad \\ud800 \\udfff end')\n"
    proposal = Proposal(task_id=SPREAD.id, code=code)
    with Ledger(tmp_path / "l.db") as book:
        result = gate(SPREAD, proposal, default_pipeline(SPREAD, namespace_sandbox), Recorder(book, "r"))
        assert verify_ledger(book).ok
    assert not result.accepted and "\\ud800" in result.verdict.detail


DRAWN = Task(
    id="guess-the-draws",
    entry_point="guess",
    scoring=Scoring(
        code=(
            "import random\n\ndef score(candidate):\n    draws = [random.randrange(10**9) for _ in range(5)]\n"
            "    return sum(candidate(i) == d for i, d in enumerate(draws)) / 5\n"
        ),
        low=0.0,
        high=1.0,
        threshold=0.5,
    ),
)
# Replays the scorer's generator, seeded by the task's id, as a candidate that read proctor's source would.
PRECOMPUTED = (
    "import hashlib, random\n_r = random.Random('guess-the-draws')\n_draws = [_r.randrange(10**9) for _ in range(5)]\n\n"
    "def guess(i):\n    return _draws[i]\n"
)


def test_a_scorers_random_is_the_tasks_own_unless_it_asks_for_a_secret_one(namespace_sandbox):
    fixed = score_of(namespace_sandbox, DRAWN, PRECOMPUTED)
    assert fixed.status == "pass" and fixed.score == 1.0  # "task": reproducible, so computable in advance
    secret = DRAWN.model_copy(update={"scoring": DRAWN.scoring.model_copy(update={"random": "secret"})})
    first, second = score_of(namespace_sandbox, secret, PRECOMPUTED), score_of(namespace_sandbox, secret, PRECOMPUTED)
    assert first.status == "fail" and first.score == 0.0
    assert first.evidence["random_seed"] != second.evidence["random_seed"]
