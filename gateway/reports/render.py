"""Report output: a rich table for the terminal, CSV and JSON for spreadsheets, a PNG heatmap."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from gateway.readmodel.heatmap import Heatmap
from gateway.readmodel.utilization import Report

COLUMNS = (
    ("time_used_pct", "used %"),
    ("coverage_pct", "observed %"),
    ("avg_occupancy", "avg occ"),
    ("peak_occupancy", "peak"),
    ("avg_utilization_pct", "avg util %"),
    ("peak_utilization_pct", "peak util %"),
    ("band", "band"),
)
BAND_STYLE = {"under": "yellow", "target": "green", "over": "red"}


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat()


def _cell(v: Any) -> str:
    if v is None:
        return "-"
    return f"{v:g}" if isinstance(v, float) else str(v)


def table(report: Report, console: Console) -> None:
    """The report as a table, one row per space or group."""
    t = Table(
        title=f"Utilization by {report.group_by}, {_iso(report.start)} to {_iso(report.end)}",
        caption=f"{report.available_s / 3600:g} business hours per space in the window",
    )
    t.add_column(report.group_by)
    if report.group_by == "space":
        t.add_column("type")
        t.add_column("floor")
    else:
        t.add_column("spaces", justify="right")
    t.add_column("capacity", justify="right")
    for _key, title in COLUMNS:
        t.add_column(title, justify="right")
    for r in report.rows:
        lead = [r["id"], r["type"], r["floor"]] if "type" in r else [r["id"], str(r["spaces"])]
        cells = [_cell(r.get(k)) for k, _ in COLUMNS]
        style = BAND_STYLE.get(str(r.get("band")))
        if style is not None:
            cells[-1] = f"[{style}]{cells[-1]}[/]"
        t.add_row(*lead, str(r["capacity"]), *cells)
    console.print(t)


def to_csv(report: Report) -> str:
    """One header line and one line per row; every figure the API gives."""
    keys: list[str] = []
    for r in report.rows:
        keys += [k for k in r if k not in keys]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=["start", "end", *keys], lineterminator="\n")
    w.writeheader()
    for r in report.rows:
        w.writerow({"start": _iso(report.start), "end": _iso(report.end), **r})
    return buf.getvalue()


def to_json(report: Report) -> str:
    return json.dumps(
        {
            "start": _iso(report.start),
            "end": _iso(report.end),
            "group_by": report.group_by,
            "available_s": report.available_s,
            "data": report.rows,
            "count": len(report.rows),
        },
        indent=2,
    )


def to_png(hm: Heatmap, path: Path, title: str) -> None:
    """A heatmap of time used % (rows x local hours), for slides."""
    import matplotlib

    matplotlib.use("Agg")  # no display on a gateway
    import matplotlib.pyplot as plt
    import numpy as np

    data = np.array(
        [[np.nan if c is None else c for c in r["cells"]] for r in hm.rows], dtype=float
    ).reshape(len(hm.rows), len(hm.hours))
    fig, ax = plt.subplots(figsize=(max(6.0, 0.5 * len(hm.hours) + 3), 0.35 * len(hm.rows) + 2))
    im = ax.imshow(data, aspect="auto", cmap="YlOrRd", vmin=0, vmax=100)
    ax.set_xticks(range(len(hm.hours)), [f"{h:02d}" for h in hm.hours])
    ax.set_yticks(range(len(hm.rows)), [str(r["label"]) for r in hm.rows])
    ax.set_xlabel("hour of day (site time)")
    ax.set_title(title)
    fig.colorbar(im, ax=ax, label="time used %")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
