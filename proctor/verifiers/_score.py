"""The ``score`` verifier: a scored task's trusted objective, in the driver, against the candidate in a sandbox.

The task's scoring code runs here, as tests do; the candidate runs in the sandbox and answers
calls through the channel as plain data, so it cannot reach the scorer: it cannot patch what
the scorer calls, hand it an object that compares as it likes, mutate the data the scorer keeps
(it gets a copy), or write the number itself. What comes back must be a finite number within the
task's range: NaN, an infinity, an out-of-range or non-numeric score is the candidate's failure.
"""

from __future__ import annotations

import math
import secrets
from typing import Any

from proctor.models import Limits, Proposal, Scoring, Task, Verdict, VerdictStatus
from proctor.sandboxes import Sandbox
from proctor.verifiers._base import Timer, digest, module_file, register_verifier, sandbox_name, verdict
from proctor.verifiers._driver import BOUNDARY_SOURCES, Proxy, TaskCodeError, exception_reason, short, task_namespace
from proctor.verifiers._remote import CANDIDATE_LIMITS, Fatal, Remote

LABEL = "scorer"


@register_verifier("score")
class ScoreVerifier:
    """Measures a scored task's objective on the candidate: ``pass`` with the score when it is a
    valid score (and meets the task's threshold, if it has one), ``fail`` otherwise.

    Args:
        sandbox: where candidates run.
        call_seconds: how long one call to the candidate may take.
        limits: the candidate's job limits (default: ``CANDIDATE_LIMITS``, shared by every verifier).
    """

    id = "score"

    def __init__(self, sandbox: Sandbox, *, call_seconds: float = 5.0, limits: Limits | None = None) -> None:
        self.sandbox, self.call_seconds = sandbox, call_seconds
        self.limits = limits or CANDIDATE_LIMITS
        config = {"call": call_seconds, "limits": self.limits.model_dump(), "sandbox": sandbox_name(sandbox)}
        self.version = digest(module_file("_score.py"), *BOUNDARY_SOURCES, config=config)

    def verify(self, task: Task, proposal: Proposal) -> Verdict:
        timer = Timer()
        scoring = task.scoring
        if scoring is None:
            return verdict(self, proposal, "unknown", "the task has no scoring function", timer)
        remote = Remote(self.sandbox, proposal.code, self.limits, self.call_seconds)  # NaN refused at the wire
        proxy = Proxy(task.entry_point, lambda args, kwargs: remote.call(task.entry_point, args, kwargs))
        seed = secrets.token_hex(16) if scoring.random == "secret" else None
        seeded = {"random_seed": seed} if seed else {}
        try:
            with remote:
                measured = _measure(task, scoring, proxy, seed)
        except Fatal as fatal:
            return verdict(self, proposal, "fail", fatal.reason, timer, remote.result, calls=proxy.calls)
        except TaskCodeError as exc:
            return verdict(self, proposal, "error", str(exc), timer, remote.result)
        except SystemError as exc:
            if not getattr(exc, "from_candidate", False):
                raise  # this interpreter broke: the verifier's error, never the candidate's failure
            return self._raised(exc, proposal, proxy, timer, remote)
        except Exception as exc:  # noqa: BLE001  (the scorer failing on the candidate's answers is the candidate failing)
            return self._raised(exc, proposal, proxy, timer, remote)
        if remote.fatal is not None:  # caught by the scoring code, still a failure
            return verdict(self, proposal, "fail", remote.fatal.reason, timer, remote.result, calls=proxy.calls)
        problem = invalid_score(measured, scoring)
        if problem:
            return verdict(self, proposal, "fail", problem, timer, remote.result, calls=proxy.calls, got=short(measured))
        score = float(measured)
        met = scoring.meets_threshold(score)
        detail = f"score {score:g}" + ("" if met else f", short of the threshold {scoring.threshold:g} ({scoring.goal})")
        status: VerdictStatus = "pass" if met else "fail"
        found = verdict(self, proposal, status, detail, timer, remote.result, calls=proxy.calls, score=score, **seeded)
        return found.model_copy(update={"score": score})

    def _raised(self, exc: Exception, proposal: Proposal, proxy: Proxy, timer: Timer, remote: Remote) -> Verdict:
        reason = exception_reason(exc, proxy, LABEL)
        return verdict(self, proposal, "fail", reason, timer, remote.result, calls=proxy.calls, **proxy.last)


def _measure(task: Task, scoring: Scoring, proxy: Proxy, seed: str | None) -> Any:
    namespace = task_namespace(task, scoring.code, LABEL, seed)
    function = namespace.get(scoring.function)
    if not callable(function):
        raise TaskCodeError(f"task {task.id}: its scorer defines no {scoring.function}(candidate) function")
    namespace[task.entry_point] = proxy  # a scorer may call the function by name
    return function(proxy)


def invalid_score(value: Any, scoring: Scoring) -> str | None:
    """Why ``value`` is not a score for ``scoring`` (None when it is one): a number, finite, in range."""
    if type(value) is bool or not isinstance(value, int | float):
        return f"the scorer measured no number ({type(value).__name__})"
    try:
        number = float(value)
    except OverflowError:
        return "the measured score is too large to be a number"
    if not math.isfinite(number):
        return f"the measured score is {number} (not a finite number)"
    if not scoring.low <= number <= scoring.high:
        return f"the measured score {number:g} is outside the task's range [{scoring.low:g}, {scoring.high:g}]"
    return None
