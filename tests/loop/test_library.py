"""In-context expert iteration: exemplars enter by each regime's rule, are chosen per seed, and survive a resume."""

from __future__ import annotations

from pathlib import Path

import pytest

import proctor.scenarios
from proctor.ledger import Ledger
from proctor.loop import ScriptedProposer, run_loop
from proctor.loop._library import Exemplar, LibraryProposer, accepted_exemplars, choose
from proctor.models import Task
from proctor.scenarios import load_suite, run_suite
from proctor.tasks import load_task_file
from proctor.verifiers import default_pipeline

EASY = Path(proctor.scenarios.__file__).parent / "tasks" / "easy.toml"
TASKS = load_task_file(EASY)
ADD, SQUARE = TASKS["add"], TASKS["square"]
WRONG_SQUARE = "def square(x: int) -> int:\n    return x + x\n"


def _events(path: Path, run: str) -> list[tuple[str, dict, tuple[str, ...]]]:
    with Ledger(path, readonly=True) as book:
        return [
            (e.kind, e.data, tuple(book.content(d) for d in (e.data.get("contents") or {}).values())) for e in book.entries(run=run)
        ]


@pytest.mark.parametrize(("regime", "kept"), [("external", {"add"}), ("self", {"add", "square"}), ("hybrid", {"add"})])
def test_exemplars_enter_only_by_the_regimes_own_rule(namespace_sandbox, tmp_path, regime, kept):
    proposer = ScriptedProposer({"add": [ADD.reference], "square": [WRONG_SQUARE]})  # claims pass for both
    pipeline = lambda task: default_pipeline(task, namespace_sandbox)  # noqa: E731
    run_loop([ADD, SQUARE], proposer, pipeline, tmp_path / "l.db", run="r", regime=regime, oracle=pipeline)
    library = accepted_exemplars(_events(tmp_path / "l.db", "r"), 1)
    assert {e.task_id for e in library} == kept
    assert {e.task_id: e.good for e in library} == {t: t == "add" for t in kept}  # the oracle's truth rides along
    assert all(e.code in (ADD.reference, WRONG_SQUARE) and e.round == 1 for e in library)


def test_exemplars_are_chosen_by_similarity_never_the_tasks_own_and_the_same_for_a_seed():
    library = [Exemplar(t.id, t.reference or "", 1, True) for t in TASKS.values()]
    prompts = {t.id: t.prompt for t in TASKS.values()}
    chosen = choose(SQUARE, library, prompts, 3, seed=0)
    assert len(chosen) == 3 and "square" not in {e.task_id for e in chosen}
    assert chosen == choose(SQUARE, library, prompts, 3, seed=0)
    tied = [Exemplar(f"t{i}", "", 1, True) for i in range(8)]  # no prompts: every one ties, the seed decides
    orders = {tuple(e.task_id for e in choose(SQUARE, tied, {}, 8, seed=s)) for s in range(6)}
    assert len(orders) > 1
    near = Task(id="twice", entry_point="twice", prompt='def twice(x: int) -> int:\n    """Return x multiplied by two."""\n')
    assert choose(near, library, prompts, 1, seed=0)[0].task_id == "square"  # "Return x multiplied by itself"


def test_a_library_proposer_shows_its_examples_to_a_model_and_names_them_in_the_proposal():
    class Recording(ScriptedProposer):
        def __init__(self, script):
            super().__init__(script)
            self.examples: list[str] = []

        def propose(self, task, feedback):
            self.seen = list(self.examples)
            return super().propose(task, feedback)

    inner = Recording({"square": [SQUARE.reference]})
    library = [Exemplar("add", ADD.reference or "", 1, True), Exemplar("square", "own", 1, True)]
    proposer = LibraryProposer(inner, library, {t.id: t.prompt for t in TASKS.values()}, 2, seed=0)
    proposal = proposer.propose(SQUARE, None)
    assert inner.seen == [ADD.reference] and proposal.metadata["exemplars"] == ["add"]


SUITE = """
name = "library-test"
tasks = "{tasks}"
limit = 5
seeds = [0]
regimes = ["external", "self"]
cycles = 2
rounds = 3
library = 2
verifiers = ["hack_scan", "tests"]
oracle = ["hack_scan", "tests"]

[[profiles]]
name = "p"
competence = 0.5
overconfidence = 0.8
hack = 0.1
"""


class _Stop(Exception):
    pass


def test_a_resumed_suite_rebuilds_the_same_library_from_the_ledger(tmp_path):
    (tmp_path / "suite.toml").write_text(SUITE.format(tasks=EASY))
    suite = load_suite(tmp_path / "suite.toml")
    run_suite(suite, tmp_path / "whole.ledger", workers=1)
    done: list[str] = []

    def stop_after_round_one(cell, events):
        done.append(cell.run)
        if len(done) == 2:  # both regimes' first rounds are in the ledger
            raise _Stop

    with pytest.raises(_Stop):
        run_suite(suite, tmp_path / "resumed.ledger", workers=1, on_run=stop_after_round_one)
    resumed = run_suite(suite, tmp_path / "resumed.ledger", workers=1)
    assert len(resumed.skipped) == 2 and len(resumed.executed) == 4

    def libraries(path: Path) -> dict[str, tuple[int, dict, list[str]]]:
        """Per run: its round, the library it drew on (size, wrong), and the exemplars each proposal was shown."""
        with Ledger(path, readonly=True) as book:
            starts = {e.run: e.data["config"]["scenario"] for e in book.entries(kinds=["run_start"])}
            shown: dict[str, list[str]] = {}
            for e in book.entries(kinds=["proposal"]):
                shown.setdefault(e.run, []).append(str(e.data["metadata"].get("exemplars")))
        return {run: (scenario["round"], scenario.get("library"), shown.get(run, [])) for run, scenario in starts.items()}

    whole, again = libraries(tmp_path / "whole.ledger"), libraries(tmp_path / "resumed.ledger")
    assert whole == again
    assert all(library == {"size": 0, "wrong": 0} for round_, library, _ in whole.values() if round_ == 1)
    assert any(library["size"] > 0 for round_, library, _ in whole.values() if round_ > 1)  # later rounds drew on a library
