"""``mm-gym tune baseline``: Optuna studies of the rule baseline's table, on a SQLite file
(default) or a shared PostgreSQL database; it needs the tune extra only.

Other packages add targets (the agents' ``tune agent``, which trains with Stable-Baselines3)
through ``mm_gym.tune_targets`` entry points; ``add_study_options``, ``study_options`` and
``out_path`` give every target the same study options.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from mm_gym.commands.output import int_arg, seconds_arg
from mm_gym.commands.plugins import (
    TUNE_TARGET_GROUP,
    add_ray_option,
    load_executor,
    load_plugins,
)
from mm_gym.config import shipped_configs
from mm_gym.errors import ConfigError, first_line

__all__ = [
    "add_parser",
    "add_study_options",
    "out_path",
    "study_options",
    "tune_on_cluster",
    "check_storage_reaches",
]

DEFAULT_BASELINE_TRIALS = 50


def add_study_options(p: argparse.ArgumentParser, trials: int, pruner: str) -> None:
    """The options every tuning target shares: trials, storage, study, sampler, pruner, jobs,
    timeout, seed, heartbeat, output folder."""
    from mm_gym.tuning.study import HEARTBEAT_S, PRUNERS, SAMPLERS

    p.add_argument(
        "--trials",
        metavar="N",
        default=str(trials),
        help=f"finished trials the study should hold, all workers together (default {trials})",
    )
    p.add_argument(
        "--storage",
        metavar="URL",
        help="study storage: sqlite:///FILE or postgresql://USER:PASSWORD@HOST:PORT/DB "
        "(default: sqlite file study.db in --out)",
    )
    p.add_argument("--study", metavar="NAME", help="study name (workers of one study share it)")
    p.add_argument(
        "--sampler", default="tpe", metavar="NAME", help=f"{', '.join(SAMPLERS)} (default tpe)"
    )
    p.add_argument(
        "--pruner",
        default=pruner,
        metavar="NAME",
        help=f"{', '.join(PRUNERS)} (default {pruner}; halving: successive halving)",
    )
    p.add_argument("--n-jobs", metavar="J", default="1", help="trials at once in this worker")
    p.add_argument("--timeout", metavar="S", help="stop starting trials after S seconds")
    p.add_argument(
        "--seed", metavar="S", help="this worker's sampler seed (default: fresh; one per worker)"
    )
    p.add_argument(
        "--heartbeat",
        metavar="S",
        default=str(HEARTBEAT_S),
        help=f"seconds between a worker's heartbeats (default {HEARTBEAT_S}); a trial whose "
        "worker missed 3 is failed and run again",
    )
    p.add_argument("--out", metavar="DIR", help="report folder (default runs/tune/<study>)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    add_ray_option(
        p,
        "run --ray-workers of these workers as tasks on this Ray cluster, on one study "
        "(--storage postgresql://... when the cluster spans machines)",
    )
    p.add_argument(
        "--ray-workers",
        metavar="W",
        help="with --ray: workers on the cluster (default: its CPUs / --n-jobs)",
    )


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``tune`` with its target ``baseline`` and those installed packages add
    (``mm_gym.tune_targets`` entry points: the agents' ``agent``)."""
    p = subparsers.add_parser(
        "tune",
        help="search the baseline's table or an agent's hyperparameters (Optuna)",
        description="Optuna studies on a SQLite file (default) or PostgreSQL (--storage): "
        "workers on many machines can join one study.",
    )
    sub = p.add_subparsers(dest="target", metavar="TARGET")
    sub.required = True

    b = sub.add_parser(
        "baseline",
        help="tune the rule strategy's regime table and detector thresholds",
        description="Search the rule baseline's table (spread, skew, size per detected "
        "regime) and the detector's thresholds on training seeds (the same in every trial), "
        "then compare the best table with the starting one on held-out seeds. Writes "
        "baseline.yaml (an EnvConfig), trials.csv, holdout.csv and report.md with plots.",
    )
    b.add_argument(
        "--env-config",
        metavar="NAME|FILE",
        help="the starting EnvConfig, its table the first trial: a YAML file or a shipped "
        f"env config's name ({', '.join(shipped_configs('envs'))}); default: the built-in one",
    )
    b.add_argument(
        "--space",
        metavar="NAME|FILE",
        default="baseline",
        help=f"search space ({', '.join(shipped_configs('spaces'))} or a file; default baseline)",
    )
    b.add_argument(
        "--episodes", metavar="E", default="64", help="training seeds per trial (default 64)"
    )
    b.add_argument(
        "--holdout-episodes",
        metavar="H",
        default="64",
        help="held-out seeds per condition after the study (default 64; 0: no check)",
    )
    add_study_options(b, DEFAULT_BASELINE_TRIALS, "none")
    b.set_defaults(func=_baseline)

    for add_target in load_plugins(TUNE_TARGET_GROUP):  # e.g. the agents' ``tune agent``
        add_target(sub)


def study_options(args: argparse.Namespace, name: str, out: Path):
    """The ``StudyOptions`` of the command's options (storage default: ``out/study.db``)."""
    from mm_gym.tuning.study import StudyOptions, default_storage

    if args.ray_workers is not None and args.ray is None:
        raise ConfigError("--ray-workers: needs --ray ADDRESS")
    return StudyOptions(
        storage=args.storage or default_storage(out),
        name=name,
        trials=int_arg("--trials", args.trials, 1),
        sampler=args.sampler,
        pruner=args.pruner,
        seed=None if args.seed is None else int_arg("--seed", args.seed, 0),
        n_jobs=int_arg("--n-jobs", args.n_jobs, 1),
        timeout=None if args.timeout is None else seconds_arg("--timeout", args.timeout),
        heartbeat_s=int_arg("--heartbeat", args.heartbeat, 1),
        progress=not args.no_progress,
    )


def out_path(args: argparse.Namespace, study: str) -> Path:
    """``--out``, or ``runs/tune/<study>`` (not created here)."""
    out = Path(args.out) if args.out else Path("runs") / "tune" / study
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {str(out)!r}: exists and is not a folder")
    return out


def _baseline(args: argparse.Namespace) -> int:
    from mm_gym.config import resolve_config
    from mm_gym.envs.core import make_config
    from mm_gym.tuning.baseline import tune_baseline
    from mm_gym.tuning.space import SearchSpace
    from mm_gym.tuning.study import display_url

    episodes = int_arg("--episodes", args.episodes, 2)
    holdout = int_arg("--holdout-episodes", args.holdout_episodes, 0)
    if holdout == 1:
        raise ConfigError("--holdout-episodes=1: expected 0 (no check) or at least 2")
    start = make_config(None, args.env_config)
    space = SearchSpace.from_yaml(resolve_config("spaces", args.space))
    name = args.study or "baseline"
    out = out_path(args, name)
    if args.ray is not None:
        return tune_on_cluster(args, name, out)
    options = study_options(args, name, out)
    if args.storage is None:  # the SQLite file lives in --out
        out.mkdir(parents=True, exist_ok=True)
    print(f"tune baseline: study {name!r} in {display_url(options.storage)}")
    res = tune_baseline(start, space, options, episodes=episodes, holdout_episodes=holdout, out=out)
    if res.tuned is None:
        return 0
    best = res.best_trial
    se = best.user_attrs.get("se", float("nan"))
    print(
        f"best trial {best.number}: {best.value:.4g} ± {se:.2g} (starting table "
        f"{res.start_values.mean():.4g}) on {episodes} training seeds; this worker finished "
        f"{res.ran} trial(s)"
    )
    if res.paired is not None:
        for r in res.paired.itertuples():
            print(
                f"held-out {r.condition:<14} {r.comparison:<28} {r.diff:+9.4g} "
                f"[{r.ci_low:.4g}, {r.ci_high:.4g}]  (n={r.n})"
            )
    print(f"tuned config: {out / 'baseline.yaml'}; report: {out / 'report.md'}")
    return 0


def tune_on_cluster(args: argparse.Namespace, name: str, out: Path) -> int:
    """``--ray``: this target's worker (``args.func``) as ``--ray-workers`` Ray tasks sharing
    study ``name`` (default: the cluster's CPUs / ``--n-jobs``), each with its own sampler
    seed (``--seed`` + i when given) and no held-out check, writing into ``out`` (which every
    node must see: trials keep their folders there); once they finished, the command runs here
    on the finished study: the held-out check and the report, as on one machine. File options
    are made absolute here; SQLite is refused when the cluster spans machines."""
    import concurrent.futures as cf

    from mm_gym.errors import RunError
    from mm_gym.tuning.study import default_storage, display_url, open_storage

    n_jobs = int_arg("--n-jobs", args.n_jobs, 1)
    seed = None if args.seed is None else int_arg("--seed", args.seed, 0)
    given = None if args.ray_workers is None else int_arg("--ray-workers", args.ray_workers, 1)
    out = out.resolve()
    storage = _absolute_sqlite(args.storage or default_storage(out))
    here = {**vars(args), **_absolute_files(args), "out": str(out), "storage": storage}
    here.update(ray=None, ray_workers=None)
    out.mkdir(parents=True, exist_ok=True)
    open_storage(storage)  # its tables, before the workers race to create them; its errors
    with load_executor("ray")(args.ray, cpus=n_jobs) as pool:
        check_storage_reaches(storage, pool.machines)
        workers = pool.workers if given is None else given
        pool.check_shared(out)
        print(
            f"tune: {workers} worker(s) on the Ray cluster at {args.ray} ({n_jobs} CPU(s) "
            f"each), study {name!r} in {display_url(storage)}"
        )
        task = {**here, "no_progress": True}
        if "holdout_episodes" in task:
            task["holdout_episodes"] = "0"  # checked once, here, on the finished study
        jobs = [
            argparse.Namespace(**{**task, "seed": None if seed is None else str(seed + i)})
            for i in range(workers)
        ]
        futures = [pool.submit(_tune_worker, job) for job in jobs]
        failed = []
        for future in cf.as_completed(futures):
            if (err := future.exception()) is not None:
                failed.append(f"{type(err).__name__}: {first_line(err)}")
    if failed:
        raise RunError(f"{len(failed)} of {workers} tuning worker(s) failed; first: {failed[0]}")
    # the study holds its trials: run here with nothing left to run (one finished trial is
    # enough), for the held-out check, the report and the summary lines
    return args.func(argparse.Namespace(**{**here, "trials": "1"}))


FILE_OPTIONS = ("config", "env_config", "space")
"""Options that name a file or a shipped config: a file's path is made absolute for tasks
that run elsewhere."""


def _absolute_files(args: argparse.Namespace) -> dict[str, str]:
    return {
        name: str(Path(value).resolve())
        for name in FILE_OPTIONS
        if isinstance(value := getattr(args, name, None), str) and Path(value).is_file()
    }


def _absolute_sqlite(url: str) -> str:
    """A relative ``sqlite:///FILE`` made absolute (tasks run in other folders)."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url[len(prefix) :].startswith("/"):
        return prefix + str(Path(url[len(prefix) :]).resolve())
    return url


def check_storage_reaches(storage: str, machines: int) -> None:
    """A ConfigError when ``storage`` is SQLite and the workers are on several machines."""
    from mm_gym.tuning.study import display_url

    if storage.startswith("sqlite") and machines > 1:
        raise ConfigError(
            f"--storage {display_url(storage)}: SQLite is a file on one machine and the Ray "
            f"cluster spans {machines}; use --storage postgresql://USER:PASSWORD@HOST/DB"
        )


def _tune_worker(args: argparse.Namespace) -> int:
    """One tuning worker in a Ray task: the target's own command."""
    return args.func(args)
