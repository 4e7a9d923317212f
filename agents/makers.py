"""``mm-gym compare`` for runs trained on ``MultiMaker-v0``: a learner against the rule maker.

Run ``k`` plays its own block of held-out seeds of the family (as for one maker), one book per
seed, twice: its policy in the learner's seat against the rival makers, and the strategy
document's table in that seat against the same rivals (the same markets: a pair per seed).
The book has one learner's seat: a run trained in self-play (several learners) is scored in
its book with the other seats taken by rule makers of the document's table.
Two differences per run, each paired within the book or the seed:

- **learner - rival**: the learner's episode return minus the rival's in the same book (how
  the learner does against the rule maker it trades beside);
- **learner - rule in its seat**: the learner's return minus what the document's table earns
  in the same seat on the same seed (what learning adds).

Each is stated as a mean over runs with Student's t interval over runs and the share of runs
that win (``mm_gym.evaluation.protocol``), verdicts as for one maker (``report.decide``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from mm_gym.commands.output import md_table
from mm_gym.errors import ConfigError
from mm_gym.evaluation.competition import play_books
from mm_gym.evaluation.protocol import difference_over_runs
from mm_gym.evaluation.seeds import block_seeds
from mm_gym_agents.compare import check_family, default_out, open_runs
from mm_gym_agents.policy import load_policy
from mm_gym_agents.report import decide

__all__ = ["compare_makers", "refuse_options"]


def compare_makers(
    run_paths: Sequence[str | Path],
    *,
    episodes: int = 32,
    family: str = "development",
    seed: int | None = None,
    which: str = "final",
    allow_eval_seeds: bool = False,
    out: str | Path | None = None,
    log: Callable[[str], None] = print,
) -> tuple[pd.DataFrame, Path]:
    """Score multi-maker runs (see the module docstring); write ``summary.csv``,
    ``episodes.csv``, ``meta.json`` and ``report.md`` under ``out``; return the summary and
    the report's path."""
    runs, config = open_runs(run_paths)
    env_config = config.env_config()
    if env_config.makers.agents > 1:  # self-play: scored against the rule makers
        env_config = env_config.replace(makers={"agents": 1, "rivals": "document"})
    keys = [r.name for r in runs]
    blocks = {key: block_seeds(family, k, episodes, seed) for k, key in enumerate(keys)}
    found = check_family(family, [s for b in blocks.values() for s in b], allow_eval_seeds, log)
    policies = {r.name: load_policy(r, which) for r in runs}  # a bad model: one line first
    import torch

    torch.set_num_threads(1)  # small networks: one thread is fastest (and compare's choice)
    log(
        f"comparing {', '.join(keys)} ({which} model) in books of {env_config.makers.n_makers} "
        f"makers on {found} seeds, {episodes} per run"
    )
    rows = []
    for key in keys:
        learner = play_books(env_config, blocks[key], policies[key])
        rule = play_books(env_config, blocks[key], None)
        for k, s in enumerate(blocks[key]):
            rows.append(
                {
                    "run": key,
                    "seed": s,
                    "learner_return": learner.seat_return[k],
                    "rival_return": learner.rival_return[k],
                    "rule_return": rule.seat_return[k],
                    "rival_return_beside_rule": rule.rival_return[k],
                    "learner_pnl": learner.seat_pnl[k],
                    "rule_pnl": rule.seat_pnl[k],
                }
            )
        log(
            f"  {key}: learner {learner.seat_return.mean():.3f}, rule {rule.seat_return.mean():.3f}"
        )
    table = pd.DataFrame(rows)
    summary = _summary(table, keys, env_config.makers.n_makers > 1)
    folder = Path(out) if out is not None else default_out(runs)
    folder.mkdir(parents=True, exist_ok=True)
    table.to_csv(folder / "episodes.csv", index=False)
    summary.to_csv(folder / "summary.csv", index=False)
    meta = {
        "family": found,
        "runs": [str(r.path) for r in runs],
        "training_seeds": [r.config().seed for r in runs],
        "blocks": {k: [b[0], b[-1]] for k, b in blocks.items()},
        "episodes_per_run": episodes,
        "model": which,
        "makers": env_config.makers.to_dict(),
        "trained_makers": config.env_config().makers.to_dict(),
        "total_timesteps": config.total_timesteps,
    }
    (folder / "meta.json").write_text(json.dumps(meta, indent=1) + "\n")
    report = folder / "report.md"
    report.write_text(_report(summary, meta, keys))
    return summary, report


def _summary(table: pd.DataFrame, keys: list[str], rivals: bool) -> pd.DataFrame:
    columns = {"learner - rival": "rival_return", "learner - rule in its seat": "rule_return"}
    out = []
    for name, other in columns.items():
        if other == "rival_return" and not rivals:
            continue
        learner = [table.loc[table.run == k, "learner_return"].to_numpy() for k in keys]
        ref = [table.loc[table.run == k, other].to_numpy() for k in keys]
        d = difference_over_runs(learner, ref)
        row = {
            "comparison": name,
            "learner": float(np.mean([x.mean() for x in learner])),
            "reference": float(np.mean([x.mean() for x in ref])),
            "diff": d.diff,
            "low": d.low,
            "high": d.high,
            "p_value": d.p_value,
            "wins": d.wins,
            "runs": d.runs,
            "n": d.n,
            "interval": d.interval,
        }
        row["outcome"] = decide(row, True)
        out.append(row)
    return pd.DataFrame(out)


def _report(summary: pd.DataFrame, meta: dict, keys: list[str]) -> str:
    makers = meta["makers"]
    shown = summary.set_index("comparison")[
        ["learner", "reference", "diff", "low", "high", "wins", "runs", "outcome"]
    ]
    return "\n".join(
        [
            "# A learner among market makers",
            "",
            f"{len(keys)} training runs ({', '.join(keys)}), {meta['model']} model, trained "
            f"with makers {meta['trained_makers']}; scored in books of {makers['n_makers']} "
            f"makers, one the learner, the rivals {list(makers['rivals'])}; "
            f"{meta['episodes_per_run']} held-out {meta['family']} seeds per run, each run its "
            "own block.",
            "",
            "Episode return (the env's objective), mean over runs; the difference's interval "
            "is Student's t over the runs' mean paired differences (over seeds with one run); "
            "'beats' needs it above 0 and at least 80% of runs winning.",
            "",
            md_table(shown, "comparison"),
            "",
        ]
    )


def refuse_options(args_given: dict[str, object]) -> None:
    """The compare options a multi-maker comparison does not take: a one-line error."""
    given = [name for name, value in args_given.items() if value]
    if given:
        raise ConfigError(
            f"{', '.join(given)}: not for MultiMaker-v0 runs (a learner against the rule "
            "makers of its book; options: --episodes, --family, --seed, --model, "
            "--allow-eval-seeds, --out)"
        )
