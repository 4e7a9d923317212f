"""Stable-Baselines3 agents on the mm_gym environments.

- ``vec_env``: ``MarketVecEnv``, an SB3 ``VecEnv`` over the native batched vector envs.
- ``config``: ``AgentConfig`` (YAML shipped in ``mm_gym/configs/agents/``), validated against
  SB3's signatures.
- ``train`` / ``callbacks`` / ``run_dir``: training into ``runs/<name>/`` with TensorBoard market
  metrics, atomic checkpoints, held-out evaluation and exact resume.
- ``policy`` / ``rollout`` / ``evaluate`` / ``compare`` / ``report``: trained agents on raw
  observations, evaluation on test seeds, the comparison with the rule baseline (or the
  closed-form agents on the AS market) and ``report.md``.
- ``commands``: the ``mm-gym`` subcommands train, evaluate, compare, demo.

``mm_gym`` never imports this package (nor torch or SB3).
"""
