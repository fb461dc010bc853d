"""Measure the verifiers themselves: how many faulty variants they kill, how many correct ones they refuse.

``mutants`` makes faulty variants of a reference, ``rewrites`` correct ones; ``measure`` settles each
mutant's truth by a differential check, runs the verifiers on every population and reports their
kill, false-reject and hack-acceptance rates (``proctor measure`` on the command line). ``synthesize``
makes repository tasks from a local repository by the same mutation (``proctor tasks synthesize``);
``tasks_from_instances`` from SWE-bench instances whose repository is cloned locally (``proctor tasks swebench``).
"""

from proctor.measure._mutants import OPERATORS, Mutant, mutants
from proctor.measure._rewrites import Rewrite, rewrites
from proctor.measure._run import PIPELINE, Candidate, measure, report
from proctor.measure._swebench import tasks_from_instances
from proctor.measure._synthesize import Synthesized, synthesize

__all__ = [
    "OPERATORS",
    "PIPELINE",
    "Candidate",
    "Mutant",
    "Rewrite",
    "measure",
    "mutants",
    "report",
    "rewrites",
    "Synthesized",
    "synthesize",
    "tasks_from_instances",
]
