"""@pixelbin/core in a real headless Chromium, on a page of another origin, against the emulator.

The page (served on ``http://localhost:PORT`` by a small server here, while the emulator listens
on ``127.0.0.1``) loads the SDK's own browser bundle, builds a PNG ``File`` of a few megabytes
from a canvas of noise, and uploads it with signed details the Python SDK made; it then reads
the CDN URL with ``fetch()`` and shows it in an ``<img crossorigin>``. Every step crosses
origins, so each one needs the emulator's CORS answers.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from pixelbin_emulator.server import LiveServer

from .helpers import png

CORE_DIST = Path(__file__).parent / "js" / "node_modules" / "@pixelbin" / "core" / "dist"
WIDTH, HEIGHT = 1100, 1000  # about 3.8 MB of PNG noise: four 1 MB parts

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><script src="/pixelbin.js"></script></head>
<body><script>
// A PNG of noise (incompressible, so the file is as large as its pixels), as a File.
window.makeFile = async (width, height, name) => {
  const canvas = document.createElement("canvas");
  canvas.width = width; canvas.height = height;
  const context = canvas.getContext("2d");
  const image = context.createImageData(width, height);
  for (let at = 0; at < image.data.length; at += 65536) {
    crypto.getRandomValues(image.data.subarray(at, Math.min(at + 65536, image.data.length)));
  }
  for (let at = 3; at < image.data.length; at += 4) image.data[at] = 255;
  context.putImageData(image, 0, 0);
  const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/png"));
  return new File([blob], name, {type: "image/png"});
};
const hex = async (blob) => Array.from(
  new Uint8Array(await crypto.subtle.digest("SHA-256", await blob.arrayBuffer())),
  (byte) => byte.toString(16).padStart(2, "0")).join("");
// Pixelbin.upload, reporting what the SDK answered or threw.
window.upload = async (details, options, [width, height]) => {
  const file = await makeFile(width, height, "noise.png");
  const sha256 = await hex(file);
  try {
    const result = await Pixelbin.upload(file, details, options);
    return {ok: true, result: result === undefined ? null : result, size: file.size, sha256};
  } catch (error) {
    return {ok: false, message: error && error.message, kind: error && error.constructor.name,
            size: file.size};
  }
};
// The SDK's own URL helpers: parse a URL, and build its zone form (urlToObj drops the port).
window.sdkUrls = async (url) => {
  const parsed = Pixelbin.utils.urlToObj(url);
  const zoned = Pixelbin.utils.objToUrl({...parsed, baseUrl: new URL(url).origin, zone: "Ab_9-z"});
  const answer = await fetch(zoned);
  return {parsed, zoned, status: answer.status, size: (await answer.blob()).size};
};
// fetch() the URL (whole, then a range), then show it in an <img crossorigin>.
window.readBack = async (url) => {
  const whole = await fetch(url);
  const body = await whole.blob();
  const range = await fetch(url, {headers: {Range: "bytes=0-99"}});
  const image = document.createElement("img");
  image.crossOrigin = "anonymous";
  const loaded = new Promise((resolve, reject) => {
    image.onload = resolve;
    image.onerror = reject;
  });
  image.src = url;
  document.body.appendChild(image);
  await loaded;
  return {status: whole.status, etag: whole.headers.get("ETag"), size: body.size,
          sha256: await hex(body), rangeStatus: range.status,
          contentRange: range.headers.get("Content-Range"),
          rangeLength: (await range.arrayBuffer()).byteLength,
          naturalWidth: image.naturalWidth, naturalHeight: image.naturalHeight};
};
</script></body></html>
"""


@pytest.fixture(scope="module")
def page_origin() -> Iterator[str]:
    """A second origin serving the page and @pixelbin/core's browser bundle."""
    bundle = next(CORE_DIST.glob("pixelbin.v*.js")).read_bytes()
    files = {"/": (PAGE.encode(), "text/html"), "/pixelbin.js": (bundle, "text/javascript")}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body, kind = files.get(self.path, (b"not found", "text/plain"))
            self.send_response(200 if self.path in files else 404)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{server.server_port}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def page(chromium: Any, page_origin: str) -> Iterator[Any]:
    context = chromium.new_context()
    page = context.new_page()
    page.goto(page_origin + "/")
    assert page.evaluate("typeof Pixelbin.upload") == "function"
    yield page
    context.close()


OPTIONS = {"chunkSize": 1024 * 1024, "concurrency": 3, "maxRetries": 2}


def _upload(page: Any, details: dict[str, Any]) -> dict[str, Any]:
    return page.evaluate(
        "([details, options, size]) => upload(details, options, size)",
        [details, OPTIONS, [WIDTH, HEIGHT]],
    )


def test_v2_upload_in_parts_then_read_back(page, sdk, pixelbin_emulator):
    signed = sdk.assets.createSignedUrlV2(path="browser", name="noise", format="png")
    answer = _upload(page, signed["presignedUrl"])
    assert answer["ok"], answer
    parts = -(-answer["size"] // OPTIONS["chunkSize"])
    assert 4 <= parts <= 6
    uploaded = answer["result"]
    assert uploaded["fileId"] == "browser/noise.png" and uploaded["size"] == answer["size"]
    stored = pixelbin_emulator.org.assets.find_file("browser/noise.png")
    assert hashlib.sha256(stored.data).hexdigest() == answer["sha256"]
    pixelbin_emulator.assert_called("uploadPart", times=parts, status=204)
    pixelbin_emulator.assert_called("completeUpload", times=1, status=200)
    assert pixelbin_emulator.requests(operation="corsPreflight", status=204)

    read = page.evaluate("(url) => readBack(url)", uploaded["url"])
    assert read["status"] == 200 and read["etag"] == f'"{stored.etag}"'
    assert read["size"] == answer["size"] and read["sha256"] == answer["sha256"]
    assert read["rangeStatus"] == 206 and read["rangeLength"] == 100
    assert read["contentRange"] == f"bytes 0-99/{answer['size']}"
    assert (read["naturalWidth"], read["naturalHeight"]) == (WIDTH, HEIGHT)

    urls = page.evaluate("(url) => sdkUrls(url)", uploaded["url"])
    parsed = urls["parsed"]
    assert (parsed["cloudName"], parsed["pattern"]) == (pixelbin_emulator.cloud_name, "original")
    assert parsed["filePath"] == "browser/noise.png"
    assert f"/{pixelbin_emulator.cloud_name}/Ab_9-z/original/" in urls["zoned"]
    assert (urls["status"], urls["size"]) == (200, answer["size"])


def test_v1_presigned_post(page, sdk, pixelbin_emulator):
    signed = sdk.assets.createSignedUrl(path="browser", name="posted", format="png")
    answer = _upload(page, signed["s3PresignedUrl"])
    assert answer == {**answer, "ok": True, "result": None}, answer
    asset = json.loads(signed["s3PresignedUrl"]["fields"]["x-amz-meta-assetData"])
    stored = sdk.assets.getFileByFileId(fileId=asset["fileId"])
    assert stored["size"] == answer["size"]
    read = page.evaluate("(url) => readBack(url)", stored["url"])
    assert read["sha256"] == answer["sha256"] and read["naturalWidth"] == WIDTH


def test_a_part_failing_once_is_retried_and_the_upload_completes(page, sdk, pixelbin_emulator):
    rule = pixelbin_emulator.fault(operation="uploadPart", status=503, times=1)
    signed = sdk.assets.createSignedUrlV2(name="retried", format="png")
    answer = _upload(page, signed["presignedUrl"])
    assert answer["ok"], answer
    assert rule.fired == 1
    parts = -(-answer["size"] // OPTIONS["chunkSize"])
    pixelbin_emulator.assert_called("uploadPart", times=parts + 1)
    assert len(pixelbin_emulator.requests(operation="uploadPart", status=503)) == 1
    assert answer["result"]["size"] == answer["size"]


def test_expired_details_fail_with_the_sdks_error(page, sdk, pixelbin_emulator):
    pixelbin_emulator.freeze_time()
    v2 = sdk.assets.createSignedUrlV2(name="late", format="png", expiry=60)["presignedUrl"]
    v1 = sdk.assets.createSignedUrl(name="late-v1", format="png")["s3PresignedUrl"]
    pixelbin_emulator.advance_time(3600)
    answer = _upload(page, v2)
    # The SDK throws the JSON error body, readable because the 403 carries the CORS headers.
    assert answer["ok"] is False
    assert answer["message"] == "the signed upload URL has expired", answer
    # v1 answers S3's XML: the SDK's res.json() then throws a SyntaxError, as it does on S3.
    answer = _upload(page, v1)
    assert answer["ok"] is False and answer["kind"] == "SyntaxError", answer
    assert pixelbin_emulator.org.assets.find_file("late.png") is None


def _doc_blocks(language: str) -> list[str]:
    text = (Path(__file__).parent.parent / "docs" / "browser.md").read_text()
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)


def test_the_example_in_docs_browser_md(chromium, pixelbin_emulator, tmp_path, monkeypatch):
    """docs/browser.md's backend and page, run as written there (emulator URL and secret
    swapped for this test's org)."""
    backend = _doc_blocks("python")[0]
    backend = backend.replace("http://127.0.0.1:8080", pixelbin_emulator.url)
    backend = backend.replace("dev-api-secret-0000-0000-000000000000", pixelbin_emulator.api_secret)
    (tmp_path / "index.html").write_text(_doc_blocks("html")[0])
    bundle = next(CORE_DIST.glob("pixelbin.v*.js"))
    (tmp_path / bundle.name).write_bytes(bundle.read_bytes())
    (tmp_path / "cat.png").write_bytes(png())
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {"__name__": "docs_backend"}
    exec(compile(backend, "docs/browser.md", "exec"), namespace)
    context = chromium.new_context()
    try:
        with LiveServer(namespace["app"]) as server:
            page = context.new_page()
            page.goto(server.url.replace("127.0.0.1", "localhost") + "/")
            page.set_input_files("#pick", str(tmp_path / "cat.png"))
            shown = "document.getElementById('shown').naturalWidth > 0"
            page.wait_for_function(shown, timeout=10_000)
            shown = page.evaluate("document.getElementById('shown').src")
    finally:
        context.close()
    assert shown.startswith(f"{pixelbin_emulator.url}/v2/{pixelbin_emulator.cloud_name}/original/")
    pixelbin_emulator.assert_called("completeUpload", times=1, status=200)
