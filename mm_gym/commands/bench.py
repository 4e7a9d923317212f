"""``mm-gym bench``: throughput of the simulator and the environments on this machine."""

from __future__ import annotations

import argparse
import json

from mm_gym.config import shipped_configs

FLOORS = {
    "lob_events_per_s": 5_000_000,
    "lob_market_seconds_per_s": 100_000,
    "env_steps_per_s_single": 10_000,
    "vec_env_steps_per_s": 100_000,
    "as_vec_steps_per_s": 20_000_000,
    "maker_steps_per_s_2_makers": 400_000,
    "maker_steps_per_s_4_makers": 400_000,
}


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="measure simulator and env throughput")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--quick", action="store_true", help="short measurements (about 10 s)")
    p.add_argument(
        "--market",
        metavar="NAME|FILE",
        help="the market measured: a shipped market's name "
        f"({', '.join(shipped_configs('markets'))}) or a MarketConfig YAML file "
        "(default: the default market)",
    )
    p.add_argument(
        "--data",
        metavar="FILE",
        help="measure the replay of this recording instead (mm-gym data convert's Parquet): "
        "events replayed per second on one thread, the agent re-quoting every 1 s and 100 ms",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mm_gym.evaluation.bench import run_all
    from mm_gym.market.config import MarketConfig

    if args.data is not None:
        return _run_replay(args)
    market = None if args.market is None else MarketConfig.preset(args.market)
    results = run_all(quick=args.quick, market=market)
    if args.json:
        print(json.dumps(results))
        return 0
    print(f"{'figure':32s} {'measured':>16s} {'floor':>14s}")
    for key, value in results.items():
        if isinstance(value, dict):
            continue
        floor = FLOORS.get(key)
        print(f"{key:32s} {_shown(value):>16s} {'' if floor is None else f'{floor:,}':>14s}")
    parts = results["breakdown"]
    print(f"\nbreakdown of a vector env step ({parts['method']})")
    for key in ("background_events", "sampling_clock", "quotes_and_orders", "python_step"):
        print(f"  {key:30s} {parts[key]:>16.1%}")
    print("\nscaling over markets (agent quoting, 1 s steps)")
    columns = next(iter(results["scaling"].values()))
    print(f"  {'markets':>8s}" + "".join(f" {c:>24s}" for c in columns))
    for n, row in results["scaling"].items():
        print(f"  {n:>8s}" + "".join(f" {_shown(v):>24s}" for v in row.values()))
    return 0


def _run_replay(args: argparse.Namespace) -> int:
    from mm_gym.evaluation.bench import bench_replay

    results = bench_replay(args.data, seconds=5.0 if args.quick else 60.0)
    if args.json:
        print(json.dumps(results))
        return 0
    print(
        f"replay of {args.data}: {results['events']:,} events, loaded in {results['load_s']:.2f} s"
    )
    head = ("re-quote every", "events/s", "wall s", "events", "market s", "warm-up s")
    print(
        f"{head[0]:>16s} {head[1]:>12s} {head[2]:>8s} {head[3]:>10s} {head[4]:>10s} "
        f"{head[5]:>10s}   (fastest of 3 plays)"
    )
    for key in [k[: -len("_events_per_s")] for k in results if k.endswith("_events_per_s")]:
        print(
            f"{key.removeprefix('refresh_'):>16s} {results[key + '_events_per_s']:>12,.0f} "
            f"{results[key + '_wall_s']:>8.4f} {results[key + '_events']:>10,} "
            f"{results[key + '_market_seconds']:>10,.0f} {results[key + '_warmup_s']:>10.3f}"
        )
    return 0


def _shown(value: object) -> str:
    return f"{value:,.0f}" if isinstance(value, float) and value > 100 else f"{value}"
