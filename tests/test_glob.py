"""The Rust glob equals Python's `fnmatch.fnmatchcase` exactly, alone and inside a `GlobSet`."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from oracle.glob import fnmatchcase as reference
from oracle.glob import globset_matches
from pymcp import _core

# Heavy in the characters that carry meaning (or used to, like `/` and `\`), plus non-ASCII.
_PATTERN_ALPHABET = "*?[]!-^/\\ab-z]é😀\n"
_NAME_ALPHABET = "ab-z]![^/\\é😀\nc"

patterns = st.text(alphabet=_PATTERN_ALPHABET, max_size=10)
names = st.text(alphabet=_NAME_ALPHABET, max_size=8)

CORNER_CASES = [
    "",
    "*",
    "**",
    "?",
    "[",
    "[]",
    "[!]",
    "[]]",
    "[!]]",
    "[]-]",
    "[a-]",
    "[-a]",
    "[!-a]",
    "[a--]",
    "[--a]",
    "[z-a]",
    "[!z-a]",
    "[z-a!]",
    "[z-a!b]",
    "[c-b-a]",
    "[a-b-c]",
    "[\\]",
    "[\\-a]",
    "[^a]",
    "[[:alpha:]]",
    "[&&a]",
    "[a~~b]",
    "a*b*c",
    "*é?",
    "x[]y]",
    "deploy_*",
    "*.txt",
    "*adm*",
]


@pytest.mark.parametrize("pattern", CORNER_CASES)
def test_corner_cases_match_like_fnmatch(pattern: str) -> None:
    for name in ["", "a", "b", "z", "-", "!", "]", "[", "\\", "^", "&", "é", "ab", "x]", "xy", "a.txt"]:
        assert _core.fnmatchcase(name, pattern) == reference(name, pattern), (name, pattern)


@st.composite
def pattern_and_name(draw: st.DrawFn) -> tuple[str, str]:
    """A pattern and a name: half the time a name built from the pattern, so that matches are common."""
    pattern = draw(patterns)
    if draw(st.booleans()):
        return pattern, draw(names)
    fill = draw(st.sampled_from(["", "a", "é", "]", "ab"]))
    name = pattern.replace("*", fill).replace("?", draw(st.sampled_from("aé!"))).replace("[", "")
    return pattern, name


@settings(max_examples=10_000, deadline=None)
@given(case=pattern_and_name())
@example(case=("[z-a!]", "q"))
@example(case=("a*a*a*a*b", "a" * 30))
def test_glob_equals_fnmatchcase(case: tuple[str, str]) -> None:
    pattern, name = case
    assert _core.fnmatchcase(name, pattern) == reference(name, pattern)


# GlobSet patterns: mostly the shapes it indexes (literal, prefix*, *suffix, *infix*), plus the rest.
_shapes = st.one_of(
    st.text(alphabet="abé", max_size=3),
    st.text(alphabet="abé", max_size=3).map(lambda s: s + "*"),
    st.text(alphabet="abé", max_size=3).map(lambda s: "*" + s),
    st.text(alphabet="abé", max_size=2).map(lambda s: "*" + s + "*"),
    patterns,
)


@settings(max_examples=10_000, deadline=None)
@given(pattern_list=st.lists(_shapes, max_size=6), name=st.text(alphabet="abé]!*", max_size=5))
def test_globset_matches_each_pattern(pattern_list: list[str], name: str) -> None:
    globset = _core.GlobSet(pattern_list)
    expected = globset_matches(pattern_list, name)
    assert globset.matches(name) == expected
    assert globset.is_match(name) == bool(expected)


def test_globset_surface() -> None:
    globset = _core.GlobSet(["deploy_*", "*.md", "ping"])
    assert globset.patterns == ["deploy_*", "*.md", "ping"]
    assert len(globset) == 3
    assert globset.matches("deploy_x.md") == [0, 1]
    assert not globset.is_match("pong")
    with pytest.raises(TypeError):
        _core.GlobSet([1])  # type: ignore[list-item]


@pytest.mark.parametrize(
    ("name", "pattern"), [("a\ud800b", "a?b"), ("\udc00", "*"), ("x\ud800", "x[!a]"), ("a\ud800", "ab")]
)
def test_lone_surrogates_count_as_one_character(name: str, pattern: str) -> None:
    assert _core.fnmatchcase(name, pattern) == reference(name, pattern)
    assert _core.GlobSet([pattern]).is_match(name) == reference(name, pattern)
