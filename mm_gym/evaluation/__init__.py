"""Evaluation: what policies did on seeded episodes, and how a claim about them is stated.

- ``episodes``: ``run_episodes`` steps a policy (the rule baseline, an SB3 model, a closed-form
  reference) over seeded episodes and tabulates what it did (``EpisodeResults``).
- ``metrics``: pure statistics (Sharpe, drawdown, intervals, paired tests, Holm).
- ``seeds``: the seed families (training, tuning, evaluation callback, development, final,
  replication), kept disjoint.
- ``protocol``: a learning claim over independent training runs (t over runs, hierarchical
  bootstrap, rliable's IQM and probability of improvement).
- ``economics``: the market maker's PnL per pinned regime, split into its sources.
- ``bench``: the simulator's throughput (``mm-gym bench``).
- ``plots``: every PNG of this layer (backtests, evaluations, the market's stylised facts).

It sits above ``envs`` (it runs policies through them) and below ``tuning``, ``commands`` and
the agents' package.
"""
