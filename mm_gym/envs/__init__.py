"""The Gymnasium environments over the simulated market (above ``market`` and ``strategy``).

- ``registration``: the env registry, each id with its classes and what it supports
  (``EnvEntry``: engine, rule baseline, regimes, reference policies, units), and
  ``register_envs``.
- ``market_making``: ``MarketMaking-v0``, single and native vector env, over ``core``, the one
  batched step (actions -> quoting parameters -> the market -> observations, rewards, info).
- ``config``: ``EnvConfig``; ``actions``: action checks; ``observations``: the observation
  vector and the info columns (``OBS_NAMES``, ``INFO_NAMES``); ``rewards``: named rewards.
- ``baseline_policy``: the rule baseline (and the true-regime ablation) as SB3-style policies.
- ``avellaneda_stoikov`` / ``reference_policies``: the closed-form AS model's env and its
  CJP, GLFT and AS agents.
- ``market_view``: one market of the batch kept in view for rendering.
"""
