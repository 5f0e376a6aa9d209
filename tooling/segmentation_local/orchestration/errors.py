"""Errors raised while interpreting ASL, named as Step Functions names them.

A :class:`StatesError` carries the ``Error``/``Cause`` pair that Retry and Catch match on, so local
task code and the interpreter speak the same vocabulary as a deployed state machine.
"""

from __future__ import annotations


class StatesError(Exception):
    """A catchable error: a Task failure, a timeout, or a failed intrinsic/path evaluation."""

    def __init__(self, error: str, cause: str = "") -> None:
        super().__init__(f"{error}: {cause}" if cause else error)
        self.error = error
        self.cause = cause

    def as_output(self) -> dict[str, str]:
        """The error output a Catch hands to its ResultPath."""
        return {"Error": self.error, "Cause": self.cause}


class RuntimeFailure(StatesError):
    """``States.Runtime``: a definition/data mismatch (bad path, bad type). Never retried or caught,
    as on AWS, because retrying the same definition on the same data cannot succeed."""

    def __init__(self, cause: str) -> None:
        super().__init__("States.Runtime", cause)
