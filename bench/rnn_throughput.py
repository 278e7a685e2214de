"""Throughput of the zoo's recurrent layers against Keras's built-in ones.

Measures training (forward + backward + Adam, one `train_on_batch`) and
inference (one `predict_on_batch`) in sequences per second, for
`zoo.layers.LSTM` / `GRU` / `SimpleRNN` (and the LSTM variants without a
fused kernel: peepholes, layer normalization) against `keras.layers.LSTM` /
`GRU` / `SimpleRNN`, all in one process. Variants run round-robin (the order
rotated every round) so that drifts in machine speed hit every variant
alike; the figures are medians over the rounds and the ratios are
zoo / keras of those medians.

Each model is `Input((time, input)) -> layer(hidden) -> Dense(1)`, mean
squared error, Adam, float32, fixed batch size. With `--padding P` the
sequences are right-padded, as batches of real text are: row lengths are
drawn uniformly from `(1 - P) * time .. time` (seeded), padded steps are
zeros, and a `keras.layers.Masking(0.0)` before the layer turns them into
the layer's mask (for both implementations).

Compile settings, reported separately so that no ratio mixes them silently:

- `default`: `model.compile()` with Keras's default `jit_compile="auto"`
  (on the TensorFlow backend on a CPU this resolves to no XLA; on the JAX
  backend everything is XLA-compiled by `jax.jit` anyway);
- `jit`: `jit_compile=True` for both. On the TensorFlow backend Keras's
  LSTM and GRU mark themselves not XLA-compatible when their cuDNN path is
  possible (and then silently fall back to no XLA), so their `jit` variant
  is built with `use_cudnn=False`, which on a CPU changes nothing else.
  The effective setting (`model.jit_compile` after compiling) is recorded.
- `plain` (zoo only, TensorFlow backend, with `default`): the zoo layer
  built with `jit_compile=False`, i.e. without its own XLA-compiled
  inference loop (`zoo.layers.RNN`'s `jit_compile="auto"`); training is the
  same code as `default`.

Ratios printed: zoo/keras with the same compile setting (`default`, `jit`),
and zoo(jit) / keras(default), labelled as such.

Usage (TensorFlow backend, CPU):

    KERAS_BACKEND=tensorflow python bench/rnn_throughput.py \\
        --shapes 64,100,64,256 --layers LSTM,GRU,SimpleRNN --rounds 10

JAX backend (GPU; no TensorFlow needed):

    KERAS_BACKEND=jax python bench/rnn_throughput.py --backend-agnostic \\
        --shapes 64,100,64,256 --layers LSTM,LSTM-peephole,LSTM-layernorm

The script only uses `keras` (and `numpy`); it never imports a backend
itself, so it runs on any backend Keras is configured for.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time

LAYERS = ("LSTM", "GRU", "SimpleRNN", "LSTM-peephole", "LSTM-layernorm")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--backend-agnostic",
        action="store_true",
        help="use whatever backend Keras is configured for (KERAS_BACKEND or "
        "keras.json); without it, the TensorFlow backend is selected when "
        "KERAS_BACKEND is unset",
    )
    p.add_argument(
        "--shapes",
        default="64,100,64,256;64,100,64,512",
        help="';'-separated batch,time,input,hidden shapes",
    )
    p.add_argument("--rounds", type=int, default=7, help="timed rounds (median)")
    p.add_argument(
        "--steps", type=int, default=3, help="calls per variant per round"
    )
    p.add_argument("--warmup", type=int, default=2, help="untimed calls first")
    p.add_argument(
        "--layers",
        default="LSTM,GRU,SimpleRNN",
        help=f"comma-separated, from {','.join(LAYERS)}; the LSTM variants "
        "are zoo-only and are compared with keras LSTM",
    )
    p.add_argument(
        "--jit",
        choices=("both", "on", "off"),
        default="both",
        help="off: Keras's default compile setting only; on: jit_compile=True "
        "only; both",
    )
    p.add_argument(
        "--no-inference", action="store_true", help="time training only"
    )
    p.add_argument(
        "--no-training", action="store_true", help="time inference only"
    )
    p.add_argument("--padding", type=float, default=0.0,
                   help="largest fraction of a sequence that is padding (masked); 0: no mask")
    p.add_argument("--json", default=None, help="write all results here")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    if not args.backend_agnostic:
        os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import numpy as np
    import keras

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
    import zoo.layers

    backend = keras.backend.backend()
    shapes = [
        tuple(int(v) for v in s.split(",")) for s in args.shapes.split(";") if s
    ]
    layers = [n.strip() for n in args.layers.split(",") if n.strip()]
    for name in layers:
        if name not in LAYERS:
            raise SystemExit(f"unknown layer {name!r}; choose from {LAYERS}")
    # On JAX, the default compile setting already is XLA (jax.jit).
    settings = {"off": ["default"], "on": ["jit"], "both": ["default", "jit"]}[
        args.jit
    ]
    if backend == "jax" and settings == ["default", "jit"]:
        settings = ["default"]
        print("# JAX backend: the default compile setting already is XLA; "
              "timing it once, as 'default'.")

    def build_layer(impl, name, hidden, setting):
        base = name.split("-")[0]
        kwargs = {}
        if impl == "keras":
            if base in ("LSTM", "GRU") and setting == "jit" and backend == "tensorflow":
                kwargs["use_cudnn"] = False
            return getattr(keras.layers, base)(hidden, **kwargs)
        if name == "LSTM-peephole":
            kwargs["use_peepholes"] = True
        if name == "LSTM-layernorm":
            kwargs["layer_normalization"] = True
        if setting == "plain":
            kwargs["jit_compile"] = False
        return getattr(zoo.layers, base)(hidden, **kwargs)

    def build_model(impl, name, shape, setting, seed):
        batch, steps, features, hidden = shape
        keras.utils.set_random_seed(seed)
        inputs = keras.Input((steps, features), batch_size=batch)
        x = keras.layers.Masking(0.0)(inputs) if args.padding else inputs
        x = build_layer(impl, name, hidden, setting)(x)
        model = keras.Model(inputs, keras.layers.Dense(1)(x))
        compile_kwargs = {"jit_compile": True} if setting == "jit" else {}
        model.compile(optimizer="adam", loss="mse", **compile_kwargs)
        return model

    results = []
    for shape in shapes:
        batch, steps, features, hidden = shape
        rng = np.random.default_rng(0)
        x = rng.standard_normal((batch, steps, features), dtype="float32")
        if args.padding:
            shortest = max(1, int(round((1.0 - args.padding) * steps)))
            lengths = rng.integers(shortest, steps + 1, size=batch)
            x[np.arange(steps)[None, :] >= lengths[:, None]] = 0.0
        x = keras.ops.convert_to_tensor(x)
        y = keras.ops.convert_to_tensor(
            rng.standard_normal((batch, 1), dtype="float32")
        )
        variants = []
        keras_names = []
        for name in layers:
            base = name.split("-")[0]
            for setting in settings:
                if (base, setting) not in keras_names:
                    keras_names.append((base, setting))
                    variants.append(("keras", base, setting))
                variants.append(("zoo", name, setting))
                if setting == "default" and backend == "tensorflow":
                    variants.append(("zoo", name, "plain"))
        models = {}
        t0 = time.perf_counter()
        for i, v in enumerate(variants):
            impl, name, setting = v
            m = build_model(impl, name, shape, setting, seed=i)
            for _ in range(args.warmup):
                if not args.no_training:
                    m.train_on_batch(x, y)
                if not args.no_inference:
                    m.predict_on_batch(x)
            models[v] = m
        print(f"# shape {shape}: {len(variants)} variants built and compiled "
              f"in {time.perf_counter() - t0:.1f}s", flush=True)
        train = {v: [] for v in variants}
        infer = {v: [] for v in variants}
        for r in range(args.rounds):
            order = variants[r % len(variants):] + variants[: r % len(variants)]
            for v in order:
                m = models[v]
                if not args.no_training:
                    t = time.perf_counter()
                    for _ in range(args.steps):
                        m.train_on_batch(x, y)
                    train[v].append(args.steps * batch / (time.perf_counter() - t))
                if not args.no_inference:
                    t = time.perf_counter()
                    for _ in range(args.steps):
                        m.predict_on_batch(x)
                    infer[v].append(args.steps * batch / (time.perf_counter() - t))
            print(f"#   round {r + 1}/{args.rounds} done", flush=True)

        def med(d, v):
            return statistics.median(d[v]) if d[v] else float("nan")

        rows = []
        for v in variants:
            rows.append(
                {
                    "shape": list(shape),
                    "impl": v[0],
                    "layer": v[1],
                    "setting": v[2],
                    "effective_jit_compile": bool(models[v].jit_compile),
                    "train_seq_per_s": med(train, v),
                    "infer_seq_per_s": med(infer, v),
                    "train_runs": train[v],
                    "infer_runs": infer[v],
                }
            )
        results.extend(rows)

        def lookup(impl, name, setting):
            for row in rows:
                if (row["impl"], row["layer"], row["setting"]) == (impl, name, setting):
                    return row
            return None

        print(f"\nshape (batch, time, input, hidden) = {shape}, backend {backend}, "
              f"median of {args.rounds} rounds x {args.steps} calls")
        print(f"{'variant':34s} {'jit':>5s} {'train seq/s':>12s} {'infer seq/s':>12s}")
        for row in rows:
            label = f"{row['impl']} {row['layer']} [{row['setting']}]"
            print(f"{label:34s} {str(row['effective_jit_compile']):>5s} "
                  f"{row['train_seq_per_s']:12.1f} {row['infer_seq_per_s']:12.1f}")
        print(f"{'ratio zoo/keras':44s} {'train':>7s} {'infer':>7s}")
        pairs = [(s, s) for s in settings]
        if "default" in settings and backend == "tensorflow":
            pairs.append(("plain", "default"))
        if settings == ["default", "jit"]:
            pairs.append(("jit", "default"))
        for name in layers:
            base = name.split("-")[0]
            for zs, ks in pairs:
                z, k = lookup("zoo", name, zs), lookup("keras", base, ks)
                tr = z["train_seq_per_s"] / k["train_seq_per_s"]
                inf = z["infer_seq_per_s"] / k["infer_seq_per_s"]
                label = f"zoo {name}[{zs}] / keras {base}[{ks}]"
                print(f"{label:44s} {tr:7.2f} {inf:7.2f}")
                results.append(
                    {
                        "shape": list(shape),
                        "ratio": label,
                        "zoo": [name, zs],
                        "keras": [base, ks],
                        "train_ratio": tr,
                        "infer_ratio": inf,
                    }
                )
        print(flush=True)
        write_json(args, backend, keras, results)


def write_json(args, backend, keras, results):
    """Write everything measured so far (called after each shape)."""
    if args.json:
        meta = {
            "backend": backend,
            "keras": keras.__version__,
            "python": platform.python_version(),
            "machine": platform.machine(),
            "argv": sys.argv,
            "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        with open(args.json, "w") as f:
            json.dump({"meta": meta, "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
