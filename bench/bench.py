"""The benchmark: does every lesson fit a classroom machine?

    make bench        (or: python bench/bench.py [--only-notebooks 01 ...])

Measures, in one run on this machine, and checks every budget of DESIGN.md:
  - each notebook: wall seconds and peak kernel memory in a fresh kernel, and wall seconds
    again with the kernel pinned to one core (`taskset -c 0`), as a 1-CPU classroom pod
    runs it (the kit then uses one thread);
  - `import mmkit` and `import mmkit.widgets`: seconds beyond `import torch`;
  - each widget: median seconds per update (compute + redraw) over 20 control changes; a
    refresh that raises fails the benchmark;
  - ratios against the libraries and a plain loop, side by side (RATIOS below): the median
    of the per-round ratios of alternated calls, with their spread.
It prints the tables, marks each budget "within" or "over", writes bench/RESULTS.md, and
exits non-zero when any budget is over.
"""

import argparse
import datetime
import inspect
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import ipywidgets
import torch

from mmkit.files import write_atomically

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run_notebooks import run_notebook  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_SECONDS, NOTEBOOK_MB, IMPORT_SECONDS, WIDGET_SECONDS = 60, 1536, 0.3, 0.100


def verdict(ok: bool) -> str:
    return "within" if ok else "over"


def machine_description() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kb / 1024**2:.0f} GiB"
    except OSError:
        memory = "unknown memory"
    threads = torch.get_num_threads()
    return (
        f"{cpu}; {os.cpu_count()} cores ({threads} torch threads); {memory}; "
        f"Python {platform.python_version()}; torch {torch.__version__}; "
        f"GPU: {'yes' if torch.cuda.is_available() else 'none'}"
    )


def _pinned_seconds(path: Path) -> float:
    """Wall seconds of a notebook run in a process pinned to core 0: its kernel inherits the
    affinity, so mmkit's thread policy gives it one thread, as on a 1-CPU pod."""
    if shutil.which("taskset") is None:
        raise RuntimeError("the 1-CPU column needs taskset (Debian: util-linux)")
    env = {k: v for k, v in os.environ.items() if k not in ("MMKIT_NUM_THREADS", "OMP_NUM_THREADS")}
    out = subprocess.run(["taskset", "-c", "0", sys.executable, str(ROOT / "bench" / "run_notebooks.py"),
                          str(path)], capture_output=True, text=True, check=True, env=env).stdout
    return float(re.search(r"\.\.\. ([0-9.]+) s, peak", out).group(1))


def bench_notebooks(selected) -> list[tuple]:
    rows = []
    for path in sorted((ROOT / "notebooks").glob("[0-9]*.ipynb")):
        if selected and path.name[:2] not in selected:
            continue
        print(f"  {path.name} ...", end=" ", flush=True)
        run = run_notebook(path, measure=True)
        pinned = _pinned_seconds(path)
        ok = (run.seconds <= NOTEBOOK_SECONDS and run.peak_mb <= NOTEBOOK_MB
              and pinned <= NOTEBOOK_SECONDS)
        print(f"{run.seconds:.1f} s, {run.peak_mb:.0f} MB; 1 CPU {pinned:.1f} s", flush=True)
        rows.append((path.name, f"{run.seconds:.1f}", f"{run.peak_mb:.0f}", f"{pinned:.1f}",
                     verdict(ok)))
    return rows


def bench_import(module: str, repeats: int = 7) -> float:
    """Median seconds of ``import module`` beyond ``import torch``, in fresh processes."""
    code = (
        f"import time, torch; t = time.perf_counter(); import {module}; "
        "print(time.perf_counter() - t)"
    )
    times = [
        float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             check=True, cwd=ROOT).stdout)
        for _ in range(repeats)
    ]
    return statistics.median(times)


def _nudged_value(control, i: int):
    """The i-th of 20 values spread over a control's range (what a learner might pick),
    never the current value: an unchanged control triggers no update to time."""
    fraction = ((i * 7) % 20 + 0.5) / 20  # jump around the range rather than sweep it
    if isinstance(control, ipywidgets.FloatLogSlider):
        return control.base ** (control.min + fraction * (control.max - control.min))
    if isinstance(control, ipywidgets.IntSlider):
        value = round(control.min + fraction * (control.max - control.min))
        if value == control.value:  # a small range: step to a neighbour instead
            value = value + 1 if value < control.max else value - 1
        return value
    if isinstance(control, ipywidgets.FloatSlider):
        return control.min + fraction * (control.max - control.min)
    if isinstance(control, ipywidgets.Dropdown):  # by index: options may be (label, value)
        return ("index", (control.index + 1) % len(control.options))
    if isinstance(control, ipywidgets.Checkbox):
        return not control.value
    if isinstance(control, ipywidgets.Text):  # typing: the first 1..n words of the placeholder
        words = (control.placeholder or "text").split()
        typed = " ".join(words[: 1 + i % len(words)])
        return typed if typed != control.value else f"{typed} {words[0]}"
    raise TypeError(f"the benchmark cannot move a {type(control).__name__}")


def bench_widgets(updates: int = 20) -> list[tuple]:
    from mmkit import widgets

    widgets.Explorer.raise_errors = True  # a refresh that fails fails the benchmark
    rows = []
    for name in widgets.__all__:
        factory = getattr(widgets, name)
        if (not inspect.isfunction(factory)
                or inspect.signature(factory).return_annotation is not widgets.Explorer):
            continue  # every front end is annotated "-> Explorer"
        explorer = factory()
        controls = list(explorer.controls.values())
        times = []
        for i in range(updates):
            control = controls[i % len(controls)]
            value = _nudged_value(control, i)
            start = time.perf_counter()
            if isinstance(value, tuple) and value[0] == "index":
                control.index = value[1]
            else:
                control.value = value
            times.append(time.perf_counter() - start)
        median = statistics.median(times)
        rows.append((name, f"{1000 * median:.1f}", f"{1000 * max(times):.1f}",
                     verdict(median <= WIDGET_SECONDS)))
    return rows


def _side_by_side(ours, theirs, repeats: int = 20) -> list[float]:
    """Per-round ratios ours / theirs of two functions called in alternation, ``repeats``
    rounds, so that a change in the machine's load hits both alike; who goes first
    alternates, so neither always finds the caches warm. Each is called once first to warm
    up (numba compiles, allocators fill)."""
    ours(), theirs()
    ratios = []
    pair = [ours, theirs]
    for _ in range(repeats):
        pair.reverse()
        seconds = {}
        for fn in pair:
            start = time.perf_counter()
            fn()
            seconds[fn] = time.perf_counter() - start
        ratios.append(seconds[ours] / seconds[theirs])
    return ratios


def ratio_mfcc() -> tuple[str, list, float | None]:
    """mmkit.scratch.mfcc against librosa.feature.mfcc on one second of 8 kHz audio."""
    import librosa
    import numpy as np

    from mmkit.scratch.audio import mfcc

    y = np.random.default_rng(0).standard_normal(8000)
    y_torch = torch.from_numpy(y)
    options = {"n_mfcc": 13, "n_fft": 256, "hop_length": 64, "n_mels": 40}
    ratios = _side_by_side(
        lambda: mfcc(y_torch, sr=8000, **options),
        lambda: librosa.feature.mfcc(y=y, sr=8000, **options),
    )
    return "MFCC, 1 s at 8 kHz: mmkit.scratch.mfcc / librosa.feature.mfcc", ratios, None


def ratio_training_loop() -> tuple[str, list, float | None]:
    """mmkit.train.fit against the same epochs written as a plain PyTorch loop."""
    import torch.nn.functional as F
    from torch import nn

    from mmkit.models import UnimodalClassifier
    from mmkit.train import fit

    class SmallCNN(nn.Module):
        out_dim = 32

        def __init__(self):
            super().__init__()
            self.net = nn.Sequential(
                nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(4),
                nn.Flatten(), nn.Linear(256, 32), nn.ReLU(),
            )

        def forward(self, x):
            return self.net(x)

    generator = torch.Generator().manual_seed(0)
    data = {"image": torch.rand(1024, 3, 32, 32, generator=generator),
            "label": torch.randint(0, 4, (1024,), generator=generator)}

    def with_fit():
        torch.manual_seed(0)
        model = UnimodalClassifier(SmallCNN(), "image", 4)
        fit(model, data, epochs=2, batch_size=64, progress=False, device="cpu")

    def plain_loop():
        torch.manual_seed(0)
        model = UnimodalClassifier(SmallCNN(), "image", 4)
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        shuffle = torch.Generator().manual_seed(0)
        for _ in range(2):
            order = torch.randperm(1024, generator=shuffle)
            for start in range(0, 1024, 64):
                index = order[start:start + 64]
                optimizer.zero_grad()
                loss = F.cross_entropy(model({"image": data["image"][index]}), data["label"][index])
                loss.backward()
                optimizer.step()

    ratios = _side_by_side(with_fit, plain_loop, repeats=30)
    return "training loop, small CNN, 2 epochs of 1,024 images: fit / plain loop", ratios, 1.05


def ratio_roc_auc() -> tuple[str, list, float | None]:
    """mmkit.metrics.roc_auc_score against scikit-learn's on a million scores with ties."""
    import numpy as np
    from sklearn.metrics import roc_auc_score as sklearn_roc_auc

    from mmkit.metrics import roc_auc_score

    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 2, 1_000_000)
    y_score = (rng.random(1_000_000) + 0.3 * y_true).round(4)  # rounding makes ties
    if abs(roc_auc_score(y_true, y_score) - sklearn_roc_auc(y_true, y_score)) > 1e-12:
        raise AssertionError("roc_auc_score differs from scikit-learn's on the bench data")
    ratios = _side_by_side(lambda: roc_auc_score(y_true, y_score),
                           lambda: sklearn_roc_auc(y_true, y_score), repeats=9)
    return "ROC AUC, 10^6 scores: mmkit.metrics / sklearn.metrics", ratios, 1.0


# Each returns (what, per-round ratios, budget or None), measured side by side in this run.
RATIOS = [ratio_mfcc, ratio_training_loop, ratio_roc_auc]


def bench_ratios() -> list[tuple]:
    rows = []
    for measure in RATIOS:
        what, ratios, budget = measure()
        median = statistics.median(ratios)
        quartiles = statistics.quantiles(ratios, n=4)
        rows.append((what, f"{median:.2f}", f"{quartiles[0]:.2f}–{quartiles[2]:.2f}",
                     f"{min(ratios):.2f}–{max(ratios):.2f}",
                     "—" if budget is None else f"≤ {budget:g}",
                     "—" if budget is None else verdict(median <= budget)))
    return rows


def _table(header, rows) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="mmkit benchmark")
    parser.add_argument("--only-notebooks", nargs="*", default=None,
                        help="notebook numbers to run, e.g. 00 01 (default: all)")
    args = parser.parse_args(argv)

    machine = machine_description()
    print(f"machine: {machine}\nnotebooks (fresh kernel each; then pinned to one core):")
    notebooks = bench_notebooks(args.only_notebooks)
    print("imports ...", flush=True)
    imports = [(f"`import {m}`", f"{bench_import(m):.3f}") for m in ("mmkit", "mmkit.widgets")]
    imports = [(m, t, verdict(float(t) <= IMPORT_SECONDS)) for m, t in imports]
    print("widgets ...", flush=True)
    widget_rows = bench_widgets()
    print("ratios ...", flush=True)
    ratio_rows = bench_ratios()

    report = "\n\n".join([
        "# Benchmark results",
        f"Written by `make bench` on {datetime.date.today().isoformat()}.\n\nMachine: {machine}",
        f"## Notebooks (budget: ≤ {NOTEBOOK_SECONDS} s and ≤ {NOTEBOOK_MB / 1024:.1f} GB each; "
        f"≤ {NOTEBOOK_SECONDS} s with the kernel pinned to one core)",
        _table(["notebook", "wall s", "peak MB", "1 CPU wall s", "budget"], notebooks),
        f"## Imports beyond `import torch` (budget ≤ {IMPORT_SECONDS} s each)",
        _table(["import", "median s", "budget"], imports),
        f"## Widget updates, compute + redraw (budget: median ≤ {1000 * WIDGET_SECONDS:.0f} ms)",
        _table(["widget", "median ms", "max ms", "budget"], widget_rows),
        "## Ratios, ours / reference (median of per-round ratios of calls made in "
        "alternation in one run; interquartile range and full range beside it)",
        _table(["what", "median ratio", "middle half", "range", "budget", "verdict"],
               ratio_rows),
        "Peak memory is the kernel process's maximum resident set size; with the CUDA build of"
        " PyTorch about 500 MB of it is `import torch` alone (the CPU-only build is smaller).",
    ]) + "\n"
    print("\n" + report)
    write_atomically(ROOT / "bench" / "RESULTS.md", report)
    failed = [r[0] for r in notebooks + imports + widget_rows + ratio_rows if r[-1] == "over"]
    if failed:
        print(f"over budget: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
