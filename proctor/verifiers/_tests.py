"""The ``tests`` verifier: the task's tests, in the driver, against the candidate in a sandbox."""

from __future__ import annotations

import secrets
from typing import Any, Literal

from proctor.models import Limits, Proposal, Task, Verdict, VerdictStatus
from proctor.sandboxes import Job, Sandbox
from proctor.verifiers._base import Timer, digest, module_file, register_verifier, sandbox_name, verdict
from proctor.verifiers._driver import BOUNDARY_SOURCES, Proxy, TaskCodeError, run_tests, short
from proctor.verifiers._remote import CANDIDATE_LIMITS, Fatal, Remote

Mode = Literal["channel", "in-process"]

IN_PROCESS_WARNING = "weaker mode: the tests ran in the candidate's process, where a gaming candidate can fake a pass"


@register_verifier("tests")
class TestsVerifier:
    """Runs the task's tests with the test code and the candidate in separate processes.

    The candidate runs in ``sandbox`` and answers calls through a channel as plain data; the
    test code runs in this (the verifier's) process. ``mode="in-process"`` (or the task's
    ``metadata["tests_mode"]``) runs both in one sandboxed program instead, for tests that
    cannot work across the boundary; such verdicts say so in their detail and evidence.

    Args:
        sandbox: where candidates run.
        call_seconds: how long one call to the candidate may take.
        limits: the candidate's job limits (default: ``CANDIDATE_LIMITS``, which every verifier
            shares, so a candidate cannot tell which verifier runs it).
        mode: force a mode for every task (default: the task's ``tests_mode``, else channel).
    """

    __test__ = False  # not a pytest test class
    id = "tests"

    def __init__(
        self,
        sandbox: Sandbox,
        *,
        call_seconds: float = 5.0,
        limits: Limits | None = None,
        mode: Mode | None = None,
    ) -> None:
        self.sandbox, self.call_seconds, self.mode = sandbox, call_seconds, mode
        self.limits = limits or CANDIDATE_LIMITS
        config = {"call": call_seconds, "limits": self.limits.model_dump(), "mode": mode, "sandbox": sandbox_name(sandbox)}
        self.version = digest(module_file("_tests.py"), *BOUNDARY_SOURCES, config=config)

    def verify(self, task: Task, proposal: Proposal) -> Verdict:
        timer = Timer()
        if not task.tests and not task.cases:
            return verdict(self, proposal, "unknown", "the task has no tests to run", timer)
        mode: Mode = self.mode or task.metadata.get("tests_mode", "channel")
        if mode == "in-process":
            return self._in_process(task, proposal, timer)
        remote = Remote(self.sandbox, proposal.code, self.limits, self.call_seconds, allow_nan=bool(task.metadata.get("allow_nan")))
        try:
            with remote:
                proxy = Proxy(task.entry_point, lambda args, kwargs: remote.call(task.entry_point, args, kwargs))
                outcome = run_tests(task, proxy, task.metadata.get("float_tolerance"))
        except Fatal as fatal:  # the candidate did not even load
            return verdict(self, proposal, "fail", fatal.reason, timer, remote.result, mode="channel", calls=0)
        except TaskCodeError as exc:
            return verdict(self, proposal, "error", str(exc), timer, remote.result, mode="channel")
        evidence = {**outcome.evidence, **({"input": outcome.evidence["call"]} if "call" in outcome.evidence else {})}
        if remote.fatal is not None:  # caught by the test code, still a failure
            return verdict(self, proposal, "fail", remote.fatal.reason, timer, remote.result, mode="channel", **evidence)
        status: VerdictStatus = "pass" if outcome.passed else "fail"
        return verdict(self, proposal, status, outcome.reason, timer, remote.result, mode="channel", **evidence)

    def _in_process(self, task: Task, proposal: Proposal, timer: Timer) -> Verdict:
        if not task.tests:
            return verdict(self, proposal, "unknown", "in-process mode needs check(candidate) tests", timer)
        marker = secrets.token_hex(16)
        program = f"{proposal.code}\n\n{task.tests}\n\ncheck({task.entry_point})\nprint({marker!r})\n"
        result = self.sandbox.run(Job.python(program), self.limits)
        passed = result.ok and result.stdout.rstrip().endswith(marker.encode())
        how = (
            "tests passed" if passed else f"tests failed: {result.describe()}: {short(result.stderr[-300:].decode(errors='replace'))}"
        )
        evidence: dict[str, Any] = {"mode": "in-process", "warning": IN_PROCESS_WARNING}
        return verdict(self, proposal, "pass" if passed else "fail", f"{how} ({IN_PROCESS_WARNING})", timer, result, **evidence)
