"""The dashboard in a real headless Chromium (Debian's, driven by Playwright; tests/browser.py).

Upload through the page (file picker and drag and drop), see the thumbnail load, open the
file's details, add a fault and watch the failing request arrive in the live journal.
API calls go through ``requests`` (the ``api`` fixture), to see the raw statuses.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from typing import Any

import pytest

from pixelbin_emulator.core.journal import JournalQuery
from pixelbin_emulator.pytest_plugin import EmulatorHandle

from .helpers import png

# A thumbnail has loaded when the browser decoded it: its natural size is known.
LOADED = "img => img.complete && img.naturalWidth > 0"


@pytest.fixture
def page(chromium: Any, pixelbin_emulator: EmulatorHandle) -> Iterator[Any]:
    """A tab that fails the test on a JavaScript error or on a request to anywhere but the
    emulator (the dashboard loads nothing from elsewhere: it works offline)."""
    journal = pixelbin_emulator.emulator.journal
    start = max((e.seq for e in journal.query(JournalQuery(org_id=None))), default=0)
    context = chromium.new_context(viewport={"width": 1200, "height": 800})
    page = context.new_page()
    page.set_default_timeout(10_000)
    errors: list[str] = []
    elsewhere: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "request",
        lambda r: (
            None if r.url.startswith(pixelbin_emulator.url + "/") else elsewhere.append(r.url)
        ),
    )
    yield page
    context.close()
    assert errors == [], "JavaScript errors on the page"
    assert elsewhere == [], "requests that left the emulator"
    unattributed = journal.query(JournalQuery(org_id=None, since=start, path="/favicon.ico"))
    assert unattributed == [], "a favicon request (the pages say they have none)"


def test_upload_see_thumbnail_open_details_and_delete(page, pixelbin_emulator: EmulatorHandle):
    base = f"{pixelbin_emulator.url}/_emulator/ui/orgs/{pixelbin_emulator.org_id}"
    page.goto(base + "/files")
    # the file picker
    page.set_input_files(
        "input[type=file]",
        files=[{"name": "cat.png", "mimeType": "image/png", "buffer": png(64, 48)}],
    )
    page.click("text=Upload")
    page.wait_for_selector("text=uploaded cat")
    thumb = page.locator("img.thumb[alt=cat]")
    thumb.wait_for()
    assert "t.resize(w:160,h:160,f:cover)" in thumb.get_attribute("src")
    page.wait_for_function(LOADED, arg=thumb.element_handle())
    # drag and drop onto the drop zone
    data = base64.b64encode(png(30, 20, "blue")).decode()
    page.evaluate(
        """data => {
            const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
            const transfer = new DataTransfer();
            transfer.items.add(new File([bytes], "dropped.png", {type: "image/png"}));
            const zone = document.querySelector("[data-dropzone]");
            zone.dispatchEvent(new DragEvent("drop", {dataTransfer: transfer, bubbles: true}));
        }""",
        data,
    )
    page.wait_for_selector("text=uploaded dropped")
    dropped = page.locator("img.thumb[alt=dropped]")
    page.wait_for_function(LOADED, arg=dropped.element_handle())
    assert pixelbin_emulator.org.assets.get_file("dropped").width == 30
    # the details
    page.click("text=cat")
    page.wait_for_selector("h1:has-text('cat')")
    facts = page.inner_text("dl.facts")
    assert "64 \u00d7 48" in facts and "public-read" in facts
    assert f"/v2/{pixelbin_emulator.cloud_name}/original/cat.png" in facts
    page.wait_for_function(LOADED, arg=page.locator("img.full").element_handle())
    # delete (confirmed)
    page.on("dialog", lambda dialog: dialog.accept())
    page.click("text=Delete file")
    page.wait_for_selector("text=deleted cat")
    assert pixelbin_emulator.org.assets.find_file("cat") is None


def test_a_fault_added_in_the_page_shows_up_failing_in_the_live_journal(
    page, pixelbin_emulator: EmulatorHandle, api: Any
):
    base = f"{pixelbin_emulator.url}/_emulator/ui/orgs/{pixelbin_emulator.org_id}"
    page.goto(base + "/faults")
    page.fill("input[name=operation]", "listFiles")
    page.fill("input[name=status]", "503")
    page.fill("input[name=times]", "1")
    page.click("text=Add rule")
    page.wait_for_selector("text=fault rule")
    assert [(r.operation, r.status) for r in pixelbin_emulator.faults()] == [("listFiles", 503)]
    page.goto(base + "/journal?status=5xx")
    page.wait_for_selector("[data-live-state]:has-text('live')")
    # after the page loaded: only its polling can show this request
    assert api.get(api.base + "/listFiles").status_code == 503
    row = page.locator("tr.entry:has-text('listFiles')")
    row.wait_for()
    assert "503" in row.inner_text()
    row.click()  # its excerpts
    assert "fault injected" in page.locator("tr.excerpt:visible").inner_text()
    assert api.get(api.base + "/listFiles").status_code == 200  # filtered out of this view
    page.wait_for_timeout(1200)  # one more poll
    assert page.locator("tr.entry").count() == 1


def test_preset_preview_follows_the_transformation_typed(
    page, pixelbin_emulator: EmulatorHandle, api: Any
):
    files = {"file": ("pic.png", io.BytesIO(png(50, 40)), "image/png")}
    assert api.post(api.base + "/upload/direct", files=files, data={"name": "pic"}).ok
    preset = {"presetName": "small", "transformation": "t.resize(w:20)"}
    assert api.post(api.base + "/presets", json=preset).ok
    page.goto(f"{pixelbin_emulator.url}/_emulator/ui/orgs/{pixelbin_emulator.org_id}/presets")
    preview = page.locator("[data-preview-img]")
    page.wait_for_function(LOADED, arg=preview.element_handle())
    page.click("[data-use-pattern='p:small']")
    page.wait_for_function(
        "img => img.src.includes('/p:small/') && img.complete && img.naturalWidth > 0",
        arg=preview.element_handle(),
    )
    page.fill("[data-pattern]", "t.nope()")
    page.wait_for_selector("text=the CDN refused this transformation")
