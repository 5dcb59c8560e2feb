"""Writer events in text and NDJSON form, and JSON value encoding."""

from __future__ import annotations

import io
import json

from pybpf.output import (
    Array,
    Buffer,
    Duration,
    HistData,
    JsonWriter,
    MapData,
    MapKind,
    Record,
    Symbolic,
    TextWriter,
    Tuple,
    make_writer,
)
from pybpf.output.json import json_int, json_string, json_value, map_key
from pybpf.output.text import format_primitive


def writers() -> tuple[TextWriter, JsonWriter, io.StringIO, io.StringIO, io.StringIO]:
    tout, terr, jout = io.StringIO(), io.StringIO(), io.StringIO()
    return TextWriter(tout, terr), JsonWriter(jout, io.StringIO()), tout, terr, jout


def test_async_events_text_and_json() -> None:
    text, js, tout, terr, jout = writers()
    for w in (text, js):
        w.printf("%s=%d\n", ["a", 1])
        w.time("12:00:00\n")
        w.cat("file body\n")
        w.join("a b c")
        w.system("out")
        w.print_value(Tuple((1, "x")))
        w.end()
    assert tout.getvalue() == "a=1\n12:00:00\nfile body\na b c\nout\n(1, x)\n\n\n"
    assert jout.getvalue().splitlines() == [
        '{"type": "printf", "data": "a=1\\n"}',
        '{"type": "time", "data": "12:00:00\\n"}',
        '{"type": "cat", "data": "file body\\n"}',
        '{"type": "join", "data": "a b c"}',
        '{"type": "syscall", "data": "out"}',
        '{"type": "value", "data": [1,"x"]}',
    ]
    assert terr.getvalue() == ""


def test_run_level_events() -> None:
    text, js, tout, terr, jout = writers()
    for w in (text, js):
        w.attached_probes(1)
        w.attached_probes(3)
        w.lost_events(7)
        w.message("error", "bad", "a.bt", 3, 5)
        w.message("warning", "meh", "a.bt", 4, 1)
        w.runtime_error("Map full", "a.bt", 2, 9, helper="map_update_elem", retcode=-7)
        w.runtime_error("out of bounds", "a.bt", 1, 1)
    assert tout.getvalue() == ""
    assert terr.getvalue() == (
        "Attached 1 probe\nAttached 3 probes\nLost 7 events\n"
        "a.bt:3:5: ERROR: bad\na.bt:4:1: WARNING: meh\n"
        "a.bt:2:9: WARNING: Map full\nAdditional Info - helper: map_update_elem, retcode: -7\n"
        "a.bt:1:1: WARNING: out of bounds\n"
    )
    lines = jout.getvalue().splitlines()
    assert lines[0] == '{"type": "attached_probes", "count": 1, "data": {"probes": 1}}'
    assert lines[2] == '{"type": "lost_events", "count": 7, "data": {"events": 7}}'
    assert lines[3] == ('{"type": "errorf", "msg": "bad", "filename": "a.bt", "line": 3, "col": 5}')
    assert json.loads(lines[4])["type"] == "warnf"
    assert lines[5] == (
        '{"type": "helper_error", "msg": "Map full", "helper": "map_update_elem", '
        '"retcode": -7, "filename": "a.bt", "line": 2, "col": 9}'
    )
    assert json.loads(lines[6]) == {
        "type": "runtime_error",
        "msg": "out of bounds",
        "filename": "a.bt",
        "line": 1,
        "col": 1,
    }


def test_maps_print_in_name_order_and_empty_maps_vanish() -> None:
    text, js, tout, _, jout = writers()
    maps = [
        MapData("@b", MapKind.INT, [(None, 2)], scalar=True),
        MapData("@", MapKind.INT, [(None, 0)], scalar=True),
        MapData("@a", MapKind.COUNT, []),
        MapData("@h", MapKind.HIST, [(None, HistData({}))], scalar=True),
    ]
    text.print_maps(maps)
    js.print_maps(maps)
    assert tout.getvalue() == "@: 0\n@b: 2\n@h:\n\n"
    assert jout.getvalue() == (
        '{"type": "map", "data": {"@": 0}}\n'
        '{"type": "map", "data": {"@b": 2}}\n'
        '{"type": "hist", "data": {"@h": []}}\n'
    )


def test_tuple_key_parentheses_and_json_key_spaces() -> None:
    text, js, tout, _, jout = writers()
    for m in (
        MapData("@t", MapKind.VALUE, [(Tuple((1, "a b")), "v")]),
        MapData("@s", MapKind.VALUE, [("(x)", "w"), ("y z", "u")]),
        MapData("@mixed", MapKind.VALUE, [("s", 1), (Tuple((2, "t")), 2), (3, 3)]),
    ):
        text.print_map(m)
        js.print_map(m)
    assert tout.getvalue() == (
        "@t[1, a b]: v\n@s[x]: w\n@s[y z]: u\n@mixed[2, t]: 2\n@mixed[3]: 3\n@mixed[s]: 1\n"
    )
    assert jout.getvalue().splitlines()[:2] == [
        '{"type": "map", "data": {"@t": {"1,ab": "v"}}}',
        '{"type": "map", "data": {"@s": {"x": "w", "yz": "u"}}}',
    ]
    assert map_key(Tuple((1, Tuple((2, 3))))) == "1,(2,3)"


def test_text_forms() -> None:
    assert format_primitive(None) == "null"
    assert format_primitive(Record(())) == "{}"
    assert format_primitive(Record((("a", 1), ("b", "s")))) == "{ .a = 1, .b = s }"
    assert format_primitive(Array((1, 2, 3))) == "[1,2,3]"
    assert format_primitive(Tuple((1, 2), names=("x", "y"))) == "(x = 1, y = 2)"
    assert format_primitive(Duration(5_000_000)) == "5ms"
    assert format_primitive(1.5) == "1.5"


def test_json_values() -> None:
    assert json_value(None) == "null"
    assert json_value(True) == "true"
    assert json_value(Buffer(b"a\xff")) == "[97,-1]"
    assert json_value(Record((("a", 1), ("b", "s")))) == '{"a": 1, "b": "s"}'
    assert json_value(Tuple((1, "x"), names=("n", "s"))) == '{"n": 1, "s": "x"}'
    assert json_value(Array((1, 2))) == "[1,2]"
    assert json_value(Symbolic("0x10", 16)) == "16"
    assert json_value(Duration(2000)) == '"2us"'
    assert json_value(1.5) == "1.500000"


def test_json_big_integers_become_strings() -> None:
    assert json_int(2**53) == "9007199254740992"
    assert json_int(2**53 + 1) == '"9007199254740993"'
    assert json_int(2**64 - 1) == '"18446744073709551615"'
    assert json_int(-(2**63)) == "-9223372036854775808"


def test_json_string_escapes_like_bpftrace() -> None:
    assert json_string('a"b\\c\n\r\t') == '"a\\"b\\\\c\\n\\r\\t"'
    assert json_string("\x01\x1f") == '"\\u0001\\u001f"'
    # bytes >= 0x80 go through a signed char, as in bpftrace.
    assert json_string("é") == '"\\uffffffc3\\uffffffa9"'
    for s in ("plain", 'q"uote', "tab\t", "\x02"):
        assert json.loads(json_string(s)) == s


def test_make_writer() -> None:
    assert isinstance(make_writer("text"), TextWriter)
    assert isinstance(make_writer("json"), JsonWriter)
    try:
        make_writer("xml")
    except ValueError as e:
        assert "xml" in str(e)
    else:
        raise AssertionError("unknown format accepted")


def test_plain_python_containers_are_tolerated() -> None:
    # The runtime may hand over bytes for buffers and lists for arrays.
    assert format_primitive(b"a\x00") == "a\\x00"
    assert format_primitive([1, 2]) == "[1,2]"
    assert format_primitive((1, "x")) == "(1, x)"
    assert json_value(b"a") == "[97]"
    assert json_value([1, (2, "y")]) == '[1,[2,"y"]]'
    assert format_primitive(complex(1, 2)) == "(1+2j)"  # type: ignore[arg-type]  # never raises
