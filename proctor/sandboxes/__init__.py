"""Run untrusted code isolated, under hard limits, leaving nothing behind.

Backends: ``namespace`` (the default on Linux), ``docker`` (a real engine) and ``local`` (not
isolation; opt-in). Third-party backends register under the ``proctor.sandboxes`` entry-point
group.
"""

from proctor.sandboxes._base import (
    PYTHON,
    Availability,
    ExecResult,
    Job,
    LimitName,
    Sandbox,
    default_sandbox_name,
    get_sandbox,
    register_sandbox,
    sandbox_class,
    sandbox_names,
)

__all__ = [
    "PYTHON",
    "Availability",
    "ExecResult",
    "Job",
    "LimitName",
    "Sandbox",
    "default_sandbox_name",
    "get_sandbox",
    "register_sandbox",
    "sandbox_class",
    "sandbox_names",
]
