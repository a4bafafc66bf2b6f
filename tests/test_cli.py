"""The command-line entry point, run as a user would."""

from __future__ import annotations

import base64
import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests

from pixelbin_emulator.cli import main, parse_args


def start(*args: str, env: dict[str, str] | None = None) -> tuple[subprocess.Popen, list[str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "pixelbin_emulator", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **(env or {})},
    )
    lines = [process.stdout.readline()]
    assert "ready on" in lines[0], lines[0] + process.stdout.read()
    lines.append(process.stdout.readline())
    return process, lines


def stop(process: subprocess.Popen) -> str:
    process.send_signal(signal.SIGINT)
    try:
        rest, _ = process.communicate(timeout=10)
    finally:
        process.kill()
    return rest


def test_default_start_serves_the_development_org():
    process, lines = start()
    try:
        url = lines[0].split("ready on ", 1)[1].strip()
        assert "apiSecret=dev-api-secret-0000-0000-000000000000" in lines[1]
        token = base64.b64encode(b"dev-api-secret-0000-0000-000000000000").decode()
        response = requests.get(
            url + "/service/platform/assets/v1.0/listFiles",
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
        )
        assert response.status_code == 200
    finally:
        rest = stop(process)
    assert process.returncode == 0
    assert "stopped" in rest


def test_flags_and_environment_set_the_org():
    env = {"PIXELBIN_EMULATOR_CLOUD_NAME": "env-cloud-000001"}
    process, lines = start("--api-secret", "my-secret-123", "--access-key", "key-1", env=env)
    try:
        assert "cloudName=env-cloud-000001" in lines[1]
        assert "apiSecret=my-secret-123" in lines[1] and "accessKey=key-1" in lines[1]
        url = lines[0].split("ready on ", 1)[1].strip()
        token = base64.b64encode(b"my-secret-123").decode()
        upload = requests.post(
            url + "/service/platform/assets/v1.0/upload/direct",
            headers={"Authorization": f"Bearer {token}"},
            files={"file": ("a.txt", b"hello")},
            timeout=5,
        )
        assert upload.json()["url"].startswith(url + "/v2/env-cloud-000001/original/a")
    finally:
        stop(process)


def test_external_url_is_written_into_file_urls():
    process, lines = start("--external-url", "http://assets.example.test:9000/")
    try:
        url = lines[0].split("ready on ", 1)[1].strip()
        token = base64.b64encode(b"dev-api-secret-0000-0000-000000000000").decode()
        upload = requests.post(
            url + "/service/platform/assets/v1.0/upload/direct",
            headers={"Authorization": f"Bearer {token}"},
            files={"file": ("a.txt", b"hello")},
            timeout=5,
        ).json()
        assert upload["url"].startswith("http://assets.example.test:9000/v2/")
    finally:
        stop(process)


def test_a_bad_seed_is_reported_not_a_traceback(tmp_path):
    seed = tmp_path / "seed.json"
    seed.write_text("{broken")
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "pixelbin_emulator", "--port", "0", "--seed", str(seed)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert time.monotonic() - started < 30
    assert result.returncode == 2
    assert "not valid JSON" in result.stderr and "Traceback" not in result.stderr


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pixelbin_emulator", *args],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, **(env or {})},
    )


def test_version():
    from pixelbin_emulator import __version__

    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"pixelbin-emulator {__version__}"


def test_sigterm_stops_cleanly_and_says_so():
    process, _ = start()
    process.send_signal(signal.SIGTERM)
    rest, _ = process.communicate(timeout=10)
    assert process.returncode == 0
    assert "pixelbin-emulator stopped (SIGTERM)" in rest and "Traceback" not in rest


def test_a_busy_port_is_named():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("--port", str(port))
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}: the port is in use" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        (
            "PORT",
            "eighty",
            "PIXELBIN_EMULATOR_PORT ('--port'): 'eighty' is not a valid whole number",
        ),
        ("THREADS", "4.5", "PIXELBIN_EMULATOR_THREADS ('--threads'): '4.5' is not a valid whole"),
        ("ALLOW_FETCH", "maybe", "PIXELBIN_EMULATOR_ALLOW_FETCH ('--allow-fetch'): 'maybe' is not"),
        ("LOG_FORMAT", "xml", "PIXELBIN_EMULATOR_LOG_FORMAT ('--log-format'): 'xml' is not one of"),
        ("PREDICTION_LATENCY", "nan", "'nan' is not a valid number of seconds"),
        ("SEED", "/no/such/seed.json", "PIXELBIN_EMULATOR_SEED ('--seed'): Path '/no/such/seed"),
    ],
)
def test_bad_environment_values_are_clear_errors(name, value, says):
    # A flag on the command line wins over its variable, which is then not read: no --port
    # when the variable tested is the port's (a missed error would then fail on port 8080).
    args = () if name == "PORT" else ("--port", "0")
    result = run(*args, env={f"PIXELBIN_EMULATOR_{name}": value})
    assert result.returncode == 2
    assert says in result.stderr and "Traceback" not in result.stderr


def test_environment_lists_and_the_empty_value_parse_as_documented(monkeypatch):
    monkeypatch.setenv("PIXELBIN_EMULATOR_CUSTOM_DOMAIN", "img.example.test, cdn.example.test")
    monkeypatch.setenv("PIXELBIN_EMULATOR_CORS_ORIGINS", "")  # set but empty: no origin
    monkeypatch.setenv("PIXELBIN_EMULATOR_QUIET", "yes")
    options = parse_args([])
    assert options.custom_domain == ("img.example.test", "cdn.example.test")
    assert options.cors_origins == "" and options.quiet is True
    options = parse_args(["--custom-domain", "a.test", "--custom-domain", "b.test"])
    assert options.custom_domain == ("a.test", "b.test")  # the command line wins
    monkeypatch.delenv("PIXELBIN_EMULATOR_CORS_ORIGINS")
    assert parse_args([]).cors_origins == "*"


def test_main_returns_the_exit_status(capsys):
    from pixelbin_emulator import __version__

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"pixelbin-emulator {__version__}"
    assert main(["--port", "x"]) == 2
    assert "Invalid value for '--port': 'x' is not a valid whole number" in capsys.readouterr().err
    assert main(["-h"]) == 0
    assert "PIXELBIN_EMULATOR_PORT" in capsys.readouterr().out


def test_access_key_help_says_what_it_is():
    help_text = " ".join(run("--help").stdout.split())
    assert "--access-key ACCESS_KEY the org's access key: with the API secret, it signs CDN" in (
        help_text
    )


def test_requests_are_logged_and_quiet_silences_them():
    process, lines = start()
    try:
        url = lines[0].split("ready on ", 1)[1].strip()
        requests.get(url + "/service/platform/assets/v1.0/listFiles", timeout=5)
    finally:
        rest = stop(process)
    assert re.search(r"org=- GET /service/platform/assets/v1.0/listFiles 401 listFiles", rest)
    assert 'reason="Invalid authorization token"' in rest
    process, lines = start("--quiet")
    try:
        url = lines[0].split("ready on ", 1)[1].strip()
        requests.get(url + "/service/platform/assets/v1.0/listFiles", timeout=5)
    finally:
        rest = stop(process)
    assert "listFiles" not in rest


def test_data_dir_keeps_state_and_refuses_a_second_process(tmp_path):
    token = base64.b64encode(b"dev-api-secret-0000-0000-000000000000").decode()
    process, lines = start("--data-dir", str(tmp_path), "--quiet")
    try:
        url = lines[0].split("ready on ", 1)[1].strip()
        assert f"state kept in {tmp_path} (new)" in process.stdout.readline()
        uploaded = requests.post(
            url + "/service/platform/assets/v1.0/upload/direct",
            headers={"Authorization": f"Bearer {token}"},
            files={"file": ("kept.txt", b"kept")},
            timeout=5,
        ).json()
        second = run("--port", "0", env={"PIXELBIN_EMULATOR_DATA_DIR": str(tmp_path)})
        assert second.returncode == 2
        assert f"data directory '{tmp_path}' is in use by another pixelbin-emulator" in (
            second.stderr
        )
        assert f"(pid {process.pid})" in second.stderr
    finally:
        process.kill()  # no clean shutdown: the write was made durable before its answer
        process.wait()
    process, lines = start("--data-dir", str(tmp_path), "--quiet")
    try:
        url = lines[0].split("ready on ", 1)[1].strip()
        assert "restored, 1 logged changes replayed" in process.stdout.readline()
        again = requests.get(
            url + "/service/platform/assets/v1.0/files/" + uploaded["fileId"],
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
        ).json()
        shared = (set(again) & set(uploaded)) - {"url"}  # url: the port changed
        assert {"_id", "size", "name", "fileId"} <= shared
        assert {key: again[key] for key in shared} == {key: uploaded[key] for key in shared}
    finally:
        stop(process)
