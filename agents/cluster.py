"""Work spread over a Ray cluster: training runs, comparison jobs and tuning workers as Ray
tasks (the ``cluster`` extra: ``pip install 'mm-gym[cluster]'``).

``RayPool`` is a ``concurrent.futures.Executor`` whose ``submit`` starts a Ray task, so the
code that plays jobs in local processes plays them on a cluster unchanged. Every node needs
the same install of mm-gym (the same image or environment); run folders, checkpoints and
studies live on storage every node sees:

- **Run folders on a shared filesystem.** A training task writes its run folder (status,
  checkpoints, TensorBoard) itself under ``--runs-dir``, which must be a path every node
  mounts (NFS, a cloud filesystem). Results are not shipped back at the end: a run whose
  worker dies resumes, in Ray's retry on any node, from the last checkpoint it wrote, which
  only storage outside the dead worker can keep. The driver checks the path is shared
  before it starts anything (``check_shared_folder``).
- **Comparison jobs** return their episodes' results to the driver, which writes the report
  as on one machine: the same report for the same seeds.
- **Tuning workers** share the Optuna study through its storage: PostgreSQL across
  machines; SQLite only when the cluster is one machine.

Nothing in ``mm_gym`` imports Ray; ``mm_gym.commands`` finds this pool through the
``mm_gym.executors`` entry point.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import os
import socket
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mm_gym.errors import ConfigError, first_line
from mm_gym.market.sim import THREADS_ENV

__all__ = [
    "RETRIES",
    "RayPool",
    "check_shared_folder",
    "connect",
    "require_ray",
]

RETRIES = 3
"""Times Ray runs a task again when its worker process or node dies."""
CONNECT_TIMEOUT_S = 5.0
"""How long the driver waits for the head's port to answer before it says it cannot."""


def require_ray() -> Any:
    """The ``ray`` module, or a ConfigError saying which extra installs it."""
    try:
        import ray
    except ImportError:
        raise ConfigError(
            "--ray: Ray is not installed; pip install 'mm-gym[cluster]' on every machine"
        ) from None
    return ray


def _host_port(address: str) -> tuple[str, int]:
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or "/" in host:
        raise ConfigError(
            f"--ray {address!r}: expected auto or the head's HOST:PORT (as `ray start --head` "
            "prints it, e.g. 10.0.0.5:6379)"
        )
    return host, int(port)


def connect(address: str) -> Any:
    """Join the Ray cluster at ``address`` (``HOST:PORT`` of its head, or ``auto`` for the one
    this machine belongs to) as a driver; returns ``ray``. The driver runs on a node of the
    cluster (``ray start --address ...`` on this machine first). An address nothing answers
    at, or a cluster that cannot be joined (another Ray or Python version, this machine not a
    node), is a ConfigError in one line (Ray itself would retry for minutes)."""
    ray = require_ray()
    if ray.is_initialized():
        return ray
    if address != "auto":
        host, port = _host_port(address)
        try:
            socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S).close()
        except OSError as err:
            raise ConfigError(
                f"--ray {address}: no Ray head answers there ({err.strerror or err}); start one "
                "with `ray start --head --port PORT` or check the address"
            ) from None
    try:
        ray.init(
            address=address,
            log_to_driver=False,
            logging_level="ERROR",
            configure_logging=True,
        )
    except (ConnectionError, RuntimeError) as err:
        raise ConfigError(
            f"--ray {address}: cannot join the cluster ({first_line(err)}); run the command on "
            "a node of the cluster with the same Ray and Python versions"
        ) from None
    return ray


def alive_nodes() -> list[dict[str, Any]]:
    """The cluster's live nodes (Ray's records), once connected."""
    import ray

    return [node for node in ray.nodes() if node.get("Alive")]


def _folder_seen(marker: str) -> tuple[bool, str]:
    return os.path.exists(marker), socket.gethostname()


def hosts_not_seeing(path: str | Path) -> list[str]:
    """The hosts of the cluster's nodes on which ``path`` does not exist (a task pinned to
    each live node looks)."""
    import ray
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

    probe = ray.remote(num_cpus=0)(_folder_seen)
    refs = [
        probe.options(
            scheduling_strategy=NodeAffinitySchedulingStrategy(node["NodeID"], soft=False)
        ).remote(str(path))
        for node in alive_nodes()
    ]
    return sorted({host for seen, host in ray.get(refs) if not seen})


def check_shared_folder(folder: str | Path) -> None:
    """A ConfigError unless a marker file written in ``folder`` here is seen by a task on every
    node of the cluster (run folders must be on storage every node mounts)."""
    folder = Path(folder).resolve()
    folder.mkdir(parents=True, exist_ok=True)
    marker = folder / f".cluster-check-{uuid.uuid4().hex}"
    marker.write_text("written by the driver; deleted after the check\n")
    try:
        missing = hosts_not_seeing(marker)
    finally:
        marker.unlink(missing_ok=True)
    if missing:
        raise ConfigError(
            f"--runs-dir {str(folder)!r}: not seen by the cluster's node(s) on "
            f"{', '.join(missing)}; run folders must be on a filesystem every node mounts at "
            "the same path"
        )


class RayPool(cf.Executor):
    """A ``concurrent.futures.Executor`` over the Ray cluster at ``address``: each ``submit``
    is one Ray task needing ``cpus`` CPUs (and run with as many threads for its markets,
    ``MM_GYM_THREADS``), run again (up to ``retries`` times) when its worker or node dies. A
    task's error reaches its future as the error raised in the task. Leaving the pool on an
    error (or Ctrl-C) stops the tasks still running; then the driver leaves the cluster, if
    this pool joined it."""

    def __init__(self, address: str, *, cpus: int = 1, retries: int = RETRIES) -> None:
        self._joined = not (require_ray().is_initialized())  # leave only what this pool joined
        self.ray = connect(address)
        self.address = address
        self.cpus = cpus
        self.retries = retries
        self._refs: list[Any] = []
        self._remote: dict[Callable, Any] = {}
        largest = max((n["Resources"].get("CPU", 0) for n in alive_nodes()), default=0)
        if cpus > largest:
            self.shutdown(wait=False)
            raise ConfigError(
                f"--ray {address}: a task needs {cpus} CPUs and the cluster's largest node has "
                f"{largest:g}; lower --n-jobs, torch_threads or env_threads"
            )

    @property
    def machines(self) -> int:
        """Machines the cluster's live nodes are on (by address: nodes of one machine share
        a filesystem and a SQLite file)."""
        return len({node["NodeManagerAddress"] for node in alive_nodes()})

    @property
    def workers(self) -> int:
        """Tasks of ``cpus`` CPUs the cluster runs at once."""
        return max(1, int(self.ray.cluster_resources().get("CPU", 0)) // self.cpus)

    def check_shared(self, folder: str | Path) -> None:
        """``check_shared_folder``: a ConfigError unless every node sees ``folder``."""
        check_shared_folder(folder)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> cf.Future:
        if fn not in self._remote:
            self._remote[fn] = self.ray.remote(fn).options(
                num_cpus=self.cpus,
                max_retries=self.retries,
                retry_exceptions=False,  # an error in our code is reported, not run again
                runtime_env={"env_vars": {THREADS_ENV: str(self.cpus)}},
            )
        ref = self._remote[fn].remote(*args, **kwargs)
        self._refs.append(ref)
        future: cf.Future = cf.Future()

        def settle(done: cf.Future) -> None:
            error = done.exception()
            if error is None:
                future.set_result(done.result())
            else:  # the task's own error, not Ray's wrapper with the remote traceback
                future.set_exception(getattr(error, "cause", None) or error)

        ref.future().add_done_callback(settle)
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        if cancel_futures:
            for ref in self._refs:
                with contextlib.suppress(Exception):  # a task that already finished
                    self.ray.cancel(ref, force=True)
        if wait and not cancel_futures and self._refs:
            self.ray.wait(self._refs, num_returns=len(self._refs))
        self._refs = []
        if self._joined:
            self.ray.shutdown()  # the driver leaves; the cluster runs on

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        self.shutdown(wait=exc_type is None, cancel_futures=exc_type is not None)
        return False
