"""The YAML reader under every spec: plain data, the line of each key, and bad input as one exact
message at its line (never a traceback, never a hang). Each edge is tried at the limit and one
step past it; messages are compared whole."""

from __future__ import annotations

import io
import os
import sys
from pathlib import Path

import pytest
from ruamel.yaml.error import MarkedYAMLError

from preflight.spec.errors import SpecError
from preflight.spec.yaml_source import (
    MAX_BYTES,
    MAX_DEPTH,
    MAX_READ_BYTES,
    MAX_VALUES,
    _duplicate_message,
    join_key,
    load_yaml,
    nearest,
    read_text,
)

SPEC = Path("job.yaml")
TOO_BIG_TAIL = "(a training config is a few KiB: is this the right file?)"


def refused(text: str) -> tuple[int | None, str, str]:
    """The one issue ``load_yaml`` raises for ``text``."""
    with pytest.raises(SpecError) as info:
        load_yaml(SPEC, text)
    [issue] = info.value.issues
    assert issue.file == str(SPEC)
    return issue.line, issue.key, issue.message


def read_refused(path: Path, limit: int = MAX_READ_BYTES) -> tuple[int | None, str, str]:
    with pytest.raises(SpecError) as info:
        read_text(path, limit)
    [issue] = info.value.issues
    assert issue.file == str(path)
    return issue.line, issue.key, issue.message


def test_the_documented_limits() -> None:
    # The numbers the module's docstrings and docs/ promise: 4 MiB parsed, 64 MiB read at all.
    assert (MAX_BYTES, MAX_READ_BYTES) == (4 * 2**20, 64 * 2**20)
    assert (MAX_VALUES, MAX_DEPTH) == (50_000, 100)


def test_nearest_walks_up_to_the_closest_written_parent() -> None:
    lines = {"a": 1, "a.b": 2, "a.b.c.d": 4, "z.y": 9}
    assert nearest(lines, "a.b.c.d") == 4  # the key itself
    assert nearest(lines, "a.b.c") == 2  # one level up
    assert nearest(lines, "a.b.c.x") == 2  # two levels up, past the unwritten a.b.c
    assert nearest(lines, "a.x") == 1  # up to the top level
    assert nearest(lines, "a") == 1
    assert nearest(lines, "b") is None  # `b` only as a child of `a` is not `b`
    assert nearest(lines, "y") is None and nearest(lines, "z") is None
    assert nearest(lines, "q.a.b") is None  # a parent is a prefix, not a suffix
    assert nearest({"": 0}, "") is None and nearest({"": 0}, None) is None


def test_join_key() -> None:
    assert join_key("", "model") == "model"
    assert join_key("training", "save_steps") == "training.save_steps"
    assert join_key("lora.target_modules", 0) == "lora.target_modules.0"
    assert join_key("", 3) == "3"


def test_plain_data_of_every_kind_and_the_line_of_every_key() -> None:
    text = (
        "a: 1.5\n"  # 1
        "b: 0x10\n"  # 2
        "c: true\n"  # 3
        "d: |\n"  # 4
        "  text\n"
        "e: ~\n"  # 6
        "f: 7\n"  # 7
        "base: &b {x: 1}\n"  # 8
        "m:\n"  # 9
        "  <<: *b\n"  # 10
        "  y: 2\n"  # 11
        "s:\n"  # 12
        "  - q\n"  # 13
        "  - [1, 2]\n"  # 14
        "w: 2024-01-01\n"  # 15
    )
    doc = load_yaml(SPEC, text)
    assert doc.path == SPEC
    data = doc.data
    assert data == {
        "a": 1.5,
        "b": 16,
        "c": True,
        "d": "text\n",
        "e": None,
        "f": 7,
        "base": {"x": 1},
        "m": {"y": 2, "x": 1},
        "s": ["q", [1, 2]],
        "w": data["w"],
    }
    # Plain Python types, nothing of ruamel's (ScalarFloat, HexInt, LiteralScalarString, ...).
    kinds = {key: type(value) for key, value in data.items()}
    assert kinds == {
        "a": float,
        "b": int,
        "c": bool,
        "d": str,
        "e": type(None),
        "f": int,
        "base": dict,
        "m": dict,
        "s": list,
        "w": type(data["w"]),
    }
    assert type(data["s"][1]) is list and str(data["w"]) == "2024-01-01"
    assert doc.lines == {
        "a": 1,
        "b": 2,
        "c": 3,
        "d": 4,
        "e": 6,
        "f": 7,
        "base": 8,
        "base.x": 8,
        "m": 9,
        "m.y": 11,  # the merged `x` has no line of its own in `m`
        "s": 12,
        "s.0": 13,
        "s.1": 14,
        "s.1.0": 14,
        "s.1.1": 14,
        "w": 15,
    }
    assert doc.line_of("m.x") == 9  # so a problem there is shown at its mapping
    assert doc.line_of("s.1.1.deeper") == 14
    assert doc.line_of("nothing") is None


def test_yaml_errors_name_their_line() -> None:
    assert refused("model: [\n") == (
        2,
        "",
        "invalid YAML: while parsing a flow node expected the node content, but found "
        "'<stream end>'",
    )
    # problem mark (line 3) before context mark (line 1)
    assert refused("a:\n  x: 1\n  x: 2\n") == (3, "", 'invalid YAML: duplicate key "x"')
    assert refused("a: 1\n  b: 2\n") == (2, "", "invalid YAML: mapping values are not allowed here")
    assert refused("a: 1\nb: *nope\n") == (2, "", "invalid YAML: found undefined alias 'nope'")


def test_a_tab_gets_the_hint_and_only_a_tab() -> None:
    assert refused("model:\n\tname: a\n") == (
        2,
        "",
        "invalid YAML: while scanning for the next token found character '\\t' that cannot "
        "start any token (YAML does not allow tabs for indentation: use spaces)",
    )
    # An alias called `table` is not about tabs.
    assert refused("a: *table\n") == (1, "", "invalid YAML: found undefined alias 'table'")


def test_control_characters_and_type_tags() -> None:
    assert refused("a: \x07\n") == (
        None,
        "",
        "invalid YAML: unacceptable character #x0007: special characters are not allowed",
    )
    assert refused("a: !!int x\n") == (
        None,
        "",
        "invalid YAML: invalid literal for int() with base 10: 'x'",
    )


def test_duplicate_message_never_quotes_the_values() -> None:
    problem = 'found duplicate key "hub_token" with value "hf_x" (original value: "hf_y")'
    exc = MarkedYAMLError(problem=problem)
    assert _duplicate_message(exc) == 'duplicate key "hub_token"'
    assert _duplicate_message(ValueError("duplicate key somewhere")) == "duplicate key"


def test_text_over_the_parse_limit_is_refused_unparsed() -> None:
    at_limit = "name: x\n" + "\0" * (MAX_BYTES - 8)
    assert len(at_limit) == MAX_BYTES
    # At the limit it reaches the parser (which stops at the first NUL, unlike a 4 MiB comment).
    assert refused(at_limit) == (
        None,
        "",
        "invalid YAML: unacceptable character #x0000: special characters are not allowed",
    )
    assert refused(at_limit + "\0") == (
        None,
        "",
        f"is {MAX_BYTES + 1:,} bytes; files over {MAX_BYTES:,} bytes are not read {TOO_BIG_TAIL}",
    )


def test_flow_brackets_past_the_depth_are_refused_before_parsing() -> None:
    deep = "\nb: " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "\n"
    assert refused(deep) == (2, "", "invalid YAML: nested deeper than 100 levels")
    # The line of the opening bracket that goes too deep, not of the closing ones.
    across = "\nb: " + "[" * (MAX_DEPTH + 1) + "\n  " + "]" * (MAX_DEPTH + 1) + "\n"
    assert refused(across) == (2, "", "invalid YAML: nested deeper than 100 levels")
    braces = "\n\nb: " + "[{a: " * 60 + "1" + "}]" * 60 + "\n"  # 120 levels, half of each kind
    assert refused(braces) == (3, "", "invalid YAML: nested deeper than 100 levels")


def test_flow_depth_counts_closing_brackets() -> None:
    # 100 siblings `[]` then 100 levels: never deeper than 100, so it parses.
    siblings = "a: [" + "[], " * 100 + "1]\nb: " + "[" * 100 + "]" * 100 + "\n"
    assert load_yaml(SPEC, siblings).data["a"][-1] == 1
    # Each `]` closes one level, no more: one level, closed, then 100 more inside it is 101.
    assert refused("b: [[], " + "[" * 100 + "]" * 100 + "]\n") == (
        1,
        "",
        "invalid YAML: nested deeper than 100 levels",
    )
    # Stray closers before the nesting do not buy extra depth: 101 levels are still refused.
    assert refused("# ]]]]\nb: " + "[" * 101 + "]" * 101 + "\n") == (
        2,
        "",
        "invalid YAML: nested deeper than 100 levels",
    )


def nested_lists(levels: int) -> str:
    return "a: " + "[" * levels + "1" + "]" * levels + "\n"


def test_list_depth_edge() -> None:
    # The top mapping is depth 0, `a`'s list depth 1, so n lists put the `1` at depth n + 1.
    doc = load_yaml(SPEC, nested_lists(MAX_DEPTH - 1))
    assert doc.line_of("a" + ".0" * (MAX_DEPTH - 1)) == 1
    deepest = "a" + ".0" * MAX_DEPTH
    assert refused(nested_lists(MAX_DEPTH)) == (1, deepest, "nested deeper than 100 levels")


def nested_maps(levels: int) -> str:
    """``k0:`` ... ``k<levels-1>:`` nested, then ``v: 1``: the ``1`` sits at depth levels + 1."""
    return "".join(f"{'  ' * i}k{i}:\n" for i in range(levels)) + "  " * levels + "v: 1\n"


def test_mapping_depth_edge() -> None:
    doc = load_yaml(SPEC, nested_maps(MAX_DEPTH - 1))
    inner = ".".join(f"k{i}" for i in range(MAX_DEPTH - 1)) + ".v"
    assert doc.line_of(inner) == MAX_DEPTH  # k0 on line 1 ... v on line 100
    key = ".".join(f"k{i}" for i in range(MAX_DEPTH)) + ".v"
    assert refused(nested_maps(MAX_DEPTH)) == (MAX_DEPTH + 1, key, "nested deeper than 100 levels")


def test_nesting_that_overflows_the_parser_is_one_message() -> None:
    # Block nesting has no brackets to count first; ruamel's own recursion gives out.
    assert refused(nested_maps(400)) == (None, "", "invalid YAML: nested deeper than 100 levels")


def aliases(extra: int) -> str:
    """A document of exactly 104 + 100 * 498 + ``extra`` values once aliases are expanded:
    the top mapping (1), ``b`` (1 list + 99 items), ``training`` (1), ``training.a`` (1 list +
    498 aliases of ``b``, 100 values each) and ``training.c`` (1 list + ``extra`` items)."""
    ones = ", ".join(["0"] * 99)
    return (
        f"b: &b [{ones}]\n"
        "training:\n"
        "  a: [" + ", ".join(["*b"] * 498) + "]\n"
        "  c: [" + ", ".join(["0"] * extra) + "]\n"
    )


def test_alias_expansion_edge() -> None:
    at_limit = MAX_VALUES - (104 + 100 * 498)  # 96
    doc = load_yaml(SPEC, aliases(at_limit))
    assert len(doc.data["training"]["a"]) == 498 and len(doc.data["training"]["c"]) == at_limit
    # One more value: refused at the key holding it (its first two parts: an alias's items
    # carry the lines of its anchor), at that key's line.
    assert refused(aliases(at_limit + 1)) == (
        4,
        "training.c",
        "the YAML expands to more than 50,000 values (anchors reused through aliases `*name` "
        "many times over?); write the values out or use fewer aliases",
    )


def test_read_text_files_that_are_not_readable(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    assert read_refused(missing) == (None, "", "file not found")
    assert read_refused(tmp_path) == (None, "", "is a directory, not a spec file")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs Linux /proc")
def test_read_text_of_a_file_without_a_size_and_of_unreadable_memory() -> None:
    # /proc files stat as 0 bytes but hold text (like a pipe): the read limit stops them. (Not
    # /dev/zero: a mutant that drops the limit would read it until memory runs out.)
    status = Path("/proc/self/status")
    assert status.stat().st_size == 0
    assert read_refused(status, 16) == (
        None,
        "",
        f"is over 16 bytes; files over 16 bytes are not read {TOO_BIG_TAIL}",
    )
    # Reading page 0 of one's own memory fails with EIO: a real OSError from read().
    assert read_refused(Path("/proc/self/mem")) == (None, "", "cannot read: Input/output error")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs Linux /proc/self/fd")
def test_a_pipe_is_read_no_further_than_the_limit() -> None:
    # A pipe has no size to stat; read_text takes limit + 1 bytes from it to know it is too big
    # (rounded up to Python's read buffer), not the whole stream: an endless one would fill the
    # memory. 60,000 bytes fit in a pipe's 64 KiB without a reader.
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, b"x" * 60_000)
        os.close(write_end)
        assert read_refused(Path(f"/proc/self/fd/{read_end}"), 16) == (
            None,
            "",
            f"is over 16 bytes; files over 16 bytes are not read {TOO_BIG_TAIL}",
        )
        assert len(os.read(read_end, 60_000)) >= 60_000 - 17 - io.DEFAULT_BUFFER_SIZE
    finally:
        os.close(read_end)


def test_read_text_size_edge(tmp_path: Path) -> None:
    path = tmp_path / "job.yaml"
    path.write_bytes(b"a: 1\n" + b"#" * 11)  # 16 bytes
    assert read_text(path, 16) == "a: 1\n" + "#" * 11
    assert read_refused(path, 15) == (
        None,
        "",
        f"is 16 bytes; files over 15 bytes are not read {TOO_BIG_TAIL}",
    )


def test_read_text_default_limit_is_64_mib(tmp_path: Path) -> None:
    path = tmp_path / "big.ipynb"
    with path.open("wb") as handle:
        handle.truncate(MAX_READ_BYTES + 1)  # sparse: no 64 MiB written to disk
    assert read_refused(path) == (
        None,
        "",
        f"is {MAX_READ_BYTES + 1:,} bytes; files over {MAX_READ_BYTES:,} bytes are not read "
        + TOO_BIG_TAIL,
    )


def test_bad_bytes_name_their_line_and_byte(tmp_path: Path) -> None:
    path = tmp_path / "job.yaml"
    path.write_bytes(b"\nmodel:\n  name: caf\xe9x\n")  # Latin-1 e-acute in a UTF-8 file
    assert read_refused(path) == (3, "", "not UTF-8 text (byte 0xe9)")
    path.write_bytes(b"a: 1\n\xff")
    assert read_refused(path) == (2, "", "not UTF-8 text (byte 0xff)")
