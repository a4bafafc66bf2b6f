"""Stand-ins for the AI modules (every plugin but ``t``): deterministic, no model, no network.

This minimal version returns the image unchanged; the rendering pipeline calls :func:`apply`
for every non-``t`` step and marks the response ``X-Pixelbin-Emulator-Transformation: stand-in``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pyvips


class StandInError(ValueError):
    """Bad input for a stand-in: the pipeline answers 400 with this message."""


@dataclass(frozen=True)
class StandInResult:
    image: pyvips.Image
    #: Forces the output format (e.g. "png" for erase.bg) unless a later toFormat overrides it.
    format: str | None = None


def apply(
    plugin: str, operation: str, image: pyvips.Image, params: Mapping[str, str]
) -> StandInResult:
    """The stand-in for ``plugin.operation``: here, the image as it is."""
    return StandInResult(image, None)
