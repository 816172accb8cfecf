"""One real local Ray cluster per test module (2 CPUs), for the `--executor ray` tests.

Ray workers are separate processes started by the cluster's raylet, which inherits this process's
environment: it listens on 127.0.0.1 only, and PYTHONPATH gets the repository and tests/ first, so the workers import this checkout
of datagen and can unpickle test-only tasks such as `support.engine_helpers.EchoQA`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import pytest

from support.paths import REPO, TESTS

# A Ray for one machine listens on loopback only (Ray's switch for its laptop mode), set before
# Ray is imported; CLI subprocesses joining it inherit the setting.
os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
ray = pytest.importorskip("ray", reason="the `ray` extra is not installed (pip install -e '.[ray]')")


def start_cluster() -> Iterator[str]:
    """Start Ray (yielding its GCS address, for CLI subprocesses to join); shut it down after."""
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join([str(REPO), str(TESTS), *([old] if old else [])])
    ray.init(
        num_cpus=2,
        namespace="datagen",
        log_to_driver=False,
        include_dashboard=False,
        logging_level=logging.ERROR,
    )
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old


def worker_handles() -> list:
    """The generate workers of the run under way (the coordinator actor lists them)."""
    from ray.util import list_named_actors

    names = [a["name"] for a in list_named_actors(all_namespaces=True) if a["name"].startswith("datagen-")]
    if not names:
        return []
    coord = ray.get_actor(names[-1], namespace="datagen")
    return ray.get(coord.workers.remote())
