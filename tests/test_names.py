"""Properties of slugification and path handling."""

from __future__ import annotations

import json
import random
import shutil
import string
import subprocess
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pixelbin_emulator.core.errors import ValidationError
from pixelbin_emulator.core.names import (
    CHARMAP,
    clean_name,
    file_extension,
    has_extension,
    slugify,
    split_path,
    strip_extension,
)

URL_SAFE = set(string.ascii_letters + string.digits + "-._~!$'()*+:@")


@given(st.text())
def test_slugify_is_idempotent(text):
    assert slugify(slugify(text)) == slugify(text)


@given(st.text())
def test_slugs_are_url_safe(text):
    slug = slugify(text)
    assert set(slug) <= URL_SAFE
    assert quote(slug, safe="-._~!$'()*+:@") == slug
    assert slug == slug.strip("-") and "--" not in slug


@pytest.mark.parametrize(
    ("raw", "slug"),
    [
        ("1_webp_a (1)", "1_webp_a-(1)"),
        ("download_copy_4_2", "download_copy_4_2"),
        ("2-Figure2-1-(1)-transformed", "2-Figure2-1-(1)-transformed"),
        ("  Crème Brûlée  ", "Creme-Brulee"),
        ("a - b -- c", "a-b-c"),
        ('quote"d', "quoted"),
        ("slash/and\\back", "slashandback"),
        ("CaSe.Kept", "CaSe.Kept"),
    ],
)
def test_known_slugs(raw, slug):
    assert slugify(raw) == slug


@pytest.mark.parametrize("raw", ["", "   ", "日本語", "..", ".", "///"])
def test_names_that_cannot_be_names(raw):
    with pytest.raises(ValidationError):
        clean_name(raw)


@pytest.mark.parametrize(
    ("raw", "segments"),
    [("", []), ("/", []), ("a", ["a"]), ("/a/b/", ["a", "b"]), ("a/b c", ["a", "b c"])],
)
def test_split_path(raw, segments):
    assert split_path(raw) == segments


@pytest.mark.parametrize("raw", ["a//b", "a/../b", "./a", "a/."])
def test_bad_paths(raw):
    with pytest.raises(ValidationError):
        split_path(raw)


@pytest.mark.parametrize(
    ("name", "extension", "stem"),
    [
        ("a.jpeg", "jpeg", "a"),
        ("a.b.PNG", "PNG", "a.b"),
        ("noext", "", "noext"),
        (".bashrc", "", ".bashrc"),
        ("dir/x.y/z", "", "z"),
    ],
)
def test_extensions(name, extension, stem):
    assert file_extension(name) == extension
    assert strip_extension(name) == stem
    assert has_extension(name.rsplit("/", 1)[-1]) == bool(extension)


# -- agreement with npm slugify (issue 11, item 16) ------------------------------------------------

JS_DIR = Path(__file__).parent / "js"


def _npm_slugify(strings: list[str]) -> dict:
    """npm slugify's own charmap and its output for ``strings`` (see tests/js/slugify_batch.js)."""
    if shutil.which("node") is None or not (JS_DIR / "node_modules" / "slugify").is_dir():
        pytest.skip("node or tests/js/node_modules/slugify missing (run tests/setup.sh)")
    done = subprocess.run(
        ["node", str(JS_DIR / "slugify_batch.js")],
        input=json.dumps(strings),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(done.stdout)


def _sample_strings() -> list[str]:
    """Every charmap key alone and in words, plus random mixes of the characters that matter."""
    keys = sorted(CHARMAP)
    odd = ["\u00a0", "\u2003", "\ufeff", "\u0301", "\u2013", "日", "😀"]
    pool = [*keys, *string.printable, *odd]
    rng = random.Random(11)
    mixes = ["".join(rng.choice(pool) for _ in range(rng.randint(1, 12))) for _ in range(1500)]
    words = ["фото", "straße", "Ærø", "Crème Brûlée", "a & b", "100% $5 <x> | y", "Łódź 2024"]
    return keys + [f" {key}a-{key} " for key in keys] + mixes + words


def test_charmap_is_slugifys_own():
    assert _npm_slugify([])["charmap"] == CHARMAP


def test_slugify_agrees_with_npm_slugify():
    strings = _sample_strings()
    npm = _npm_slugify(strings)
    assert [slugify(text) for text in strings] == npm["noQuote"]
    # Where slugify's own answer has no double quote, the emulator's name is exactly that answer.
    defaults = [(text, out) for text, out in zip(strings, npm["defaults"], strict=True)]
    assert all(slugify(text) == out for text, out in defaults if '"' not in out)


@pytest.mark.parametrize(
    ("raw", "slug"), [("фото", "foto"), ("straße", "strasse"), ("Ærø", "AEro"), ("a&b", "aandb")]
)
def test_transliteration(raw, slug):
    assert clean_name(raw) == slug
