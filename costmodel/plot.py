"""A PNG a person would rather look at than read: cost vs checkpoint interval and vs MTBF.

matplotlib is imported inside :func:`plot_curves` with the Agg backend, so importing costmodel
never loads it and the plot works without a display.
"""

from __future__ import annotations

from pathlib import Path

from costmodel.curves import Curve


def plot_curves(
    interval: Curve, mtbf: Curve, path: str | Path, title: str = "", *, overwrite: bool = False
) -> Path:
    """Write a two-panel PNG (spot expected and P90 cost, on-demand cost) and return its path.

    An existing file is replaced only with ``overwrite=True``, so a mistyped path cannot
    clobber a user's data.
    """
    out = Path(path)
    if out.is_symlink():  # dangling or not: it may point at a file the user never named
        raise FileExistsError(f"{out} is a symbolic link; refusing to write through it")
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out} already exists; refusing to overwrite it")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(12, 4.8), constrained_layout=True)
    for ax, curve in zip(axes, (interval, mtbf), strict=True):
        xs = [p.x for p in curve.points]
        ax.plot(
            xs,
            [p.spot_expected_usd for p in curve.points],
            color="#1f77b4",
            lw=2,
            label="spot, expected",
        )
        ax.plot(
            xs,
            [p.spot_p90_usd for p in curve.points],
            color="#1f77b4",
            lw=1.5,
            ls="--",
            label="spot, P90",
        )
        ax.plot(
            xs, [p.on_demand_usd for p in curve.points], color="#d62728", lw=2, label="on-demand"
        )
        if curve.marker is not None:
            near = min(curve.points, key=lambda p: abs(p.x - (curve.marker or 0.0)))
            ax.axvline(curve.marker, color="#2ca02c", lw=1, ls=":")
            ax.text(
                curve.marker,
                0.5,
                f" {curve.marker_label} {curve.marker:,.0f} {curve.marker_unit}\n"
                f" spot \\${near.spot_expected_usd:,.0f} vs on-demand \\${near.on_demand_usd:,.0f}",
                transform=ax.get_xaxis_transform(),
                color="#2ca02c",
                fontsize=9,
                va="center",
            )
        ax.set_xscale("log")
        ax.set_xlabel(curve.x_label)
        ax.set_ylabel("cost (USD)")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(loc="best", fontsize=9)
    axes[0].set_title("Spot cost vs checkpoint interval")
    axes[1].set_title("Spot cost vs interruption rate (optimal interval)")
    if title:
        fig.suptitle(title)
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out
