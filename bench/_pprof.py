"""Read the pulumi CLI's own CPU profile and say where the engine's CPU went.

`pulumi --profiling PREFIX` writes `PREFIX.<pid>.cpu` in Go's pprof format: a
gzipped protobuf (`proto/profile.proto` in github.com/google/pprof). Only the
fields needed to add up CPU per function are decoded here, so reading it needs
no Go toolchain.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench.report import markdown_table, ratio

__all__ = ["CHECKPOINT_PARTS", "CpuProfile", "checkpoint_table", "newest_profile", "parse_profile", "read_cpu_profile"]

_SAVE = "backend.(*SnapshotManager).saveSnapshot"
# Runs on goroutines of its own, so it is never inside a save, though the saves' allocations cause most of it.
_GC = "runtime.gcBgMarkWorker"

# Each part of one checkpoint save, by the function that does it (inside the save; see pkg/backend/snapshot.go
# and pkg/backend/diy/state.go in pulumi/pulumi).
CHECKPOINT_PARTS = (
    ("turning the state into a deployment (properties, stack traces)", "backend.(*SnapshotManager).Deployment"),
    ("JSON encoding", "diy.compactJSONMarshaler.Marshal"),
    ("writing the file (and its MD5 sidecar)", "diy.(*wrappedBucket).WriteAll"),
    ("copying the last file to `.bak`", "diy.backupTarget"),
    ("integrity checks", "snapshot.VerifyIntegrity"),
)


@dataclass(frozen=True)
class CpuProfile:
    """Each sample's functions (innermost first, inlined ones included) and its CPU time."""

    samples: tuple[tuple[tuple[str, ...], int], ...]

    @property
    def total_seconds(self) -> float:
        return sum(nanos for _, nanos in self.samples) / 1e9

    def seconds_in(self, function: str, *, within: str | None = None) -> float:
        """CPU of the samples with a frame whose name contains `function` (and one containing `within`)."""
        total = 0
        for frames, nanos in self.samples:
            if _has(frames, function) and (within is None or _has(frames, within)):
                total += nanos
        return total / 1e9


def _has(frames: tuple[str, ...], part: str) -> bool:
    return any(part in frame for frame in frames)


def read_cpu_profile(path: Path) -> CpuProfile:
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return parse_profile(data)


def parse_profile(data: bytes) -> CpuProfile:
    strings: list[str] = []
    sample_types: list[tuple[int, int]] = []
    raw_samples: list[tuple[list[int], list[int]]] = []
    locations: dict[int, list[int]] = {}
    functions: dict[int, int] = {}
    for field, value in _fields(data):
        if isinstance(value, int):  # every field read here is a message or a string
            continue
        if field == 1:
            kind = dict(_scalars(value))
            sample_types.append((kind.get(1, 0), kind.get(2, 0)))
        elif field == 2:
            raw_samples.append(_sample(value))
        elif field == 4:
            location_id, function_ids = _location(value)
            locations[location_id] = function_ids
        elif field == 5:
            function = dict(_scalars(value))
            functions[function.get(1, 0)] = function.get(2, 0)
        elif field == 6:
            strings.append(bytes(value).decode("utf-8", "replace"))
    # Go's CPU profiles carry two values per sample, a count and "cpu" in nanoseconds.
    kinds = [(strings[kind], strings[unit]) for kind, unit in sample_types]
    if ("cpu", "nanoseconds") not in kinds:
        raise ValueError(f"not a CPU profile: its sample types are {kinds}")
    cpu = kinds.index(("cpu", "nanoseconds"))
    samples = tuple(
        (tuple(strings[functions[f]] for location in location_ids for f in locations.get(location, ())),
         values[cpu])
        for location_ids, values in raw_samples
    )
    return CpuProfile(samples)


def _sample(message: memoryview) -> tuple[list[int], list[int]]:
    location_ids: list[int] = []
    values: list[int] = []
    for field, value in _fields(message):
        target = location_ids if field == 1 else values if field == 2 else None
        if target is None:
            continue
        if isinstance(value, int):
            target.append(value)
        else:  # packed
            target.extend(_varints(value))
    return location_ids, values


def _location(message: memoryview) -> tuple[int, list[int]]:
    location_id = 0
    function_ids: list[int] = []
    for field, value in _fields(message):
        if field == 1 and isinstance(value, int):
            location_id = value
        elif field == 4 and not isinstance(value, int):
            function_ids.append(dict(_scalars(value)).get(1, 0))
    return location_id, function_ids


def _scalars(message: memoryview) -> Iterator[tuple[int, int]]:
    for field, value in _fields(message):
        if isinstance(value, int):
            yield field, value


def _fields(data: bytes | memoryview) -> Iterator[tuple[int, int | memoryview]]:
    """The (field number, value) pairs of one protobuf message: an int, or the bytes of a length-delimited one."""
    view = memoryview(data)
    position = 0
    while position < len(view):
        key, position = _varint(view, position)
        field, wire_type = key >> 3, key & 7
        if wire_type == 0:
            value, position = _varint(view, position)
            yield field, value
        elif wire_type == 2:
            length, position = _varint(view, position)
            yield field, view[position:position + length]
            position += length
        elif wire_type == 1:
            yield field, int.from_bytes(view[position:position + 8], "little")
            position += 8
        elif wire_type == 5:
            yield field, int.from_bytes(view[position:position + 4], "little")
            position += 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire_type} at byte {position}")


def _varints(view: memoryview) -> Iterator[int]:
    position = 0
    while position < len(view):
        value, position = _varint(view, position)
        yield value


def _varint(view: memoryview, position: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        byte = view[position]
        position += 1
        result |= (byte & 0x7F) << shift
        if byte < 0x80:
            return result, position
        shift += 7


def checkpoint_table(tool: CpuProfile, floor: CpuProfile) -> str:
    """The engine's CPU in one command, tool beside floor: its checkpoint saves, their parts, the rest."""

    def row(label: str, tool_seconds: float, floor_seconds: float) -> list[object]:
        return [label, f"{tool_seconds:.1f}", f"{floor_seconds:.1f}", ratio(tool_seconds, floor_seconds)]

    rows = [row("all of the engine's CPU", tool.total_seconds, floor.total_seconds),
            row("saving checkpoints", tool.seconds_in(_SAVE), floor.seconds_in(_SAVE))]
    for label, function in CHECKPOINT_PARTS:
        rows.append(row(f"- {label}", tool.seconds_in(function, within=_SAVE),
                        floor.seconds_in(function, within=_SAVE)))
    rows.append(row("garbage collection (the Go runtime's background marking)",
                    tool.seconds_in(_GC), floor.seconds_in(_GC)))
    rows.append(row("everything else", tool.total_seconds - tool.seconds_in(_SAVE) - tool.seconds_in(_GC),
                    floor.total_seconds - floor.seconds_in(_SAVE) - floor.seconds_in(_GC)))
    return markdown_table(["engine CPU (s)", "tool", "floor", "tool / floor"], rows)


def newest_profile(prefix: Path) -> Path | None:
    """The CPU profile that `pulumi --profiling PREFIX` wrote (`PREFIX.<pid>.cpu`)."""
    found = sorted(prefix.parent.glob(f"{prefix.name}.*.cpu"), key=lambda p: p.stat().st_mtime)
    return found[-1] if found else None
