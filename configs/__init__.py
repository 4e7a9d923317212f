"""The shipped YAML configs (agents, envs, markets, search spaces), installed as
``mm_gym.configs``: ``mm-gym ... --config NAME`` resolves NAME here."""
