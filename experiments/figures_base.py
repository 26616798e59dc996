"""What every figure module draws with: pyplot on the Agg backend (no display needed) in
the figures' style (font sizes, text kept as text in SVG and PDF), and the wrapping of
long titles and labels."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

plt.rcParams.update(
    {
        "svg.fonttype": "none",
        "pdf.fonttype": 42,
        "font.size": 8,
        "axes.titlesize": 9,
        "axes.labelsize": 8,
        "legend.fontsize": 7,
        "xtick.labelsize": 7,
        "ytick.labelsize": 7,
    }
)


def _wrap(text: str, width: int = 55) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width)) or text
