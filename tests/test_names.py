"""Properties of slugification and path handling."""

from __future__ import annotations

import string
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pixelbin_emulator.core.errors import ValidationError
from pixelbin_emulator.core.names import (
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
