"""Reading the pulumi CLI's CPU profile (pprof): the wire format, the sums per function, the report table.

The profiles here are encoded by hand with the fields of pprof's `profile.proto`; one is written by the
real CLI, to check the format it writes.
"""

from __future__ import annotations

import gzip
import subprocess
from pathlib import Path

import pytest

from bench._pprof import checkpoint_table, newest_profile, parse_profile, read_cpu_profile
from devenv.pulumi_cli import toolchain_bin

SAVE = "github.com/pulumi/pulumi/pkg/v3/backend.(*SnapshotManager).saveSnapshot"
DEPLOYMENT = "github.com/pulumi/pulumi/pkg/v3/backend.(*SnapshotManager).Deployment"
MARSHAL = "github.com/pulumi/pulumi/pkg/v3/backend/diy.compactJSONMarshaler.Marshal"
GC = "runtime.gcBgMarkWorker"
STEP = "github.com/pulumi/pulumi/pkg/v3/resource/deploy.(*stepExecutor).worker"


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _int(field: int, value: int) -> bytes:
    return _varint(field << 3) + _varint(value)


def _bytes(field: int, payload: bytes) -> bytes:
    return _varint(field << 3 | 2) + _varint(len(payload)) + payload


def _profile(samples: list[tuple[list[int], int]], stacks: dict[int, list[str]], *, packed: bool = True,
             kinds: tuple[tuple[str, str], ...] = (("samples", "count"), ("cpu", "nanoseconds"))) -> bytes:
    """A profile whose location i holds the (inlined) functions stacks[i], innermost first; values: count, ns."""
    strings = [""]

    def index(text: str) -> int:
        if text not in strings:
            strings.append(text)
        return strings.index(text)

    body = b"".join(_bytes(1, _int(1, index(kind)) + _int(2, index(unit))) for kind, unit in kinds)
    function_ids: dict[str, int] = {}
    for names in stacks.values():
        for name in names:
            function_ids.setdefault(name, len(function_ids) + 1)
    for location_ids, nanos in samples:
        values = [1, nanos][:len(kinds)]
        if packed:
            sample = (_bytes(1, b"".join(_varint(i) for i in location_ids))
                      + _bytes(2, b"".join(_varint(v) for v in values)))
        else:
            sample = b"".join(_int(1, i) for i in location_ids) + b"".join(_int(2, v) for v in values)
        body += _bytes(2, sample)
    for location_id, names in stacks.items():
        lines = b"".join(_bytes(4, _int(1, function_ids[name]) + _int(2, 10)) for name in names)
        body += _bytes(4, _int(1, location_id) + _int(3, 0x401000 + location_id) + lines)
    for name, function_id in function_ids.items():
        body += _bytes(5, _int(1, function_id) + _int(2, index(name)) + _int(3, index(name)))
    body += b"".join(_bytes(6, text.encode()) for text in strings)
    return body + _int(10, 5_000_000_000)


STACKS = {1: [MARSHAL], 2: [DEPLOYMENT], 3: [SAVE], 4: [GC], 5: ["encoding/json.mapEncoder.encode", MARSHAL],
          6: [STEP]}
SECOND = 1_000_000_000
SAMPLES = [
    ([1, 3], 3 * SECOND),        # JSON encoding inside a save
    ([2, 3], 2 * SECOND),        # the deployment, inside a save
    ([3], 1 * SECOND),           # the save itself
    ([5], 4 * SECOND),           # JSON encoding outside any save (an inlined frame under it)
    ([4], 5 * SECOND),           # garbage collection
    ([6], 10 * SECOND),          # the step executor
]


@pytest.mark.parametrize("packed", [True, False])
def test_cpu_is_added_up_per_function_and_within_another(packed: bool) -> None:
    profile = parse_profile(_profile(SAMPLES, STACKS, packed=packed))

    assert profile.total_seconds == 25
    assert profile.seconds_in("saveSnapshot") == 6
    assert profile.seconds_in("compactJSONMarshaler.Marshal") == 7
    assert profile.seconds_in("compactJSONMarshaler.Marshal", within="saveSnapshot") == 3
    # An inlined frame counts like any other frame of its location.
    assert profile.seconds_in("mapEncoder") == 4
    assert profile.seconds_in("no such function") == 0


def test_a_gzipped_file_is_read_as_the_cli_writes_it(tmp_path: Path) -> None:
    path = tmp_path / "up.1234.cpu"
    path.write_bytes(gzip.compress(_profile(SAMPLES, STACKS)))

    assert read_cpu_profile(path).seconds_in("saveSnapshot") == 6


def test_a_profile_without_cpu_time_is_refused_with_what_it_holds() -> None:
    memory = _profile(SAMPLES, STACKS, kinds=(("alloc_objects", "count"), ("alloc_space", "bytes")))

    with pytest.raises(ValueError, match="alloc_space"):
        parse_profile(memory)


def test_the_checkpoint_table_splits_the_saves_and_leaves_the_rest_with_garbage_collection_apart() -> None:
    tool = parse_profile(_profile(SAMPLES, STACKS))
    floor = parse_profile(_profile([([1, 3], 1 * SECOND), ([6], 10 * SECOND), ([4], 1 * SECOND)], STACKS))

    cells = [[cell.strip() for cell in line.strip("|").split("|")] for line in checkpoint_table(tool, floor).splitlines()]
    rows = {label: values for label, *values in cells[2:]}

    assert cells[0] == ["engine CPU (s)", "tool", "floor", "tool / floor"]
    assert rows["all of the engine's CPU"] == ["25.0", "12.0", "2.08x"]
    assert rows["saving checkpoints"] == ["6.0", "1.0", "6.00x"]
    assert rows["- JSON encoding"] == ["3.0", "1.0", "3.00x"]
    assert rows["- turning the state into a deployment (properties, stack traces)"] == ["2.0", "0.0", "-"]
    assert rows["garbage collection (the Go runtime's background marking)"] == ["5.0", "1.0", "5.00x"]
    assert rows["everything else"] == ["14.0", "10.0", "1.40x"]


def test_the_newest_profile_of_a_prefix_is_found_and_none_without_one(tmp_path: Path) -> None:
    assert newest_profile(tmp_path / "up") is None
    (tmp_path / "up.11.mem").write_bytes(b"")
    (tmp_path / "up.12.cpu").write_bytes(b"")

    assert newest_profile(tmp_path / "up") == tmp_path / "up.12.cpu"


def test_the_real_cli_writes_a_cpu_profile_that_this_reader_understands(tmp_path: Path) -> None:
    prefix = tmp_path / "version"
    subprocess.run([str(toolchain_bin() / "pulumi"), "--profiling", str(prefix), "version"], check=True,
                   capture_output=True, timeout=120)

    found = newest_profile(prefix)

    assert found is not None
    assert read_cpu_profile(found).total_seconds >= 0
