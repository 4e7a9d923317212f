"""The console commands of ``mm-gym`` that need no torch: ``backtest``, ``bench``, ``facts``,
``tune`` (its ``baseline`` target), each a module with ``add_parser(subparsers)``.

``output`` holds the argument checks and table helpers they share; ``plugins`` loads the
commands other installed packages add (the agents' train, evaluate, compare, results, demo,
watch and ``tune agent``) through entry points.
"""
