"""One Optuna study, on one storage, for both searches (``tune baseline`` and ``tune agent``).

- Storage: a SQLite file under the study's folder by default (nothing to set up), or any
  SQLAlchemy URL; ``postgresql://user:pw@host/db`` lets workers on many machines join one
  study. Every worker keeps a heartbeat: a trial whose worker died (killed, machine lost) is
  marked failed after ``STALE_AFTER`` heartbeats by the next worker that starts a trial, and
  enqueued again with the same parameters (``RetryHeartbeatStaleTrialCallback``).
- A study remembers its setup (direction, search space, what the objective runs): a worker
  whose setup differs is refused with one line, and the study is left as it was.
- ``--trials N`` is the study's total: each worker runs trials until the study holds N
  finished (complete or pruned) trials, so a second worker or a rerun adds what is missing.

Optuna is imported here only when a study is opened: ``mm_gym`` imports without it.
"""

from __future__ import annotations

import dataclasses
import math
import os
import socket
import time
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from mm_gym.config import check_choice
from mm_gym.errors import ConfigError, first_line

__all__ = [
    "PRUNERS",
    "SAMPLERS",
    "StudyHandle",
    "StudyOptions",
    "default_storage",
    "display_url",
    "engine_url",
    "finished_trials",
    "make_pruner",
    "make_sampler",
    "record_values",
    "require_optuna",
]

SAMPLERS = ("tpe", "cmaes")
PRUNERS = ("none", "median", "halving")
HEARTBEAT_S = 10
STALE_AFTER = 3  # heartbeats missed before a running trial counts as failed
MAX_RETRY = 2  # a failed (stale) trial is run again at most this often
OPEN_ATTEMPTS = 3
SETUP_ATTR = "setup"


def require_optuna() -> Any:
    """The optuna module, or a one-line error saying which extra to install."""
    try:
        import optuna
    except ModuleNotFoundError as err:
        raise ConfigError(
            f"tuning needs the tune extra (no module named {err.name!r}): "
            "pip install 'mm-gym[tune]'"
        ) from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    return optuna


def default_storage(folder: Path) -> str:
    """The embedded default: ``sqlite:///<folder>/study.db`` (absolute path)."""
    return f"sqlite:///{(Path(folder) / 'study.db').resolve()}"


def engine_url(url: str) -> str:
    """``postgresql://`` names no driver: take psycopg (3), the one the tune extra installs."""
    scheme = "postgresql://"
    return "postgresql+psycopg://" + url[len(scheme) :] if url.startswith(scheme) else url


def display_url(url: str) -> str:
    """The URL with its password hidden (for the console and reports)."""
    try:
        from sqlalchemy.engine import make_url

        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL is reported by open_storage
        return url.split("@")[-1] if "@" in url else url


def make_sampler(name: str, seed: int | None) -> Any:
    """TPE (default) or CMA-ES (which starts from the middle of the space)."""
    check_choice("--sampler", name, SAMPLERS)
    optuna = require_optuna()
    if name == "tpe":
        return optuna.samplers.TPESampler(seed=seed, constant_liar=True)
    try:
        import cmaes  # noqa: F401 - CmaEsSampler needs it at the first trial
    except ModuleNotFoundError:
        raise ConfigError("--sampler cmaes needs cmaes: pip install 'mm-gym[tune]'") from None
    return optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)


def make_pruner(name: str) -> Any:
    """No pruning, the median rule, or successive halving."""
    check_choice("--pruner", name, PRUNERS)
    optuna = require_optuna()
    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=0)
    if name == "halving":
        return optuna.pruners.SuccessiveHalvingPruner()
    return optuna.pruners.NopPruner()


def open_storage(url: str, heartbeat_s: int = HEARTBEAT_S) -> Any:
    """An ``RDBStorage`` with heartbeats and retries of failed trials; one-line errors."""
    optuna = require_optuna()
    import sqlalchemy.exc

    engine_kwargs: dict[str, Any] = {}
    if url.startswith("postgresql"):
        engine_kwargs = {"connect_args": {"connect_timeout": 10}, "pool_pre_ping": True}
    attempt = 0
    while True:
        try:
            return optuna.storages.RDBStorage(
                engine_url(url),
                engine_kwargs=engine_kwargs,
                heartbeat_interval=heartbeat_s,
                grace_period=STALE_AFTER * heartbeat_s,
                heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(
                    max_retry=MAX_RETRY
                ),
            )
        except (sqlalchemy.exc.SQLAlchemyError, ImportError, ValueError) as err:
            # workers creating the tables of a new database at once: one wins, the others
            # find the tables on the next attempt (SQLite: "table ... already exists")
            racing = isinstance(err, sqlalchemy.exc.IntegrityError) or "already exists" in str(err)
            attempt += 1
            if racing and attempt < OPEN_ATTEMPTS:
                time.sleep(0.5 * attempt)
                continue
            reason = first_line(getattr(err, "orig", None) or err)
            raise ConfigError(f"--storage {display_url(url)}: cannot open it ({reason})") from None


@dataclasses.dataclass
class StudyHandle:
    """An opened study, whether this worker created it, and its storage URL."""

    study: Any
    created: bool
    url: str


def _first_difference(have: Any, want: Any, prefix: str = "") -> tuple[str, Any, Any]:
    """The first differing key (dotted) of two nested mappings, with both values there."""
    if isinstance(have, Mapping) and isinstance(want, Mapping):
        for key in [*have, *(k for k in want if k not in have)]:
            if key not in have or key not in want:
                return f"{prefix}{key}", have.get(key), want.get(key)
            if have[key] != want[key]:
                return _first_difference(have[key], want[key], f"{prefix}{key}.")
    return prefix.rstrip("."), have, want


def _check_setup(name: str, study: Any, direction: str, setup: Mapping[str, Any]) -> None:
    """ConfigError unless the stored study has this direction and setup."""
    directions = [d.name.lower() for d in study.directions]
    if directions != [direction]:
        raise ConfigError(
            f"study {name!r} exists with direction {'/'.join(directions)}, not {direction}; "
            "choose another --study (the study is left as it was)"
        )
    have = study.user_attrs.get(SETUP_ATTR)
    if have is None:  # created by hand, or a worker that has not written it yet
        return
    if have != dict(setup):
        key, stored, given = _first_difference(have, dict(setup))
        what = "search space" if key.startswith("space") else "setup"
        values = f": {stored!r} there, {given!r} here" if len(f"{stored!r}{given!r}") < 80 else ""
        raise ConfigError(
            f"study {name!r} exists with another {what} (differs in {key!r}{values}); choose "
            "another --study or the study's own settings (the study is left as it was)"
        )


@dataclasses.dataclass(frozen=True)
class StudyOptions:
    """Where the study lives and how this worker searches: the options both searches share.

    ``trials`` is the study's total of finished trials; ``seed`` seeds this worker's sampler
    (give each worker its own, or none).
    """

    storage: str
    name: str
    trials: int = 50
    sampler: str = "tpe"
    pruner: str = "none"
    seed: int | None = None
    n_jobs: int = 1
    timeout: float | None = None
    heartbeat_s: int = HEARTBEAT_S
    progress: bool = True

    def __post_init__(self) -> None:
        check_choice("--sampler", self.sampler, SAMPLERS)
        check_choice("--pruner", self.pruner, PRUNERS)

    @property
    def pruning(self) -> bool:
        return self.pruner != "none"

    def open(
        self, direction: str, setup: Mapping[str, Any], x0: Mapping[str, Any] | None = None
    ) -> StudyHandle:
        """Load the study (checking direction and setup) or create it with them; ``x0`` (the
        starting config's values, if inside the space) is a new study's first trial."""
        optuna = require_optuna()
        sampler = make_sampler(self.sampler, self.seed)
        pruner = make_pruner(self.pruner)
        storage = open_storage(self.storage, self.heartbeat_s)
        kwargs = {"study_name": self.name, "storage": storage, "sampler": sampler, "pruner": pruner}
        created = False
        try:
            study = optuna.load_study(**kwargs)
        except KeyError:
            try:
                study = optuna.create_study(direction=direction, **kwargs)
                created = True
            except optuna.exceptions.DuplicatedStudyError:  # another worker was first
                study = optuna.load_study(**kwargs)
        _check_setup(self.name, study, direction, setup)
        if SETUP_ATTR not in study.user_attrs:
            study.set_user_attr(SETUP_ATTR, dict(setup))
        if created and x0 is not None:
            study.enqueue_trial(dict(x0), user_attrs={"start": True})
        return StudyHandle(study, created, self.storage)

    def optimize(self, handle: StudyHandle, objective: Callable[[Any], float]) -> int:
        """Run trials until the study holds ``trials`` finished ones (or ``timeout`` seconds);
        returns how many this worker finished. The console bar counts every worker's trials."""
        optuna = require_optuna()
        finished = (optuna.trial.TrialState.COMPLETE, optuna.trial.TrialState.PRUNED)
        study = handle.study
        before = len(finished_trials(study))
        if before >= self.trials:
            return 0

        def timed(trial: Any) -> float:
            trial.set_user_attr("worker", worker_name())
            started = time.perf_counter()
            try:
                return objective(trial)
            finally:
                trial.set_user_attr("seconds", round(time.perf_counter() - started, 3))

        bar = None
        if self.progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=self.trials, initial=before, desc=f"study {self.name}", unit="trial")
        mine = 0

        def on_trial(study: Any, trial: Any) -> None:
            nonlocal mine
            mine += trial.state in finished
            if bar is not None:
                bar.n = min(len(finished_trials(study)), self.trials)
                if study.get_trials(deepcopy=False, states=finished[:1]):
                    bar.set_postfix(best=f"{study.best_value:.4g}")
                bar.refresh()

        callbacks = [optuna.study.MaxTrialsCallback(self.trials, states=finished), on_trial]
        try:
            waiting = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.WAITING,))
            if self.n_jobs > 1 and waiting:
                # enqueued trials first, one at a time: two threads popping the same waiting
                # trial is a race on storages without row locks (SQLite)
                study.optimize(
                    timed, n_trials=len(waiting), timeout=self.timeout, callbacks=callbacks
                )
            study.optimize(
                timed,
                n_trials=max(self.trials - len(finished_trials(study)), 0),
                timeout=self.timeout,
                n_jobs=self.n_jobs,
                callbacks=callbacks,
            )
        finally:
            if bar is not None:
                bar.close()
        return mine


def record_values(trial: Any, values: np.ndarray) -> float:
    """Keep a trial's per-episode values as user attributes ``mean``, ``se`` (standard error)
    and ``episodes``; returns the mean (the objective)."""
    x = np.asarray(values, dtype=np.float64)
    se = float(x.std(ddof=1) / math.sqrt(x.size)) if x.size > 1 else math.nan
    trial.set_user_attr("mean", float(x.mean()))
    trial.set_user_attr("se", se)
    trial.set_user_attr("episodes", int(x.size))
    return float(x.mean())


def finished_trials(study: Any) -> list[Any]:
    """The study's complete and pruned trials (what ``--trials`` counts)."""
    from optuna.trial import TrialState

    return study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED))


def worker_name() -> str:
    """``host:pid``: which worker ran a trial (a trial's user attribute ``worker``)."""
    return f"{socket.gethostname()}:{os.getpid()}"
