"""proctor at other systems' extension points: rewards for RL trainers, scorers for eval harnesses.

Each adapter extracts the code from a model's output, verifies it against its proctor task with the
external verifiers (sandboxed, in parallel), optionally records every verification in a ledger,
and answers in the host system's own contract:

- ``proctor.integrations.trl.reward_function``: a TRL ``GRPOTrainer`` reward function;
- ``proctor.integrations.verl.compute_score``: verl's ``compute_score``;
- ``proctor.integrations.prime.reward_function``: a PrimeIntellect ``verifiers`` rubric function.

Accepted is 1.0 and rejected 0.0; a verdict that is the verifiers' own ``unknown`` or ``error`` is
``None`` where the host can skip a reward (TRL), else 0.0; a sandbox that cannot run raises, never a
reward. ``Judge`` is what they share.
"""

from proctor.integrations._judge import Judge, Judged, completion_text

__all__ = ["Judge", "Judged", "completion_text"]
