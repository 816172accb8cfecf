"""`--executor ray`: joining (or starting) a Ray cluster, shared by generate, cc3m filter and audit.

Only the `ray_*` modules import Ray (tests/test_layering.py checks it), so a local run never pays
for Ray's import time. `cluster(spec)` is a context manager: it connects to `--ray-address`
(`auto`, `ray://HOST:PORT`, a GCS address), or starts a local Ray on this machine when none is
given, quiets Ray's own console output (worker logs, Ray Data's progress bars) so the one progress
display and any `Error:` line stay ours, and shuts down only a cluster it started itself.
"""

from __future__ import annotations

import contextlib
import logging
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from datagen.errors import ConfigError, UsageError

MIN_RAY = (2, 60)  # ActorPoolStrategy(max_concurrent_calls_per_actor=...): the `ray` extra's minimum
EXECUTORS = ("local", "ray")
INSTALL_HINT = "install the extra: pip install 'datagen[ray]'"
NAMESPACE = "datagen"


@dataclass(frozen=True)
class ExecutorSpec:
    """How a command runs its work: here (`local`) or as a Ray Data job (`ray`)."""

    kind: str = "local"
    address: str | None = None  # None: start a local Ray on this machine
    workers: int = 2  # actors in the pool

    def __post_init__(self) -> None:
        if self.kind not in EXECUTORS:
            raise UsageError(f"--executor must be one of: {', '.join(EXECUTORS)} (got {self.kind!r})")
        if self.workers < 1:
            raise UsageError(f"--workers must be at least 1, got {self.workers}")
        if self.kind == "local" and self.address is not None:
            raise UsageError("--ray-address needs --executor ray")

    @property
    def is_ray(self) -> bool:
        return self.kind == "ray"

    def public(self) -> dict[str, Any]:
        return {"kind": self.kind, "address": self.address, "workers": self.workers}


def import_ray() -> Any:
    """The `ray` module, or a ConfigError naming the extra to install."""
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError:
        raise ConfigError(
            "--executor ray needs Ray Data, which is not installed", hint=INSTALL_HINT
        ) from None
    version = tuple(int(p) for p in ray.__version__.split(".")[:2] if p.isdigit())
    if version < MIN_RAY:
        raise ConfigError(
            f"Ray {ray.__version__} is too old for --executor ray (need >= {'.'.join(map(str, MIN_RAY))})",
            hint=INSTALL_HINT,
        )
    return ray


def _quiet_data(ray: Any) -> None:
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.enable_operator_progress_bars = False
    ctx.print_on_execution_start = False
    ctx.verbose_stats_logs = False
    for name in ("ray", "ray.data", "ray.data._internal.execution.streaming_executor"):
        logging.getLogger(name).setLevel(logging.ERROR)
    # e.g. "the operator only received 1 input(s)" for a run with a handful of jobs left
    warnings.filterwarnings("ignore", category=UserWarning, module=r"ray\.")


@contextlib.contextmanager
def _c_stderr_silenced() -> Iterator[None]:
    """Ray's core prints a line or two straight to file descriptor 2 while it starts; the
    exception `ray.init` raises on failure is what we report."""
    import sys

    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


@contextlib.contextmanager
def cluster(spec: ExecutorSpec) -> Iterator[Any]:
    """Yield the `ray` module connected to the spec's cluster (reusing one this process already joined)."""
    # Ray's C++ core logs warnings straight to stderr (e.g. about restartable actors' arguments);
    # the CLI's stderr is for our progress display and `Error:` lines.
    os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")
    if spec.address is None:  # a Ray for this machine alone listens on loopback only
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    ray = import_ray()
    started = False
    if not ray.is_initialized():
        kwargs: dict[str, Any] = {
            "namespace": NAMESPACE,
            "log_to_driver": False,
            "logging_level": logging.ERROR,
            "include_dashboard": False,
            "configure_logging": True,
        }
        if spec.address is None:
            kwargs["num_cpus"] = max(os.cpu_count() or 1, 1)
        else:
            kwargs["address"] = spec.address
        try:
            with _c_stderr_silenced():
                ray.init(**kwargs)
        except (ConnectionError, RuntimeError, ValueError) as e:
            where = spec.address or "a local Ray"
            raise ConfigError(
                f"cannot join the Ray cluster at {where}: {e}",
                hint="check --ray-address (auto, ray://HOST:10001, or HOST:6379) and that `ray status` works there",
            ) from None
        started = True
    _quiet_data(ray)
    try:
        yield ray
    finally:
        if started:
            ray.shutdown()


def driver_node(ray: Any) -> dict[str, Any]:
    """Scheduling options that pin an actor to the driver's node (the one whose disk holds the run)."""
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    node = ray.get_runtime_context().get_node_id()
    return {"scheduling_strategy": NodeAffinitySchedulingStrategy(node_id=node, soft=False)}
