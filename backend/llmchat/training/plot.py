"""The loss curve (train and validation) of a run, drawn from its log.jsonl with matplotlib's Agg backend."""

from __future__ import annotations

from pathlib import Path


def loss_series(records: list[dict]) -> tuple[list[tuple[int, float]], list[tuple[int, float]]]:
    train = [(r["step"], r["loss"]) for r in records if "loss" in r]
    # the final evaluate() repeats the last step's validation loss: one point per step
    validation = sorted({r["step"]: r["eval_loss"] for r in records if "eval_loss" in r}.items())
    return train, validation


def plot_loss(records: list[dict], path: Path, title: str = "loss") -> Path:
    import matplotlib

    matplotlib.use("Agg")  # no display: runs on servers and in tests
    import matplotlib.pyplot as plt

    train, validation = loss_series(records)
    figure, axes = plt.subplots(figsize=(6, 4), dpi=100)
    if train:
        axes.plot(*zip(*train), label="train", marker=".")
    if validation:
        axes.plot(*zip(*validation), label="validation", marker="o")
    axes.set_xlabel("step")
    axes.set_ylabel("loss")
    axes.set_title(title)
    axes.grid(alpha=0.3)
    if train or validation:
        axes.legend()
    figure.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
    return path
