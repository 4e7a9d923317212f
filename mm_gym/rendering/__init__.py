"""Pictures of a market: snapshots and short histories (``view``), frames drawn with
matplotlib (``frame``), a text ladder (``text``) and video files (``video``).

Drawing never touches the simulation: ``view`` copies what it needs out of the core's arrays,
and nothing here is imported or computed by an env created without a ``render_mode``.
"""
