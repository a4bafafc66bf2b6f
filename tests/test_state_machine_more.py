"""Stateful property test of presets, module credentials and signed multipart uploads.

A second machine beside ``test_state_machine.py`` (files and folders), with its own small
reference model written independently of the emulator's stores: presets by name, credentials
by plugin, and for each signed upload the parts sent so far. Parts are PUT in any order, some
more than once (the last one counts), and completed with any list of part numbers; the stored
file must be exactly those parts' bytes in the listed order, served as such by the CDN.
"""

from __future__ import annotations

import base64
import io
import re
from typing import Any
from urllib.parse import urlsplit

from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule

from pixelbin_emulator.app import create_app
from pixelbin_emulator.core.emulator import Emulator

API = "/service/platform/assets/v1.0"
SECRET = "more-machine-secret"
ASSET_DATA = "x-pixb-meta-assetdata"

PRESET_NAMES = ["p1", "p2", "P1", "long_name-2", "bad name", ""]
VALID_PRESET_NAME = re.compile(r"[A-Za-z0-9_-]+")
TRANSFORMATIONS = ["t.flip()", "t.resize(w:10)", "t.flip()~t.flop()", "t.nope()", ""]
VALID_TRANSFORMATIONS = {"t.flip()", "t.resize(w:10)", "t.flip()~t.flop()"}
# Plugins that take credentials, and one that does not.
PLUGINS = ["remove", "awsRek", "t", "nope"]
# Every catalogue plugin takes credentials, `t` too (credentials.required: false); docs/fidelity.md.
TAKES_CREDENTIALS = {"remove", "awsRek", "t"}

part_bytes = st.binary(min_size=1, max_size=8)


class MoreMachine(RuleBasedStateMachine):
    uploads = Bundle("uploads")

    def __init__(self) -> None:
        super().__init__()
        emulator = Emulator()
        self.org = emulator.create_org(api_secret=SECRET)
        self.client = create_app(emulator).test_client()
        token = base64.b64encode(SECRET.encode()).decode()
        self.headers = {"Authorization": f"Bearer {token}"}
        self.presets: dict[str, dict[str, Any]] = {}  # name -> {transformation, archived}
        self.credentials: dict[str, dict[str, str]] = {}  # pluginId -> values
        self.sessions: list[dict[str, Any]] = []  # every signed upload opened
        self.files: dict[str, bytes] = {}  # fileId -> content, of signed uploads completed

    def call(self, method: str, path: str, *, auth: bool = True, **kwargs: Any) -> Any:
        headers = self.headers if auth else {}
        response = self.client.open(path, method=method, headers=headers, **kwargs)
        assert response.status_code < 500, (method, path, response.get_data(as_text=True))
        if response.status_code >= 400:
            body = response.get_json()
            assert body["status"] == response.status_code and body["message"], body
        return response

    # -- presets -------------------------------------------------------------------------

    @rule(name=st.sampled_from(PRESET_NAMES), transformation=st.sampled_from(TRANSFORMATIONS))
    def add_preset(self, name, transformation):
        body = {"presetName": name, "transformation": transformation}
        response = self.call("POST", API + "/presets", json=body)
        valid = VALID_PRESET_NAME.fullmatch(name) and transformation in VALID_TRANSFORMATIONS
        if not valid:
            assert response.status_code == 400
        elif name in self.presets:
            assert response.status_code == 409
        else:
            assert response.status_code == 200, response.get_json()
            answer = response.get_json()
            assert (answer["presetName"], answer["transformation"]) == (name, transformation)
            self.presets[name] = {"transformation": transformation, "archived": False}

    @rule(name=st.sampled_from(PRESET_NAMES[:4]), archived=st.booleans())
    def archive_preset(self, name, archived):
        response = self.call("PATCH", f"{API}/presets/{name}", json={"archived": archived})
        if name not in self.presets:
            assert response.status_code == 404
            return
        assert response.status_code == 200 and response.get_json()["archived"] is archived
        self.presets[name]["archived"] = archived

    @rule(name=st.sampled_from(PRESET_NAMES[:4]))
    def delete_preset(self, name):
        response = self.call("DELETE", f"{API}/presets/{name}")
        if self.presets.pop(name, None) is None:
            assert response.status_code == 404
        else:
            assert response.status_code == 200 and response.get_json()["presetName"] == name
            assert self.call("GET", f"{API}/presets/{name}").status_code == 404

    # -- credentials ---------------------------------------------------------------------

    @rule(plugin=st.sampled_from(PLUGINS), value=st.sampled_from(["k1", "k2"]))
    def add_credentials(self, plugin, value):
        body = {"pluginId": plugin, "credentials": {"apiKey": value}}
        response = self.call("POST", API + "/credentials", json=body)
        if plugin not in TAKES_CREDENTIALS:
            assert response.status_code == 400
        elif plugin in self.credentials:
            assert response.status_code == 409
        else:
            assert response.status_code == 200 and response.get_json()["pluginId"] == plugin
            assert "credentials" not in response.get_json()
            self.credentials[plugin] = {"apiKey": value}

    @rule(plugin=st.sampled_from(PLUGINS[:2]), value=st.sampled_from(["k3", "k4"]))
    def update_credentials(self, plugin, value):
        body = {"credentials": {"apiKey": value}}
        response = self.call("PATCH", f"{API}/credentials/{plugin}", json=body)
        if plugin not in self.credentials:
            assert response.status_code == 404
            return
        assert response.status_code == 200
        self.credentials[plugin] = {"apiKey": value}

    @rule(plugin=st.sampled_from(PLUGINS[:2]))
    def delete_credentials(self, plugin):
        response = self.call("DELETE", f"{API}/credentials/{plugin}")
        expected = self.credentials.pop(plugin, None)
        if expected is None:
            assert response.status_code == 404
        else:
            assert response.status_code == 200
            assert response.get_json()["credentials"] == expected  # delete returns the values

    # -- signed multipart uploads ----------------------------------------------------------

    @rule(target=uploads, name=st.sampled_from(["s1", "s2"]), overwrite=st.booleans())
    def open_upload(self, name, overwrite):
        body = {"name": name, "path": "sig", "format": "jpeg", "overwrite": overwrite}
        response = self.call("POST", "/service/platform/assets/v2.0/upload/signed-url", json=body)
        assert response.status_code == 200, response.get_json()
        signed = response.get_json()["presignedUrl"]
        url = urlsplit(signed["url"])
        session = {
            "url": f"{url.path}?{url.query}",
            "asset": signed["fields"][ASSET_DATA],
            "fileId": f"sig/{name}.jpeg",
            "overwrite": overwrite,
            "parts": {},
            "completed": False,
        }
        self.sessions.append(session)
        return len(self.sessions) - 1

    @rule(upload=uploads, number=st.integers(1, 4), data=part_bytes)
    def put_part(self, upload, number, data):
        session = self.sessions[upload]
        response = self.call(
            "PUT",
            f"{session['url']}&partNumber={number}",
            auth=False,
            data={"file": (io.BytesIO(data), "blob"), ASSET_DATA: session["asset"]},
        )
        if session["completed"]:
            assert response.status_code == 400
            return
        assert response.status_code == 204, response.get_data(as_text=True)
        session["parts"][number] = data  # a repeat replaces the part

    @rule(upload=uploads, data=st.data(), missing=st.sampled_from([False, False, True]))
    def complete(self, upload, data, missing):
        session = self.sessions[upload]
        sent = sorted(session["parts"])
        # Mostly parts that were sent, in any order; sometimes also one never sent (5).
        listed = data.draw(st.lists(st.sampled_from(sent), unique=True)) if sent else []
        if missing:
            listed.insert(data.draw(st.integers(0, len(listed))), 5)
        response = self.call(
            "POST",
            session["url"],
            auth=False,
            json={"parts": listed, ASSET_DATA: session["asset"]},
        )
        file_id = session["fileId"]
        if (
            session["completed"]
            or any(n not in session["parts"] for n in listed)
            or (file_id in self.files and not session["overwrite"])
        ):
            # Completed already, a part never sent, or the name is taken (a 400, not a 409).
            assert response.status_code == 400, response.get_json()
            return
        content = b"".join(session["parts"][n] for n in listed)  # may be empty: parts []
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["fileId"] == file_id
        assert response.get_json()["size"] == len(content)
        session["completed"] = True
        self.files[file_id] = content

    # -- invariants ------------------------------------------------------------------------

    @invariant()
    def presets_agree_with_the_model(self):
        listed: list[dict[str, Any]] = []
        page_no, has_next = 1, True
        while has_next:
            answer = self.call(
                "GET", API + "/presets", query_string={"pageNo": page_no, "pageSize": 2}
            ).get_json()
            assert answer["page"]["itemTotal"] == len(self.presets)
            listed.extend(answer["items"])
            has_next, page_no = answer["page"]["hasNext"], page_no + 1
        seen = {p["presetName"]: (p["transformation"], p["archived"]) for p in listed}
        assert len(seen) == len(listed)
        expected = {n: (p["transformation"], p["archived"]) for n, p in self.presets.items()}
        assert seen == expected
        archived = self.call("GET", API + "/presets", query_string={"archived": "true"})
        names = {p["presetName"] for p in archived.get_json()["items"]}
        assert names == {n for n, p in self.presets.items() if p["archived"]}

    @invariant()
    def credentials_agree_with_the_model(self):
        for plugin in sorted(TAKES_CREDENTIALS):
            module = self.call("GET", f"{API}/playground/plugins/{plugin}").get_json()
            assert module["credentials"]["configured"] is (plugin in self.credentials)

    @invariant()
    def completed_uploads_serve_their_parts_in_order(self):
        for file_id, content in self.files.items():
            answer = self.call("GET", f"/v2/{self.org.cloud_name}/original/{file_id}")
            assert answer.status_code == 200 and answer.data == content, file_id


TestMoreMachine = MoreMachine.TestCase
