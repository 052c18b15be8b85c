"""The design of the synthetic surveys: the survey format every truth shares, and the CX demo's
channels, drivers, influencers and parameters, calibrated to the seed research.

Tables only: :func:`whatif.synthetic.truth.demo_truth` turns them (plus a few seeded
random parts) into the demo's truth, and :mod:`whatif.synthetic.files` splits the demo's responses
over channels and years by :data:`CHANNELS` and :data:`YEAR_SHARE`.
"""

from __future__ import annotations

__all__ = [
    "BASE_WEIGHTS",
    "CHANNELS",
    "DEMO_OUTCOME",
    "DEMO_SCALE",
    "DIRECT",
    "DIRECT_JITTER",
    "DRIVERS",
    "EFFECTS",
    "EFFECT_JITTER",
    "EFFECT_MULTIPLIERS",
    "INFLUENCERS",
    "ITEM_SD",
    "OUTCOME",
    "PATHS",
    "ROUNDING_VAR",
    "SATISFACTION",
    "SCALE",
    "WEIGHT_DRIFT",
    "WEIGHT_SPREAD",
    "WEIGHT_TREND",
    "YEARS",
    "YEAR_SHARE",
]

# ---------------------------------------------------------------------------------------------
# The survey format, shared by every truth.
# ---------------------------------------------------------------------------------------------

SCALE = (1.0, 10.0)
OUTCOME = "overall_sat"
# The demo's outcome: the 0-10 "how likely are you to recommend us" question CX teams report as
# NPS; its drivers are answered on 1-10, inside that scale.
DEMO_OUTCOME = "recommend"
DEMO_SCALE = (0.0, 10.0)
ROUNDING_VAR = 1.0 / 12.0  # variance of the error from rounding a continuous answer to integers
ITEM_SD = 0.5  # noise of one item around its driver, for drivers asked in several items

# ---------------------------------------------------------------------------------------------
# Demo design, calibrated to the seed research.
# ---------------------------------------------------------------------------------------------

YEARS = (2021, 2022, 2023, 2024, 2025)

# id, label, share of contact volume, share of survey responses
CHANNELS = (
    ("web_self_service", "Web self-service", 0.38, 0.30),
    ("ivr_self_service", "IVR self-service", 0.22, 0.20),
    ("ivr_routing", "IVR routing", 0.18, 0.15),
    ("phone_customer_service", "Live phone: customer service", 0.14, 0.23),
    ("phone_tech_support", "Live phone: software tech support", 0.08, 0.12),
)
# Survey programs grow: later years get more responses.
YEAR_SHARE = (0.17, 0.19, 0.20, 0.21, 0.23)

_IVR = ("ivr_self_service", "ivr_routing")
_PHONE = ("phone_customer_service", "phone_tech_support")
_ALL = tuple(c[0] for c in CHANNELS)

# id, label, survey columns, channels where it is asked, target mean, latent noise sd
DRIVERS = (
    ("timeliness", "Timeliness of resolution", ("timeliness",), _ALL, 7.9, 1.68),
    ("accuracy", "Accuracy of the information", ("accuracy",), _ALL, 8.4, 1.56),
    (
        "resolution",
        "Desirability of the resolution",
        ("resolution",),
        tuple(c for c in _ALL if c != "ivr_routing"),
        8.1,
        1.68,
    ),
    ("reliability", "Reliability of support systems", ("reliability",), _ALL, 8.3, 1.44),
    ("consistency", "Consistency across contacts", ("consistency",), _ALL, 8.3, 1.44),
    ("ivr_clarity", "Clarity of the IVR menus", ("ivr_clarity",), _IVR, 7.7, 1.68),
    ("knowledge", "Knowledge of the representative", ("knowledge",), _PHONE, 8.5, 1.56),
    ("friendliness", "Friendliness of the agent", ("friendliness",), _PHONE, 8.7, 1.44),
    ("attention", "Individual attention", ("attention",), _PHONE, 8.3, 1.68),
    (
        "trust",
        "Trust in our capacity to solve problems",
        ("q_trust_solve", "q_trust_confident"),
        _PHONE,
        8.2,
        1.20,
    ),
)

# id, label, kind, better, {channel: (year-0 mean or probability, change per year)}
INFLUENCERS = (
    (
        "contacts_to_resolve",
        "Earlier contacts about this issue",
        "count",
        "lower",
        {
            "web_self_service": (0.95, -0.04),
            "ivr_self_service": (0.75, -0.03),
            "ivr_routing": (0.60, -0.02),
            "phone_customer_service": (0.80, -0.03),
            "phone_tech_support": (1.10, -0.04),
        },
    ),
    (
        "ivr_prompts",
        "IVR prompts to reach the information",
        "count",
        "lower",
        {"ivr_self_service": (4.2, -0.15), "ivr_routing": (3.6, -0.10)},
    ),
    (
        "repeat_info",
        "Had to provide information more than once",
        "binary",
        "lower",
        {
            "ivr_routing": (0.36, -0.015),
            "phone_customer_service": (0.22, -0.01),
            "phone_tech_support": (0.26, -0.01),
        },
    ),
    (
        "transfers",
        "Transfers between agents or queues",
        "count",
        "lower",
        {
            "ivr_routing": (0.45, -0.01),
            "phone_customer_service": (0.35, -0.01),
            "phone_tech_support": (0.45, -0.015),
        },
    ),
    (
        "first_contact_resolution",
        "Resolved on first contact",
        "binary",
        "higher",
        {"phone_customer_service": (0.70, 0.010), "phone_tech_support": (0.58, 0.012)},
    ),
    (
        "outage",
        "A system outage affected the contact",
        "binary",
        "lower",
        {
            "web_self_service": (0.070, -0.008),
            "ivr_self_service": (0.060, -0.007),
            "ivr_routing": (0.050, -0.006),
            "phone_customer_service": (0.045, -0.005),
            "phone_tech_support": (0.060, -0.007),
        },
    ),
    (
        "hard_to_understand",
        "Had difficulty understanding the representative",
        "binary",
        "lower",
        {"phone_customer_service": (0.10, -0.004), "phone_tech_support": (0.17, -0.006)},
    ),
    (
        "resolved_timely",
        "Problem resolved in a timely manner",
        "binary",
        "higher",
        {"phone_customer_service": (0.66, 0.015), "phone_tech_support": (0.60, 0.015)},
    ),
)

# Year-0 satisfaction weights. A few drivers carry most of satisfaction. The research's top
# driver leads each channel: timeliness in web and IVR self-service, IVR clarity in IVR routing,
# and in the live-phone channels trust in our capacity to solve problems (the contact-center
# studies: trust has the greatest impact on satisfaction there), followed by the channel's top
# service element (timeliness in customer service, the representative's knowledge in tech
# support); trust's weight also exceeds every other driver's total effect (weight plus what it
# moves through trust). Influencer effects below make the research's most significant
# influencer (contacts to resolve; IVR prompts; repeat information; resolved timely; hard to
# understand) the largest total effect per standard deviation in each channel.
BASE_WEIGHTS = {
    "web_self_service": dict(
        timeliness=0.34, accuracy=0.14, resolution=0.16, reliability=0.17, consistency=0.08
    ),
    "ivr_self_service": dict(
        timeliness=0.32,
        accuracy=0.11,
        resolution=0.12,
        reliability=0.10,
        consistency=0.06,
        ivr_clarity=0.20,
    ),
    "ivr_routing": dict(
        timeliness=0.17, accuracy=0.16, reliability=0.10, consistency=0.08, ivr_clarity=0.36
    ),
    "phone_customer_service": dict(
        timeliness=0.22,
        accuracy=0.08,
        resolution=0.10,
        reliability=0.05,
        consistency=0.05,
        knowledge=0.06,
        friendliness=0.05,
        attention=0.05,
        trust=0.34,
    ),
    "phone_tech_support": dict(
        timeliness=0.10,
        accuracy=0.07,
        resolution=0.09,
        reliability=0.05,
        consistency=0.05,
        knowledge=0.21,
        friendliness=0.04,
        attention=0.05,
        trust=0.34,
    ),
}
# Designed drift per year on top of the random walk: reliability and timeliness gain weight as
# customers expect systems to just work; accuracy and friendliness become table stakes.
WEIGHT_TREND = dict(
    timeliness=0.008,
    reliability=0.010,
    trust=0.006,
    accuracy=-0.004,
    friendliness=-0.003,
    knowledge=0.004,
)
WEIGHT_SPREAD = 0.01
WEIGHT_DRIFT = 0.008

# Effects of influencers on drivers (common means); trust's row is its own, besides the path.
EFFECTS = {
    "timeliness": dict(
        contacts_to_resolve=-0.60,
        ivr_prompts=-0.40,
        repeat_info=-0.80,
        transfers=-0.60,
        first_contact_resolution=0.50,
        outage=-0.90,
        resolved_timely=2.00,
    ),
    "accuracy": dict(
        contacts_to_resolve=-0.25,
        repeat_info=-0.50,
        transfers=-0.40,
        first_contact_resolution=0.30,
        outage=-0.40,
    ),
    "resolution": dict(
        contacts_to_resolve=-0.45, first_contact_resolution=0.80, resolved_timely=0.80, outage=-0.30
    ),
    "reliability": dict(outage=-2.00, ivr_prompts=-0.10, transfers=-0.20),
    "consistency": dict(contacts_to_resolve=-0.30, repeat_info=-0.60, transfers=-0.30),
    "ivr_clarity": dict(ivr_prompts=-0.40, repeat_info=-1.50),
    "knowledge": dict(transfers=-0.30, hard_to_understand=-1.00, first_contact_resolution=0.40),
    "friendliness": dict(hard_to_understand=-0.40, repeat_info=-0.30),
    "attention": dict(repeat_info=-0.50, hard_to_understand=-0.40, transfers=-0.20),
    "trust": dict(
        hard_to_understand=-0.90,
        resolved_timely=0.80,
        first_contact_resolution=0.40,
        contacts_to_resolve=-0.20,
    ),
}
# Channel-specific departures from the common means (multipliers).
EFFECT_MULTIPLIERS = {
    ("web_self_service", "timeliness", "contacts_to_resolve"): 1.5,
    ("ivr_routing", "timeliness", "ivr_prompts"): 0.75,
    ("ivr_routing", "ivr_clarity", "ivr_prompts"): 0.75,
    ("ivr_routing", "ivr_clarity", "repeat_info"): 1.15,
    ("phone_tech_support", "knowledge", "hard_to_understand"): 2.2,
    ("phone_tech_support", "trust", "resolved_timely"): 0.6,
}
EFFECT_JITTER = 0.05  # relative sd of the random channel departure of every effect

# Direct effects on satisfaction: outages and transfers act on it beyond the drivers.
DIRECT = dict(outage=-0.50, transfers=-0.20, repeat_info=-0.05, contacts_to_resolve=-0.03)
DIRECT_JITTER = 0.10

# The research's driver paths in the live-phone channels, (source, target, {channel: effect}):
# trust = ... + path * source + noise. Individual attention has the greatest impact on trust (the
# contact-center studies); the representative's knowledge moves it less. Per standard deviation,
# attention also moves trust more than any influencer does, through every path (the largest,
# hard to understand in tech support, about 0.5 against attention's 0.7).
PATHS = (
    ("attention", "trust", {"phone_customer_service": 0.50, "phone_tech_support": 0.50}),
    ("knowledge", "trust", {"phone_customer_service": 0.15, "phone_tech_support": 0.12}),
)

# Satisfaction: year-0 mean, change per year, and target R^2 of the observed regression.
SATISFACTION = {
    "web_self_service": (8.9, 0.05, 0.34),
    "ivr_self_service": (8.4, 0.06, 0.32),
    "ivr_routing": (8.2, 0.05, 0.30),
    "phone_customer_service": (9.1, 0.04, 0.36),
    "phone_tech_support": (8.8, 0.05, 0.34),
}
