"""Names and indices of the hidden market regimes."""

RANGING = 0
TRENDING_UP = 1
TRENDING_DOWN = 2
HIGH_VOL = 3
NEWS = 4  # not a state of the regime chain: the label while a news event is in effect

REGIME_NAMES: tuple[str, ...] = ("ranging", "trending_up", "trending_down", "high_vol")
LABEL_NAMES: tuple[str, ...] = (*REGIME_NAMES, "news")
NUM_REGIMES = len(REGIME_NAMES)
NUM_LABELS = len(LABEL_NAMES)
UNKNOWN_REGIME = -1  # the label of a recording, whose regime is not known


def regime_index(name: str, *, field: str = "regime", allow_news: bool = False) -> int:
    """Index of a regime by name; ConfigError names the allowed names otherwise."""
    from mm_gym.errors import ConfigError

    names = LABEL_NAMES if allow_news else REGIME_NAMES
    if name not in names:
        raise ConfigError(f"{field}={name!r}: unknown regime; allowed are {', '.join(names)}")
    return names.index(name)
