"""Regression (found by fuzzing): ids and paths with a newline reach the view.

Werkzeug's ``path`` converter stopped at ``%0A``, so ``PATCH /folders/a%0Ab`` matched only
``DELETE /folders/<_id>`` and answered 405 instead of the folder's 404.
"""

from __future__ import annotations

import base64

import pytest

from pixelbin_emulator.app import create_app
from pixelbin_emulator.core.emulator import Emulator

API = "/service/platform/assets/v1.0"


@pytest.fixture
def client():
    emulator = Emulator()
    emulator.create_org(api_secret="routing-secret")
    client = create_app(emulator).test_client()
    token = base64.b64encode(b"routing-secret").decode()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return client


@pytest.mark.parametrize(
    ("method", "path", "message"),
    [
        ("PATCH", "/folders/a%0Ab", "folder 'a\\nb' not found"),
        ("PATCH", "/folders/x/a%0Ab", "folder 'x/a\\nb' not found"),
        ("GET", "/files/a%0Ab", "file 'a\\nb' not found"),
        ("PATCH", "/files/d/a%0A", "file 'd/a\\n' not found"),
        ("DELETE", "/files/a%0Ab", "file 'a\\nb' not found"),
    ],
)
def test_a_newline_in_a_path_parameter_is_the_views_404(client, method, path, message):
    response = client.open(API + path, method=method, json={})
    assert response.status_code == 404
    assert response.get_json()["message"] == message


def test_plain_folder_paths_still_route(client):
    assert client.post(API + "/folders", json={"name": "d"}).status_code == 200
    response = client.patch(API + "/folders/d", json={"isActive": False})
    assert response.status_code == 200 and response.get_json()["isActive"] is False


def test_kept_route_matches_answer_as_fresh_ones(client):
    """EmulatorFlask keeps the match of a method and path: the second time answers the same,
    the method still counts, and failed or overlong matches are not kept."""
    app = client.application
    long_id = "x" * 2000
    for _ in range(2):
        response = client.get(API + "/files/id/abc")
        assert response.status_code == 404
        assert response.get_json()["message"] == "file with _id 'abc' not found"
        assert client.put(API + "/files/id/abc").status_code == 405
        assert client.get(API + "/no-such-route").status_code == 404
        assert client.get(API + "/files/id/" + long_id).status_code == 404
    kept = {path for _, path in app.routes}
    assert API + "/files/id/abc" in kept
    assert API + "/no-such-route" not in kept and API + "/files/id/" + long_id not in kept


def test_kept_matches_do_not_outlive_a_dropped_cloud_name(client):
    """The version-less CDN route matches only a cloud name an org holds, so its match is not
    kept: once the org is dropped the path answers as if it had never matched (regression: the
    kept match sent it to the CDN view, which answered a different 404)."""
    emulator = client.application.extensions["pixelbin_emulator"]["emulator"]
    org = emulator.create_org(cloud_name="gone-soon")
    never = client.get("/never-a-cloud/original/a.png")
    assert client.get("/gone-soon/original/a.png").status_code == 404
    emulator.drop_org(org.org_id)
    after = client.get("/gone-soon/original/a.png")
    assert (after.status_code, after.get_json()) == (never.status_code, never.get_json())
