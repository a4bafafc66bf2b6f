"""The dashboard's routes over plain HTTP: pages, forms, errors and the admin token.

Requests to the session server go through its contract check (every answer described in
/openapi.json); the admin-token and clock tests use an app of their own.
"""

from __future__ import annotations

import io
import json
import re
import tarfile

import pytest
import requests

from pixelbin_emulator.app import create_app
from pixelbin_emulator.core.journal import JournalQuery
from pixelbin_emulator.pytest_plugin import EmulatorHandle
from pixelbin_emulator.seeds import default_emulator
from pixelbin_emulator.settings import Settings

from .helpers import fault_rule, png

UI = "/_emulator/ui"


@pytest.fixture
def ui(pixelbin_emulator: EmulatorHandle) -> str:
    """The test org's base URL in the dashboard."""
    return f"{pixelbin_emulator.url}{UI}/orgs/{pixelbin_emulator.org_id}"


def _upload(ui: str, name: str, data: bytes, **form: str) -> requests.Response:
    files = {"file": (name, io.BytesIO(data), "application/octet-stream")}
    return requests.post(ui + "/files", files=files, data=form, allow_redirects=False)


def test_get_root_sends_browsers_to_the_dashboard_and_api_clients_a_map(pixelbin_emulator):
    browser = requests.get(
        pixelbin_emulator.url + "/",
        headers={"Accept": "text/html,*/*;q=0.8"},
        allow_redirects=False,
    )
    assert browser.status_code == 302
    assert browser.headers["Location"].endswith(UI + "/")
    client = requests.get(pixelbin_emulator.url + "/")
    assert client.status_code == 200
    assert client.json()["dashboard"] == UI + "/"
    assert client.json()["openapi"] == "/openapi.json"


def test_upload_through_the_form_stores_the_file_and_shows_its_details(ui, pixelbin_emulator):
    answer = _upload(ui, "cat.png", png(40, 30), path="pets", access="private", tags="a, b")
    assert answer.status_code == 303
    assert "path=pets" in answer.headers["Location"]
    file = pixelbin_emulator.org.assets.get_file("pets/cat")
    assert (file.width, file.height, file.access, file.tags) == (40, 30, "private", ["a", "b"])
    listing = requests.get(ui + "/files", params={"path": "pets"})
    assert listing.status_code == 200
    assert "t.resize(w:160,h:160,f:cover)/pets/cat.png?pbs=" in listing.text  # signed: private
    details = requests.get(ui + "/file/pets/cat")
    assert details.status_code == 200
    assert "40 \u00d7 30" in details.text and "private" in details.text
    signed = re.search(r'href="([^"]+)" data-signed-url', details.text)
    public = re.search(r'href="([^"]+)" data-public-url', details.text)
    assert signed and public
    assert requests.get(signed.group(1).replace("&amp;", "&")).status_code == 200
    assert requests.get(public.group(1)).status_code == 401


def test_breadcrumbs_folders_and_delete(ui, pixelbin_emulator):
    for path, name in (("", "a"), ("a", "b")):
        answer = requests.post(ui + "/folders", data={"name": name, "path": path})
        assert answer.status_code == 200  # followed the 303 to the folder's page
    _upload(ui, "x.png", png(), path="a/b")
    page = requests.get(ui + "/files", params={"path": "a/b"}).text
    assert f'href="{UI}/orgs/{pixelbin_emulator.org_id}/files?path=a"' in page
    assert f'href="{UI}/orgs/{pixelbin_emulator.org_id}/files?path=a/b"' in page
    answer = requests.post(ui + "/delete", data={"fileId": "a/b/x"}, allow_redirects=False)
    assert answer.status_code == 303
    assert pixelbin_emulator.org.assets.find_file("a/b/x") is None


@pytest.mark.parametrize(
    ("method", "path", "data", "status"),
    [
        ("get", "/files?path=nowhere", None, 404),
        ("get", "/files?page=0", None, 400),
        ("get", "/file/missing", None, 404),
        ("post", "/files", {"path": ""}, 400),  # no file chosen
        ("post", "/folders", {"name": ""}, 400),
        ("post", "/delete", {"fileId": "missing"}, 404),
        ("post", "/faults", {"operation": "listFiles"}, 400),  # no effect
        ("post", "/faults", {"status": "abc"}, 400),
        ("post", "/faults", {"status": "503", "drop": "1"}, 400),
        ("post", "/faults/999999/delete", {}, 404),
        ("get", "/journal?status=5x", None, 400),
    ],
)
def test_bad_input_is_a_4xx_page_and_changes_nothing(
    ui, pixelbin_emulator, method, path, data, status
):
    before = pixelbin_emulator.snapshot()
    answer = requests.request(method, ui + path, data=data)
    assert answer.status_code == status
    assert answer.headers["Content-Type"].startswith("text/html")
    assert 'class="error"' in answer.text
    assert pixelbin_emulator.faults() == []
    assert pixelbin_emulator.snapshot() == before


def test_unknown_org_is_a_404_page(pixelbin_emulator):
    answer = requests.get(f"{pixelbin_emulator.url}{UI}/orgs/999999/files")
    assert answer.status_code == 404
    assert "999999" in answer.text


def test_a_post_from_another_origin_is_refused(ui, pixelbin_emulator):
    answer = requests.post(
        ui + "/folders", data={"name": "x"}, headers={"Origin": "http://evil.example"}
    )
    assert answer.status_code == 403
    assert pixelbin_emulator.org.assets.entries() == []


def test_faults_are_added_and_removed_for_the_org_only(ui, pixelbin_emulator):
    answer = requests.post(ui + "/faults", data={"operation": "listFiles", "status": "503"})
    assert answer.status_code == 200
    (rule,) = pixelbin_emulator.faults()
    assert (rule.operation, rule.status, rule.org_id) == (
        "listFiles",
        503,
        pixelbin_emulator.org_id,
    )
    assert f"/faults/{rule.id}/delete" in answer.text
    other = pixelbin_emulator.emulator.create_org(name="other")
    try:
        stranger = requests.post(
            f"{pixelbin_emulator.url}{UI}/orgs/{other.org_id}/faults/{rule.id}/delete"
        )
        assert stranger.status_code == 404
    finally:
        pixelbin_emulator.emulator.drop_org(other.org_id)
    assert requests.post(ui + f"/faults/{rule.id}/delete").status_code == 200
    assert pixelbin_emulator.faults() == []


def test_rules_for_every_org_show_on_each_org_page():
    app = create_app(default_emulator(), Settings())
    em = app.extensions["pixelbin_emulator"]["emulator"]
    rule = em.faults.add(fault_rule({"operation": "getCdnFile", "status": 500}))
    client = app.test_client()
    page = client.get(UI + "/orgs/1/faults")
    assert b"every org" in page.data and b"getCdnFile" in page.data
    assert client.post(UI + f"/orgs/1/faults/{rule.id}/delete").status_code == 303
    assert em.faults.rules() == []


def test_journal_page_and_its_live_feed_filter_by_operation_and_status(ui, pixelbin_client):
    pixelbin_client.assets.listFiles()
    with pytest.raises(Exception):  # noqa: B017 (the SDK's own error type)
        pixelbin_client.assets.getFileById(_id="nope")
    page = requests.get(ui + "/journal", params={"status": "4xx"})
    assert page.status_code == 200
    assert "getFileById" in page.text and ">listFiles<" not in page.text
    feed = requests.get(ui + "/journal.json", params={"since": 0, "operation": "listFiles"})
    assert [e["operation"] for e in feed.json()["items"]] == ["listFiles"]
    latest = feed.json()["items"][-1]["seq"]
    assert requests.get(ui + "/journal.json", params={"since": latest + 10**6}).json() == {
        "items": []
    }
    bad = requests.get(ui + "/journal.json", params={"since": "x"})
    assert bad.status_code == 400 and bad.json()["exception"] == "ValidationError"


def test_presets_page_previews_presets_on_a_chosen_image(ui, pixelbin_client, pixelbin_emulator):
    pixelbin_client.assets.fileUpload(file=io.BytesIO(png(20, 10)), name="pic")
    pixelbin_client.assets.addPreset(presetName="small", transformation="t.resize(w:10)")
    page = requests.get(ui + "/presets", params={"image": "pic"}).text
    src = f"/v2/{pixelbin_emulator.cloud_name}/p:small/pic.png"
    assert src in page
    assert requests.get(pixelbin_emulator.url + src).status_code == 200


def test_snapshot_export_and_merge_import_round_trip(ui, pixelbin_emulator):
    _upload(ui, "x.png", png(), path="keep")
    url = f"{pixelbin_emulator.url}{UI}/snapshot/export"
    org = {"org": pixelbin_emulator.org_id}
    doc = requests.get(url, params=org).json()
    archive = requests.get(url, params=org | {"form": "archive"})
    assert archive.headers["Content-Type"] == "application/gzip"
    with tarfile.open(fileobj=io.BytesIO(archive.content)) as tar:
        assert "default.json" in tar.getnames()
    pixelbin_emulator.org.assets.delete_file("keep/x")
    for data in (archive.content, json.dumps(doc).encode()):
        answer = requests.post(
            f"{pixelbin_emulator.url}{UI}/snapshot/import",
            files={"file": ("snap", io.BytesIO(data))},
            data={"mode": "merge"},
            allow_redirects=False,
        )
        assert answer.status_code == 303
        org_now = pixelbin_emulator.emulator.org(pixelbin_emulator.org_id)
        assert org_now.assets.get_file("keep/x").data == png()
    bad = requests.post(
        f"{pixelbin_emulator.url}{UI}/snapshot/import",
        files={"file": ("snap.json", io.BytesIO(b"{not json"))},
        data={"mode": "merge"},
    )
    assert bad.status_code == 400


# -- an app of its own: the clock, replacing imports, the admin token -------------------------


def test_clock_forms_freeze_advance_and_reset():
    app = create_app(default_emulator(), Settings())
    client = app.test_client()
    clock = app.extensions["pixelbin_emulator"]["emulator"].clock
    answer = client.post(
        UI + "/clock", data={"action": "freeze", "at": "2030-01-01T00:00:00Z", "next": UI + "/"}
    )
    assert answer.status_code == 303 and answer.headers["Location"].startswith(UI + "/?notice=")
    assert clock.frozen and clock.time() == 1893456000
    client.post(UI + "/clock", data={"action": "advance", "seconds": "60"})
    assert clock.time() == 1893456060
    assert client.post(UI + "/clock", data={"action": "advance", "seconds": "x"}).status_code == 400
    assert client.post(UI + "/clock", data={"action": "jump"}).status_code == 400
    client.post(UI + "/clock", data={"action": "reset", "next": "https://evil.example/"})
    assert not clock.frozen
    page = client.get(UI + "/orgs/1/faults")
    assert page.status_code == 200 and b"running" in page.data


def test_replace_import_replaces_every_org():
    app = create_app(default_emulator(), Settings())
    em = app.extensions["pixelbin_emulator"]["emulator"]
    client = app.test_client()
    doc = client.get(UI + "/snapshot/export").get_json()
    em.create_org(name="extra")
    answer = client.post(
        UI + "/snapshot/import",
        data={"file": (io.BytesIO(json.dumps(doc).encode()), "s.json"), "mode": "replace"},
    )
    assert answer.status_code == 303
    assert [org.name for org in em.orgs()] == ["Development"]


def test_with_an_admin_token_the_dashboard_wants_it_by_header_cookie_or_login():
    app = create_app(default_emulator(), Settings(admin_token="s3cret"))
    client = app.test_client()
    answer = client.get(UI + "/orgs/1/files")
    assert answer.status_code == 303
    assert answer.headers["Location"].startswith(UI + "/login?next=")
    assert client.get(UI + "/login").status_code == 200
    assert client.get(UI + "/static/dashboard.css").status_code == 200  # no secret in it
    assert client.post(UI + "/orgs", data={"name": "x"}).status_code == 401
    assert client.get(UI + "/orgs/1/journal.json").status_code == 401
    assert client.post(UI + "/login", data={"token": "wrong"}).status_code == 401
    headers = {"Authorization": "Bearer s3cret"}
    assert client.get(UI + "/orgs/1/files", headers=headers).status_code == 200
    login = client.post(UI + "/login", data={"token": "s3cret", "next": UI + "/orgs/1/journal"})
    assert login.status_code == 303 and login.headers["Location"] == UI + "/orgs/1/journal"
    assert client.get(UI + "/orgs/1/files").status_code == 200  # the cookie now
    assert client.get("/_emulator/orgs").status_code == 401  # the control plane wants the header
    client.post(UI + "/logout")
    assert client.get(UI + "/orgs/1/files").status_code == 303


def test_a_token_in_the_query_logs_in_and_is_dropped_from_the_url():
    client = create_app(default_emulator(), Settings(admin_token="s3cret")).test_client()
    answer = client.get(UI + "/orgs/1/journal?token=s3cret&status=5xx")
    assert (
        answer.status_code == 303
        and answer.headers["Location"] == UI + "/orgs/1/journal?status=5xx"
    )
    assert (
        "HttpOnly" in answer.headers["Set-Cookie"]
        and "SameSite=Strict" in answer.headers["Set-Cookie"]
    )
    assert client.get(UI + "/orgs/1/journal").status_code == 200
    assert client.get(UI + "/login", query_string={"next": "//evil.example"}).status_code == 200
    login = client.post(UI + "/login", data={"token": "s3cret", "next": "//evil.example/"})
    assert login.headers["Location"] == UI + "/"


def test_dashboard_requests_are_not_journaled(ui, pixelbin_emulator):
    requests.get(ui + "/files")
    requests.get(ui + "/journal")
    entries = pixelbin_emulator.emulator.journal.query(JournalQuery(path="/_emulator/*"))
    assert entries == []
