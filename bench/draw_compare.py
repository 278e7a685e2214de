"""DRAW with attention against DRAW without, on the same budget.

For each case (data set, binarization) this trains the `quick` preset twice
with the application's own commands, once as it is (filterbank read and
write) and once with `--set attention=false` (the whole image read, the
whole canvas written), with the same seed, epochs and batches; then
evaluates both on the test split (`evaluate --json`: the bound, its terms
and the importance-weighted estimate). Runs go to `runs/draw-compare/`;
a run that has finished is reused (train's `--resume`), so the script can
be stopped and started again.

    python bench/draw_compare.py --json bench/runs/draw_compare.json
    python bench/draw_compare.py --cases mnist_5k-stochastic --seed 1 --json bench/runs/draw_compare_s1.json
    python bench/draw_compare.py --cases mnist_5k-stochastic-T32 --json bench/runs/draw_compare_t32.json
    python bench/draw_compare.py --cases fashion_mnist-stochastic-T32 --json bench/runs/draw_compare_fashion_t32.json

Cases: `mnist_5k` with stochastic binarization (the paper's kind of data:
pixels sampled each epoch, test binarized once with a fixed seed) and with
thresholding, and `fashion_mnist` (stochastic; fewer epochs, 55,000 images);
on request, `mnist_5k-stochastic-T32` and `fashion_mnist-stochastic-T32`:
the same with 32 drawing steps.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CASES = {
    # name: (data set, binarization, epochs (None: the preset's), IWAE images (0: all), other --set)
    "mnist_5k-stochastic": ("mnist_5k", "stochastic", None, 0, ()),
    "mnist_5k-threshold": ("mnist_5k", "threshold", None, 0, ()),
    "fashion_mnist-stochastic": ("fashion_mnist", "stochastic", 4, 1000, ()),
    "mnist_5k-stochastic-T32": ("mnist_5k", "stochastic", None, 0, ("steps=32",)),
    "fashion_mnist-stochastic-T32": ("fashion_mnist", "stochastic", 4, 1000, ("steps=32",)),
}
DEFAULT_CASES = "mnist_5k-stochastic,mnist_5k-threshold,fashion_mnist-stochastic"


def run(args):
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return time.monotonic() - started, done.stdout


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", default=DEFAULT_CASES, help=f"of {list(CASES)}")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--iwae-k", type=int, default=100)
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    results = []
    for case in args.cases.split(","):
        dataset, rule, epochs, iwae_images, extra = CASES[case]
        for attention in (True, False):
            name = f"{case}-{'attention' if attention else 'no_attention'}"
            out = os.path.join("runs", "draw-compare", name + (f"-s{args.seed}" if args.seed else ""))
            train = ["applications.draw.train", "--preset", "quick", "--dataset", dataset, "--seed", str(args.seed),
                     "--set", f"binarization={rule}", "--output-dir", out, "--resume", "--verbose", "2"]
            for setting in extra:
                train += ["--set", setting]
            if not attention:
                train += ["--set", "attention=false"]
            if epochs:
                train += ["--epochs", str(epochs)]
            seconds, log = run(train)
            metrics_file = os.path.join(out, "test_metrics.json")
            evaluate = ["applications.draw.evaluate", "--weights", out, "--dataset", dataset,
                        "--iwae-k", str(args.iwae_k), "--json", metrics_file]
            if iwae_images:
                evaluate += ["--iwae-images", str(iwae_images)]
            run(evaluate)
            with open(os.path.join(ROOT, metrics_file)) as f:
                metrics = json.load(f)
            with open(os.path.join(ROOT, out, "train_state.json")) as f:
                state = json.load(f)
            row = {"case": case, "attention": attention, "seed": args.seed, "train_seconds": round(seconds, 1),
                   "best_epoch": state.get("best_epoch"), "best_val_loss": state.get("best"),
                   "command": "python -m " + " ".join(train),
                   **{k: v for k, v in metrics.items() if not k.startswith("kl_step")}}
            results.append(row)
            print(json.dumps(row), flush=True)
    summary = {"date": time.strftime("%Y-%m-%d"), "machine": f"{platform.machine()}, {os.cpu_count()} CPUs",
               "python": platform.python_version(), "results": results}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=2)
    print("| case | attention | test bound | recon | KL | IWAE (k) | best val | train s |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in results:
        print(f"| {r['case']} | {'yes' if r['attention'] else 'no'} | {r['nll_bound']:.2f} | {r['reconstruction']:.2f} | "
              f"{r['kl']:.2f} | {r.get('iwae_nll', float('nan')):.2f} ({r.get('iwae_k', 0)}) | "
              f"{r['best_val_loss']:.2f} | {r['train_seconds']:.0f} |")


if __name__ == "__main__":
    main()
