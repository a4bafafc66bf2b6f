"""The playground's default asset: ``__playground/playground-default`` (a JPEG) in every org.

It is an ordinary file of the org, so listFiles, the file routes and the CDN all see it. It is
materialised the first time it is asked for rather than when the org is created: creating an
org stays O(1) (the pytest plugin makes one per test) and an org that never opens the
playground keeps an empty root folder, which is what tests of other routes expect. The real
service shows the same timing: the captured asset was created a day after the org's first file.
If the user deletes or renames it, the next request creates it again with a new ``_id``.
"""

from __future__ import annotations

from .assets import UploadSpec
from .names import join
from .orgs import Org
from .records import File

PATH = "__playground"
NAME = "playground-default"
FILE_ID = join(PATH, NAME)
FORMAT = "jpeg"


def default_asset(org: Org, data: bytes) -> File:
    """The org's playground asset, stored from ``data`` if the org does not have one."""
    with org.lock:
        existing = org.assets.find_file(FILE_ID)
        if existing is not None:
            return existing
        return org.assets.upload(
            UploadSpec(
                data=data,
                name=NAME,
                path=PATH,
                metadata={"source": "direct"},
                declared_format=FORMAT,
            )
        )
