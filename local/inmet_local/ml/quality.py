"""What quality control flagged in the CSV (docs/qc.md), for the exploracao notebook: per station
and measure, how many values were flagged suspect (1, kept) and erroneous (2, emptied).

The CSV carries each value's flag (``<measure>_qc``), not the test that raised it: the reason for
every flag (test, the value as written, the limit it was compared with) is in the warehouse's
QC_FLAGS, printed by ``inmet qc`` and written to a CSV by ``inmet qc --out``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from inmet_pipeline.columns import MEASURE_NAMES

SUSPECT, ERRONEOUS = 1, 2


def flag_counts(clean: pd.DataFrame) -> dict[int, pd.DataFrame]:
    """For flag 1 and flag 2: a table of counts, one row per station ("A807 CURITIBA") and one
    column per measure that has at least one flag of that kind anywhere (rows and columns
    sorted). A CSV without flag columns gives empty tables."""
    names = clean.groupby("station_id")["station_name"].first()
    out: dict[int, pd.DataFrame] = {}
    for flag in (SUSPECT, ERRONEOUS):
        flagged = clean[[f"{m}_qc" for m in MEASURE_NAMES if f"{m}_qc" in clean.columns]] == flag
        flagged.columns = [c.removesuffix("_qc") for c in flagged.columns]
        counts = flagged.groupby(clean["station_id"]).sum()
        table = counts.astype(int)
        table = table.loc[:, (table != 0).any(axis=0)] if not table.empty else table
        table.index = [f"{s} {names.get(s, '')}".strip() for s in table.index]
        out[flag] = table.sort_index()
    return out


def flags_figure(clean: pd.DataFrame, origin: str) -> Any:
    """Two panels, suspect and erroneous: counts per station and measure, each cell written."""
    import matplotlib.pyplot as plt

    tables = flag_counts(clean)
    stations = sorted({*tables[SUSPECT].index, *tables[ERRONEOUS].index}) or ["(no station)"]
    fig, axes = plt.subplots(
        1, 2, figsize=(14, 0.45 * len(stations) + 3.5), squeeze=False, sharey=True
    )
    titles = {
        SUSPECT: "suspect (flag 1): value kept",
        ERRONEOUS: "erroneous (flag 2): value emptied in CLEAN",
    }
    for ax, flag in zip(axes[0], (SUSPECT, ERRONEOUS), strict=True):
        table = tables[flag].reindex(stations).fillna(0).astype(int)
        ax.set_title(titles[flag], fontsize=11)
        if table.shape[1] == 0:
            ax.text(0.5, 0.5, "none", ha="center", va="center", transform=ax.transAxes)
            ax.set_yticks(range(len(stations)), stations)
            ax.set_xticks([])
            continue
        values = table.to_numpy()
        ax.imshow(np.log1p(values), cmap="Oranges" if flag == SUSPECT else "Reds", aspect="auto")
        ax.set_xticks(range(table.shape[1]), table.columns, rotation=60, ha="right")
        ax.set_yticks(range(len(stations)), stations)
        peak = np.log1p(values.max()) if values.size else 1
        for (row, col), value in np.ndenumerate(values):
            ax.text(col, row, f"{value:,}", ha="center", va="center", fontsize=8,
                    color="white" if np.log1p(value) > 0.6 * peak else "black")  # fmt: skip
    axes[0][0].set_ylabel("station")
    fig.suptitle(
        "Values flagged by quality control, per station and measure (counts; colour on a log "
        "scale)\nwhich test flagged each, and why: `inmet qc` (docs/qc.md)",
        fontsize=12,
    )
    fig.text(0.995, 0.005, f"{origin} data", ha="right", va="bottom", fontsize=9, weight="bold")
    fig.tight_layout()
    return fig
