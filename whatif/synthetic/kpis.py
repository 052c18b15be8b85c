"""The demo's KPI feed and alerts: 18 months of operational KPIs after the demo survey's last year.

:func:`demo_kpis` draws one row per month and channel from the demo truth's last-year influencer
rates (a count's mean, a binary KPI's share), with month-to-month noise and two events the monitor
should see: a **system outage** in February 2026 (the outage share jumps in the self-service and
IVR channels) and an **IVR redesign** from May 2026 (fewer IVR prompts, and fewer repeated
details in IVR routing). ``contacts`` splits a month's volume by the truth's channel volumes.
:func:`write_demo_kpis` writes ``kpis.csv`` and ``alerts.toml`` (``whatif demo-data``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

__all__ = [
    "DEMO_ALERTS",
    "DEMO_MONTHS",
    "IVR_REDESIGN",
    "OUTAGE_MONTH",
    "demo_kpis",
    "write_demo_kpis",
]

#: The feed's months: July 2025 to December 2026.
DEMO_MONTHS = tuple(f"{2025 + (6 + m) // 12}-{(6 + m) % 12 + 1:02d}" for m in range(18))
OUTAGE_MONTH = "2026-02"
#: Share of contacts an outage touched in the outage month, by channel.
OUTAGE_SHARE = {"web_self_service": 0.24, "ivr_self_service": 0.22, "ivr_routing": 0.18}
IVR_REDESIGN = "2026-05"
#: The redesign's factor on a KPI's mean, by (channel, KPI).
REDESIGN = {
    ("ivr_self_service", "ivr_prompts"): 0.62,
    ("ivr_routing", "ivr_prompts"): 0.70,
    ("ivr_routing", "repeat_info"): 0.70,
}
MONTHLY_CONTACTS = 120_000

DEMO_ALERTS = """\
# whatif demo alerts, for the demo feed (kpis.csv):
#   whatif monitor models/demo --kpis data/demo/kpis.csv --alerts data/demo/alerts.toml
# A metric alert fires when P(metric below / above the threshold) >= probability (a probability
# exactly at it fires); a KPI alert when the month's value is strictly above / below.

[[alert]]
name = "IVR NPS floor"
channel = "ivr_self_service"
metric = "nps"
below = 33
probability = 0.8

[[alert]]
name = "Web NPS floor"
channel = "web_self_service"
metric = "nps"
below = 52
probability = 0.9

[[alert]]
name = "Outage spike"
influencer = "outage"
channel = "web_self_service"
above = 0.05

[[alert]]
name = "Company NPS floor"
metric = "nps"
below = 45
probability = 0.5
"""


def demo_kpis(truth: xr.Dataset, seed: int = 2026) -> pd.DataFrame:
    """The demo's monthly KPI feed (module docstring).

    Parameters
    ----------
    truth
        The demo truth (:func:`whatif.synthetic.truth.demo_truth`).
    seed
        Seed of the month-to-month noise.

    Returns
    -------
    pandas.DataFrame
        ``period``, ``channel``, one column per influencer (empty where it is not measured) and
        ``contacts``; one row per month and channel.
    """
    rng = np.random.default_rng(seed)
    channels = [str(c) for c in truth["channel"].to_numpy()]
    influencers = [str(j) for j in truth["influencer"].to_numpy()]
    kinds = [str(k) for k in truth["kind"].to_numpy()]
    last = truth["influencer_mean"].isel(year=-1).to_numpy()  # (C, J)
    volume = truth["volume"].to_numpy()
    rows = []
    for m, month in enumerate(DEMO_MONTHS):
        season = 1.0 + 0.04 * np.sin(2 * np.pi * m / 12)
        for c, channel in enumerate(channels):
            row: dict = {"period": month, "channel": channel}
            for j, (name, kind) in enumerate(zip(influencers, kinds, strict=True)):
                base = last[c, j]
                if np.isnan(base):
                    row[name] = np.nan
                    continue
                value = base * season * (1.0 + 0.03 * rng.standard_normal())
                if month >= IVR_REDESIGN:
                    value *= REDESIGN.get((channel, name), 1.0)
                if name == "outage" and month == OUTAGE_MONTH:
                    value = OUTAGE_SHARE.get(channel, value)
                if kind == "binary":
                    row[name] = round(float(np.clip(value, 0.0, 1.0)), 4)
                else:
                    row[name] = round(float(max(value, 0.0)), 3)
            contacts = MONTHLY_CONTACTS * volume[c] * season * (1 + 0.03 * rng.standard_normal())
            row["contacts"] = int(round(contacts))
            rows.append(row)
    return pd.DataFrame(rows, columns=["period", "channel", *influencers, "contacts"])


def write_demo_kpis(out_dir: str | Path, truth: xr.Dataset, seed: int = 2026) -> dict[str, Path]:
    """Write the demo's ``kpis.csv`` and ``alerts.toml`` into ``out_dir``.

    Returns
    -------
    dict[str, pathlib.Path]
        Paths under ``"kpis"`` and ``"alerts"``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"kpis": out / "kpis.csv", "alerts": out / "alerts.toml"}
    demo_kpis(truth, seed).to_csv(paths["kpis"], index=False, lineterminator="\n")
    paths["alerts"].write_text(DEMO_ALERTS, encoding="utf-8")
    return paths
