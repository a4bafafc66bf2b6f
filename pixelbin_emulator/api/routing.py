"""URL converters for the routes."""

from __future__ import annotations

from flask import current_app
from werkzeug.routing import BaseConverter, PathConverter, ValidationError


class AnyPath(PathConverter):
    """Werkzeug's ``path``, across newlines too (``%0A``): its ``.`` stops at one.

    With the stock converter ``PATCH /folders/a%0Ab`` matched only ``DELETE /folders/<_id>`` and
    answered 405; now the view answers, 404 for a folder that cannot exist (found by fuzzing).
    """

    regex = r"[^/][\s\S]*?"


class CloudName(BaseConverter):
    """A path segment that is the cloud name of an org this emulator serves.

    For the CDN's version-less form (``/{cloudName}/{pattern}/{filePath}``, which the SDK's
    ``url_to_obj`` reads as v1): any other first segment does not match, so the route cannot
    shadow the API's own paths, whose static segments are tried first anyway. The regex keeps
    the emulator's own first segments out before that, so a method those paths do not serve
    stays their 404 or 405 (werkzeug checks methods before converters).
    """

    regex = r"(?!(?:_emulator|service|v1|v2|openapi\.json)(?:/|$))[^/]+"
    #: Whether a path matches changes with the orgs: the app keeps no match made through it.
    depends_on_state = True

    def to_python(self, value: str) -> str:
        emulator = current_app.extensions["pixelbin_emulator"]["emulator"]
        if emulator.org_by_cloud_name(value) is None:
            raise ValidationError()
        return value
