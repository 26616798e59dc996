"""Figures of a run."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from . import display  # noqa: E402
from .figures import START_UP_WEEKS, draw_closures  # noqa: E402


def unemployment_and_job_losses(
    timeseries: pd.DataFrame, layoffs: pd.DataFrame, path: Path, title: str = "", scale: float = 1.0, formats=("png",)
) -> list[Path]:
    """Unemployment rate and cumulative jobs lost (in residents: model persons divided by
    ``scale``), with each closure's layoff waves shaded, lettered and named in a legend.
    The first weeks (start-up) are not drawn in the unemployment rate."""
    fig, (ax1, ax2, leg) = plt.subplots(
        3, 1, figsize=(7.5, 5.6), layout="constrained", gridspec_kw={"height_ratios": [2.4, 1.6, 0.75]}
    )
    ax2.sharex(ax1)
    date = pd.to_datetime(timeseries["date"])
    keep = pd.Series(range(len(date)), index=timeseries.index) >= (
        START_UP_WEEKS if len(date) > 4 * START_UP_WEEKS else 0
    )
    ax1.plot(date[keep], 100 * timeseries.loc[keep, "unemployment_rate"], color=display.OKABE_ITO[4], lw=1.0)
    ax1.set_ylabel("Unemployment rate (%)")
    ax1.grid(alpha=0.25, lw=0.5)
    ax1.tick_params(axis="x", labelbottom=False)
    ax2.step(date, timeseries["jobs_lost_cumulative"] / scale, where="post", color=display.OKABE_ITO[3], lw=1.4)
    unit = "residents" if scale == 1 else f"residents: model persons ÷ scale {scale:g}"
    ax2.set_ylabel(
        f"Jobs lost in closures,\ncumulative ({unit})"
        if scale == 1
        else f"Jobs lost in closures,\ncumulative (residents;\nmodel persons ÷ {scale:g})"
    )
    ax2.grid(alpha=0.25, lw=0.5)
    ax2.yaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
    leg.axis("off")
    if len(layoffs):
        lay = layoffs.copy()
        lay["date"] = pd.to_datetime(lay["date"])
        closures = []
        for employer, sub in lay.groupby("employer", sort=False):
            waves = sorted(sub["date"].dt.date)
            closures.append((employer, waves[0], waves[-1] + pd.Timedelta(days=7), waves))
        closures.sort(key=lambda c: c[1])
        handles = draw_closures([ax1, ax2], closures, top_ax=ax1)
        leg.legend(
            handles=handles,
            loc="upper left",
            ncol=3,
            frameon=False,
            title="Closures (layoff waves shaded)",
            alignment="left",
            fontsize=6.5,
            title_fontsize=7,
            handlelength=1.0,
            borderaxespad=0,
            columnspacing=1.0,
        )
    ax2.xaxis.set_major_locator(mdates.YearLocator(2))
    ax2.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    ax2.set_xlim(date[keep].iloc[0], date.iloc[-1])
    fig.suptitle(title or "Unemployment and jobs lost in closures", x=0.01, ha="left", fontsize=10, fontweight="bold")
    trimmed = int((~keep).sum())
    if trimmed:
        ax1.set_title(
            f"Weekly; the first {trimmed} weeks (start-up) are not drawn.", loc="left", fontsize=7, color="0.3", pad=16
        )
    return display.save(fig, path, formats)
