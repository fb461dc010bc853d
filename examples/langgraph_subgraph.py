"""proctor's loop as one node of your own LangGraph app.

The parent graph picks a task, hands it to proctor's compiled loop (a subgraph: propose,
self-check, verify, decide, record), and then acts on the outcome. Everything the subgraph did
is in the ledger. Run it with:  python examples/langgraph_subgraph.py [LEDGER]
"""

from __future__ import annotations

import sys
from typing import Any, TypedDict

from langgraph.graph import END, START, StateGraph

from proctor.ledger import Ledger, Recorder
from proctor.loop import Budget, Profile, SimulatedProposer, build_graph
from proctor.sandboxes import default_sandbox_name, get_sandbox
from proctor.tasks import humaneval_tasks
from proctor.verifiers import default_pipeline


class AppState(TypedDict, total=False):
    task: dict[str, Any]  # shared with proctor's LoopState: the subgraph reads it
    outcome: str | None  # shared: the subgraph writes accepted / rejected
    proposal: dict[str, Any] | None  # shared: the last proposal
    message: str  # the app's own


def pick_task(state: AppState) -> AppState:
    return {"task": humaneval_tasks()["HumanEval/2"].model_dump(mode="json")}


def announce(state: AppState) -> AppState:
    code = (state.get("proposal") or {}).get("code", "")
    return {"message": f"{state['task']['id']}: {state['outcome']} after proctor's checks ({len(code)} bytes of code)"}


def main(ledger_path: str) -> None:
    proposer = SimulatedProposer(Profile(competence=0.5, overconfidence=0.9, hack=0.3), seed=11)
    with get_sandbox(default_sandbox_name()) as box, Ledger(ledger_path) as ledger:
        loop = build_graph(
            proposer, lambda task: default_pipeline(task, box), Recorder(ledger, "subgraph-example"), budget=Budget(cycles=4)
        )
        app = StateGraph(AppState)
        app.add_node("pick_task", pick_task)
        app.add_node("proctor", loop)
        app.add_node("announce", announce)
        app.add_edge(START, "pick_task")
        app.add_edge("pick_task", "proctor")
        app.add_edge("proctor", "announce")
        app.add_edge("announce", END)
        final = app.compile().invoke({})
    print(final["message"])


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "subgraph-example.ledger")
