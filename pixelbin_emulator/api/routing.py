"""URL converters for the routes."""

from __future__ import annotations

from werkzeug.routing import PathConverter


class AnyPath(PathConverter):
    """Werkzeug's ``path``, across newlines too (``%0A``): its ``.`` stops at one.

    With the stock converter ``PATCH /folders/a%0Ab`` matched only ``DELETE /folders/<_id>`` and
    answered 405; now the view answers, 404 for a folder that cannot exist (found by fuzzing).
    """

    regex = r"[^/][\s\S]*?"
