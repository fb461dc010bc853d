"""Proposers: the simulated profile, the OpenAI-compatible adapter against a real HTTP server, LangChain's fakes."""

from __future__ import annotations

import ast
import json
import random
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from proctor.errors import InputError, UnavailableError
from proctor.loop import (
    Feedback,
    LangChainProposer,
    OpenAIProposer,
    Profile,
    ScriptedProposer,
    SimulatedProposer,
    make_proposer,
    run_loop,
)
from proctor.loop._simulated import HACKS, mutate
from proctor.tasks import humaneval_tasks
from tests.loop.conftest import BAD, GOOD, INC, entries

HUMANEVAL = list(humaneval_tasks().values())


def _kinds(profile, tasks, seed=0, attempt=1):
    proposer = SimulatedProposer(profile, seed=seed)
    feedback = Feedback(attempt=attempt) if attempt > 1 else None
    return Counter(proposer.propose(task, feedback).metadata["simulated"] for task in tasks)


def test_the_simulated_profile_sets_what_is_proposed():
    assert _kinds(Profile(competence=1.0), HUMANEVAL[:40]) == {"correct": 40}
    assert _kinds(Profile(hack=1.0), HUMANEVAL[:40]) == {"hack": 40}
    assert _kinds(Profile(competence=0.0), HUMANEVAL[:40]) == {"mutant": 40}
    some = _kinds(Profile(competence=0.5, hack=0.2), HUMANEVAL)
    assert 15 <= some["hack"] <= 55 and 45 <= some["correct"] <= 105, some
    escalating = Profile(competence=0.5, hack=0.0, hack_escalation=0.5)
    assert _kinds(escalating, HUMANEVAL[:40])["hack"] == 0 and _kinds(escalating, HUMANEVAL[:40], attempt=3)["hack"] == 40


def test_every_mutant_parses_and_differs_from_the_reference():
    rng = random.Random(0)
    for task in HUMANEVAL:
        mutant, what = mutate(task.reference, rng)
        ast.parse(mutant)
        assert ast.dump(ast.parse(mutant)) != ast.dump(ast.parse(task.reference)), (task.id, what)


def test_every_known_hack_is_python_that_names_the_entry_point():
    for task in HUMANEVAL[:20]:
        for name, make in HACKS.items():
            code = make(task)
            ast.parse(code)
            assert f"def {task.entry_point}(" in code, (task.id, name)


def test_overconfidence_sets_how_often_wrong_answers_are_claimed_to_pass():
    rates = []
    for overconfidence in (0.1, 0.9):
        proposer = SimulatedProposer(Profile(competence=0.0, overconfidence=overconfidence), seed=3)
        claims = [proposer.self_check(t, proposer.propose(t, None)).claimed for t in HUMANEVAL]
        rates.append(claims.count("pass") / len(claims))
    assert rates[0] < 0.25 < 0.75 < rates[1], rates


def test_training_on_accepted_work_moves_the_profile_toward_it():
    base = Profile(competence=0.5, overconfidence=0.5, hack=0.1, learning_rate=0.2)
    assert base.after({"correct": 10}).competence > base.competence
    hacked = base.after({"hack": 5, "correct": 5})
    assert hacked.hack > base.hack and hacked.overconfidence > base.overconfidence
    assert base.after({}) == base


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ("magic", "unknown proposer 'magic'"),
        ("simulated:competence=2", "competence"),
        ("simulated:competence", "key=value"),
        ("simulated:wisdom=1", "wisdom"),
        ("openai:base_url=http://127.0.0.1:9", "model=NAME"),
        ("langchain:factory=nowhere:thing", "cannot load"),
    ],
)
def test_a_bad_proposer_spec_is_an_input_error_naming_the_problem(spec, words):
    with pytest.raises(InputError, match=words):
        make_proposer(spec)


# -- a real OpenAI-compatible server on loopback -----------------------------------------------


class FakeModel(BaseHTTPRequestHandler):
    """Answers chat completions the way a model would, by what its system prompt asks for."""

    requests: ClassVar[list[dict]] = []
    status = 200

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
        if type(self).status != 200:
            return self._send(type(self).status, {"error": {"message": "overloaded", "type": "server_error"}})
        system = body["messages"][0]["content"]
        if "review" in system:
            text = 'I checked it. {"correct": true, "confidence": 0.85}'
        elif "write tests" in system:
            text = "```python\nassert inc(1) == 2\nassert inc(5) == 6\n```"
        else:
            text = "Here you go:\n```python\ndef inc(x: int) -> int:\n    return x + 1\n```"
        self._send(
            200,
            {
                "id": "c1",
                "object": "chat.completion",
                "created": 0,
                "model": body["model"],
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 30, "completion_tokens": 12, "total_tokens": 42},
            },
        )

    def _send(self, status, payload):
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    FakeModel.requests, FakeModel.status = [], 200
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), FakeModel)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    httpd.shutdown()


def test_the_openai_adapter_drives_the_loop_against_a_real_server(server, pipeline, ledger_path, monkeypatch):
    monkeypatch.setenv("LOCAL_KEY", "sekrit")
    proposer = make_proposer(f"openai:model=tiny,base_url={server},key_env=LOCAL_KEY,max_tokens=64")
    result = run_loop([INC], proposer, pipeline, ledger_path, run="r")
    assert result.outcomes == {"inc": "accepted"} and result.spent["tokens"] == 42
    assert [r["path"] for r in FakeModel.requests] == ["/v1/chat/completions"] * 2
    assert {r["auth"] for r in FakeModel.requests} == {"Bearer sekrit"}
    assert FakeModel.requests[0]["body"]["model"] == "tiny" and FakeModel.requests[0]["body"]["max_tokens"] == 64
    claim = entries(ledger_path, "r", "self_report")[0].data
    assert claim["claimed"] == "pass" and claim["confidence"] == 0.85 and claim["method"] == "asked"
    assert "sekrit" not in ledger_path.read_bytes().decode(errors="replace")


def test_model_written_tests_run_in_the_sandbox_as_the_self_check(server, namespace_sandbox):
    proposer = OpenAIProposer("tiny", server, self_check="own_tests", sandbox=namespace_sandbox)
    honest = proposer.propose(INC, None)
    assert proposer.self_check(INC, honest).claimed == "pass"
    wrong = honest.model_copy(update={"code": BAD["inc"]})
    claim = proposer.self_check(INC, wrong)
    assert claim.claimed == "fail" and claim.method == "own_tests" and "AssertionError" in claim.detail


def test_an_unreachable_or_failing_endpoint_is_unavailable_and_a_bad_key_is_input(server):
    with pytest.raises(UnavailableError, match="cannot use the model"):
        OpenAIProposer("tiny", "http://127.0.0.1:9/v1", timeout=2).propose(INC, None)
    FakeModel.status = 500
    with pytest.raises(UnavailableError, match="answered 500"):
        OpenAIProposer("tiny", server, timeout=5).propose(INC, None)
    FakeModel.status = 401
    with pytest.raises(InputError, match="refused the key"):
        OpenAIProposer("tiny", server, timeout=5).propose(INC, None)


def test_the_hosted_api_without_a_key_is_refused(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(InputError, match="OPENAI_API_KEY"):
        OpenAIProposer("gpt-4o-mini")


# -- LangChain chat models -------------------------------------------------------------------


def test_the_langchain_adapter_with_a_fake_chat_model(pipeline, ledger_path):
    from langchain_core.language_models.fake_chat_models import FakeListChatModel

    replies = [
        "```python\ndef inc(x: int) -> int:\n    return x + 2\n```",
        '{"correct": true, "confidence": 0.99}',
        "    return x + 1\n",  # a bare completion of the body, joined to the prompt
        "I am not sure.",
    ]
    proposer = LangChainProposer(FakeListChatModel(responses=replies))
    result = run_loop([INC], proposer, pipeline, ledger_path, run="r")
    assert result.outcomes == {"inc": "accepted"}
    claims = [e.data["claimed"] for e in entries(ledger_path, "r", "self_report")]
    assert claims == ["pass", "unknown"]  # an answer without a readable verdict is never a pass
    decisions = [e.data["outcome"] for e in entries(ledger_path, "r", "decision")]
    assert decisions == ["retry", "accept"]


def test_the_scripted_proposer_refuses_a_task_it_has_no_script_for():
    with pytest.raises(InputError, match="no candidate for task inc"):
        ScriptedProposer({"other": [GOOD["inc"]]}).propose(INC, None)


def test_no_simulated_hack_passes_the_default_pipeline(namespace_sandbox):
    from proctor.models import Proposal
    from proctor.verifiers import default_pipeline

    passed = []
    for task in HUMANEVAL[:12]:
        pipeline = default_pipeline(task, namespace_sandbox)
        for name, make in HACKS.items():
            verdict = pipeline.verify(task, Proposal(task_id=task.id, code=make(task)))
            if verdict.passed:
                passed.append((task.id, name))
    assert passed == []
