"""Where our resting orders stand in their queues: the queue-position models.

The background lots of the level where a maker's order rests are split into those ahead of
it (``orders[a, side, O_AHEAD]``, ``a`` the maker's row) and those behind it; each maker at the
level has its own split of the same background lots (``book.withdraw`` applies a removal to
every one of them, with one ``u``). An order joins a level behind all that
rests there (``matching.rest_quote``) and is filled once the lots ahead are gone. Lots leave
a level three ways, each a ``cause`` of ``ahead_removed``, the one function that says how
many of them were ahead of us; ``mp[MP_QUEUE_MODEL]`` (``MarketConfig.queue_model``) selects
the model it applies:

- ``TRADE``: a market order takes the level from the front (price-time priority), in every
  model;
- ``CANCEL``: a block of lots is cancelled (the background's cancellations);
- ``PULL``: every order at the level withdraws the same share of its lots (news pulling
  liquidity; stale quotes pulled whole).

Models:

- ``QUEUE_RANDOM_LOT`` (0, the default): a cancelled block sits at a resting lot drawn
  uniformly, so ahead of us with probability ``ahead / level``; a pull takes its share of
  the lots ahead.
- ``QUEUE_RISK_AVERSE`` (1): lots cancelled or pulled come from behind us as far as there
  are lots behind; only trades (and cancellations larger than what is behind) move us up.
- ``QUEUE_POWER`` (2): a cancelled block starts ahead of us with probability
  ``f(ahead) / (f(ahead) + f(behind))``, ``f(x) = x**mp[MP_QUEUE_POWER]`` (hftbacktest's power
  probability queue model: the further back we stand, the likelier a cancellation is ahead);
  a pull as in random lot. Power 1 is the random-lot model.

Another model is a new id and a new branch of ``ahead_removed``. Every model keeps the lots
ahead within the level.
"""

from __future__ import annotations

import numba as nb

from mm_gym.market.config import QUEUE_MODELS
from mm_gym.market.layout import MP_QUEUE_MODEL, MP_QUEUE_POWER, O_ACTIVE, O_AHEAD, O_PRICE

QUEUE_RANDOM_LOT = QUEUE_MODELS.index("random_lot")
QUEUE_RISK_AVERSE = QUEUE_MODELS.index("risk_averse")
QUEUE_POWER = QUEUE_MODELS.index("power")

TRADE = 0  # lots taken from the front of the level
CANCEL = 1  # a block of lots cancelled; ``u``, a uniform draw in [0, 1), places it
PULL = 2  # every order at the level withdraws the share ``u`` of its lots


@nb.njit(cache=True, inline="always")
def ahead_removed(cause, orders, a, side, price, level_lots, lots, u, mp) -> int:
    """How many of ``lots`` of background volume leaving the level at ``price`` on ``side``
    (``level_lots`` rest there before) were ahead of maker ``a``'s order: 0 when its order
    does not rest there."""
    if orders[a, side, O_ACTIVE] == 0 or orders[a, side, O_PRICE] != price:
        return 0
    ahead = orders[a, side, O_AHEAD]
    if cause == TRADE:
        return min(lots, ahead)
    behind = level_lots - ahead
    if mp[MP_QUEUE_MODEL] == QUEUE_RISK_AVERSE:
        return max(lots - behind, 0)
    # QUEUE_RANDOM_LOT and QUEUE_POWER
    if cause == PULL:
        return int(ahead * u)
    if mp[MP_QUEUE_MODEL] == QUEUE_POWER:
        front = float(ahead) ** mp[MP_QUEUE_POWER]
        starts_ahead = u * (front + float(behind) ** mp[MP_QUEUE_POWER]) < front
    else:
        starts_ahead = u * level_lots < ahead
    if starts_ahead:  # the block starts ahead of us; it is cut where the queue ends
        return min(lots, ahead)
    # the block sits behind; whatever does not fit there comes from ahead
    return max(lots - behind, 0)
