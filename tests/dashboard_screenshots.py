"""Screenshots of the dashboard's main views for docs/dashboard.md (``python -m
tests.dashboard_screenshots``): a seeded emulator, a few requests and a fault, Debian's
Chromium driven by Playwright, PNGs written to ``docs/img/``."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import requests
from PIL import Image
from playwright.sync_api import sync_playwright

from pixelbin_emulator.app import create_app
from pixelbin_emulator.seeds import default_emulator
from pixelbin_emulator.server import LiveServer

from .browser import CHROMIUM, CHROMIUM_ARGS

OUT = Path(__file__).resolve().parent.parent / "docs" / "img"
API = "/service/platform/assets/v1.0"


def _image(color: tuple[int, int, int], size: tuple[int, int] = (640, 420)) -> bytes:
    buffer = io.BytesIO()
    image = Image.new("RGB", size, color)
    for x in range(0, size[0], 40):  # stripes, so a thumbnail's crop shows
        for y in range(size[1]):
            image.putpixel((x, y), (255, 255, 255))
    image.save(buffer, "PNG")
    return buffer.getvalue()


def populate(url: str, secret: str) -> None:
    session = requests.Session()
    session.headers["Authorization"] = "Bearer " + base64.b64encode(secret.encode()).decode()
    session.post(url + API + "/folders", json={"name": "products"})
    session.post(url + API + "/folders", json={"name": "avatars"})
    colors = {"sunset": (230, 119, 0), "sea": (28, 126, 214), "forest": (47, 158, 68)}
    for name, color in colors.items():
        session.post(
            url + API + "/upload/direct",
            files={"file": (name + ".png", _image(color), "image/png")},
            data={"path": "products", "tags": ["demo"], "name": name},
        )
    session.post(
        url + API + "/upload/direct",
        files={"file": ("secret.png", _image((112, 72, 232)), "image/png")},
        data={"path": "products", "access": "private", "name": "secret"},
    )
    session.post(
        url + API + "/presets",
        json={"presetName": "thumb", "transformation": "t.resize(w:200,h:200)"},
    )
    session.get(url + API + "/listFiles", params={"path": "products"})
    session.get(url + API + "/files/products/nope")
    faults = url + "/_emulator/faults"
    requests.post(faults, json={"operation": "listFiles", "status": 503, "times": 1, "orgId": 1})
    requests.post(faults, json={"operation": "upload*", "latency": 0.5, "after": 2, "orgId": 1})
    requests.post(faults, json={"path": "*/presets", "method": "DELETE", "drop": True})
    session.get(url + API + "/listFiles")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with LiveServer(create_app(default_emulator())) as server:
        org = server.emulator.orgs()[0]
        populate(server.url, org.api_secret)
        base = f"{server.url}/_emulator/ui/orgs/{org.org_id}"
        views = {
            "dashboard-files.png": f"{base}/files?path=products",
            "dashboard-file.png": f"{base}/file/products/secret",
            "dashboard-presets.png": f"{base}/presets?image=products/sea",
            "dashboard-journal.png": f"{base}/journal",
            "dashboard-faults.png": f"{base}/faults",
            "dashboard-orgs.png": f"{server.url}/_emulator/ui/",
        }
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1200, "height": 760})
            for name, url in views.items():
                page.goto(url)
                page.wait_for_load_state("networkidle")
                page.screenshot(path=str(OUT / name))
            browser.close()


if __name__ == "__main__":
    main()
