"""What the processes of one `pulumi` command share: the preview's read of the organization, and a program's plan."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest

from sentry_dsn_sync.sentry import OrganizationCatalog, SentryApi
from sentry_dsn_sync.resources import invocation_cache
from sentry_dsn_sync.resources.invocation_cache import (
    InvocationCache,
    add_to_plan,
    planned_paths,
    pulumi_invocation_id,
)

from tests.sentry.fakes import FakeClock, make_client
from tests.sentry.test_catalog import FakeOrganization


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def fake_proc(root: Path, processes: dict[int, tuple[str, int, int]]) -> Path:
    """A /proc with `pid -> (command, parent pid, start time)` entries, in the kernel's stat format."""
    for pid, (command, parent, start) in processes.items():
        fields = ["S", str(parent), *["0"] * 17, str(start)]
        (root / str(pid)).mkdir(parents=True)
        (root / str(pid) / "stat").write_text(f"{pid} ({command}) {' '.join(fields)} 0 0\n")
    return root


def test_invocation_is_the_nearest_pulumi_ancestor_with_its_start_time(tmp_path: Path) -> None:
    proc = fake_proc(
        tmp_path,
        {
            300: ("python", 200, 9000),
            200: ("pulumi-resource", 100, 8990),
            100: ("pulumi", 50, 8000),
            50: ("bash", 1, 10),
        },
    )
    assert pulumi_invocation_id(proc=proc, pid=300) == "100-8000"


def test_no_invocation_outside_a_pulumi_process(tmp_path: Path) -> None:
    proc = fake_proc(tmp_path, {300: ("python (x)", 50, 9000), 50: ("bash", 1, 10)})
    assert pulumi_invocation_id(proc=proc, pid=300) is None


def catalog(fake: FakeOrganization, clock: FakeClock, cache: InvocationCache | None) -> OrganizationCatalog:
    return OrganizationCatalog(SentryApi(make_client(fake, clock)), "acme", shared_with=cache)


def shared(tmp_path: Path, invocation: str) -> InvocationCache:
    cache = InvocationCache.for_invocation(invocation, api_root="https://sentry.io/api/0/", organization="acme",
                                           directory=tmp_path / "cache")
    assert cache is not None
    return cache


def test_update_reuses_the_preview_read_and_answers_the_same(tmp_path: Path, clock: FakeClock) -> None:
    preview_fake, update_fake = FakeOrganization(150), FakeOrganization(150)
    preview = catalog(preview_fake, clock, shared(tmp_path, "100-8000"))
    update = catalog(update_fake, clock, shared(tmp_path, "100-8000"))

    seen_in_preview = {slug: preview.active_keys(slug) for slug in ("p000", "p149")}
    seen_in_update = {slug: update.active_keys(slug) for slug in ("p000", "p149")}

    assert sum(preview_fake.calls.values()) == 5, "two pages of projects (150), three of keys (450)"
    assert sum(update_fake.calls.values()) == 0
    assert seen_in_update == seen_in_preview
    assert update.project("p149") == preview.project("p149")


def test_another_invocation_reads_sentry_again(tmp_path: Path, clock: FakeClock) -> None:
    catalog(FakeOrganization(3), clock, shared(tmp_path, "100-8000")).active_keys("p000")
    later = FakeOrganization(3)
    catalog(later, clock, shared(tmp_path, "101-8100")).active_keys("p000")
    assert sum(later.calls.values()) == 2


def test_a_read_that_kept_other_dsn_forms_is_not_shared(tmp_path: Path) -> None:
    def named(forms: tuple[str, ...]) -> Path:
        cache = InvocationCache.for_invocation("100-8000", api_root="https://sentry.io/api/0/", organization="acme",
                                               dsn_forms=forms, directory=tmp_path)
        assert cache is not None
        return cache.path

    assert named(("csp",)) != named(()) != named(("csp", "cdn"))
    assert named(("csp",)) == named(("csp",))


def test_a_directory_others_can_write_to_is_not_trusted(tmp_path: Path, clock: FakeClock) -> None:
    cache = shared(tmp_path, "100-8000")
    catalog(FakeOrganization(3), clock, cache).active_keys("p000")
    cache.path.parent.chmod(0o777)
    again = FakeOrganization(3)
    catalog(again, clock, shared(tmp_path, "100-8000")).active_keys("p000")
    assert sum(again.calls.values()) == 2


def test_the_shared_read_holds_no_secret(tmp_path: Path, clock: FakeClock) -> None:
    cache = shared(tmp_path, "100-8000")
    fake = FakeOrganization(2)
    catalog(fake, clock, cache).active_keys("p000")
    text = cache.path.read_text()
    assert "secret" not in text
    assert oct(cache.path.parent.stat().st_mode & 0o777) == oct(0o700)


@pytest.mark.parametrize("garbage", ["not json", '{"projects": 1}'])
def test_an_unreadable_shared_read_falls_back_to_sentry(tmp_path: Path, clock: FakeClock, garbage: str) -> None:
    cache = shared(tmp_path, "100-8000")
    cache.path.parent.mkdir(mode=0o700, parents=True)
    cache.path.write_text(garbage)
    fake = FakeOrganization(2)
    assert catalog(fake, clock, cache).active_keys("p000")
    assert sum(fake.calls.values()) == 2


# -- the plan of a program's own settings ----------------------------------------------------------

CONNECTION = {"sentryUrl": "https://de.sentry.io/", "vault": {"address": "http://eu:8200"}, "organization": "acme-eu"}


@pytest.fixture
def invocation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """One `pulumi` command, its files in a private directory of the test's own."""
    monkeypatch.setattr(invocation_cache, "pulumi_invocation_id", lambda: "100-8000")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def test_a_plan_is_added_to_in_order_without_repeats_and_read_back(invocation: Path) -> None:
    add_to_plan(CONNECTION, mount="secret", kv_version=2, paths=["acme-eu/web", "acme-eu/api"])
    # The update runs the program again; a second component adds its own projects.
    add_to_plan(CONNECTION, mount="secret", kv_version=2, paths=["acme-eu/web", "acme-eu/api"])
    add_to_plan(dict(reversed(CONNECTION.items())), mount="secret", kv_version=2, paths=["acme-eu/ios"])

    assert planned_paths(CONNECTION, mount="secret", kv_version=2) == ["acme-eu/web", "acme-eu/api", "acme-eu/ios"]


@pytest.mark.parametrize(
    "other",
    [
        {"connection": {**CONNECTION, "organization": "acme-us"}},
        {"mount": "apps"},
        {"kv_version": 1},
    ],
)
def test_a_plan_is_its_connections_and_mounts_alone(invocation: Path, other: dict[str, Any]) -> None:
    add_to_plan(CONNECTION, mount="secret", kv_version=2, paths=["acme-eu/web"])
    asked: dict[str, Any] = {"connection": CONNECTION, "mount": "secret", "kv_version": 2, **other}

    assert planned_paths(asked.pop("connection"), **asked) == []


def test_outside_a_pulumi_command_there_is_no_plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(invocation_cache, "pulumi_invocation_id", lambda: None)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    add_to_plan(CONNECTION, mount="secret", kv_version=2, paths=["acme-eu/web"])

    assert planned_paths(CONNECTION, mount="secret", kv_version=2) == []
    assert not any(tmp_path.iterdir())


def test_another_commands_plan_is_not_read(invocation: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    add_to_plan(CONNECTION, mount="secret", kv_version=2, paths=["acme-eu/web"])
    monkeypatch.setattr(invocation_cache, "pulumi_invocation_id", lambda: "101-8100")

    assert planned_paths(CONNECTION, mount="secret", kv_version=2) == []
