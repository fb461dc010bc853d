"""Language models as proposers: one core (prompts, code extraction, self-checks), two transports.

``ChatProposer`` holds everything a chat model needs to act as a proposer: the prompts, how
code is pulled out of a reply, and both self-checks (asking the model for a verdict and a
confidence, or having it write tests that run in the sandbox beside its code). The transports
only send messages: ``OpenAIProposer`` to any OpenAI-compatible endpoint (vLLM, the llama.cpp
server, Ollama, hosted APIs) through the ``openai`` SDK, ``LangChainProposer`` to any
LangChain ``BaseChatModel``.
"""

from __future__ import annotations

import ast
import importlib
import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from proctor.errors import InputError, UnavailableError
from proctor.loop._proposer import Feedback, register_proposer
from proctor.models import Limits, Proposal, SelfReport, Task

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from proctor.sandboxes import Sandbox

SelfCheck = Literal["asked", "own_tests"]
Messages = list[dict[str, str]]

PROPOSE_SYSTEM = (
    "You are an expert Python programmer. Complete the function the user gives you. "
    "Reply with the complete code, including the signature and any imports, in one ```python block."
)
ASK_SYSTEM = (
    "You review Python code. Decide whether the solution is correct for every valid input. "
    'Reply with JSON only: {"correct": true or false, "confidence": a number from 0 to 1}.'
)
TESTS_SYSTEM = (
    "You write tests for Python code. Reply with one ```python block of 3 to 8 assert statements that call "
    "the function and check its results. Do not define the function again."
)
_BLOCK = re.compile(r"```[ \t]*(?:python|py|python3)?[ \t]*\n(.*?)```", re.S)
_JSON = re.compile(r"\{.*?\}", re.S)


@dataclass(frozen=True)
class Reply:
    """A chat model's answer and what it cost, when the transport reports it."""

    text: str
    tokens: int = 0
    cost: float = 0.0


Chat = Callable[[Messages], Reply]


def extract_code(text: str, task: Task) -> str:
    """The code in a model's reply: the fenced block that defines the entry point, else the last block, else the text.

    A reply that only continues the function's body (as HumanEval completions do) is joined to the prompt.
    """
    blocks: list[str] = _BLOCK.findall(text) or [text]
    defines = re.compile(rf"\bdef\s+{re.escape(task.entry_point)}\s*\(")
    defining = [b for b in blocks if defines.search(b)]
    code = (defining or blocks)[-1].strip("\n") + "\n"
    if not defining and defines.search(task.prompt):
        code = task.prompt + code
    return code


class ChatProposer:
    """A chat model as a proposer. ``self_check`` is ``asked`` or ``own_tests`` (model-written tests, sandboxed).

    Proposals carry the model's raw reply and, when the transport reports them, ``tokens`` and
    ``cost`` in their metadata (budgets count these). A reply the self-check cannot read is
    the claim ``unknown``, never ``pass``.
    """

    def __init__(
        self,
        chat: Chat,
        name: str,
        *,
        self_check: SelfCheck = "asked",
        sandbox: Sandbox | None = None,
        limits: Limits | None = None,
    ) -> None:
        if self_check not in ("asked", "own_tests"):
            raise InputError(f"self_check must be 'asked' or 'own_tests' (got {self_check!r})")
        self.chat, self.name, self.method = chat, name, self_check
        self._sandbox, self.limits = sandbox, limits or Limits(wall_seconds=10, cpu_seconds=10)

    def propose(self, task: Task, feedback: Feedback | None) -> Proposal:
        prompt = f"Complete this function:\n\n```python\n{task.prompt}\n```"
        if feedback is not None:
            prompt += f"\n\n{feedback.text()}\nFix the code."
        reply = self.chat([{"role": "system", "content": PROPOSE_SYSTEM}, {"role": "user", "content": prompt}])
        metadata = {"tokens": reply.tokens, "cost": reply.cost, "reply": reply.text[:4000]}
        attempt = feedback.attempt if feedback else 1
        return Proposal(task_id=task.id, code=extract_code(reply.text, task), proposer=self.name, attempt=attempt, metadata=metadata)

    def self_check(self, task: Task, proposal: Proposal) -> SelfReport:
        if self.method == "own_tests":
            return self._own_tests(task, proposal)
        return self._asked(task, proposal)

    def _asked(self, task: Task, proposal: Proposal) -> SelfReport:
        question = f"Task:\n```python\n{task.prompt}\n```\n\nSolution:\n```python\n{proposal.code}\n```\n\nIs the solution correct?"
        reply = self.chat([{"role": "system", "content": ASK_SYSTEM}, {"role": "user", "content": question}])
        answer = _read_answer(reply.text)
        if answer is None:
            detail = f"could not read a verdict in the model's answer: {reply.text[:200]!r}"
            return SelfReport(proposal_id=proposal.id, claimed="unknown", confidence=0.0, method="asked", detail=detail)
        correct, confidence = answer
        claimed = "pass" if correct else "fail"
        return SelfReport(proposal_id=proposal.id, claimed=claimed, confidence=confidence, method="asked", detail=reply.text[:300])

    def _own_tests(self, task: Task, proposal: Proposal) -> SelfReport:
        from proctor.sandboxes import Job

        question = f"Write tests for `{task.entry_point}`:\n\n```python\n{task.prompt}\n```"
        reply = self.chat([{"role": "system", "content": TESTS_SYSTEM}, {"role": "user", "content": question}])
        tests: str = (_BLOCK.findall(reply.text) or [reply.text])[-1]
        asserts = _count_asserts(tests)
        if not asserts:
            detail = f"the model wrote no runnable assert statements: {reply.text[:200]!r}"
            return SelfReport(proposal_id=proposal.id, claimed="unknown", confidence=0.0, method="own_tests", detail=detail)
        job = Job(command=["python", "own_tests.py"], files={"own_tests.py": f"{proposal.code}\n\n{tests}\n"})
        result = self.sandbox.run(job, self.limits)
        passed = result.exit_code == 0 and result.limit_hit is None
        last = (result.stderr.decode(errors="replace").strip().splitlines() or [""])[-1]
        detail = f"{asserts} own asserts {'passed' if passed else 'failed'}" + ("" if passed else f": {last[:200]}")
        return SelfReport(
            proposal_id=proposal.id, claimed="pass" if passed else "fail", confidence=1.0, method="own_tests", detail=detail
        )

    @property
    def sandbox(self) -> Sandbox:
        """The sandbox model-written tests run in (the default backend unless one was given)."""
        if self._sandbox is None:
            from proctor.sandboxes import default_sandbox_name, get_sandbox

            self._sandbox = get_sandbox(default_sandbox_name())
        return self._sandbox


def _read_answer(text: str) -> tuple[bool, float] | None:
    for match in _JSON.finditer(text):
        try:
            data = json.loads(match.group())
        except ValueError:
            continue
        if isinstance(data, dict) and isinstance(data.get("correct"), bool):
            confidence = data.get("confidence", 0.5)
            confidence = float(confidence) if isinstance(confidence, int | float) else 0.5
            return data["correct"], min(1.0, max(0.0, confidence))
    return None


def _count_asserts(code: str) -> int:
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return 0
    return sum(isinstance(node, ast.Assert) for node in ast.walk(tree))


# -- transports ----------------------------------------------------------------------------------


class OpenAIProposer(ChatProposer):
    """Any OpenAI-compatible chat endpoint: vLLM, the llama.cpp server, Ollama, hosted APIs.

    The key is read from the environment variable ``key_env`` (never from the command line);
    local servers that need no key get a placeholder. An unreachable endpoint or a server
    error raises ``UnavailableError``; a refused key raises ``InputError``.
    """

    def __init__(
        self,
        model: str,
        base_url: str | None = None,
        *,
        key_env: str = "OPENAI_API_KEY",
        temperature: float = 0.2,
        max_tokens: int = 1024,
        seed: int | None = None,
        timeout: float = 120.0,
        **options: Any,
    ) -> None:
        try:
            from openai import OpenAI
        except ImportError:
            raise InputError("the openai proposer needs the openai package: pip install 'proctor[openai]'") from None
        key = os.environ.get(key_env)
        if not key and base_url is None:
            raise InputError(f"the hosted OpenAI API needs a key: set {key_env}, or give base_url for a local server")
        self.client = OpenAI(base_url=base_url, api_key=key or "not-needed", timeout=timeout, max_retries=1)
        self.model, self.base_url, self.key_env = model, base_url or "https://api.openai.com/v1", key_env
        self.request = {"temperature": temperature, "max_tokens": max_tokens, **({"seed": seed} if seed is not None else {})}
        super().__init__(self._chat, options.pop("name", f"openai:{model}"), **options)

    def _chat(self, messages: Messages) -> Reply:
        import openai

        try:
            response = self.client.chat.completions.create(model=self.model, messages=messages, **self.request)  # type: ignore[call-overload]
        except openai.AuthenticationError as exc:
            raise InputError(f"{self.base_url} refused the key in ${self.key_env}: {exc.message}") from None
        except openai.APIStatusError as exc:
            raise UnavailableError(f"{self.base_url} answered {exc.status_code}: {exc.message}") from None
        except openai.APIError as exc:  # connection refused, timeouts, unreadable answers
            raise UnavailableError(f"cannot use the model at {self.base_url}: {exc}") from None
        text = (response.choices[0].message.content or "") if response.choices else ""
        tokens = response.usage.total_tokens if response.usage else 0
        return Reply(text, int(tokens or 0))


class LangChainProposer(ChatProposer):
    """Any LangChain chat model (``BaseChatModel``) as a proposer; tokens come from its usage metadata."""

    def __init__(self, model: BaseChatModel, **options: Any) -> None:
        self.model = model
        super().__init__(self._chat, options.pop("name", f"langchain:{type(model).__name__}"), **options)

    def _chat(self, messages: Messages) -> Reply:
        roles = {"system": "system", "user": "human", "assistant": "ai"}
        message = self.model.invoke([(roles[m["role"]], m["content"]) for m in messages])
        content = message.content
        text = content if isinstance(content, str) else "".join(p if isinstance(p, str) else str(p.get("text", "")) for p in content)
        usage = getattr(message, "usage_metadata", None) or {}
        return Reply(text, int(usage.get("total_tokens", 0)))


def _chat_options(options: Mapping[str, str]) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    for key, value in options.items():
        if key in ("temperature", "timeout"):
            settings[key] = _number(key, value, float)
        elif key in ("max_tokens", "seed"):
            settings[key] = _number(key, value, int)
        else:
            settings[key] = value
    return settings


def _number(key: str, value: str, kind: type[int] | type[float]) -> int | float:
    try:
        return kind(value)
    except ValueError:
        raise InputError(f"proposer option {key} must be a number (got {value!r})") from None


@register_proposer("openai")
def _openai(options: Mapping[str, str]) -> OpenAIProposer:
    settings = _chat_options(options)
    model = settings.pop("model", None)
    if not model:
        raise InputError("the openai proposer needs model=NAME (and base_url=URL for a server other than api.openai.com)")
    try:
        return OpenAIProposer(model, settings.pop("base_url", None), **settings)
    except TypeError as exc:
        raise InputError(f"openai proposer: {exc}") from None


@register_proposer("langchain")
def _langchain(options: Mapping[str, str]) -> LangChainProposer:
    settings = dict(options)
    factory = settings.pop("factory", "")
    module_name, _, attr = factory.partition(":")
    if not module_name or not attr:
        raise InputError("the langchain proposer needs factory=MODULE:CALLABLE returning a BaseChatModel")
    try:
        make = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise InputError(f"langchain proposer: cannot load {factory}: {exc}") from None
    return LangChainProposer(make(), **settings)
