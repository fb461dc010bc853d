"""Language models as proposers: one core (prompts, code extraction, self-checks), two transports.

``ChatProposer`` holds everything a language model needs to act as a proposer: the prompts, how
code is pulled out of a reply, and both self-checks (asking the model for a verdict and a
confidence, or having it write tests that run in the sandbox beside its code). Every prompt has
two forms: messages for chat (instruction-tuned) models, and a document to continue for base
models served as completions (the way HumanEval was meant to be run: the model writes the body
under the signature). The transports only send: ``OpenAIProposer`` to any OpenAI-compatible
endpoint (vLLM, the llama.cpp server, Ollama, hosted APIs) through the ``openai`` SDK, chat or
completions; ``LangChainProposer`` to any LangChain ``BaseChatModel``.
"""

from __future__ import annotations

import ast
import importlib
import json
import math
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from proctor._syntax import parse_python
from proctor.errors import InputError, UnavailableError
from proctor.loop._proposer import Feedback, register_proposer
from proctor.models import Limits, Proposal, SelfReport, Task

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from proctor.sandboxes import Sandbox

SelfCheck = Literal["asked", "own_tests"]
Style = Literal["chat", "completion"]
Messages = list[dict[str, str]]

PROPOSE_SYSTEM = (
    "You are an expert Python programmer. Complete the function the user gives you. "
    "Reply with the complete code, including the signature and any imports, in one ```python block."
)
PATCH_SYSTEM = (
    "You are an expert Python programmer fixing a repository. Reply with the fix as one unified diff "
    "(what `git diff` writes, with paths relative to the repository's root) in one ```diff block."
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
_DIFF_BLOCK = re.compile(r"```[ \t]*(?:diff|patch)?[ \t]*\n(.*?)```", re.S)
_DIFF_START = re.compile(r"^(?:diff --git |--- )", re.M)
SHOWN_BYTES = 64 * 1024  # of a repository's files in a prompt: a small model's context is small
_JSON = re.compile(r"\{.*?\}", re.S)
# Where a base model's continuation of code leaves the function (Chen et al. 2021's stop sequences).
CODE_STOP = ("\ndef ", "\nclass ", "\nif ", "\nprint(", "\n#", "\n```")


@dataclass(frozen=True)
class Reply:
    """A model's answer and what it cost, when the transport reports it.

    ``first_token`` holds the log-probabilities of the likeliest first tokens when the prompt
    asked for them (a completion's yes/no answer reads its confidence from there).
    """

    text: str
    tokens: int = 0
    cost: float = 0.0
    first_token: tuple[tuple[str, float], ...] = ()


Chat = Callable[[Messages], Reply]
Complete = Callable[[str, tuple[str, ...], int], Reply]  # document, stop sequences, first-token logprobs wanted


@dataclass(frozen=True)
class Prompt:
    """One request in both forms: ``messages`` for a chat model; ``document`` for a base model to continue.

    A completion's reply is read as ``started + continuation``: the document may begin the answer
    (an assert) so that a base model only has to finish it. ``stop`` ends it; ``logprobs`` asks for
    the first token's likeliest alternatives.
    """

    messages: Messages
    document: str
    stop: tuple[str, ...] = ()
    started: str = ""
    logprobs: int = 0


def extract_code(text: str, task: Task) -> str:
    """The code in a model's reply: the fenced block that defines the entry point, else the last block, else the text.

    A reply that only continues the function's body (as HumanEval completions do) is joined to the prompt.
    For a repository task the code is a patch: the fenced diff, else the text from its first diff header.
    """
    if task.metadata.get("kind") == "repo":
        return extract_patch(text)
    blocks: list[str] = _BLOCK.findall(text) or [text]
    defines = re.compile(rf"\bdef\s+{re.escape(task.entry_point)}\s*\(")
    defining = [b for b in blocks if defines.search(b)]
    code = (defining or blocks)[-1].strip("\n") + "\n"
    if not defining and defines.search(task.prompt):
        code = task.prompt + code
    return code


def extract_patch(text: str) -> str:
    """The unified diff in a model's reply: a ```diff block holding one, else the text from the first diff header."""
    for block in _DIFF_BLOCK.findall(text):
        if _DIFF_START.search(block):
            text = block
            break
    start = _DIFF_START.search(text)
    patch = text[start.start() :] if start else text
    return patch.rstrip("\n") + "\n"


class ChatProposer:
    """A language model as a proposer. ``self_check`` is ``asked`` or ``own_tests`` (model-written tests, sandboxed).

    ``style`` is ``chat`` (messages, for instruction-tuned models) or ``completion`` (a document
    to continue, for base models; needs a transport that gives ``complete``). Proposals carry the
    model's raw reply and, when the transport reports them, ``tokens`` and ``cost`` in their
    metadata (budgets count these). A reply the self-check cannot read is the claim
    ``unknown``, never ``pass``.
    """

    def __init__(
        self,
        chat: Chat,
        name: str,
        *,
        self_check: SelfCheck = "asked",
        style: Style = "chat",
        complete: Complete | None = None,
        sandbox: Sandbox | None = None,
        limits: Limits | None = None,
    ) -> None:
        if self_check not in ("asked", "own_tests"):
            raise InputError(f"self_check must be 'asked' or 'own_tests' (got {self_check!r})")
        if style not in ("chat", "completion"):
            raise InputError(f"style must be 'chat' or 'completion' (got {style!r})")
        if style == "completion" and complete is None:
            raise InputError(f"{name} can only chat: style=completion needs a completions endpoint")
        self.chat, self.complete, self.name, self.method, self.style = chat, complete, name, self_check, style
        self._sandbox, self.limits = sandbox, limits or Limits(wall_seconds=10, cpu_seconds=10)
        self.examples: list[str] = []  # worked examples shown before the task (a library's, set per task)

    def send(self, prompt: Prompt) -> Reply:
        """Ask the model, in this proposer's style."""
        if self.style == "chat" or self.complete is None:
            return self.chat(prompt.messages)
        reply = self.complete(prompt.document, prompt.stop, prompt.logprobs)
        return Reply(prompt.started + reply.text, reply.tokens, reply.cost, reply.first_token)

    def propose(self, task: Task, feedback: Feedback | None) -> Proposal:
        reply = self.send(propose_prompt(task, feedback, self.examples))
        metadata = {"tokens": reply.tokens, "cost": reply.cost, "reply": reply.text[:4000]}
        attempt = feedback.attempt if feedback else 1
        return Proposal(task_id=task.id, code=extract_code(reply.text, task), proposer=self.name, attempt=attempt, metadata=metadata)

    def self_check(self, task: Task, proposal: Proposal) -> SelfReport:
        if self.method == "own_tests":
            return self._own_tests(task, proposal)
        return self._asked(task, proposal)

    def _asked(self, task: Task, proposal: Proposal) -> SelfReport:
        reply = self.send(asked_prompt(task, proposal))
        answer = _read_answer(reply.text) if self.style == "chat" else _read_yes_no(reply)
        if answer is None:
            detail = f"could not read a verdict in the model's answer: {reply.text[:200]!r}"
            return SelfReport(proposal_id=proposal.id, claimed="unknown", confidence=0.0, method="asked", detail=detail)
        correct, confidence = answer
        claimed = "pass" if correct else "fail"
        return SelfReport(proposal_id=proposal.id, claimed=claimed, confidence=confidence, method="asked", detail=reply.text[:300])

    def _own_tests(self, task: Task, proposal: Proposal) -> SelfReport:
        from proctor.sandboxes import Job

        if task.metadata.get("kind") == "repo":  # a patch is not a function its own asserts could call
            detail = "own tests check a function; a repository patch has none to run them on"
            return SelfReport(proposal_id=proposal.id, claimed="unknown", confidence=0.0, method="own_tests", detail=detail)
        reply = self.send(own_tests_prompt(task))
        tests = _tests_in(reply.text, self.style)
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


def propose_prompt(task: Task, feedback: Feedback | None, examples: Sequence[str] = ()) -> Prompt:
    """Complete the task's function; a base model continues its signature and docstring, after the worked
    ``examples`` (code solving related tasks), when a library gives some. For a repository task: fix the
    repository, shown file by file, with a patch."""
    if task.metadata.get("kind") == "repo":
        return _patch_prompt(task, feedback)
    shown = "".join(f"```python\n{code.rstrip()}\n```\n\n" for code in examples)
    request = f"Solutions to related tasks:\n\n{shown}" if examples else ""
    request += f"Complete this function:\n\n```python\n{task.prompt}\n```"
    before = "".join(f"{code.rstrip()}\n\n\n" for code in examples)  # a base model reads them as code it has seen
    document = before + task.prompt
    if feedback is not None:
        request += f"\n\n{feedback.text()}\nFix the code."
        document = before + _comment(f"{feedback.text()}\nA corrected version:") + task.prompt
    messages = [{"role": "system", "content": PROPOSE_SYSTEM}, {"role": "user", "content": request}]
    return Prompt(messages, document, CODE_STOP)


def _patch_prompt(task: Task, feedback: Feedback | None) -> Prompt:
    from proctor.tasks._repo import repo_of

    shown, listing = 0, []
    for path, data in sorted(repo_of(task).base_files().items()):
        text = data.decode("utf-8", "replace")
        if shown + len(text) > SHOWN_BYTES:
            listing.append(f"{path}: (not shown: the listing is capped at {SHOWN_BYTES >> 10} KiB)")
            continue
        shown += len(text)
        listing.append(f"{path}:\n```\n{text}```")
    request = f"Issue: {task.prompt}\n\nThe repository:\n\n" + "\n\n".join(listing)
    if feedback is not None:
        request += f"\n\n{feedback.text()}\nFix the patch."
    messages = [{"role": "system", "content": PATCH_SYSTEM}, {"role": "user", "content": request}]
    return Prompt(messages, f"{request}\n\nThe fix, as a unified diff:\n```diff\n", ("\n```",), started="")


def asked_prompt(task: Task, proposal: Proposal) -> Prompt:
    """Is this solution correct? A chat model answers in JSON; a base model answers yes or no after the code.

    Base models do not fill a JSON verdict sensibly (Gemma 3 270M writes ``"correct": 0`` for
    everything) but do answer a yes/no question; their confidence is the probability they give
    that answer's first token (Kadavath et al. 2022's P(True)).
    """
    fence = "diff" if task.metadata.get("kind") == "repo" else "python"
    question = f"Task:\n```python\n{task.prompt}\n```\n\nSolution:\n```{fence}\n{proposal.code}\n```\n\nIs the solution correct?"
    messages = [{"role": "system", "content": ASK_SYSTEM}, {"role": "user", "content": question}]
    document = f"{proposal.code.rstrip()}\n\n\n# Q: Is the function above correct for every valid input? Answer yes or no.\n# A:"
    return Prompt(messages, document, ("\n",), logprobs=10)


def own_tests_prompt(task: Task) -> Prompt:
    """Tests for the task's function, written from its specification alone (never from the proposal)."""
    messages = [
        {"role": "system", "content": TESTS_SYSTEM},
        {"role": "user", "content": f"Write tests for `{task.entry_point}`:\n\n```python\n{task.prompt}\n```"},
    ]
    started = f"    assert {task.entry_point}("
    document = f"{task.prompt}    ...\n\n\ndef check():\n{started}"
    return Prompt(messages, document, ("\n\n", "\ndef ", "\nclass ", "\nif "), started)


def _comment(text: str) -> str:
    return "".join(f"# {line}\n" for line in text.splitlines())


def _tests_in(text: str, style: Style) -> str:
    """The model's tests: a chat model's last code block; a base model's assert lines that parse on their own."""
    if style == "chat":
        return str((_BLOCK.findall(text) or [text])[-1])
    lines = (line.strip() for line in text.splitlines())
    return "".join(f"{line}\n" for line in lines if line.startswith("assert") and _count_asserts(line) == 1)


_YES, _NO = frozenset({"yes", "true", "correct"}), frozenset({"no", "false", "incorrect", "wrong"})
_FIRST_WORD = re.compile(r"\W*(\w+)")


def _read_yes_no(reply: Reply) -> tuple[bool, float] | None:
    """A completion's yes or no, with the probability its first token gives that answer (1.0 without logprobs)."""
    word = _FIRST_WORD.match(reply.text)
    said = word.group(1).lower() if word else ""
    if said not in _YES | _NO:
        return None
    yes = sum(math.exp(lp) for token, lp in reply.first_token if token.strip().lower() in _YES)
    no = sum(math.exp(lp) for token, lp in reply.first_token if token.strip().lower() in _NO)
    share = (yes if said in _YES else no) / (yes + no) if yes + no else 1.0
    return said in _YES, share


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
        tree = parse_python(code)
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
        super().__init__(self._chat, options.pop("name", f"openai:{model}"), complete=self._complete, **options)

    def _chat(self, messages: Messages) -> Reply:
        response = self._call(lambda: self.client.chat.completions.create(model=self.model, messages=messages, **self.request))  # type: ignore[call-overload]
        text = (response.choices[0].message.content or "") if response.choices else ""
        return Reply(text, _total_tokens(response))

    def _complete(self, document: str, stop: tuple[str, ...], logprobs: int = 0) -> Reply:
        # All stop sequences go: vLLM and llama.cpp take any number (hosted OpenAI refuses more than 4).
        options = {"stop": list(stop) or None, **({"logprobs": logprobs} if logprobs else {})}
        response = self._call(lambda: self.client.completions.create(model=self.model, prompt=document, **options, **self.request))  # type: ignore[call-overload]
        if not response.choices:
            return Reply("", _total_tokens(response))
        choice = response.choices[0]
        top = choice.logprobs.top_logprobs if choice.logprobs and choice.logprobs.top_logprobs else []
        first = tuple(sorted(top[0].items(), key=lambda item: -item[1])) if top and top[0] else ()
        return Reply(choice.text or "", _total_tokens(response), first_token=first)

    def _call(self, request: Callable[[], Any]) -> Any:
        import openai

        try:
            return request()
        except openai.AuthenticationError as exc:
            raise InputError(f"{self.base_url} refused the key in ${self.key_env}: {exc.message}") from None
        except openai.APIStatusError as exc:
            raise UnavailableError(f"{self.base_url} answered {exc.status_code}: {exc.message}") from None
        except openai.APIError as exc:  # connection refused, timeouts, unreadable answers
            raise UnavailableError(f"cannot use the model at {self.base_url}: {exc}") from None


def _total_tokens(response: Any) -> int:
    return int(response.usage.total_tokens or 0) if response.usage else 0


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


def chat_options(options: Mapping[str, str], integers: tuple[str, ...] = ()) -> dict[str, Any]:
    """A chat proposer's ``key=value`` options with the numeric ones converted (InputError naming a bad one)."""
    settings: dict[str, Any] = {}
    for key, value in options.items():
        if key in ("temperature", "timeout"):
            settings[key] = _number(key, value, float)
        elif key in ("max_tokens", "seed", *integers):
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
    settings = chat_options(options)
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
