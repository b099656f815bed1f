"""Run the tool and the floor at one N and measure every step; the only module that starts things."""

from __future__ import annotations

import compileall
import hashlib
import json
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench._latency_proxy import delayed_relay
from bench._pprof import CpuProfile, checkpoint_table, newest_profile, read_cpu_profile
from bench._procwatch import ProcessWatcher, cpu_seconds_of
from bench._profile import profiling_venv, summarize
from bench._timeline import StepTimeline, clocked_venv, read_timeline, timeline_table
from bench._vault import AuditLog, audited_dev_server, count_kv_calls
from bench.plan import CHECKPOINTED_MAX, SizePlan, size_plan
from bench.report import SizeResult, StepMeasure, padded, state_breakdown, streamed
from devenv.openbao import OpenBaoServer, wait_for_kv_v2
from devenv.pulumi_cli import REPO_ROOT, PulumiProject, copy_project, toolchain_bin
from sentry_simulator.testing import SimulatorAdmin, start_simulator_process, stop_simulator_process

__all__ = ["Bench", "bench_environment", "snapshot_components"]

ORG = "bench"
TOKEN = "bench-token"
STACK = "bench"
FLOOR_DIR = Path(__file__).resolve().parent / "floor"
MARKER_VAR = "SENTRY_DSN_SYNC_BENCH_RUN"
# The engine then saves the state once, at the end, instead of after every step (see bench/README.md).
SKIP = {"PULUMI_SKIP_CHECKPOINTS": "true"}


def project_slugs(n: int) -> list[str]:
    """The slugs `--generate-projects` gives (sentry_simulator.seed.generate_seed)."""
    return [f"project-{p:04d}" for p in range(n)]


@dataclass
class Bench:
    """One audited OpenBao and a work dir; per N, a fresh simulator and fresh tool and floor stacks."""

    work: Path
    vault: OpenBaoServer
    audit: AuditLog
    bin_dir: Path
    # None: the per-size rule of `bench.plan.keys_per_project_for`.
    keys_per_project: int | None
    latency_ms: int
    repeat: int
    log: Callable[[str], None]
    # Put first on the tool's PYTHONPATH: a patched copy of `sentry_dsn_sync` to measure before changing it.
    tool_pythonpath: Path | None = None
    checkpointed_max: int = CHECKPOINTED_MAX
    # The simulator of the size being measured.
    admin: SimulatorAdmin | None = None
    # Where the tool reaches Vault: a relay that adds a network's round trip (`--vault-latency-ms`), or None
    # for the OpenBao server itself.
    vault_relay: str | None = None

    def run_size(self, n: int, *, profile: bool = False) -> tuple[SizeResult, str | None]:
        """Every step at N; with `profile`, then a sampled no-op up, a profiled rotation and timed calls (all kept
        out of the timings)."""
        plan = size_plan(n, repeat=self.repeat, keys_per_project=self.keys_per_project,
                         checkpointed_max=self.checkpointed_max)
        started = time.perf_counter()
        # A simulator of exactly N projects, so the org-wide reads cover what the stack configures.
        extra = ["--generate-projects", str(n), "--generate-keys-per-project", str(plan.keys_per_project)]
        process, url = start_simulator_process(None, extra_args=extra)
        try:
            self.admin = admin = SimulatorAdmin(url)
            if self.latency_ms:
                admin.inject_fault(latency_ms=self.latency_ms)
            result = self._steps(plan, url, admin)
            report = "\n\n".join(
                [self._profile_noop(n, url), self._profile_rotation(plan, url), self._time_calls(plan, url)]
            ) if profile else None
        finally:
            stop_simulator_process(process)
        return replace(result, run_seconds=time.perf_counter() - started), report

    def _steps(self, plan: SizePlan, sentry_url: str, admin: SimulatorAdmin) -> SizeResult:
        n = plan.projects
        mount = f"bench-{n}"
        tool_steps: dict[str, StepMeasure] = {}
        floor_steps: dict[str, StepMeasure] = {}
        # Interleaved, so that load from anything else on the machine hits both alike. The first runs
        # save only the final state (PULUMI_SKIP_CHECKPOINTS), as a large first run should. Each
        # repeat starts from fresh stacks (and a fresh mount); the stacks of the last go on below.
        floor_firsts: list[StepMeasure] = []
        streamed_firsts: list[StepMeasure] = []
        tool_firsts: list[StepMeasure] = []
        for attempt in range(plan.first_repeats):
            last = attempt == plan.first_repeats - 1
            first_mount = mount if last else f"{mount}-first-{attempt}"
            floor = self._floor_project(n)
            streamed_floor = self._floor_project(n, streamed=True)
            tool = self._tool_project(n, sentry_url, mount=first_mount)
            floor_firsts.append(self._measure(floor, "up", "floor first up", mount=None, env=SKIP))
            streamed_firsts.append(self._measure(streamed_floor, "up", "streamed floor first up", mount=None,
                                                 env=SKIP))
            tool_firsts.append(self._measure(tool, "up", "tool first up", mount=first_mount, env=SKIP))
        floor_steps["first"] = _fastest(floor_firsts)
        floor_steps[streamed("first")] = _fastest(streamed_firsts)
        tool_steps["first"] = _fastest(tool_firsts)
        # A floor whose resources carry as many bytes of state as the tool's projects: the engine then
        # saves as much for it as for the tool, so its rotation sets apart what those bytes cost.
        extra = (_state_bytes(tool.export_state(STACK)) - _state_bytes(floor.export_state(STACK))) // n
        padded_floor = self._floor_project(n, name=f"floor-padded-{n}", padding=extra)
        self._measure(padded_floor, "up", "floor with the tool's bytes, first up", mount=None, env=SKIP)
        if plan.checkpointed_first:
            # Fresh stacks (and a fresh mount, so the tool writes as much as a first run does).
            checkpointed_mount = f"bench-{n}-checkpointed"
            floor_steps["first_checkpointed"] = self._measure(
                self._floor_project(n, name=f"floor-checkpointed-{n}"), "up", "floor first up, checkpointed",
                mount=None)
            tool_steps["first_checkpointed"] = self._measure(
                self._tool_project(n, sentry_url, name=f"tool-checkpointed-{n}", mount=checkpointed_mount), "up",
                "tool first up, checkpointed", mount=checkpointed_mount)
        # In rounds of one each, as the first runs: a burst of load elsewhere then slows one of each
        # side's runs, not every run of one side.
        floor_noops: list[StepMeasure] = []
        tool_noops: list[StepMeasure] = []
        streamed_noops: list[StepMeasure] = []
        for _ in range(plan.noop_repeats):
            floor_noops.append(self._measure(floor, "up", "floor no-op up", mount=None))
            tool_noops.append(self._measure(tool, "up", "tool no-op up", mount=mount))
            streamed_noops.append(self._measure(streamed_floor, "up", "streamed floor no-op up", mount=None))
        floor_steps["noop"] = _fastest(floor_noops)
        tool_steps["noop"] = _fastest(tool_noops)
        floor_steps[streamed("noop")] = _fastest(streamed_noops)
        # 1% of the keys rotate, one new key in each of as many projects; the floor changes as many resources.
        for slug in project_slugs(n)[:plan.rotated]:
            admin.rotate_key(ORG, slug, label="Bench rotation")
        floor.set_config(STACK, "changed", plan.rotated)
        padded_floor.set_config(STACK, "changed", plan.rotated)
        label = f"({plan.rotated} rotated)"
        floor_steps["preview"] = self._measure(floor, "preview", f"floor preview {label}", mount=None)
        tool_steps["preview"] = self._measure(tool, "preview", f"tool preview {label}", mount=mount)
        floor_steps["rotated_up"] = self._measure(floor, "up", f"floor up {label}", mount=None)
        tool_steps["rotated_up"] = self._measure(tool, "up", f"tool up {label}", mount=mount)
        floor_steps[padded("rotated_up")] = self._measure(padded_floor, "up", f"floor with the tool's bytes up {label}",
                                                          mount=None)
        tool_state = tool.export_state(STACK)
        floor_state = floor.export_state(STACK)
        return SizeResult(
            projects=n,
            keys=plan.keys,
            rotated=plan.rotated,
            tool=tool_steps,
            floor=floor_steps,
            tool_state_bytes=_state_bytes(tool_state),
            floor_state_bytes=_state_bytes(floor_state),
            tool_provider_bytes=_provider_bytes(tool_state, "ProjectDsn"),
            floor_provider_bytes=_provider_bytes(floor_state, "Noop"),
            tool_state_parts=state_breakdown(tool_state, custom_type_suffix="ProjectDsn"),
            floor_state_parts=state_breakdown(floor_state, custom_type_suffix="Noop"),
            padded_floor_state_bytes=_state_bytes(padded_floor.export_state(STACK)),
        )

    def _profile_noop(self, n: int, sentry_url: str) -> str:
        tool = self._tool_project(n, sentry_url, fresh=False)
        provider_out = self.work / "profile" / f"provider-{n}.stacks"
        program_out = self.work / "profile" / f"program-{n}.stacks"
        for out in (provider_out, program_out):
            out.unlink(missing_ok=True)
        # The engine starts the provider with the python of the `virtualenv` option, the language
        # host the program with PULUMI_PYTHON_CMD: both point at the sampling wrapper.
        fake_venv = profiling_venv(self.work / "profile", provider_out=provider_out, program_out=program_out)
        self.log(f"N={n}: profiling a no-op up of the tool")
        started = time.perf_counter()
        try:
            with _provider_from(tool.project_dir, fake_venv):
                tool.run("up", "--yes", "--skip-preview", "--stack", STACK,
                         env={"PULUMI_PYTHON_CMD": str(fake_venv / "bin" / "python")})
        finally:
            seconds = time.perf_counter() - started
        sections = [f"## Where the time goes (no-op up of the tool, N={n}, sampled)", "",
                    f"The profiled run took {seconds:.1f} s (the sampler slows it). Collapsed stacks: "
                    f"`{self._shown(provider_out)}`"
                    " and the program's beside it."]
        for title, out in (("dynamic provider process", provider_out), ("program process", program_out)):
            body = summarize(out.read_text().splitlines()) if out.exists() else "The sampler wrote nothing."
            sections += ["", f"### The {title}", "", body]
        return "\n".join(sections)

    def _profile_rotation(self, plan: SizePlan, sentry_url: str) -> str:
        """The engine's CPU profile of one more rotated `up`, tool beside floor, and what its saves cost."""
        n, rotated = plan.projects, plan.rotated
        assert self.admin is not None
        tool = self._tool_project(n, sentry_url, fresh=False)
        floor = self._floor_project(n, fresh=False)
        # The projects and resources that changed in the timed rotation change once more.
        for slug in project_slugs(n)[:rotated]:
            self.admin.rotate_key(ORG, slug, label="Bench rotation, profiled")
        floor.set_config(STACK, "revision", 2)
        out = self.work / "profile"
        out.mkdir(parents=True, exist_ok=True)
        self.log(f"N={n}: profiling the engine in an up with {rotated} rotated")
        profiles: dict[str, CpuProfile] = {}
        seconds: dict[str, float] = {}
        for label, project in (("floor", floor), ("tool", tool)):
            prefix = out / f"engine-rotated-up-{label}-{n}"
            for old in out.glob(f"{prefix.name}.*"):
                old.unlink()
            started = time.perf_counter()
            project.run("--profiling", str(prefix), "up", "--yes", "--skip-preview", "--stack", STACK)
            seconds[label] = time.perf_counter() - started
            found = newest_profile(prefix)
            if found is None:
                return f"## Where the engine's CPU goes\n\n`pulumi --profiling` wrote no CPU profile for the {label}."
            profiles[label] = read_cpu_profile(found)
        return "\n".join([
            f"## Where the engine's CPU goes (up with {rotated} rotated, N={n}, the pulumi CLI's own profile)",
            "",
            f"After the timed steps, the {rotated} rotated project(s) rotated once more, and as many floor resources "
            f"changed again, in an `up` run with `pulumi --profiling`: {seconds['tool']:.1f} s for the tool, "
            f"{seconds['floor']:.1f} s for the floor (the profiler slows both). Each changed step saves the whole "
            "state twice, as it starts and as it ends; parts of a save are inside it. CPU profiles: "
            f"`{self._shown(out)}/engine-rotated-up-*.cpu` (pprof format).",
            "",
            checkpoint_table(profiles["tool"], profiles["floor"]),
        ])

    def _time_calls(self, plan: SizePlan, sentry_url: str) -> str:
        """A no-op and a first up of each side, split along the engine's path (see `_timeline`)."""
        n = plan.projects
        assert self.admin is not None
        out = self.work / "timeline"
        out.mkdir(parents=True, exist_ok=True)
        # Beside the streamed floor, whose program registers as the tool's does: the plain one builds
        # all N resources before the first reaches the engine. The no-op on the stacks the timed steps
        # left; the first up on fresh stacks and a fresh mount, as the timed first runs.
        runs = {
            ("no-op up", "noop"): ((self._floor_project(n, streamed=True, fresh=False), None),
                                   (self._tool_project(n, sentry_url, fresh=False), None)),
            ("first up", "first"): (
                (self._floor_project(n, streamed=True, name=f"floor-streamed-timeline-{n}"), SKIP),
                (self._tool_project(n, sentry_url, name=f"tool-timeline-{n}", mount=f"bench-{n}-timeline"), SKIP),
            ),
        }
        self.log(f"N={n}: timing the providers' calls in a no-op and a first up")
        columns: list[tuple[str, StepTimeline, StepTimeline]] = []
        sentry_reads: list[str] = []
        for (step, stem), ((floor, floor_env), (tool, tool_env)) in runs.items():
            floor_timeline = self._clocked_up(floor, out / f"{stem}-floor-{n}.calls", env=floor_env)
            self.admin.reset_requests()
            tool_timeline = self._clocked_up(tool, out / f"{stem}-tool-{n}.calls", env=tool_env)
            if floor_timeline is None or tool_timeline is None:
                return "## Along the engine's path\n\nA provider recorded no Check."
            columns.append((step, tool_timeline, floor_timeline))
            sentry_reads.append(f"{self.admin.request_span_seconds():.2f} s in the {step}")
        return "\n".join([
            f"## Along the engine's path (N={n}, the providers' calls timed)",
            "",
            "After the timed steps, one more no-op up of the tool and of the streamed floor, and one more first up "
            "of each on fresh stacks (with `PULUMI_SKIP_CHECKPOINTS`), each provider started through "
            "`bench/_call_clock.py`, which records when every call the engine makes to it starts and ends. The "
            "streamed floor's program registers as the tool's does (the plain floor's builds all N resources "
            "before the first reaches the engine, so its split would not compare). The engine takes one "
            "resource's Check before the next, so the tool's read of the organization in its first Check holds "
            "every resource back: Sentry's first request to its last answer took "
            f"{' and '.join(sentry_reads)}. Call times: `{self._shown(out)}/*.calls`.",
            "",
            timeline_table(columns),
        ])

    def _clocked_up(self, project: PulumiProject, calls: Path, *,
                    env: Mapping[str, str] | None) -> StepTimeline | None:
        """One `up` with the provider under the call clock (see `_call_clock`), split by `read_timeline`."""
        calls.unlink(missing_ok=True)
        started = time.time()
        with _provider_from(project.project_dir, clocked_venv(calls.parent, calls_out=calls)):
            project.run("up", "--yes", "--skip-preview", "--stack", STACK, env=env)
        ended = time.time()
        return read_timeline(calls.read_text() if calls.exists() else "", started=started, ended=ended)

    def _shown(self, path: Path) -> Path:
        """`path` as the report names it: relative to the benchmark's directory when inside it."""
        return path.relative_to(self.work.parent) if path.is_relative_to(self.work.parent) else path

    # -- projects ------------------------------------------------------------------

    def _project(self, name: str, source: Callable[[Path], Path], extra: dict[str, str]) -> PulumiProject:
        return PulumiProject(
            project_dir=source(self.work / name / "project"),
            backend_dir=self.work / name / "state",
            bin_dir=self.bin_dir,
            extra_env={MARKER_VAR: f"{name}-{uuid.uuid4().hex}", **extra},
        )

    def _tool_project(self, n: int, sentry_url: str, *, fresh: bool = True, name: str | None = None,
                      mount: str | None = None) -> PulumiProject:
        name = name or f"tool-{n}"
        mount = mount or f"bench-{n}"
        env = {"SENTRY_URL": sentry_url, "SENTRY_AUTH_TOKEN": TOKEN,
               "VAULT_ADDR": self.vault_relay or self.vault.address, "VAULT_TOKEN": self.vault.root_token}
        if self.tool_pythonpath is not None:
            # PYTHONPATH is searched before the editable install's finder, in the program and the provider.
            env["PYTHONPATH"] = str(self.tool_pythonpath)
        if not fresh:
            return PulumiProject(project_dir=self.work / name / "project", backend_dir=self.work / name / "state",
                                 bin_dir=self.bin_dir, extra_env={MARKER_VAR: f"{name}-profile", **env})
        shutil.rmtree(self.work / name, ignore_errors=True)
        project = self._project(name, copy_project, env)
        self.vault.client().sys.enable_secrets_engine("kv", path=mount, options={"version": "2"})
        wait_for_kv_v2(self.vault, mount)
        project.init_stack(STACK)
        project.set_config(STACK, "sentry-dsn-sync:organization", ORG)
        project.set_config(STACK, "sentry-dsn-sync:projects", project_slugs(n))
        project.set_config(STACK, "sentry-dsn-sync:vault", {"mount": mount})
        return project

    def _floor_project(self, n: int, *, streamed: bool = False, name: str | None = None,
                       fresh: bool = True, padding: int = 0) -> PulumiProject:
        name = name or (f"floor-streamed-{n}" if streamed else f"floor-{n}")
        project_dir = self.work / name / "project"
        if not fresh:
            return PulumiProject(project_dir=project_dir, backend_dir=self.work / name / "state", bin_dir=self.bin_dir,
                                 extra_env={MARKER_VAR: f"{name}-profile", "PYTHONPATH": str(project_dir)})
        shutil.rmtree(self.work / name, ignore_errors=True)
        # Same interpreter as the tool; the floor's provider module is found on PYTHONPATH.
        project = self._project(name, lambda d: _copy_floor(d), {"PYTHONPATH": str(project_dir)})
        project.init_stack(STACK)
        project.set_config(STACK, "count", n)
        if streamed:
            project.set_config(STACK, "streamed", "true")
        if padding > 0:
            project.set_config(STACK, "padding", padding)
        return project

    # -- measuring -----------------------------------------------------------------

    def _measure(self, project: PulumiProject, command: str, label: str, *, mount: str | None,
                 env: Mapping[str, str] | None = None) -> StepMeasure:
        args = ["up", "--yes", "--skip-preview"] if command == "up" else ["preview", "--diff"]
        assert self.admin is not None
        self.admin.reset_requests()
        offset = self.audit.mark()
        watcher = ProcessWatcher(project.extra_env[MARKER_VAR])
        # The Vault server shares this machine's cores with the run; a real one would not.
        vault_cpu_before = cpu_seconds_of(self.vault.process.pid)
        watcher.start()
        started = time.perf_counter()
        try:
            project.run(*args, "--stack", STACK, env=env)
        finally:
            seconds = time.perf_counter() - started
            stats = watcher.stop()
        vault_server_cpu = cpu_seconds_of(self.vault.process.pid) - vault_cpu_before
        requests_made = self.admin.request_count()
        if mount is None and requests_made:
            raise RuntimeError(f"{label}: the floor must not call Sentry")
        sentry = requests_made if mount else None
        sentry_read = self.admin.request_span_seconds() if mount else None
        vault = count_kv_calls(self.audit.since(offset), mount=mount) if mount else None
        step = StepMeasure(
            seconds=seconds,
            sentry_requests=sentry,
            vault_reads=vault.reads if vault else None,
            vault_writes=vault.writes if vault else None,
            vault_other=vault.other if vault else None,
            provider_peak_rss_kb=stats.peak_rss_kb.get("provider"),
            program_peak_rss_kb=stats.peak_rss_kb.get("program"),
            provider_cpu_seconds=stats.cpu_seconds.get("provider"),
            program_cpu_seconds=stats.cpu_seconds.get("program"),
            vault_server_cpu_seconds=vault_server_cpu,
            engine_cpu_seconds=stats.cpu_seconds.get("engine"),
            sentry_read_seconds=sentry_read,
        )
        counts = "" if vault is None else (f", Sentry {sentry} requests, Vault {vault.reads} reads / "
                                           f"{vault.writes} writes")
        self.log(f"  {label}: {seconds:.2f} s{counts}")
        return step


def _fastest(measures: list[StepMeasure]) -> StepMeasure:
    """The fastest run (its CPU and Sentry read go with its time), every run's time beside it.

    Request counts are the largest any run made: the budget holds for every run, not only the fastest.
    """
    fastest = min(measures, key=lambda m: m.seconds)

    def largest(name: str) -> int | None:
        return max((value for m in measures if (value := getattr(m, name)) is not None), default=None)

    return replace(
        fastest,
        sentry_requests=largest("sentry_requests"),
        vault_reads=largest("vault_reads"),
        vault_writes=largest("vault_writes"),
        vault_other=largest("vault_other"),
        repeats=tuple(m.seconds for m in measures),
    )


def _copy_floor(destination: Path) -> Path:
    destination.mkdir(parents=True, exist_ok=True)
    for name in ("Pulumi.yaml", "__main__.py", "floor_provider.py"):
        shutil.copy2(FLOOR_DIR / name, destination / name)
    _byte_compile(destination)
    _set_virtualenv(destination, Path(sys.prefix))
    (destination / "stacks").mkdir(exist_ok=True)
    return destination


def snapshot_components(work: Path) -> tuple[Path, str]:
    """Copy the `sentry_dsn_sync` package into the work dir and describe which version it is.

    Others may edit the tree while a run of several minutes goes on; the tool
    then runs from this copy (first on its PYTHONPATH), so every step of one
    run measures the same code.
    """
    source = REPO_ROOT / "components" / "sentry_dsn_sync"
    target = work / "components-snapshot"
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(source, target / "sentry_dsn_sync", ignore=shutil.ignore_patterns("__pycache__"))
    _byte_compile(target)
    digest = hashlib.sha256()
    for path in sorted((target / "sentry_dsn_sync").rglob("*.py")):
        digest.update(path.relative_to(target).as_posix().encode())
        digest.update(path.read_bytes())
    head = _git("rev-parse", "--short", "HEAD")
    dirty = _git("status", "--porcelain", "--", "components")
    state = f"commit {head}" + (" plus uncommitted changes" if dirty else "")
    return target, f"components/ as of {state} (sha256 of its .py files {digest.hexdigest()[:12]})"


def _byte_compile(directory: Path) -> None:
    """Write the .pyc files an installed package has (pip compiles at install time).

    Without them a machine with PYTHONDONTWRITEBYTECODE set (this one is) would
    compile the modules from source in every process of every run.
    """
    compileall.compile_dir(directory, quiet=1)


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False)
    return done.stdout.strip() if done.returncode == 0 else "unknown"


@contextmanager
def _provider_from(project_dir: Path, venv: Path) -> Iterator[None]:
    """The project's provider started from `venv` (a stand-in) while inside, from this interpreter after."""
    _set_virtualenv(project_dir, venv)
    try:
        yield
    finally:
        _set_virtualenv(project_dir, Path(sys.prefix))


def _set_virtualenv(project_dir: Path, venv: Path) -> None:
    """Point the project's `virtualenv` runtime option at `venv`: the engine starts the provider from it."""
    pulumi_yaml = project_dir / "Pulumi.yaml"
    lines = [
        f"    virtualenv: {venv}" if line.strip().startswith("virtualenv:") else line
        for line in pulumi_yaml.read_text().splitlines()
    ]
    pulumi_yaml.write_text("\n".join(lines) + "\n")


def _state_bytes(state: dict[str, Any]) -> int:
    """Bytes of the stack's state as compact JSON (the file backend stores it so, gzip aside)."""
    return len(json.dumps(state, separators=(",", ":")).encode())


def _provider_bytes(state: dict[str, Any], type_suffix: str) -> int:
    """Bytes of one resource's serialized `__provider` (the largest, should they differ)."""
    sizes = [
        len(json.dumps(resource.get("inputs", {}).get("__provider"), separators=(",", ":")).encode())
        for resource in state["deployment"].get("resources", [])
        if str(resource.get("type", "")).endswith(type_suffix)
    ]
    return max(sizes, default=0)


@contextmanager
def bench_environment(
    work: Path, *, keys_per_project: int | None, latency_ms: int, repeat: int, log: Callable[[str], None],
    tool_pythonpath: Path | None = None, checkpointed_max: int = CHECKPOINTED_MAX, vault_latency_ms: int = 0,
) -> Iterator[Bench]:
    """An audited OpenBao dev server for the whole run (behind a relay adding `vault_latency_ms` to each round trip,
    when that is set), stopped on exit."""
    with audited_dev_server() as (vault, audit), ExitStack() as relay:
        address = urlsplit(vault.address)
        vault_relay = relay.enter_context(
            delayed_relay(address.hostname or "127.0.0.1", address.port or 8200, round_trip_ms=vault_latency_ms)
        ) if vault_latency_ms else None
        yield Bench(work=work, vault=vault, audit=audit, bin_dir=toolchain_bin(), keys_per_project=keys_per_project,
                    latency_ms=latency_ms, repeat=repeat, log=log, tool_pythonpath=tool_pythonpath,
                    checkpointed_max=checkpointed_max, vault_relay=vault_relay)
