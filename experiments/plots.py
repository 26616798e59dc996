"""Figures of a run."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402


def unemployment_and_job_losses(timeseries: pd.DataFrame, layoffs: pd.DataFrame, path: Path,
                                title: str = "") -> Path:
    """Unemployment rate and cumulative jobs lost, with each closure's layoff period shaded
    and named."""
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(10, 6.5), sharex=True, constrained_layout=True)
    date = pd.to_datetime(timeseries["date"])
    ax1.plot(date, 100 * timeseries["unemployment_rate"], color="tab:red", lw=1.2)
    ax1.set_ylabel("Unemployment rate (%)")
    ax1.grid(alpha=0.3)
    ax2.step(date, timeseries["jobs_lost_cumulative"], where="post", color="tab:blue", lw=1.5)
    ax2.set_ylabel("Jobs lost in closures\n(cumulative, persons)")
    ax2.set_xlabel("Date")
    ax2.grid(alpha=0.3)
    if len(layoffs):
        spans = layoffs.groupby("employer", sort=False)["date"].agg(["min", "max"]).sort_values("min")
        low, high = ax1.get_ylim()
        top = high + 0.3 * (high - low)  # headroom: the names' three rows stand above the curve
        ax1.set_ylim(low, top)
        for i, (employer, row) in enumerate(spans.iterrows()):
            end = row["max"] + pd.Timedelta(days=7)
            for ax in (ax1, ax2):
                ax.axvspan(row["min"], end, color="grey", alpha=0.15, lw=0)
            short = employer.split(" (")[0]
            ax1.annotate(short, (row["min"], top), xytext=(2, -10 - 11 * (i % 3)), textcoords="offset points",
                         fontsize=7, rotation=0, va="top", color="0.25")
    ax2.xaxis.set_major_locator(mdates.YearLocator(2))
    ax2.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    if title:
        fig.suptitle(title, fontsize=11)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
