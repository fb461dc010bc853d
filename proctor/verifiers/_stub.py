"""The candidate's side of the channel, run inside the sandbox: load the code, answer calls.

Standard library only: preloaded as ``proctor_stub`` beside ``proctor_wire`` where the sandbox
can (``Sandbox.preload``), else copied into the job with their bytecode; the job runs
``proctor_stub.main()``. Nothing here is
trusted: it runs in the candidate's own process, which the candidate may rewrite at will.
The verdict never depends on this file behaving; the driver decodes whatever arrives as plain
data and treats silence, garbage or an early exit as a failure.
"""

import os
import socket
import sys
import types

import proctor_wire as wire

CANDIDATE_FILE = "candidate.py"


def describe(exc: BaseException) -> dict[str, str]:
    return {"type": type(exc).__name__, "message": str(exc)[:2000]}


def answer(namespace: dict[str, object], request: dict[str, object]) -> dict[str, object]:
    function = namespace.get(str(request.get("call")))
    if not callable(function):
        return {"missing": str(request.get("call"))}
    try:
        args = wire.decode(request.get("args", []))
        kwargs = wire.decode(request.get("kwargs", {"d": []}))
        result = function(*args, **kwargs)
    except BaseException as exc:  # noqa: BLE001  (SystemExit from the candidate is an answer too)
        return {"raised": describe(exc)}
    try:
        return {"value": wire.encode(result)}
    except wire.NotPlainData as exc:
        return {"not_plain": str(exc)}


def main() -> None:
    channel = socket.socket(fileno=3)
    module = types.ModuleType("candidate")  # a real module, so dataclasses, pickle and friends find it
    module.__file__ = CANDIDATE_FILE
    sys.modules["candidate"] = module
    namespace = module.__dict__
    try:
        with open(CANDIDATE_FILE, encoding="utf-8") as handle:
            source = handle.read()
        exec(compile(source, CANDIDATE_FILE, "exec", dont_inherit=True), namespace)  # not the stub's own __future__ flags
    except BaseException as exc:  # noqa: BLE001  (a candidate that cannot load is reported, not raised)
        wire.send(channel, {"loaded": False, "error": describe(exc)})
        return
    wire.send(channel, {"loaded": True})
    while (request := wire.receive(channel)) is not None:
        if isinstance(request.get("batch"), list):  # one call per argument list, each answered as it is done
            for args in request["batch"]:
                wire.send(channel, answer(namespace, {"call": request.get("call"), "args": args}))
        else:
            wire.send(channel, answer(namespace, request))
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
