"""Property tests of the pure parts: wire parsing, multipart assembly, snapshot round trips.

(slugify and transformation strings have theirs in test_names.py and test_transformations.py.)
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from werkzeug.datastructures import MultiDict

from pixelbin_emulator.api.parsing import query_list
from pixelbin_emulator.api.wire import decode, decode_query
from pixelbin_emulator.api.wire.assets import ListFilesQuery
from pixelbin_emulator.api.wire.control import OrgFilter
from pixelbin_emulator.api.wire.forms import decode_form
from pixelbin_emulator.api.wire.uploads import FileUploadForm, MultipartComplete
from pixelbin_emulator.core.assets import UploadSpec
from pixelbin_emulator.core.emulator import Emulator
from pixelbin_emulator.core.errors import ValidationError
from pixelbin_emulator.core.signed_uploads import MAX_PART_NUMBER, _assemble
from pixelbin_emulator.core.snapshot import dump_state, load_state

from .helpers import png

# Values that are not themselves Go's "[a b]" wrapping.
values = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=6).filter(
    lambda v: not (v.startswith("[") and v.endswith("]"))
)
value_lists = st.lists(values, max_size=6)
noise = st.lists(
    st.tuples(st.sampled_from(["name", "path", "tagsx", "xtags[0]", "tags[a]"]), values),
    max_size=4,
)

# -- query lists ---------------------------------------------------------------------------------


@given(value_lists, noise, st.randoms(use_true_random=False))
def test_indexed_lists_come_back_in_index_order_whatever_the_wire_order(items, other, rnd):
    pairs = [(f"tags[{i}]", v) for i, v in enumerate(items)] + other
    rnd.shuffle(pairs)
    assert query_list(MultiDict(pairs), "tags") == items


@given(value_lists, noise)
def test_repeated_and_bracketed_keys_keep_their_order(items, other):
    assert query_list(MultiDict([*other, *(("tags", v) for v in items)]), "tags") == items
    assert query_list(MultiDict([*(("tags[]", v) for v in items), *other]), "tags") == items


@given(st.lists(st.text("abc-_.", min_size=1, max_size=4), max_size=5))
def test_go_bracket_lists_are_unwrapped(items):
    assert query_list(MultiDict([("tags", "[" + " ".join(items) + "]")]), "tags") == items


@given(st.lists(st.tuples(st.text(max_size=8), st.text(max_size=8)), max_size=6))
def test_query_list_never_fails_on_any_query(pairs):
    assert isinstance(query_list(MultiDict(pairs), "tags"), list)


# -- booleans and integers -----------------------------------------------------------------------

spellings = st.sampled_from(["true", "false", "TRUE", "False", " true ", "tRuE\t"])


@given(spellings)
def test_boolean_spellings(text):
    expected = text.strip().lower() == "true"
    query = decode_query(MultiDict([("onlyFiles", text)]), ListFilesQuery)
    assert query.only_files is expected
    form = decode_form(MultiDict([("overwrite", text)]), FileUploadForm)
    assert form.overwrite is expected


@given(st.text(max_size=6))
def test_anything_else_is_a_400_never_a_crash(text):
    word = text.strip().lower()
    if not text or word in ("true", "false"):
        return
    with pytest.raises(ValidationError):
        decode_query(MultiDict([("onlyFiles", text)]), ListFilesQuery)
    form = MultiDict([("overwrite", text)])
    if word in ("1", "0"):  # forms also take 1 and 0
        assert decode_form(form, FileUploadForm).overwrite is (word == "1")
    else:
        with pytest.raises(ValidationError):
            decode_form(form, FileUploadForm)


def test_absent_or_empty_booleans_are_false():
    assert decode_query(MultiDict(), ListFilesQuery).only_files is False
    assert decode_query(MultiDict([("onlyFiles", "")]), ListFilesQuery).only_files is False


@given(st.integers(min_value=-(2**63), max_value=2**63 - 1))
def test_query_integers_round_trip(number):
    for text in (str(number), f" {number} "):
        assert decode_query(MultiDict([("orgId", text)]), OrgFilter).org_id == number


@given(st.text(max_size=6))
def test_query_non_integers_are_a_400(text):
    try:
        int(text.strip())
        return
    except ValueError:
        pass
    if text == "":
        assert decode_query(MultiDict([("orgId", text)]), OrgFilter).org_id is None
        return
    with pytest.raises(ValidationError, match="orgId must be an integer"):
        decode_query(MultiDict([("orgId", text)]), OrgFilter)


# -- multipart assembly --------------------------------------------------------------------------

part_sets = st.dictionaries(
    st.integers(1, MAX_PART_NUMBER), st.binary(max_size=16), min_size=1, max_size=8
)


@given(part_sets, st.data())
def test_assembly_is_the_listed_parts_in_the_listed_order(parts, data):
    listed = data.draw(st.permutations(sorted(parts)))
    listed = listed[: data.draw(st.integers(0, len(listed)))]
    stored = dict(parts)
    assembled, spans = _assemble(stored, listed)
    assert assembled == b"".join(parts[n] for n in listed)
    # Each span locates its part in the result; the listed parts were handed over.
    assert [n for n, _, _ in spans] == listed
    for number, start, end in spans:
        assert assembled[start:end] == parts[number]
    assert set(stored) == set(parts) - set(listed)


def _part_numbers(parts):
    """The completion body's part list, as the API decodes it."""
    return decode({"parts": parts}, MultipartComplete).parts


@given(st.lists(st.integers(1, MAX_PART_NUMBER), unique=True, max_size=10))
def test_valid_part_lists_are_accepted_as_they_are(numbers):
    assert _part_numbers(numbers) == numbers


@given(
    st.one_of(
        st.lists(st.integers().filter(lambda n: not 1 <= n <= MAX_PART_NUMBER), min_size=1),
        st.lists(st.one_of(st.booleans(), st.text(max_size=2), st.floats()), min_size=1),
        st.one_of(
            st.none(), st.integers(), st.text(max_size=3), st.dictionaries(st.text(), st.none())
        ),
    )
)
def test_invalid_part_lists_are_a_400(parts):
    """Wrong types and numbers out of range; a repeated number is the core's to refuse
    (tests/test_wire_uploads.py)."""
    with pytest.raises(ValidationError):
        _part_numbers(parts)


# -- snapshots -----------------------------------------------------------------------------------

entries = st.lists(
    st.tuples(
        st.sampled_from(["", "a", "a/b", "c d", "é"]),
        st.sampled_from(["x", "y", "Y", "pic.png", "n m"]),
        st.lists(st.sampled_from(["t1", "t2"]), unique=True),
        st.sampled_from(["public-read", "private"]),
    ),
    max_size=6,
)
presets = st.lists(
    st.tuples(st.sampled_from(["p1", "p2", "thumb"]), st.sampled_from(["t.flip()", "t.flop()"])),
    max_size=3,
    unique_by=lambda p: p[0],
)


@given(entries, presets, st.booleans())
def test_a_snapshot_loads_back_to_the_same_snapshot(files, preset_list, with_credentials):
    emulator = Emulator()
    org = emulator.create_org(api_secret="snapshot-secret")
    org.assets.create_folder("empty", "")
    for path, name, tags, access in files:
        spec = UploadSpec(png(), name, path, access, list(tags), {"k": name}, overwrite=True)
        org.assets.upload(spec)
    for name, transformation in preset_list:
        org.presets.add(name, transformation)
    if with_credentials:
        org.plugin_credentials.add("remove", {"apiKey": "k"})
    document = dump_state(emulator)
    restored = Emulator()
    load_state(restored, document)
    assert dump_state(restored) == document
