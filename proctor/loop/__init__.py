"""The loop: propose → self-check → verify → decide → record, as a LangGraph state machine.

``run_loop`` runs it over tasks (resumable, with budgets and human approval); ``build_graph``
returns the compiled graph for one task, to embed as a node of your own LangGraph app;
``gate`` is one verification, one ledger record and one decision, for agent systems that keep
their own loop. Proposers follow the ``Proposer`` protocol; ``make_proposer`` builds one from a
spec such as ``simulated:competence=0.6``, ``openai:model=...`` or ``llama:model=gemma3-270m``.
"""

from proctor.loop._chat import ChatProposer, LangChainProposer, OpenAIProposer
from proctor.loop._graph import LoopState, build_graph
from proctor.loop._llama import LlamaProposer, LlamaServer
from proctor.loop._policy import APPROVAL_POLICIES, REGIMES, ApprovalPolicy, Budget, Regime, decide
from proctor.loop._proposer import Feedback, Proposer, ScriptedProposer, make_proposer, proposer_names, register_proposer
from proctor.loop._run import GateResult, Loop, PendingApproval, RunResult, agate, arun_loop, gate, run_loop, settle
from proctor.loop._simulated import Profile, SimulatedProposer

__all__ = [
    "APPROVAL_POLICIES",
    "REGIMES",
    "ApprovalPolicy",
    "Budget",
    "ChatProposer",
    "Feedback",
    "GateResult",
    "LangChainProposer",
    "LlamaProposer",
    "LlamaServer",
    "Loop",
    "LoopState",
    "OpenAIProposer",
    "PendingApproval",
    "Profile",
    "Proposer",
    "Regime",
    "RunResult",
    "ScriptedProposer",
    "SimulatedProposer",
    "agate",
    "arun_loop",
    "build_graph",
    "decide",
    "gate",
    "make_proposer",
    "proposer_names",
    "register_proposer",
    "run_loop",
    "settle",
]
