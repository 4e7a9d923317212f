"""The agents' subcommands of ``mm-gym``: train, evaluate, compare, results, demo, and the
``agent`` target of ``mm-gym tune``.

``add_parser(subparsers)`` and ``add_tune_parser`` register them (entry points of the
``mm_gym.commands`` and ``mm_gym.tune_targets`` groups); the heavy imports (torch, SB3)
happen only when a subcommand runs, so ``mm-gym --help`` and the env's own commands stay fast.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from mm_gym.commands.output import add_data_options, data_options
from mm_gym.commands.plugins import add_ray_option
from mm_gym.config import shipped_configs
from mm_gym.errors import ConfigError
from mm_gym.evaluation.seeds import FAMILIES

__all__ = ["AGENTS_EXTRA", "add_parser", "add_tune_parser"]

# imported before a command writes anything (cli's ``requires``): a missing one is one line
AGENTS_EXTRA = ("torch", "stable_baselines3")
DEFAULT_AGENT_TRIALS = 20


def add_tune_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``tune agent`` (a ``mm_gym.tune_targets`` entry point)."""
    from mm_gym.commands.tune import add_study_options

    a = subparsers.add_parser(
        "agent",
        help="tune an agent's hyperparameters against the baseline",
        description="Search an agent's hyperparameters: each trial trains on the training "
        "seeds, is evaluated on held-out seeds during training (the pruner's input) and "
        "scored by the paired difference agent - baseline on those seeds. Writes "
        "best_agent.yaml (for mm-gym train --config), trials.csv and report.md.",
    )
    a.add_argument(
        "--config",
        metavar="NAME|FILE",
        required=True,
        help=f"agent config ({', '.join(shipped_configs('agents'))} or a file)",
    )
    a.add_argument(
        "--env-config",
        metavar="NAME|FILE",
        help="env overrides merged over the agent config's 'env' (e.g. a tuned baseline.yaml)",
    )
    a.add_argument(
        "--space", metavar="NAME|FILE", help="search space (default: the algorithm's, e.g. ppo)"
    )
    a.add_argument(
        "--timesteps", metavar="T", default="200000", help="training steps per trial (200000)"
    )
    a.add_argument(
        "--eval-every",
        metavar="T",
        help="timesteps between held-out evaluations (default: a quarter of --timesteps)",
    )
    a.add_argument(
        "--eval-episodes", metavar="E", default="16", help="held-out seeds per evaluation (16)"
    )
    add_study_options(a, DEFAULT_AGENT_TRIALS, "median")
    a.set_defaults(func=_tune_agent, requires=AGENTS_EXTRA)


def _tune_agent(args: argparse.Namespace) -> int:
    from mm_gym_agents.tune import run

    return run(args)


def _int_at_least(low: int):
    """An argparse type: a whole number >= ``low`` (underscores allowed, as in 10_000_000)."""

    def parse(text: str) -> int:
        try:
            value = int(text.replace("_", ""))
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r}: expected a whole number") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"{text!r}: expected a whole number >= {low}")
        return value

    return parse


_positive_int = _int_at_least(1)
_non_negative_int = _int_at_least(0)


def _seed_list(text: str) -> list[int]:
    seeds: list[int] = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        low, dash, high = part.partition("-")
        if dash:
            first, last = _non_negative_int(low), _non_negative_int(high)
            if last < first:
                raise argparse.ArgumentTypeError(f"{part!r}: a range runs upwards, like 0-9")
            seeds += range(first, last + 1)
        else:
            seeds.append(_non_negative_int(part))
    if not seeds:
        raise argparse.ArgumentTypeError(f"{text!r}: expected seeds like 0,1,2 or 0-9")
    if len(set(seeds)) < len(seeds):
        raise argparse.ArgumentTypeError(f"{text!r}: a seed repeats")
    return seeds


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    """Register ``train``, ``evaluate``, ``compare``, ``results`` and ``demo``."""
    p = subparsers.add_parser(
        "train",
        help="train an SB3 agent into runs/<name>/",
        description="Train an SB3 agent (PPO, SAC, TD3, A2C, RecurrentPPO) on a batched "
        "mm_gym env. The run folder holds config.yaml, tensorboard/, checkpoints/, "
        "best_model.zip, final_model.zip and vecnormalize.pkl.",
    )
    p.add_argument(
        "--config",
        metavar="NAME|FILE",
        help="a shipped agent config by name "
        f"({', '.join(shipped_configs('agents'))}) or an agent YAML file",
    )
    p.add_argument(
        "--env-config",
        metavar="NAME|FILE",
        help="env overrides merged over the agent config's 'env': a YAML file or a shipped "
        f"env config ({', '.join(shipped_configs('envs'))})",
    )
    p.add_argument(
        "--market",
        metavar="NAME|FILE",
        help="the env's market (the agent config's env.market): a shipped market's name "
        f"({', '.join(shipped_configs('markets'))}) or a MarketConfig YAML file",
    )
    p.add_argument("--timesteps", type=_positive_int, help="total timesteps (overrides config)")
    seeds = p.add_mutually_exclusive_group()
    seeds.add_argument("--seed", type=_non_negative_int, help="training seed (overrides config)")
    seeds.add_argument(
        "--seeds",
        type=_seed_list,
        metavar="S,S-S,...",
        help="one run per training seed (0,1,2 or 0-9), named <run-name>_seed<S> (compare "
        "them together: each run's markets are spawned from its seed, so none are shared)",
    )
    p.add_argument(
        "--workers",
        type=_positive_int,
        default=1,
        help="with --seeds: train this many runs side by side, one process each (default: 1)",
    )
    add_ray_option(
        p,
        "with --seeds: train each run as a task on this Ray cluster; --runs-dir "
        "must be on a filesystem every node mounts",
    )
    p.add_argument("--run-name", help="run folder name (default: <algo>_<env>_<time>)")
    p.add_argument(
        "--resume", action="store_true", help="continue run --run-name from its last checkpoint"
    )
    p.add_argument("--runs-dir", type=Path, default=Path("runs"), help="default: runs")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--verbose", type=int, default=0, help="SB3 verbosity (0, 1, 2)")
    p.set_defaults(func=_train, requires=AGENTS_EXTRA)

    p = subparsers.add_parser(
        "evaluate",
        help="evaluate a trained run on held-out seeds",
        description="Run the deterministic policy of RUN on test seeds (batched), print a "
        "table and write CSVs under RUN/eval/.",
    )
    p.add_argument("run", type=Path, metavar="RUN", help="run folder, e.g. runs/ppo_x")
    p.add_argument("--episodes", type=_positive_int, default=32, help="default: 32")
    p.add_argument(
        "--seed",
        type=_non_negative_int,
        default=None,
        help="first seed (default: 2000000, the development family's)",
    )
    p.add_argument(
        "--regime", help="pin the hidden regime: ranging, trending_up, trending_down, high_vol"
    )
    p.add_argument("--model", choices=("final", "best"), default="final", help="default: final")
    p.set_defaults(func=_evaluate, requires=AGENTS_EXTRA)

    p = subparsers.add_parser(
        "compare",
        help="agent vs the rule baselines (or CJP/GLFT/AS) -> report.md",
        description="Run the agent (one run, or several runs of one config: each run on its "
        "own block of seeds) and the reference policies on the same seeds, overall and per "
        "pinned regime, and write report.md with PNG plots (in RUN, or beside several runs in "
        "<name>_compare). The interval is over the runs.",
    )
    p.add_argument(
        "run", type=Path, nargs="+", metavar="RUN", help="run folder(s): runs of one config"
    )
    p.add_argument(
        "--episodes", type=_positive_int, default=32, help="seeds per run's block (default: 32)"
    )
    p.add_argument(
        "--family",
        choices=tuple(FAMILIES),
        default="development",
        help="the seeds' family: development (default: every choice), final (claims, "
        "README's results) or replication (a second final family)",
    )
    p.add_argument(
        "--seed",
        type=_non_negative_int,
        default=None,
        help="first seed of the first run's block, inside --family's range (default: the "
        "family's first)",
    )
    p.add_argument(
        "--allow-eval-seeds",
        action="store_true",
        help="accept seeds that tuned or selected a model (below 2000000); the report says "
        "so and states no claim",
    )
    p.add_argument("--model", choices=("final", "best"), default="final", help="default: final")
    p.add_argument("--no-regimes", action="store_true", help="overall only, no pinned regimes")
    p.add_argument(
        "--metric",
        help="metric of the verdict (default: episode_return, the env's objective); "
        "also pnl, sharpe, spread_captured, ...",
    )
    p.add_argument(
        "--baseline",
        action="append",
        default=[],
        metavar="NAME|FILE",
        help="a tuned rule baseline: an EnvConfig YAML, or a shipped env config's name (tuned, "
        "default, ...), whose baseline/strategy sections are used (repeatable; named by the "
        "file's stem)",
    )
    p.add_argument(
        "--holm",
        action="store_true",
        help="verdicts on Holm-adjusted p-values across the conditions (default: uncorrected, "
        "the adjusted ones shown beside)",
    )
    p.add_argument("--out", type=Path, help="report folder (default: RUN, or <name>_compare)")
    p.add_argument(
        "--workers",
        type=_positive_int,
        default=1,
        help="play the conditions' policies side by side in this many processes (default: "
        "1; the report is the same)",
    )
    add_ray_option(
        p,
        "play the conditions' policies as tasks on this Ray cluster (the same "
        "report); RUN folders on a filesystem every node mounts",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_data_options(p)
    p.set_defaults(func=_compare, requires=AGENTS_EXTRA)

    p = subparsers.add_parser(
        "results",
        help="README's results table from compare folders",
        description="Print the results table of one or more compare folders (e.g. the final "
        "and replication families) or, with --readme, write it between the README's result "
        "markers.",
    )
    p.add_argument("folders", type=Path, nargs="+", metavar="FOLDER", help="compare's --out")
    p.add_argument("--readme", type=Path, help="write the table into this README")
    p.add_argument("--figure", type=Path, help="also draw the differences into this PNG")
    p.set_defaults(func=_results)

    p = subparsers.add_parser(
        "demo",
        help="train the best config briefly and compare it with the baseline (minutes)",
        description="Train the shipped best agent config briefly on the default market, "
        "compare it with the rule baselines and print where the report is. Deterministic "
        "given --seed.",
    )
    p.add_argument(
        "--timesteps",
        type=_positive_int,
        default=None,
        help="training timesteps (default: 3000000)",
    )
    p.add_argument("--seed", type=_non_negative_int, default=0, help="default: 0")
    p.add_argument("--out", type=Path, default=Path("runs"), help="runs folder (default: runs)")
    p.add_argument(
        "--episodes",
        type=_positive_int,
        default=16,
        help="comparison episodes per condition (default: 16)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--replace",
        action="store_true",
        help="train again even when OUT/demo_seed<S> holds a finished demo of the same config "
        "(an unfinished one is always replaced)",
    )
    p.set_defaults(func=_demo, requires=AGENTS_EXTRA)


def _train(args: argparse.Namespace) -> int:
    from mm_gym.config import load_yaml_mapping, resolve_config
    from mm_gym.market.config import MarketConfig
    from mm_gym_agents.config import AgentConfig
    from mm_gym_agents.train import train, train_seeds

    config = None
    if args.config is None and not args.resume:
        raise ConfigError("--config NAME|FILE is needed (or --resume --run-name NAME)")
    if args.config is not None:  # with --resume it must match the run's own config
        config = AgentConfig.from_yaml(resolve_config("agents", args.config))
        if args.env_config is not None:
            config = config.with_env(load_yaml_mapping(resolve_config("envs", args.env_config)))
        if args.market is not None:
            config = config.with_env({"market": MarketConfig.preset(args.market).to_dict()})
        if args.seed is not None:
            config = config.replace(seed=args.seed)
    elif args.env_config is not None or args.market is not None or args.seed is not None:
        raise ConfigError(
            "--resume without --config continues the run's own config: "
            "drop --env-config/--market/--seed"
        )
    kwargs = {
        "run_name": args.run_name,
        "runs_dir": args.runs_dir,
        "resume": args.resume,
        "total_timesteps": args.timesteps,
        "progress_bar": not args.no_progress,
        "verbose": args.verbose,
    }
    if args.seeds is not None:
        train_seeds(config, args.seeds, workers=args.workers, ray=args.ray, **kwargs)
    elif args.workers > 1 or args.ray is not None:
        option = "--workers" if args.workers > 1 else "--ray"
        raise ConfigError(f"{option}: needs --seeds (several runs to train side by side)")
    else:
        train(config, **kwargs)
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from mm_gym_agents.evaluate import evaluate_run

    evaluate_run(
        args.run, episodes=args.episodes, seed=args.seed, regime=args.regime, which=args.model
    )
    return 0


def _compare(args: argparse.Namespace) -> int:
    from mm_gym_agents.report import compare_and_report, verdict

    if _multi_maker_runs(args.run):
        return _compare_makers(args)
    data, shares_per_lot = data_options(args)
    comp, report = compare_and_report(
        args.run,
        data=data,
        shares_per_lot=shares_per_lot,
        episodes=args.episodes,
        family=args.family,
        seed=args.seed,
        which=args.model,
        regimes=not args.no_regimes,
        metric=args.metric,
        baselines=args.baseline,
        allow_eval_seeds=args.allow_eval_seeds,
        holm=args.holm,
        out=args.out,
        workers=args.workers,
        ray=args.ray,
        progress=not args.no_progress,
    )
    for ref in comp.verdict_references:
        for cond in comp.conditions:
            print(verdict(comp, cond, ref).replace("**", ""))
    print(f"report: {report}")
    return 0


def _multi_maker_runs(paths: list[Path]) -> bool:
    """Whether the runs (their first) trained on a book of several makers."""
    from mm_gym.envs.registration import env_entry
    from mm_gym_agents.run_dir import RunDir

    return bool(paths) and env_entry(RunDir.open(paths[0]).config().env_id).engine == "multi_maker"


def _compare_makers(args: argparse.Namespace) -> int:
    from mm_gym_agents.makers import compare_makers, refuse_options

    refuse_options(
        {
            "--data": args.data,
            "--baseline": args.baseline,
            "--metric": args.metric,
            "--holm": args.holm,
            "--no-regimes": args.no_regimes,
            "--ray": args.ray,
            "--workers": args.workers != 1,
        }
    )
    summary, report = compare_makers(
        args.run,
        episodes=args.episodes,
        family=args.family,
        seed=args.seed,
        which=args.model,
        allow_eval_seeds=args.allow_eval_seeds,
        out=args.out,
    )
    for row in summary.itertuples():
        print(
            f"{row.comparison}: {row.diff:+.3f} [{row.low:+.3f}, {row.high:+.3f}] over "
            f"{row.runs} run(s), {row.wins:.0%} of runs won: {row.outcome}"
        )
    print(f"report: {report}")
    return 0


def _results(args: argparse.Namespace) -> int:
    from mm_gym_agents.results import results_differences, results_markdown, update_readme

    if args.figure is not None:
        from mm_gym_agents.plots import plot_results

        print(f"figure written into {plot_results(results_differences(args.folders), args.figure)}")
    if args.readme is not None:
        print(f"results written into {update_readme(args.readme, args.folders)}")
    else:
        print(results_markdown(args.folders), end="")
    return 0


def _demo(args: argparse.Namespace) -> int:
    from mm_gym_agents.demo import run_demo

    run_demo(
        timesteps=args.timesteps,
        seed=args.seed,
        out=args.out,
        episodes=args.episodes,
        progress_bar=not args.no_progress,
        replace=args.replace,
    )
    return 0
