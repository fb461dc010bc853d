"""Random programs inside the SMT subset, and the differential check of the translator against CPython.

``disagreement(program, inputs)`` runs a program in CPython and evaluates its translation on the
same inputs; they must agree on the value and its type, on whether it raised an exception the
subset models, and on whether it did something the subset leaves unmodelled (reading an
unassigned local, returning None).
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from proctor.verifiers._smt_subset import DoesNotCompile, Translator, Unsupported

PARAMETERS = ("a", "b")
LOCALS = ("t", "u")
INPUTS = [(a, b) for a in (-7, -2, -1, 0, 1, 2, 5) for b in (-3, 0, 1, 4)]
BITS = 8  # with smt.bits the parameters are words this wide; the arithmetic stays Python's
WORD_INPUTS = [(a, b) for a in (-128, -7, -1, 0, 1, 5, 127) for b in (-128, -1, 0, 3, 127)]

constants = st.integers(-4, 12).map(str) | st.sampled_from(["True", "False"])


def _compound(inner: st.SearchStrategy[str], helper: bool, bits: bool = False) -> st.SearchStrategy[str]:
    operators = ["+", "-", "*", "//", "%", *(["&", "|", "^", "<<", ">>"] if bits else [])]
    binary = st.tuples(inner, st.sampled_from(operators), inner).map(lambda p: f"({p[0]} {p[1]} {p[2]})")
    power = st.tuples(inner, st.integers(0, 3)).map(lambda p: f"({p[0]} ** {p[1]})")
    unary = st.tuples(st.sampled_from(["-", "+", "not ", *(["~"] if bits else [])]), inner).map(lambda p: f"({p[0]}{p[1]})")
    chain = st.lists(st.tuples(st.sampled_from(["<", "<=", ">", ">=", "==", "!="]), inner), min_size=1, max_size=3)
    compare = st.tuples(inner, chain).map(lambda p: "(" + p[0] + "".join(f" {op} {e}" for op, e in p[1]) + ")")
    logical = st.tuples(inner, st.sampled_from(["and", "or"]), inner).map(lambda p: f"(bool({p[0]}) {p[1]} ({p[2]} > 0))")
    choice = st.tuples(inner, inner, inner).map(lambda p: f"({p[0]} if {p[1]} else {p[2]})")
    extremes = st.tuples(st.sampled_from(["min", "max"]), st.lists(inner, min_size=2, max_size=3))
    calls = st.one_of(
        st.tuples(st.sampled_from(["abs", "int", "bool", *(["g"] if helper else [])]), inner).map(lambda p: f"{p[0]}({p[1]})"),
        extremes.map(lambda p: f"{p[0]}({', '.join(p[1])})"),
    )
    return st.one_of(binary, binary, binary, compare, compare, choice, unary, logical, power, calls)  # arithmetic most often


def _expressions(names: tuple[str, ...], helper: bool, bits: bool = False) -> st.SearchStrategy[str]:
    leaves = st.one_of(st.sampled_from(names), st.sampled_from(names), constants)
    return st.recursive(leaves, lambda inner: _compound(inner, helper, bits), max_leaves=8)


expressions = _expressions(PARAMETERS + LOCALS, helper=True)
word_expressions = _expressions(PARAMETERS + LOCALS, helper=True, bits=True)


def _block(depth: int, exprs: st.SearchStrategy[str] = expressions) -> st.SearchStrategy[list[str]]:
    assign = st.tuples(st.sampled_from(LOCALS + PARAMETERS), st.sampled_from(["=", "+=", "-=", "*="]), exprs).map(
        lambda p: [f"{p[0]} {p[1]} {p[2]}"]
    )
    ret = exprs.map(lambda e: [f"return {e}"])
    simple = st.one_of(assign, ret)
    if depth <= 0:
        return st.lists(simple, min_size=1, max_size=3).map(_flat)
    branch = st.tuples(expressions, _block(depth - 1, exprs), _block(depth - 1, exprs)).map(
        lambda p: [f"if {p[0]}:", *_indent(p[1]), "else:", *_indent(p[2])]
    )
    loop = st.tuples(st.sampled_from(LOCALS), st.integers(-1, 2), st.integers(0, 4), _block(depth - 1, exprs)).map(
        lambda p: [f"for {p[0]} in range({p[1]}, {p[2]}):", *_indent(p[3])]
    )
    return st.lists(st.one_of(simple, branch, loop), min_size=1, max_size=4).map(_flat)


def _flat(parts: list[list[str]]) -> list[str]:
    return [line for part in parts for line in part]


def _indent(lines: list[str]) -> list[str]:
    return ["    " + line for line in lines]


def _programs(exprs: st.SearchStrategy[str], bits: bool) -> st.SearchStrategy[str]:
    prelude = st.lists(st.tuples(st.sampled_from(LOCALS), exprs).map(lambda p: f"{p[0]} = {p[1]}"), max_size=2)
    ending = st.one_of(exprs.map(lambda e: [f"return {e}"]), st.just([]))  # sometimes none: f may fall off its end
    return st.tuples(_expressions(("x",), helper=False, bits=bits), prelude, _block(2, exprs), ending).map(
        lambda p: "\n".join(["def g(x):", f"    return {p[0]}", "def f(a, b):", *_indent(p[1] + p[2] + p[3])]) + "\n"
    )


programs = _programs(expressions, bits=False)
word_programs = _programs(word_expressions, bits=True)
"""Programs over ``BITS``-bit word parameters, with ``& | ^ ~ << >>`` too."""


def cpython(program: str, args: tuple[int, int]) -> tuple[str, Any]:
    """("value", v), ("crash", None) for the exceptions the subset models, ("unsafe", None) for the rest it flags."""
    namespace: dict[str, Any] = {}
    exec(program, namespace)
    try:
        value = namespace["f"](*args)
    except (ZeroDivisionError, ValueError):
        return "crash", None
    except (UnboundLocalError, NameError):
        return "unsafe", None
    return ("unsafe", None) if value is None else ("value", value)


def translation(program: str, bits: int | None = None) -> Any:
    """``outcome_at(args)`` for the program's translation, or None when the program is outside the subset."""
    import z3

    try:
        translator = Translator(program, bits)
        symbols = [translator.variable(name, "int") for name in PARAMETERS]
        outcome = translator.call("f", symbols)
    except (Unsupported, DoesNotCompile, RecursionError):
        return None

    def outcome_at(args: tuple[int, int]) -> tuple[str, Any]:
        pairs = [(s, translator.integer(v)) for s, v in zip(symbols, args, strict=True)]

        def concrete(term: Any) -> Any:
            return z3.simplify(z3.substitute(term, *pairs))

        if z3.is_true(concrete(outcome.unsafe)):
            return "unsafe", None
        if z3.is_true(concrete(outcome.crashed)):
            return "crash", None
        value = concrete(outcome.value)
        if z3.is_bool(value):
            return "value", z3.is_true(value)
        number = value.as_signed_long() if bits else value.as_long()
        return "value", ("mixed", number) if outcome.mixed else number

    return outcome_at


def disagreement(program: str, bits: int | None = None) -> str | None:
    """Where the translation and CPython disagree on ``program``, in words; None if they agree on every input."""
    outcome_at = translation(program, bits)
    if outcome_at is None:
        return None
    for args in WORD_INPUTS if bits else INPUTS:
        model, actual = outcome_at(args), cpython(program, args)
        if model[0] == "unsafe" and (bits or actual[0] in ("unsafe", "crash")):
            continue  # unmodelled (a crash may follow; with bits, a value outgrew the words): the verdict is unknown, never wrong
        if model[0] == "value" and isinstance(model[1], tuple):  # mixed: Python's type may be either
            if actual[0] == "value" and int(actual[1]) == model[1][1]:
                continue
        elif model == actual and (model[0] != "value" or type(model[1]) is type(actual[1])):
            continue
        return f"f{args}: CPython {actual}, translation {model}"
    return None
