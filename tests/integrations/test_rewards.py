"""The reward adapters, called exactly as TRL, verl and PrimeIntellect's verifiers call them."""

from __future__ import annotations

import pytest

from proctor.errors import InputError

RIGHT = "Here it is:\n```python\ndef truncate_number(number: float) -> float:\n    return number % 1.0\n```\n"
WRONG = "```python\ndef truncate_number(number: float) -> float:\n    return number - round(number)\n```"
HACK = (  # an object equal to everything: passes a checker that compares with ==
    "```python\nclass Anything(float):\n    def __eq__(self, other):\n        return True\n"
    "def truncate_number(number):\n    return Anything(0.0)\n```"
)
TASK = "HumanEval/2"


def test_trl_rewards_as_grpo_trainer_calls_them(namespace_sandbox):
    from proctor.integrations.trl import reward_function

    reward = reward_function(sandbox=namespace_sandbox)
    prompts = ["Write truncate_number."] * 3
    completions = [RIGHT, WRONG, HACK]
    got = reward(prompts=prompts, completions=completions, completion_ids=[[1, 2]] * 3, task_id=[TASK] * 3, trainer_state=object())
    assert got == [1.0, 0.0, 0.0]
    conversations = [[{"role": "assistant", "content": text}] for text in completions]  # TRL's conversational format
    assert reward(prompts=[[{"role": "user", "content": p}] for p in prompts], completions=conversations, task_id=[TASK] * 3) == got


def test_trl_reward_without_its_task_column_is_a_clear_error(namespace_sandbox):
    from proctor.integrations.trl import reward_function

    with pytest.raises(InputError, match="dataset column 'task_id'"):
        reward_function(sandbox=namespace_sandbox)(prompts=["p"], completions=[RIGHT], problem=["x"])
    with pytest.raises(InputError, match="unknown task 'HumanEval/999'"):
        reward_function(sandbox=namespace_sandbox)(prompts=["p"], completions=[RIGHT], task_id=["HumanEval/999"])


def test_a_verdict_the_verifiers_cannot_reach_is_no_reward(namespace_sandbox):
    from proctor.integrations.trl import reward_function
    from proctor.models import Task

    task = Task(id="no-checks", prompt="def f(x):\n    pass\n", entry_point="f")  # no tests, no reference: nothing decides
    reward = reward_function({task.id: task}, verifiers=["properties"], sandbox=namespace_sandbox)
    assert reward(prompts=["p"], completions=["def f(x):\n    return x\n"], task_id=[task.id]) == [None]


def test_trl_reward_records_every_verification_in_the_ledger(namespace_sandbox, tmp_path):
    from proctor.integrations.trl import reward_function
    from proctor.ledger import Ledger, verify_ledger

    path = tmp_path / "rewards.db"
    reward = reward_function(ledger=path, sandbox=namespace_sandbox)
    assert reward(prompts=["p"] * 3, completions=[RIGHT, WRONG, HACK], task_id=[TASK] * 3) == [1.0, 0.0, 0.0]
    reward.judge.close()
    with Ledger(path, readonly=True) as book:
        assert verify_ledger(book).ok
        decisions = [e.data["outcome"] for e in book.entries(kinds=["decision"])]
        outputs = [e.data["metadata"]["output"] for e in book.entries(kinds=["proposal"])]
        kinds = [e.kind for e in book.entries()]
    assert decisions == ["accept", "reject", "reject"] and outputs == [RIGHT, WRONG, HACK]  # the model's exact text, kept
    assert kinds[0] == "run_start" and kinds[-1] == "run_end" and kinds.count("verdict") >= 3


def test_verl_compute_score_as_verl_calls_it(namespace_sandbox):
    from proctor.integrations import Judge
    from proctor.integrations.verl import make_compute_score

    compute_score = make_compute_score(Judge(sandbox=namespace_sandbox))
    assert (
        compute_score(data_source="humaneval", solution_str=RIGHT, ground_truth=TASK, extra_info={"index": 0, "split": "train"}) == 1.0
    )
    assert compute_score("humaneval", WRONG, TASK) == 0.0
    assert compute_score("humaneval", HACK, "ignored", {"task_id": TASK}) == 0.0  # extra_info's task_id wins


def test_verl_takes_a_whole_task_as_ground_truth(namespace_sandbox):
    import json

    from proctor.integrations import Judge
    from proctor.integrations.verl import make_compute_score

    task = {
        "id": "double",
        "prompt": "def double(x):\n    pass\n",
        "entry_point": "double",
        "tests": "def check(candidate):\n    assert candidate(2) == 4\n    assert candidate(-3) == -6\n",
        "reference": "def double(x):\n    return 2 * x\n",
    }
    compute_score = make_compute_score(Judge(sandbox=namespace_sandbox))
    assert compute_score("mine", "def double(x):\n    return x + x\n", json.dumps(task)) == 1.0
    assert compute_score("mine", "def double(x):\n    return x * x\n", task) == 0.0
    with pytest.raises(InputError, match="not a proctor task"):
        compute_score("mine", "def double(x): ...", {"prompt": 3})


def test_prime_rubric_function_as_a_rubric_calls_it(namespace_sandbox):
    from proctor.integrations.prime import reward_function

    reward = reward_function(sandbox=namespace_sandbox)
    messages = [{"role": "assistant", "content": RIGHT}]
    assert (
        reward(completion=messages, answer=TASK, info={}, prompt=[{"role": "user", "content": "p"}], state={}, task="default") == 1.0
    )
    assert reward(completion=WRONG, answer="", info={"task_id": TASK}) == 0.0
