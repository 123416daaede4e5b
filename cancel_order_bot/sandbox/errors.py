"""Errors the sandbox answers with, in Lazada's envelope (``type``, ``code``, ``message``)."""

from __future__ import annotations

from typing import Literal

__all__ = ["ErrorType", "SandboxApiError", "missing_parameter"]

ErrorType = Literal["ISV", "ISP", "SYSTEM"]


class SandboxApiError(Exception):
    """A Lazada error response: raised by the sandbox's rules and rendered as an HTTP 200 envelope."""

    def __init__(self, code: str, message: str, *, type: ErrorType = "ISV") -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.type: ErrorType = type

    def envelope(self, request_id: str) -> dict[str, object]:
        """Return the error body exactly as Lazada sends it."""
        return {"type": self.type, "code": self.code, "message": self.message, "request_id": request_id}


def missing_parameter(name: str) -> SandboxApiError:
    """Return Lazada's ``MissingParameter`` error for a mandatory parameter that was not sent."""
    return SandboxApiError(
        "MissingParameter",
        f'the input parameter "{name}" that is mandatory for processing this request is not supplied',
    )
