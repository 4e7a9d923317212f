"""The rule-based market maker of ``docs/market-maker-strategy.md`` (the bottom layer: it
imports nothing else of ``mm_gym`` but its config helpers).

- ``config``: ``StrategyConfig``, every parameter of the document, validated.
- ``layout``: the columns of the packed strategy vector and of the three quoting parameters
  (spread multiplier, inventory skew, size fraction: the agent's action space).
- ``quoting``: from the parameters and the market state to two quotes (numba).
- ``risk``: stop losses and the realised-spread rules (numba).
- ``baseline``: regime detection from observable features and the regime table.
"""
