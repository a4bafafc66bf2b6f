"""Domain errors.

The core raises these; the HTTP layer maps each to a status code and the API's error body
(``{"message", "status", "code", "exception"}``). Keeping the status on the class means a new
error never needs a new mapping rule.
"""

from __future__ import annotations


class EmulatorError(Exception):
    """Base of every error the core raises on purpose."""

    status = 400
    exception = "BadRequestError"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ValidationError(EmulatorError):
    """The request is well-formed but a value is wrong (type, enum, range, name)."""

    exception = "ValidationError"


class ConflictError(EmulatorError):
    """An entity with the same identity exists already."""

    status = 409
    exception = "ConflictError"


class UploadConflictError(EmulatorError):
    """An upload would replace a file but neither overwrite nor filenameOverride is set.

    The upload API documents only 200 and 400, so this conflict is a 400.
    """

    exception = "FileAlreadyExistsError"


class NotFoundError(EmulatorError):
    status = 404
    exception = "NotFoundError"


class UnauthorizedError(EmulatorError):
    status = 401
    exception = "UnauthorizedError"


class ForbiddenError(EmulatorError):
    status = 403
    exception = "ForbiddenError"
