"""Optuna searches: the rule baseline's table (``baseline``) and the study, storage, sampler
and pruner helpers shared with the agents' search (``study``), search spaces in YAML
(``space``), report pieces (``report``) and their plots (``plots``). Optuna is imported only
when a study opens."""
