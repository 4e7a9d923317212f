"""Pictures of a market: snapshots and short histories as plain numbers (``snapshot``),
frames drawn with matplotlib (``frame``), a text ladder (``text``) and video files (``video``).

Drawing never touches the simulation: ``mm_gym.envs.market_view`` copies what it needs out of
the core's arrays into a ``Snapshot``.
An env without a ``render_mode`` keeps and computes nothing here, and matplotlib is imported
only at the first ``rgb_array`` frame.
"""
