"""Scenario suites: tasks × proposer profiles × regimes × seeds × rounds, read from TOML.

A suite file names its tasks (``humaneval``, ``humaneval:ID`` or a task file, relative to the
suite file; or a list of those, concatenated in order), the proposer profiles (a simulated
``Profile``'s fields, or ``proposer = SPEC`` for any other proposer, where ``{seed}`` stands for
the run's seed), the regimes, seeds, cycles per task and rounds, the verifiers the loop sees and
the held-out oracle's. ``[quick]`` overrides any of those for a fast run. Each (profile, regime,
seed, round) is one run in the ledger, named by ``Cell.run``.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from proctor.errors import InputError
from proctor.loop import Profile, Regime
from proctor.models import Task

SHIPPED = Path(__file__).with_name("suites")


class ProfileSpec(BaseModel):
    """One proposer in a suite: a simulated profile's fields, or ``proposer`` (a spec for ``make_proposer``)."""

    model_config = ConfigDict(frozen=True, extra="allow")

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.=+-]+$")
    proposer: str | None = None

    @model_validator(mode="after")
    def _fields_make_a_profile(self) -> ProfileSpec:
        if self.proposer is None:
            Profile.model_validate(self.model_extra or {})
        elif self.model_extra:
            raise ValueError(f"profile {self.name!r} names a proposer, so it cannot also set {', '.join(self.model_extra)}")
        return self

    @property
    def simulated(self) -> Profile | None:
        return Profile.model_validate(self.model_extra or {}) if self.proposer is None else None


def _every_regime() -> list[Regime]:
    return ["external", "hybrid", "self", "none"]


class Quick(BaseModel):
    """What ``--quick`` changes: fewer tasks, seeds, rounds or profiles."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    limit: int | None = Field(None, ge=1)
    seeds: list[int] | None = None
    rounds: int | None = Field(None, ge=1)
    cycles: int | None = Field(None, ge=1)
    profiles: list[str] | None = None


class Suite(BaseModel):
    """A scenario suite as its TOML file states it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    description: str = ""
    tasks: str | list[str] = Field(min_length=1)
    limit: int | None = Field(None, ge=1)
    profiles: list[ProfileSpec] = Field(min_length=1)
    regimes: list[Regime] = Field(default_factory=_every_regime, min_length=1)
    seeds: list[int] = Field(default_factory=lambda: [0, 1, 2], min_length=1)
    cycles: int = Field(3, ge=1)
    rounds: int = Field(1, ge=1)
    # In-context expert iteration: how many proposals the loop accepted in earlier rounds (each regime by its
    # own rule) each prompt shows as worked examples, chosen per task by similarity; 0 for none.
    library: int = Field(0, ge=0)
    verifiers: list[str] | None = None
    oracle: list[str] = Field(default_factory=lambda: ["hack_scan", "tests", "properties"], min_length=1)
    quick: Quick = Quick()
    # The most local worker processes this suite should get when --workers is not given: a proposer
    # that serves its own model (real-model) wants 1, since each process would load a copy.
    workers: int | None = Field(None, ge=1)
    base: str = ""  # the directory task files are relative to (set when loaded)

    @model_validator(mode="after")
    def _names_are_unique(self) -> Suite:
        names = [p.name for p in self.profiles]
        if len(set(names)) != len(names):
            raise ValueError(f"profile names repeat: {', '.join(sorted({n for n in names if names.count(n) > 1}))}")
        unknown = set(self.quick.profiles or ()) - set(names)
        if unknown:
            raise ValueError(f"quick.profiles names unknown profiles: {', '.join(sorted(unknown))}")
        return self

    @property
    def task_sources(self) -> list[str]:
        """The task references, in order (``tasks`` may name one or several)."""
        return [self.tasks] if isinstance(self.tasks, str) else list(self.tasks)

    def plan(self, quick: bool = False) -> Plan:
        """The runs this suite makes, full or quick."""
        q = self.quick if quick else Quick()
        profiles = [p for p in self.profiles if q.profiles is None or p.name in q.profiles]
        return Plan(
            suite=self,
            quick=quick,
            limit=q.limit or self.limit,
            profiles=tuple(profiles),
            seeds=tuple(q.seeds or self.seeds),
            rounds=q.rounds or self.rounds,
            cycles=q.cycles or self.cycles,
        )


@dataclass(frozen=True)
class Cell:
    """One run of a suite: a profile under a regime, for a seed, in a round."""

    prefix: str
    profile: str
    regime: Regime
    seed: int
    round: int

    @property
    def run(self) -> str:
        return f"{self.prefix}/{self.profile}/{self.regime}/seed{self.seed}/round{self.round}"

    @property
    def chain(self) -> tuple[str, str, int]:
        """The runs that follow each other through rounds share this."""
        return self.profile, self.regime, self.seed


@dataclass(frozen=True)
class Plan:
    """A suite resolved for one mode (full or quick): its tasks and every cell."""

    suite: Suite
    quick: bool
    limit: int | None
    profiles: tuple[ProfileSpec, ...]
    seeds: tuple[int, ...]
    rounds: int
    cycles: int

    @property
    def prefix(self) -> str:
        return self.suite.name + (".quick" if self.quick else "")

    def cells(self, round: int = 1) -> list[Cell]:
        return [
            Cell(self.prefix, p.name, regime, seed, round)
            for p in self.profiles
            for regime in self.suite.regimes
            for seed in self.seeds
        ]

    def profile(self, name: str) -> ProfileSpec:
        return next(p for p in self.profiles if p.name == name)

    @cached_property
    def tasks(self) -> list[Task]:
        from proctor.tasks import resolve_tasks

        tasks: dict[str, Task] = {}
        for reference in self.suite.task_sources:
            if not reference.startswith("humaneval"):
                reference = str(Path(self.suite.base or ".") / reference)
            tasks.update(resolve_tasks(reference))
        return list(tasks.values())[: self.limit]

    @property
    def digest(self) -> str:
        """Identifies what the runs depend on; a ledger's runs of another digest are a different suite."""
        settings = self.suite.model_dump(mode="json", exclude={"description", "base", "quick", "workers"})
        settings.update(quick=self.quick, limit=self.limit, seeds=self.seeds, rounds=self.rounds, cycles=self.cycles)
        settings["profiles"] = [p.model_dump(mode="json") for p in self.profiles]
        return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]

    def size(self) -> int:
        return len(self.cells()) * self.rounds


def suite_names() -> list[str]:
    """The shipped suites."""
    return sorted(path.stem for path in SHIPPED.glob("*.toml"))


def load_suite(name_or_path: str | Path) -> Suite:
    """A shipped suite by name, or a suite file; InputError naming the file and field on any problem."""
    path = Path(name_or_path)
    if not path.suffix and str(name_or_path) in suite_names():
        path = SHIPPED / f"{name_or_path}.toml"
    try:
        document: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{name_or_path}: no such suite (shipped: {', '.join(suite_names())}; or give a .toml file)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: cannot read it: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: not valid TOML: {exc}") from None
    try:
        return Suite.model_validate({**document, "base": str(path.parent)})
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "(suite)"
        raise InputError(f"{path}: field {field!r}: {first['msg']}") from None
