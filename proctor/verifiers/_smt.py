"""The ``smt`` verifier: proves a candidate equivalent to the reference (or to postconditions) with Z3.

The candidate is translated, never run, in the subset ``_smt_subset`` documents; anything outside
it, anything it does not model exactly, or a solver timeout is ``unknown``, never ``pass``. The
proof's domain comes from the task, never from the candidate: parameter types from ``smt.params``
(``{"n": "int"}``), else the reference's annotations, else ``int``; preconditions from
``smt.requires`` and the task's ``metadata.domain`` (when it is inside the subset); inputs on which
the reference raises are outside the domain, as in ``properties``. A right answer is the
reference's exact answer, type included, or what ``metadata.answer`` accepts (inside the subset).

The task's ``smt`` spec (all optional): ``params``, ``requires`` (a precondition over the
parameters), ``ensures`` (a postcondition over the parameters and ``result``; then the candidate
is judged by it instead of the reference), ``bits`` (the parameters are N-bit two's complement
words and ``& | ^ ~ << >>`` are allowed; the arithmetic stays Python's), ``timeout_ms``.

With a sandbox, every verdict the solver reaches is checked by running the code: a proof against
the candidate and the reference on a sample of inputs in the domain, a counterexample on its own
input. A run that contradicts the solver means the translation was wrong: the verdict is
``error``, recorded with the input, never ``pass``.
"""

from __future__ import annotations

import ast
import random
import secrets
from dataclasses import dataclass
from typing import Any

from proctor.models import Proposal, Task, Verdict
from proctor.sandboxes import Sandbox
from proctor.verifiers._base import Timer, digest, module_file, provenance, register_verifier, sandbox_name, verdict
from proctor.verifiers._compare import Side
from proctor.verifiers._driver import call_text, same, short
from proctor.verifiers._remote import CANDIDATE_LIMITS, Fatal
from proctor.verifiers._smt_subset import DoesNotCompile, Outcome, Translator, Unsupported
from proctor.verifiers._spec import Spec, entry_function

CROSS_CHECK_INPUTS = 16
RUN_SECONDS = 5.0  # one call while checking the solver: the subset has no unbounded loops


@dataclass
class _Problem:
    """One proof obligation: the symbols, the domain's conditions, the claim, and what may leave the subset."""

    names: list[str]
    kinds: list[str]
    symbols: list[Any]
    bits: int | None
    domain: list[Any]
    claim: Any
    candidate: Outcome
    reference: Outcome | None
    spec: Spec
    ctx: Any
    ran: dict[str, Any] | None = None  # how the code ran when the solver's answer was checked
    unmodelled_domain: bool = False
    what: str = "the reference"


@register_verifier("smt")
class SmtVerifier:
    """Proves equivalence with the reference (or the task's ``ensures``), or finds a counterexample.

    Args:
        sandbox: where the solver's answers are checked by running the code; without one they are not.
        timeout_ms: the solver's time limit per query.
        seed: where the random inputs a proof is checked on come from: None for a fresh secret each
            time (a candidate cannot steer clear of them), a number for the same ones every time.
    """

    id = "smt"

    def __init__(self, sandbox: Sandbox | None = None, *, timeout_ms: int = 10_000, seed: int | None = None) -> None:
        self.sandbox, self.timeout_ms, self.seed = sandbox, timeout_ms, seed
        sources = [module_file(name) for name in ("_smt.py", "_smt_subset.py", "_spec.py", "_compare.py")]
        config = {
            "timeout_ms": timeout_ms,
            "z3": _z3_version(),
            "cross_check": sandbox_name(sandbox) if sandbox is not None else None,
            "seed": "secret" if seed is None else seed,
        }
        self.version = digest(*sources, config=config)

    def verify(self, task: Task, proposal: Proposal) -> Verdict:
        timer = Timer()
        spec = task.smt or {}
        if not spec.get("ensures") and not task.reference:
            return verdict(self, proposal, "unknown", "the task has neither a reference nor an smt.ensures", timer)
        try:
            problem = self._problem(task, proposal, spec)
            return self._solve(task, proposal, spec, problem, timer)
        except DoesNotCompile as exc:
            return verdict(self, proposal, "fail", f"the candidate does not compile: {exc}", timer)
        except Unsupported as exc:
            return verdict(self, proposal, "unknown", f"not translated: {exc}", timer)
        except RecursionError:
            return verdict(self, proposal, "unknown", "not translated: the code nests too deeply", timer)

    # ---------------------------------------------------------------- the proof obligation

    def _problem(self, task: Task, proposal: Proposal, spec: dict[str, Any]) -> _Problem:
        import z3

        bits = spec.get("bits")
        names, kinds = _domain_types(task, spec)
        ctx = z3.Context()
        candidate = Translator(proposal.code, bits, ctx)
        if task.entry_point not in candidate.functions:
            raise Unsupported(f"the candidate defines no function {task.entry_point!r}")
        symbols = [candidate.variable(name, kind) for name, kind in zip(names, kinds, strict=True)]
        env = dict(zip(names, symbols, strict=True))
        got = candidate.call(task.entry_point, symbols)
        problem = _Problem(names, kinds, symbols, bits, [candidate.in_words(s) for s in symbols], None, got, None, Spec.of(task), ctx)
        spec_translator = Translator("", bits, ctx)
        if spec.get("requires"):
            problem.domain.append(_holds(spec_translator.evaluate(spec["requires"], env)))
        if task.metadata.get("domain"):
            try:
                problem.domain.append(_holds(spec_translator.evaluate(task.metadata["domain"], env)))
            except Unsupported:
                problem.unmodelled_domain = True  # a proof over more inputs still holds; a counterexample is checked against it
        if spec.get("ensures"):
            ensures = spec_translator.evaluate(spec["ensures"], {**env, "result": got.value})
            problem.claim, problem.what = z3.And(z3.Not(got.crashed), _holds(ensures)), "the postcondition"
            return problem
        assert task.reference is not None
        reference = Translator(task.reference, bits, ctx).call(task.entry_point, symbols)
        if reference.mixed:
            raise Unsupported("the reference returns a bool on some paths and an int on others")
        problem.reference = reference
        problem.domain.append(z3.Not(reference.crashed))
        problem.claim = z3.And(z3.Not(got.crashed), self._right(task, spec_translator, env, got, reference))
        return problem

    def _right(self, task: Task, translator: Translator, env: dict[str, Any], got: Outcome, reference: Outcome) -> Any:
        if got.mixed:
            raise Unsupported("the candidate returns a bool on some paths and an int on others")
        answer = task.metadata.get("answer")
        if not answer:
            return translator.same(got.value, reference.value)
        relation = translator.evaluate(answer, {**env, "result": got.value, "expected": reference.value})
        return _holds(relation)

    # ---------------------------------------------------------------- solving

    def _solve(self, task: Task, proposal: Proposal, spec: dict[str, Any], problem: _Problem, timer: Timer) -> Verdict:
        import z3

        timeout = int(spec.get("timeout_ms", self.timeout_ms))
        for outcome, whose in ((problem.candidate, "candidate"), (problem.reference, "reference")):
            if outcome is not None and _satisfiable([*problem.domain, outcome.unsafe], timeout, problem.ctx) is not False:
                what = "read a local before assigning it, fall off its end (return None) or outgrow the words it is modelled in"
                return verdict(self, proposal, "unknown", f"not translated: the {whose} may {what}", timer)
        solver = _solver(timeout, problem.ctx)
        solver.add(*problem.domain, z3.Not(problem.claim))
        answer = solver.check()
        domain = dict(zip(problem.names, problem.kinds, strict=True))
        if answer == z3.unknown:
            return verdict(self, proposal, "unknown", f"the solver gave up: {solver.reason_unknown()}", timer, domain=domain)
        if answer == z3.unsat:
            return self._proved(task, proposal, spec, problem, timer, domain)
        return self._refuted(task, proposal, spec, problem, solver.model(), timer, domain)

    def _proved(
        self, task: Task, proposal: Proposal, spec: dict[str, Any], problem: _Problem, timer: Timer, domain: dict[str, str]
    ) -> Verdict:
        inputs = self._sample(task, spec, problem)
        contradiction = self._contradiction(task, proposal, spec, problem, inputs)
        if contradiction is not None:
            why = f"{contradiction['call']}: {contradiction['why']}"
            detail = f"the proof was contradicted by running the code on {why}; the translation is wrong"
            call = contradiction["call"]
            return verdict(self, proposal, "error", detail, timer, problem.ran, contradiction=contradiction, domain=domain, input=call)
        checked = len(inputs) if self.sandbox is not None else 0
        detail = f"proved equivalent to {problem.what} for all inputs in the domain ({_describe(domain)})"
        return verdict(self, proposal, "pass", detail, timer, problem.ran, proved=True, domain=domain, cross_checked=checked)

    def _refuted(
        self, task: Task, proposal: Proposal, spec: dict[str, Any], problem: _Problem, model: Any, timer: Timer, domain: dict[str, str]
    ) -> Verdict:
        inputs = {name: _value(model, symbol, problem.bits) for name, symbol in zip(problem.names, problem.symbols, strict=True)}
        args = tuple(inputs.values())
        call = call_text(task.entry_point, args, {})
        evidence: dict[str, Any] = {
            "counterexample": inputs,
            "candidate": _outcome(model, problem.candidate, problem.bits),
            "domain": domain,
            "input": call,
        }
        if problem.reference is not None:
            evidence["reference"] = _outcome(model, problem.reference, problem.bits)
        if problem.unmodelled_domain and not problem.spec.admits(args):
            return verdict(
                self,
                proposal,
                "unknown",
                f"the only counterexample found, {call}, is outside the task's domain, which the solver cannot model",
                timer,
                **evidence,
            )
        reproduced = self._reproduces(task, proposal, spec, problem, args)
        if reproduced is not None:
            detail = (
                f"the solver's counterexample {call} does not reproduce when the code runs ({reproduced}); the translation is wrong"
            )
            return verdict(self, proposal, "error", detail, timer, problem.ran, **evidence)
        return verdict(
            self,
            proposal,
            "fail",
            f"counterexample: {call} violates {problem.what}",
            timer,
            problem.ran,
            **evidence,
            reproduced=self.sandbox is not None,
        )

    # ---------------------------------------------------------------- checking the solver by running the code

    def _sample(self, task: Task, spec: dict[str, Any], problem: _Problem) -> list[tuple[Any, ...]]:
        """Inputs in the domain: some the solver picks (distinct models), some drawn at random and kept if admitted."""
        import z3

        if self.sandbox is None:
            return []
        picked: list[tuple[Any, ...]] = []
        solver = _solver(self.timeout_ms, problem.ctx)
        solver.add(*problem.domain)
        while len(picked) < CROSS_CHECK_INPUTS // 2 and solver.check() == z3.sat:
            model = solver.model()
            picked.append(tuple(_value(model, s, problem.bits) for s in problem.symbols))
            if not problem.symbols:
                break
            solver.add(z3.Or(*(s != model.eval(s, model_completion=True) for s in problem.symbols)))
        drawn = random.Random(secrets.randbits(64) if self.seed is None else f"{self.seed}:{task.id}")
        for _ in range(CROSS_CHECK_INPUTS * 4):
            if len(picked) >= CROSS_CHECK_INPUTS:
                break
            args = tuple(_draw(drawn, kind, problem.bits) for kind in problem.kinds)
            if _admitted(spec, problem, args):
                picked.append(args)
        return picked

    def _contradiction(
        self, task: Task, proposal: Proposal, spec: dict[str, Any], problem: _Problem, inputs: list[tuple[Any, ...]]
    ) -> dict[str, str] | None:
        """The first of ``inputs`` on which the candidate, run, is not right (the proof said it is), else None."""
        for args, (right, why) in zip(inputs, self._runs(task, proposal, spec, problem, inputs), strict=False):
            if right is False:
                return {"call": call_text(task.entry_point, args, {}), "why": why}
        return None

    def _reproduces(
        self, task: Task, proposal: Proposal, spec: dict[str, Any], problem: _Problem, args: tuple[Any, ...]
    ) -> str | None:
        """None if running the code shows the candidate wrong on ``args``, as the solver said; else what the run showed."""
        if self.sandbox is None:
            return None
        ((right, why),) = self._runs(task, proposal, spec, problem, [args])
        if right is False:
            return None
        return why if right is None else f"the candidate is right there: {why}"

    def _runs(
        self, task: Task, proposal: Proposal, spec: dict[str, Any], problem: _Problem, inputs: list[tuple[Any, ...]]
    ) -> list[tuple[bool | None, str]]:
        """For each input, whether the candidate is right on it when run (None: outside the domain), and why."""
        if self.sandbox is None or not inputs:
            return []
        candidate = Side(self.sandbox, proposal.code, CANDIDATE_LIMITS, allow_nan=True)
        reference = (
            Side(self.sandbox, task.reference, CANDIDATE_LIMITS, allow_nan=True) if task.reference and problem.reference else None
        )
        try:
            return [self._agrees(task, spec, problem, candidate, reference, args) for args in inputs]
        finally:
            candidate.close()
            problem.ran = provenance(candidate.ran)
            if reference is not None:
                reference.close()

    def _agrees(
        self, task: Task, spec: dict[str, Any], problem: _Problem, candidate: Side, reference: Side | None, args: tuple[Any, ...]
    ) -> tuple[bool | None, str]:
        """Whether the candidate is right on ``args`` when run (None: the input is outside the domain)."""
        if not _admitted(spec, problem, args):
            return None, "outside the domain"
        expected: Any = None
        if reference is not None:
            kind, expected = _ran(reference, task.entry_point, args)
            if kind != "value":
                return None, "the reference raised"
        kind, got = _ran(candidate, task.entry_point, args)
        if kind != "value":
            return False, f"the candidate {got}"
        if spec.get("ensures"):
            right = _python_condition(spec["ensures"], problem.names, args, {"result": got})
        elif task.metadata.get("answer"):
            right = problem.spec.accepts(args, got, expected)
        else:
            right = same(got, expected)
        return right, f"it gave {short(got)}" + ("" if reference is None else f", the reference {short(expected)}")


def _domain_types(task: Task, spec: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The entry point's parameters and their types (int or bool), from the task: never from the candidate."""
    declared = spec.get("params")
    if declared is not None:
        if not isinstance(declared, dict) or any(kind not in ("int", "bool") for kind in declared.values()):
            raise Unsupported("smt.params must map each parameter to 'int' or 'bool'")
        return list(declared), list(declared.values())
    function = entry_function(task, task.reference) or entry_function(task, task.prompt)
    if function is None:
        raise Unsupported(f"the task states no signature for {task.entry_point} (give smt.params)")
    names, kinds = [], []
    for arg in function.args.args:
        kind = ast.unparse(arg.annotation) if arg.annotation else "int"
        if kind not in ("int", "bool"):
            raise Unsupported(f"the task's parameter {arg.arg} is a {kind}, not an int or bool")
        names.append(arg.arg)
        kinds.append(kind)
    return names, kinds


def _holds(outcome: Outcome) -> Any:
    """A spec condition as a Z3 bool: true where it evaluates true without crashing or leaving the subset."""
    import z3

    value = outcome.value if z3.is_bool(outcome.value) else outcome.value != 0
    return z3.And(value, z3.Not(outcome.crashed), z3.Not(outcome.unsafe))


def _solver(timeout_ms: int, ctx: Any) -> Any:
    import z3

    solver = z3.Solver(ctx=ctx)
    solver.set("timeout", timeout_ms)
    return solver


def _satisfiable(conditions: list[Any], timeout_ms: int, ctx: Any) -> bool | None:
    import z3

    solver = _solver(timeout_ms, ctx)
    solver.add(*conditions)
    answer = solver.check()
    return None if answer == z3.unknown else answer == z3.sat


def _value(model: Any, term: Any, bits: int | None) -> Any:
    import z3

    value = model.eval(term, model_completion=True)
    if z3.is_bool(value):
        return z3.is_true(value)
    return int(value.as_signed_long()) if bits else int(value.as_long())


def _outcome(model: Any, outcome: Outcome, bits: int | None) -> Any:
    import z3

    if z3.is_true(model.eval(outcome.crashed, model_completion=True)):
        return "raises (ZeroDivisionError or a negative shift)"
    return _value(model, outcome.value, bits)


def _describe(domain: dict[str, str]) -> str:
    return ", ".join(f"{name}: {kind}" for name, kind in domain.items()) or "no parameters"


def _draw(drawn: random.Random, kind: str, bits: int | None) -> Any:
    if kind == "bool":
        return drawn.random() < 0.5
    if bits:
        return drawn.choice([0, 1, -1, 2 ** (bits - 1) - 1, -(2 ** (bits - 1)), drawn.randrange(-(2 ** (bits - 1)), 2 ** (bits - 1))])
    return drawn.choice([0, 1, -1, 2, -2, 3, 7, 10, -10, 100, -100, drawn.randint(-1000, 1000), drawn.randint(-(10**6), 10**6)])


def _admitted(spec: dict[str, Any], problem: _Problem, args: tuple[Any, ...]) -> bool:
    """Whether concrete ``args`` satisfy ``smt.requires`` and the task's domain, evaluated by Python."""
    if spec.get("requires") and not _python_condition(spec["requires"], problem.names, args, {}):
        return False
    return problem.spec.admits(args)


_SPEC_BUILTINS = {"abs": abs, "min": min, "max": max, "int": int, "bool": bool}


def _python_condition(text: str, names: list[str], args: tuple[Any, ...], extra: dict[str, Any]) -> bool:
    """A spec's condition evaluated by Python itself on concrete values (a condition that raises is false)."""
    try:
        bound = {"__builtins__": _SPEC_BUILTINS, **dict(zip(names, args, strict=True)), **extra}
        return bool(eval(text, bound))  # the task's own text, with the names as globals so comprehensions see them
    except Exception:  # noqa: BLE001
        return False


def _ran(side: Side, name: str, args: tuple[Any, ...]) -> tuple[str, Any]:
    """("value", v), or ("raised", why): one run of one side on ``args``."""
    try:
        side.ready()
        return "value", side.call(name, args, RUN_SECONDS)
    except Fatal as fatal:
        return "raised", fatal.reason
    except Exception as exc:
        from proctor.errors import UnavailableError

        if isinstance(exc, UnavailableError):
            raise
        return "raised", f"raised {type(exc).__name__}"


def _z3_version() -> str:
    try:
        from importlib.metadata import version

        return version("z3-solver")
    except Exception:  # noqa: BLE001  (not installed: the verifier reports unknown)
        return "missing"
