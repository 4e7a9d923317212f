"""The simulated order-book market: N independent markets advanced together by numba kernels,
with the quoting engine of ``mm_gym.strategy`` inside (it imports nothing above it).

Python side:

- ``config``: ``MarketConfig`` (with its regimes, news and volatility blocks), validated.
- ``sim``: ``MarketSim``, the batch of markets as arrays: reset, advance, views.
- ``replay_sim``: ``ReplaySim``, the same interface over windows of a recording, and
  ``load_recording`` (needs the data extra).
- ``recorded``: a recording sampled on the stylised facts' clock; ``calibrate``: the
  simulator fitted to a recording.
- ``layout``: the columns of the state arrays and of the packed parameters.
- ``state``: ``MarketState`` and ``MarketParams``, the bundles of arrays the kernels take.
- ``regimes``: the names of the hidden regimes.
- ``realism``: stylized facts measured on simulated paths, against their targets.
- ``avellaneda_stoikov``: the reduced-form Avellaneda-Stoikov market (its own kernel).
- ``scaling``: linear maps between the unit box [-1, 1] and parameter ranges.

The kernels, by role (numba, ``cache=True``):

- ``event_loop``: ``advance``, each market event by event to the end of the step; the
  sampling clock.
- ``reset``: fresh markets.
- ``replay``: a recording's events in place of the background flow (level events, trades,
  snapshots), our orders in its queues; windows set up by a warm-up replay.
- ``flow``: the background order flow: arrivals, cancellations and their rates.
- ``fair_value``: the latent fair value, the regime chain and news.
- ``signals``: volatility and trend estimates, the news flag, the regime label.
- ``refresh``: the quote refresh: risk limits, then the quoting engine's quotes.
- ``messages``: order messages in flight and their latency.
- ``matching``: market orders against the book and our quotes, quotes resting, messages
  landing.
- ``queue_model``: where our orders stand in their queues (the models to choose from).
- ``fills``: our fills: the account, the fill log, the markouts.
- ``book``: the background book's levels, best prices and mid.
- ``volatility``: the fair value's stochastic and intraday volatility.
- ``rng``: the per-market random streams.
"""
