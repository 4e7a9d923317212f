"""Structure-of-arrays layout of the batched market: index names and the packed parameters.

The kernels see plain arrays (bundled in ``state``). Per-market scalars (the book, its clocks
and estimates) live in ``fs`` (float64) and ``ints`` (int64), per-maker scalars (the account,
risk state, counters) in ``mfs`` and ``mints``, under the column names below; parameters are
packed once into float64 vectors. The strategy's vector ``sp`` and the quoting parameters
``act`` (a row per maker) have their columns in ``mm_gym.strategy.layout``.
"""

from __future__ import annotations

import numpy as np

from mm_gym.market.config import QUEUE_MODELS, MarketConfig
from mm_gym.market.regimes import NUM_REGIMES
from mm_gym.market.rng import geometric_log_q

INF = 1e18  # a time that never comes: unused message slots, events not scheduled

# ---- per-market float state: fs[N, NFS] (the book, its clocks and the market's estimates)
F_T = 0  # market time, s
F_FAIR = 1  # latent fair value, ticks
F_MID = 2  # last mid of the background book, ticks
F_NEXT_REGIME = 3  # time of the next regime switch
F_NEXT_NEWS = 4  # time of the next news event
F_NEWS_END = 5  # news effects last until this time
F_NEXT_SAMPLE = 6  # next tick of the sampling clock
F_NEXT_FEATURE = 7  # next tick of the feature clock
F_FEAT_MID = 8  # mid at the last feature tick, ticks
F_VAR_SHORT = 9  # EWMA of squared returns, bps^2 per s (short half-life)
F_VAR_LONG = 10  # same, long half-life
F_TREND = 11  # EWMA of returns, bps per s
F_SAMPLED_TIME = 12  # time covered by the sampling clock
F_NEWS_ANNOUNCED_AT = 13  # time from which the next news is announced (inf if unannounced)
F_SV_FAST = 14  # fast log-volatility factor of the fair value (stationary N(0, sd^2))
F_SV_SLOW = 15  # slow log-volatility factor
F_SV_BUSY = 16  # volatility state of the switching component: 0 calm, 1 busy
F_SV_DAY0 = 17  # time of day at market time 0, s (intraday volatility pattern)
F_BG_CASH = 18  # the background's cash from its trades with the makers, currency
NFS = 19

# ---- per-market int state: ints[N, NIS]
I_ORIGIN = 0  # absolute tick of window level 0
I_BEST_BID = 1  # best background bid, absolute tick (-1: side empty)
I_BEST_ASK = 2  # best background ask, absolute tick (-1: side empty)
I_VOL_BID = 3  # total background bid volume in the window
I_VOL_ASK = 4
I_REGIME = 5  # hidden regime index
I_NEWS_SIGN = 6  # sign of the pending news jump (+1/-1)
I_VOL_ADDED = 7  # background volume added by limit orders
I_VOL_CANCELLED = 8  # background volume cancelled
I_VOL_TRADED = 9  # background volume taken by market orders
I_VOL_DROPPED = 10  # background volume that left the window when it re-centred
I_EVENTS = 11  # background events processed
I_FEATURE_TICKS = 12  # feature samples taken
I_NEWS_COUNT = 13  # news events so far
I_RUN_SIGN = 14  # sign of the current run of noise market orders (+1 buys, -1 sells)
I_RUN_LEFT = 15  # noise market orders left in the current run
I_TAPE_N = 16  # background market orders written to the trade tape (all, not just kept)
I_BG_INV = 17  # the background's lots bought from the makers, net (sold: negative)
I_JOINS = 18  # makers' orders that joined a queue (their order among makers at one level)
NIS = 19

# ---- per-maker float state: mfs[N * M, NMF]; maker m of market i is row a = i * M + m
# (M makers per market; with one maker, row a is market i). Every per-maker array below
# (orders, messages, step counters, fill log, markouts, act) has these rows.
MF_CASH = 0  # cash, currency
MF_FEES = 1  # fees paid, currency (rebates negative)
MF_NEXT_REFRESH = 2  # next quote refresh
MF_AVG_COST = 3  # average entry price of the open position, ticks
MF_RS_EWMA = 4  # EWMA of realised spread of recent fills, bps
MF_PAUSE_UNTIL = 5  # realised-spread pause ends at this time
MF_SPREAD_CAPTURED = 6  # sum of side*(mid - price)*size over maker fills, currency
MF_VOLUME = 7  # traded lots, maker and taker
MF_QUOTING_TIME = 8  # seconds with at least one quote live
MF_INV_SQ_TIME = 9  # integral of inventory^2 dt, lots^2 s
MF_MAX_ABS_INV = 10  # largest |inventory| seen
MF_MO1 = 11  # markout sums (size-weighted mid move, ticks*lots) for 1 s, 10 s, 60 s
MF_MO10 = 12
MF_MO60 = 13
MF_MOW1 = 14  # markout weights (lots) for 1 s, 10 s, 60 s
MF_MOW10 = 15
MF_MOW60 = 16
MF_BID_QUOTE = 17  # price of the last quote the engine wanted (ticks), nan if none
MF_ASK_QUOTE = 18
NMF = 19

# ---- per-maker int state: mints[N * M, NMI]
MI_INV = 0  # inventory, lots
MI_HALTED = 1  # daily stop hit: no more trading this episode
MI_N_FILLS = 2  # number of the maker's fills (maker and taker)
MI_N_MAKER_FILLS = 3
MI_STOP_LOSSES = 4  # per-symbol stop-loss triggers
MI_SPREAD_PAUSES = 5  # realised-spread pauses
MI_EXITS = 6  # exits after failed spread widening
MI_RS_COUNT = 7  # fills in the realised-spread EWMA since the last reset
MI_LOG_N = 8  # entries written to the fill log
MI_LOG_DROPPED = 9  # fills not logged (log full)
MI_QUOTES_SENT = 10  # order entries and replacements sent
MI_MO_DROPPED = 11  # fills with a markout horizon not tracked (its queue was full)
MI_QUOTES_OUTSIDE = 12  # quotes outside the price window: not placed, or cancelled as it moved
NMI = 13

# ---- the makers' orders: orders[N * M, 2, NORD] (side 0 bid, 1 ask), int64
O_ACTIVE = 0
O_PRICE = 1  # absolute tick
O_SIZE = 2  # remaining lots
O_AHEAD = 3  # background lots ahead in the queue (other makers' orders are not counted)
O_ORIG_SIZE = 4
O_SEQ = 5  # when it joined its queue, as the market's count of joins (``I_JOINS``)
NORD = 6
# order placement time lives in order_time[N * M, 2]

# ---- order messages in flight (latency): pend[N * M, 3, C, NPEND] int64;
# pend_time[N * M, 3, C]
# slot 0: bid, 1: ask (replace or cancel), 2: market order. Each slot is a queue of up to C
# messages in the order sent, entry 0 first; pend_time is the landing time, inf when unused.
P_PRICE = 0  # for quotes: absolute tick; -1 means cancel
P_SIZE = 1  # lots; for the market order: signed (+buy, -sell)
NPEND = 2

# ---- fill log: log[N * M, C, NLOG] float64
L_TIME = 0
L_SIDE = 1  # +1 agent bought, -1 sold
L_PRICE = 2  # currency
L_SIZE = 3
L_QUEUE_WAIT = 4  # seconds between order placement and the fill
L_MID = 5  # mid at the fill, currency
L_MAKER = 6  # 1 maker, 0 taker
L_MO1 = 7  # mid move (currency, signed by side) 1 s / 10 s / 60 s after: nan until known
L_MO10 = 8
L_MO60 = 9
NLOG = 10

# ---- trade tape (optional): tape[N, C, NTAPE] float64, a ring of each market's last C
# background market orders (noise, informed, trend flow); the agent's own are not on it.
# Record k of market i lives at row k % C; ints[i, I_TAPE_N] counts every record written.
TP_TIME = 0
TP_SIGN = 1  # +1 a buy (took asks), -1 a sell (took bids)
TP_LOTS = 2  # lots executed, the agent's included
TP_PRICE = 3  # first (best) price taken, ticks
TP_KIND = 4  # who sent it: TAPE_NOISE, TAPE_INFORMED or TAPE_TREND
NTAPE = 5
TAPE_NOISE = 0
TAPE_INFORMED = 1
TAPE_TREND = 2
TAPE_KINDS = ("noise", "informed", "trend")  # names of the kinds, by index

# ---- markout queues: mq[N * M, 3, Q, NMQ] float64; mq_head/mq_count[N * M, 3] int64
MQ_TIME = 0
MQ_SIGNED_SIZE = 1
MQ_MID = 2  # mid at the fill, ticks
MQ_PRICE = 3  # fill price, ticks
MQ_LOG = 4  # index in the fill log, -1 if not logged
MQ_MAKER = 5  # 1 for a maker fill (only those count in the realised spread)
NMQ = 6
MARKOUT_HORIZONS = (1.0, 10.0, 60.0)

# ---- per-step counters: step[N * M, NSTEP] float64 (zeroed at each decision step)
S_FILLS = 0
S_BUY_LOTS = 1
S_SELL_LOTS = 2
S_FEES = 3
S_SPREAD_CAPTURED = 4
S_QUOTING_TIME = 5
NSTEP = 6

# ---- market params: mp[NMP] float64
MP_TICK = 0
MP_PRICE0 = 1  # initial price, ticks
MP_L = 2
MP_INIT_DEPTH = 3
MP_INIT_LEVELS = 4
MP_LIMIT_RATE = 5
MP_LIMIT_SIZE = 6
MP_LIMIT_DIST = 7
MP_CANCEL_RATE = 8
MP_MARKET_RATE = 9
MP_MARKET_SIZE = 10
MP_INFORMED_RATE = 11
MP_INFORMED_SIZE = 12
MP_INFORMED_EDGE = 13
MP_PIN_REGIME = 14  # -1 if not pinned
MP_NEWS_RATE = 15  # per s
MP_NEWS_ANNOUNCED = 16
MP_NEWS_LEAD = 17
MP_NEWS_JUMP = 18  # ticks
MP_NEWS_DURATION = 19
MP_NEWS_INFORMED = 20
MP_NEWS_LIMIT = 21
MP_NEWS_CANCEL = 22
MP_NEWS_PULL = 23
MP_LATENCY = 24  # s, from the data the engine acts on to its orders landing (feed + order)
MP_MAKER_FEE = 25  # fraction (bps * 1e-4)
MP_TAKER_FEE = 26
MP_SAMPLE_DT = 27  # s
MP_FEATURE_DT = 28
MP_HL_VOL_SHORT = 29
MP_HL_VOL_LONG = 30
MP_HL_TREND = 31
MP_BPS_PER_TICK = 32
MP_LOGQ_LIMIT_SIZE = 33  # log(1 - 1/mean) of the geometric size and distance draws
MP_LOGQ_LIMIT_DIST = 34
MP_LOGQ_MARKET_SIZE = 35
MP_LOGQ_INFORMED_SIZE = 36
MP_RUN_ALPHA = 37  # tail exponent of the noise order runs (metaorders); 0: independent signs
MP_RUN_MAX = 38  # longest run
MP_SV_FAST_A = 39  # persistence of the fast volatility factor per sampling step
MP_SV_FAST_SD = 40  # its stationary standard deviation
MP_SV_SLOW_A = 41
MP_SV_SLOW_SD = 42
MP_INIT_SPREAD = 43  # spread of the initial book, ticks
MP_FAIR_FRAC = 44  # fraction of limit orders placed around the fair value
MP_FAIR_OFFSET = 45  # their least distance from the fair value, ticks
MP_PULL = 46  # background quotes nearer the fair value than this are pulled (nan: never)
MP_SV_SWITCH_P = 47  # probability per sampling step that the calm/busy state flips
MP_SV_CALM = 48  # volatility multiplier in the calm state (1: the component is off)
MP_SV_BUSY = 49  # in the busy state
MP_SV_FAST_INNOV = 50  # fast factor's innovation scale per step: sd * sqrt(1 - a^2)
MP_SV_SLOW_INNOV = 51
MP_SV_VAR = 52  # the factors' summed stationary variance (the multiplier's log-mean shift)
MP_SV_DAY_AMP = 53  # depth of the intraday U-shape (0: off)
MP_SV_DAY_S = 54  # length of the trading day, s
MP_SV_DAY_NORM = 55  # 1 / sqrt(mean square of the U-shape over a day)
MP_QUEUE_MODEL = 56  # how our queue position moves: an id of ``queue_model`` (0: random lot)
MP_QUEUE_POWER = 57  # the power model's exponent
MP_MAKERS = 58  # market makers per market (M): maker m of market i is row i * M + m
NMP = 59

# ---- regime table: rp[NUM_REGIMES, NRP]
RP_DURATION = 0
RP_DRIFT = 1  # ticks per s
RP_VOL = 2  # ticks per sqrt(s)
RP_LIMIT = 3
RP_CANCEL = 4
RP_MARKET = 5
RP_INFORMED = 6
RP_WEIGHT = 7  # probability weight of entering this regime
RP_TREND_RATE = 8  # trend flow: market orders per s in the drift's direction
RP_TREND_LOGQ = 9  # log(1 - 1/mean) of their size
NRP = 10

# ---- event rates in effect (scratch, rewritten when the regime or news changes): rates[N, NRATE]
RATE_LIMIT_BID = 0  # the flow's kinds first, in the order an arrival's kind is drawn
RATE_LIMIT_ASK = 1
RATE_NOISE_BUY = 2
RATE_NOISE_SELL = 3
RATE_INFORMED = 4  # informed flow, the regime's trend flow included
N_FLOW_KINDS = 5
RATE_CANCEL_PER_LOT = 5  # cancellations per resting lot per s
RATE_TREND_FLOW = 6  # the part of RATE_INFORMED that is the regime's trend flow
NRATE = 7


def pack_market(cfg: MarketConfig) -> tuple[np.ndarray, np.ndarray]:
    """Pack a market config into the kernels' parameter vector and regime table."""
    mp = np.zeros(NMP)
    ticks_per_bp = cfg.bps_to_ticks
    mp[MP_TICK] = cfg.tick_size
    mp[MP_PRICE0] = round(cfg.price_ticks)
    mp[MP_L] = cfg.window_levels
    mp[MP_INIT_DEPTH] = cfg.initial_depth
    mp[MP_INIT_LEVELS] = cfg.initial_levels
    mp[MP_LIMIT_RATE] = cfg.limit_rate
    mp[MP_LIMIT_SIZE] = cfg.limit_size_mean
    mp[MP_LIMIT_DIST] = cfg.limit_distance_mean
    mp[MP_CANCEL_RATE] = cfg.cancel_rate
    mp[MP_MARKET_RATE] = cfg.market_rate
    mp[MP_MARKET_SIZE] = cfg.market_size_mean
    mp[MP_INFORMED_RATE] = cfg.informed_rate
    mp[MP_INFORMED_SIZE] = cfg.informed_size_mean
    mp[MP_INFORMED_EDGE] = cfg.informed_edge_ticks
    from mm_gym.market.regimes import regime_index

    mp[MP_PIN_REGIME] = -1 if cfg.pin_regime is None else regime_index(cfg.pin_regime)
    news = cfg.news
    mp[MP_NEWS_RATE] = news.rate_per_hour / 3600.0
    mp[MP_NEWS_ANNOUNCED] = news.announced_fraction
    mp[MP_NEWS_LEAD] = news.announce_lead_s
    mp[MP_NEWS_JUMP] = news.jump_bps_mean * ticks_per_bp
    mp[MP_NEWS_DURATION] = news.duration_s
    mp[MP_NEWS_INFORMED] = news.informed_rate_mult
    mp[MP_NEWS_LIMIT] = news.limit_rate_mult
    mp[MP_NEWS_CANCEL] = news.cancel_rate_mult
    mp[MP_NEWS_PULL] = news.depth_pull_fraction
    mp[MP_LATENCY] = cfg.reaction_latency_ms / 1000.0
    mp[MP_MAKER_FEE] = cfg.maker_fee_bps * 1e-4
    mp[MP_TAKER_FEE] = cfg.taker_fee_bps * 1e-4
    mp[MP_SAMPLE_DT] = cfg.sample_interval_ms / 1000.0
    mp[MP_FEATURE_DT] = cfg.feature_interval_s
    mp[MP_HL_VOL_SHORT] = cfg.vol_short_halflife_s
    mp[MP_HL_VOL_LONG] = cfg.vol_long_halflife_s
    mp[MP_HL_TREND] = cfg.trend_halflife_s
    mp[MP_BPS_PER_TICK] = 1.0 / ticks_per_bp
    mp[MP_LOGQ_LIMIT_SIZE] = geometric_log_q(cfg.limit_size_mean)
    mp[MP_LOGQ_LIMIT_DIST] = geometric_log_q(cfg.limit_distance_mean)
    mp[MP_LOGQ_MARKET_SIZE] = geometric_log_q(cfg.market_size_mean)
    mp[MP_LOGQ_INFORMED_SIZE] = geometric_log_q(cfg.informed_size_mean)
    mp[MP_RUN_ALPHA] = cfg.metaorder_alpha
    mp[MP_RUN_MAX] = cfg.metaorder_max_orders
    vol = cfg.volatility
    dt = cfg.sample_interval_ms / 1000.0
    mp[MP_SV_FAST_A] = np.exp(-np.log(2.0) * dt / vol.fast_halflife_s)
    mp[MP_SV_FAST_SD] = vol.fast_sd
    mp[MP_SV_SLOW_A] = np.exp(-np.log(2.0) * dt / vol.slow_halflife_s)
    mp[MP_SV_SLOW_SD] = vol.slow_sd
    # constants of the per-step factor update, computed once here rather than on every tick
    mp[MP_SV_FAST_INNOV] = vol.fast_sd * np.sqrt(1.0 - mp[MP_SV_FAST_A] ** 2)
    mp[MP_SV_SLOW_INNOV] = vol.slow_sd * np.sqrt(1.0 - mp[MP_SV_SLOW_A] ** 2)
    mp[MP_SV_VAR] = vol.fast_sd**2 + vol.slow_sd**2
    # calm and busy levels c and r*c with c^2 (1 + r^2) / 2 = 1: the mean variance is kept
    calm = np.sqrt(2.0 / (1.0 + vol.switch_ratio**2))
    mp[MP_SV_SWITCH_P] = -np.expm1(-dt / vol.switch_mean_s)
    mp[MP_SV_CALM] = calm
    mp[MP_SV_BUSY] = calm * vol.switch_ratio
    # the U-shape 1 + a (3 (2u - 1)^2 - 1) has mean 1 and mean square 1 + 0.8 a^2 over a day
    mp[MP_SV_DAY_AMP] = vol.intraday_amplitude
    mp[MP_SV_DAY_S] = vol.day_s
    mp[MP_SV_DAY_NORM] = 1.0 / np.sqrt(1.0 + 0.8 * vol.intraday_amplitude**2)
    mp[MP_INIT_SPREAD] = cfg.initial_spread_ticks
    mp[MP_FAIR_FRAC] = cfg.limit_fair_fraction
    mp[MP_FAIR_OFFSET] = cfg.limit_fair_offset_ticks
    mp[MP_PULL] = np.nan if cfg.limit_pull_ticks is None else cfg.limit_pull_ticks
    mp[MP_QUEUE_MODEL] = QUEUE_MODELS.index(cfg.queue_model)
    mp[MP_QUEUE_POWER] = cfg.queue_power
    mp[MP_MAKERS] = 1  # ``MarketSim`` sets its own
    rp = np.zeros((NUM_REGIMES, NRP))
    for k, r in enumerate(cfg.regime_list()):
        rp[k, RP_DURATION] = r.mean_duration_s
        rp[k, RP_DRIFT] = r.drift_bps_per_s * ticks_per_bp
        rp[k, RP_VOL] = r.vol_bps_per_sqrt_s * ticks_per_bp
        rp[k, RP_LIMIT] = r.limit_rate_mult
        rp[k, RP_CANCEL] = r.cancel_rate_mult
        rp[k, RP_MARKET] = r.market_rate_mult
        rp[k, RP_INFORMED] = r.informed_rate_mult
        rp[k, RP_WEIGHT] = r.weight
        rp[k, RP_TREND_RATE] = r.trend_flow_rate
        rp[k, RP_TREND_LOGQ] = geometric_log_q(r.trend_flow_size_mean)
    return mp, rp
