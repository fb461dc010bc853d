"""A candidate running in a sandbox, called from the driver's process through a narrow channel.

The driver's side of the boundary: requests go out as plain data, answers come back through
``_wire.decode``, so a result is either plain data or a failure. Anything that ends the
conversation badly (a timeout, the candidate's process ending, garbage on the channel, a
result that is not plain data) is a ``Fatal`` exception: a ``BaseException``, so test code's
``except Exception`` cannot swallow it, and remembered, so the verdict is a failure whatever
the test code does after catching it.
"""

from __future__ import annotations

import builtins
import functools
import importlib.util
import math
import py_compile
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

from proctor.models import Limits
from proctor.sandboxes import PYTHON, ExecResult, Job, Sandbox
from proctor.verifiers import _wire

STUB_MODULES = {"proctor_stub.py": Path(__file__).parent / "_stub.py", "proctor_wire.py": Path(__file__).parent / "_wire.py"}
STUB_COMMAND = [PYTHON, "-c", "import proctor_stub; proctor_stub.main()"]


@functools.cache
def stub_sources() -> dict[str, str]:
    """The stub's modules by import name, the wire first (the stub imports it), for ``Sandbox.preload``.

    A sandbox that preloads them in its warm interpreter spares every candidate's job the
    files and the imports (~10% of a ``tests`` verification on the namespace backend).
    """
    return {name: STUB_MODULES[f"{name}.py"].read_text() for name in ("proctor_wire", "proctor_stub")}


@functools.cache
def stub_files() -> dict[str, bytes]:
    """The stub's modules as source, with their bytecode for this interpreter in __pycache__.

    A sandbox running this very Python loads the bytecode instead of compiling ~7 KB of source
    for every candidate (2-3 ms of its CPU); any other Python ignores it (another cache tag)
    and compiles the source. Unchecked-hash bytecode needs no matching file times.
    """
    files = {name: path.read_bytes() for name, path in STUB_MODULES.items()}
    with tempfile.TemporaryDirectory() as scratch:
        for name, path in STUB_MODULES.items():
            compiled = Path(scratch, name + "c")
            py_compile.compile(
                str(path),
                cfile=str(compiled),
                dfile=name,
                doraise=True,
                invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
            )
            files[importlib.util.cache_from_source(name)] = compiled.read_bytes()
    return files


CANDIDATE_LIMITS = Limits(wall_seconds=60.0, cpu_seconds=30.0)
"""Every verifier's limits for a candidate's job, so a candidate cannot tell which verifier runs it
(rlimits, cgroup limits and the job are identical). How long a call may take is the driver's
business, never visible to the job until it is exceeded."""


MAX_RECEIVED = 2 * _wire.MAX_FRAME
"""All of one conversation's answers, in bytes: what the driver decodes (and tests or a scorer may keep) from
one candidate is bounded in all, not per frame only (a frame decodes to several times its size in objects)."""


class Fatal(BaseException):
    """The candidate failed in a way no test may excuse; ``reason`` is one line."""

    def __init__(self, reason: str, timed_out: bool = False) -> None:
        super().__init__(reason)
        self.reason, self.timed_out = reason, timed_out


class CandidateRaised(Exception):
    """The candidate raised an exception that is not a builtin one; its name is in the message."""


CONTROL_FLOW = (StopIteration, StopAsyncIteration)
"""Exceptions that trusted code's iteration swallows: ``map``, ``filter``, ``next(it, default)`` and
``for`` end quietly on them, so a candidate raising one would cut the tests' or the scorer's loop
short (``all(map(check, cases))`` would pass). They come back as ``CandidateRaised``, as PEP 479
turns a generator's into a RuntimeError."""


def raised_exception(info: Any) -> Exception:
    """Rebuild the candidate's exception as a builtin of the same name (else, or for ``CONTROL_FLOW``, CandidateRaised)."""
    name = str(info.get("type", "Exception")) if isinstance(info, dict) else "Exception"
    message = str(info.get("message", "")) if isinstance(info, dict) else ""
    cls = getattr(builtins, name, None)
    rebuilt: Exception = CandidateRaised(f"{name}: {message}")
    if isinstance(cls, type) and issubclass(cls, Exception) and cls.__module__ == "builtins" and not issubclass(cls, CONTROL_FLOW):
        try:
            rebuilt = cls(message)
        except TypeError:  # builtins needing more arguments (UnicodeDecodeError, …)
            pass
    rebuilt.from_candidate = True  # type: ignore[attr-defined]  # read by the driver's report
    return rebuilt


@dataclass
class Answer:
    """One call's outcome in a batch: its value, or the exception it raised, or what ended the conversation."""

    value: Any = None
    raised: Exception | None = None
    fatal: Fatal | None = None
    seconds: float = 0.0  # since the previous answer (the first: since the request)


Answers = Generator[Answer, None, None]
"""A batch's answers as they come; close it to stop reading (``Remote.call_each``)."""


class Remote:
    """The candidate's code loaded in a sandboxed process, answering calls until closed.

    Args:
        sandbox: where the candidate runs.
        code: the candidate's full source.
        limits: the job's limits; ``wall_seconds`` is the total time for all calls.
        call_seconds: how long one call may take.
        allow_nan: whether a NaN anywhere in a result is acceptable (off: NaN compares false
            with everything, a known way to slip past badly written checks).
    """

    def __init__(self, sandbox: Sandbox, code: str, limits: Limits, call_seconds: float, allow_nan: bool = False) -> None:
        self.sandbox, self.code, self.limits = sandbox, code, limits
        self.call_seconds, self.allow_nan = call_seconds, allow_nan
        self.calls, self.received = 0, 0  # calls made, bytes of answers read
        self.fatal: Fatal | None = None
        self.result: ExecResult | None = None
        self._ours: socket.socket | None = None
        self._runner: threading.Thread | None = None
        self._failure: BaseException | None = None

    def __enter__(self) -> Remote:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self, timeout: float | None = None) -> float:
        """Start the candidate's job and wait, ``timeout`` at most (default: its wall limit), until its code
        is loaded; return how long that took. Fatal if it does not load in time."""
        ours, theirs = self.sandbox.channel_pair()
        self._ours = ours
        stub = {} if self.sandbox.preload(stub_sources()) else stub_files()
        job = Job(command=STUB_COMMAND, files={**stub, "candidate.py": self.code.encode()})
        self._runner = threading.Thread(target=self._run, args=(job, theirs), daemon=True, name="proctor-candidate")
        started = time.perf_counter()
        self._runner.start()
        loaded = self._receive("loading the candidate", timeout=timeout or self.limits.wall_seconds)
        if loaded.get("loaded") is not True:
            error = loaded["error"] if isinstance(loaded.get("error"), dict) else {}
            self._fail(f"the candidate's code does not load: {error.get('type', '?')}: {str(error.get('message', ''))[:300]}")
        return time.perf_counter() - started

    def _run(self, job: Job, theirs: socket.socket) -> None:
        try:
            self.result = self.sandbox.run(job, self.limits, channel=theirs)
        except BaseException as exc:  # noqa: BLE001  (re-raised in the caller's thread)
            self._failure = exc
        finally:
            theirs.close()

    def call(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any], timeout: float | None = None) -> Any:
        """Call ``name(*args, **kwargs)`` in the candidate, ``timeout`` at most (default ``call_seconds``);
        return its plain-data result."""
        if self.fatal is not None:
            raise self.fatal
        assert self._ours is not None, "start() first"
        self.calls += 1
        try:
            self._send({"call": name, "args": _wire.encode(list(args)), "kwargs": _wire.encode(kwargs)}, timeout)
        except _wire.NotPlainData as exc:
            raise TypeError(f"the tests passed a value that cannot cross to the candidate: {exc}") from None
        reply = self._receive(f"call {self.calls}", timeout=timeout or self.call_seconds)
        return self._unpack(name, reply)

    def call_each(self, name: str, batch: list[tuple[Any, ...]], timeout: float) -> Answers:
        """Call ``name(*args)`` for each ``args`` of ``batch`` in one request; yield the answers one by one as they come.

        Each answer may take ``timeout`` after the previous one (its ``seconds``, the driver's own clock).
        The process sees the whole batch at once, so it could spend one answer's time on another: ask a
        candidate one call at a time (``call``), and a batch only of code the verifier trusts. The answers
        stop at the first that ends the conversation (its ``fatal`` is set, and so is this remote's).
        Stopping early (closing the iterator) ends the conversation too: the rest is never read.
        """
        if self.fatal is not None:
            raise self.fatal
        assert self._ours is not None, "start() first"
        try:
            self._send({"call": name, "batch": [_wire.encode(list(args)) for args in batch]}, timeout, self.calls + 1)
        except Fatal as fatal:
            yield Answer(fatal=fatal)
            return
        last, read = time.perf_counter(), 0
        try:
            for _ in batch:
                self.calls += 1
                answer = self._answer(name, timeout)
                now = time.perf_counter()
                answer.seconds, last = now - last, now
                read += 1
                yield answer
                if answer.fatal is not None:
                    return
        finally:
            if read < len(batch) and self.fatal is None:
                self.fatal = Fatal("the driver stopped reading a batch's answers; the process is not asked again")

    def answer(self, name: str, args: tuple[Any, ...], timeout: float) -> Answer:
        """``call``, its outcome an ``Answer`` (timed by the driver) rather than a value or an exception."""
        started = time.perf_counter()
        answer = _outcome(lambda: self.call(name, args, {}, timeout))
        answer.seconds = time.perf_counter() - started
        return answer

    def _answer(self, name: str, timeout: float) -> Answer:
        return _outcome(lambda: self._unpack(name, self._receive(f"call {self.calls}", timeout)))

    def _unpack(self, name: str, reply: dict[str, Any]) -> Any:
        if "value" in reply:
            try:
                value = _wire.decode(reply["value"])
            except (_wire.NotPlainData, RecursionError) as exc:
                self._fail(f"call {self.calls} answered with something that is not plain data: {exc}")
            if not self.allow_nan and _has_nan(value):
                self._fail(f"call {self.calls} returned NaN, which this task does not accept")
            return value
        if "raised" in reply:
            raise raised_exception(reply["raised"])
        if "not_plain" in reply:
            self._fail(f"call {self.calls} returned a value that is not plain data ({str(reply['not_plain'])[:200]})")
        if "missing" in reply:
            self._fail(f"the candidate does not define a callable {name!r}")
        self._fail(f"call {self.calls} got an answer that is not a result: {str(reply)[:200]}")

    def _send(self, request: dict[str, Any], timeout: float | None, call: int | None = None) -> None:
        """Send a request, ``timeout`` at most for the process to take it (its own, not what a previous reply left)."""
        assert self._ours is not None
        call = call or self.calls
        self._ours.settimeout(timeout or self.call_seconds)
        try:
            _wire.send(self._ours, request)
        except TimeoutError:
            self._fail(f"call {call} was not taken within {timeout or self.call_seconds:g} s", timed_out=True)
        except OSError:
            self._fail(f"the candidate's process ended before call {call}{self._how_it_ended()}")

    def _receive(self, what: str, timeout: float) -> dict[str, Any]:
        assert self._ours is not None
        try:
            reply, size = _wire.receive_sized(self._ours, deadline=time.monotonic() + timeout)  # the whole reply, not each chunk
            self.received += size
            if self.received > MAX_RECEIVED:
                self._fail(f"{what}: the candidate's answers came to over {MAX_RECEIVED >> 20} MiB in all")
        except TimeoutError:
            self._fail(f"{what} did not finish within {timeout:g} s", timed_out=True)
        except (OSError, ValueError, RecursionError) as exc:
            self._fail(f"{what} got garbage on the channel: {str(exc)[:200]}")
        if reply is None:
            self._fail(f"the candidate's process ended during {what}{self._how_it_ended()}")
        return reply

    def _fail(self, reason: str, timed_out: bool = False) -> NoReturn:
        self.fatal = Fatal(reason, timed_out)
        raise self.fatal

    def _how_it_ended(self) -> str:
        if self._runner is not None:
            self._runner.join(timeout=5)
        if self._failure is not None:
            raise self._failure
        return f" ({self.result.describe()})" if self.result is not None else ""

    def close(self) -> ExecResult | None:
        """End the conversation and the job; re-raise if the sandbox itself broke."""
        if self._ours is not None:
            try:
                self._ours.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._ours.close()
        if self._runner is not None:
            self._runner.join()
        if self._failure is not None:
            raise self._failure
        return self.result


def _outcome(call: Callable[[], Any]) -> Answer:
    """What ``call`` gave: its value, what the called code raised, or what ended the conversation. Anything else
    (the sandbox itself broke: UnavailableError) is raised, nobody's answer."""
    try:
        return Answer(value=call())
    except Fatal as fatal:
        return Answer(fatal=fatal)
    except Exception as exc:
        if not getattr(exc, "from_candidate", False):
            raise
        return Answer(raised=exc)  # rebuilt by raised_exception


def _has_nan(value: Any) -> bool:
    if type(value) is float:
        return math.isnan(value)
    if type(value) in (list, tuple, set, frozenset):
        return any(_has_nan(item) for item in value)
    if type(value) is dict:
        return any(_has_nan(k) or _has_nan(v) for k, v in value.items())
    return False
