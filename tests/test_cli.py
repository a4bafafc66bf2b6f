"""The command-line entry point, run as a user would."""

from __future__ import annotations

import base64
import os
import signal
import subprocess
import sys
import time

import requests


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
