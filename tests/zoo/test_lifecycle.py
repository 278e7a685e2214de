"""zoo.cli, zoo.weights, zoo.export and checkpoints, end to end on a toy app."""

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time

import keras
import numpy as np
import pytest

from tests.harness import ROOT
from tests.harness import run_saved_model_fresh
from tests.zoo import toy
from zoo import cli
from zoo import weights as registry
from zoo.io import sha256_file

TOY = [sys.executable, "-m"]  # + "tests.zoo.toy.<command>" ...


def _run(args, **kwargs):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=ROOT)
    return subprocess.run(TOY + args, cwd=ROOT, env=env, capture_output=True, text=True, **kwargs)


@pytest.fixture
def trained(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("run"))
    cli.train_main(toy.APPLICATION, ["--output-dir", out, "--verbose", "0", "--epochs", "2"])
    return out


def test_train_writes_run_directory(trained):
    state = json.load(open(os.path.join(trained, "train_state.json")))
    assert state["epoch"] == 2 and len(state["history"]) == 2
    assert state["best_epoch"] in (1, 2)
    config = json.load(open(os.path.join(trained, "config.json")))
    assert config["application"] == "toy" and config["config"]["units"] == 8
    # The command as typed from the repository root (the manifest records it).
    assert config["command"] == "python -m tests.zoo.toy.train --output-dir {} --verbose 0 --epochs 2".format(
        trained)
    for name in ("model.weights.h5", "checkpoint.keras", "asset_scale.txt"):
        assert os.path.exists(os.path.join(trained, name))
    assert os.listdir(os.path.join(trained, "logs"))  # TensorBoard


def test_evaluate_json_and_weights_directory(trained, tmp_path, capsys):
    out = str(tmp_path / "metrics.json")
    metrics = cli.evaluate_main(toy.APPLICATION, ["--weights", trained, "--json", out])
    assert json.load(open(out)) == pytest.approx(metrics)
    assert set(metrics) == {"accuracy", "loss"}
    assert "accuracy" in capsys.readouterr().out
    # The best epoch's weights are the ones loaded.
    model, _, _ = toy.APPLICATION.from_pretrained(trained)
    assert model.count_params() > 0


def test_refuses_to_overwrite_a_run_without_resume(trained, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.train_main(toy.APPLICATION, ["--output-dir", trained, "--verbose", "0"])
    assert exit_info.value.code == 2
    assert "--resume" in capsys.readouterr().err


def test_bad_flags_are_clear_errors(capsys):
    for argv, message in [
        (["--preset", "huge"], "invalid choice: 'huge'"),
        (["--dataset", "nope"], "Received: dataset='nope'"),
        (["--epochs", "0"], "Received: '0'"),
        (["--distribute", "cluster"], "invalid choice: 'cluster'"),
        (["--set", "units"], "expected KEY=VALUE. Received: 'units'"),
        (["--set", "unit=4"], "Received: --set unit=4"),
        (["--set", "units=wide"], "Config key 'units' takes a int, like the preset's 8. Received: --set units=\"wide\""),
    ]:
        with pytest.raises(SystemExit):
            cli.train_main(toy.APPLICATION, argv)
        assert message in capsys.readouterr().err


def test_help_explains_every_flag():
    help_text = cli.train_parser(toy.APPLICATION).format_help()
    for flag in ("--preset", "--dataset", "--data-dir", "--epochs", "--batch-size", "--seed",
                 "--output-dir", "--resume", "--distribute", "--backend", "--set"):
        assert flag in help_text
    assert "--weights" in cli.evaluate_parser(toy.APPLICATION).format_help()


def test_set_overrides_the_preset_and_is_recorded(tmp_path):
    out = str(tmp_path / "run")
    cli.train_main(toy.APPLICATION, ["--output-dir", out, "--verbose", "0", "--epochs", "1",
                                         "--set", "units=5", "--set", "batch_size=16"])
    config = json.load(open(os.path.join(out, "config.json")))["config"]
    assert config["units"] == 5 and config["batch_size"] == 16
    model, _, _ = toy.APPLICATION.from_pretrained(out)
    assert any(getattr(layer, "units", None) == 5 for layer in model.layers)


def test_resume_accepts_only_the_recorded_values(trained, capsys):
    common = ["--output-dir", trained, "--verbose", "0", "--resume", "--epochs", "2"]
    cli.train_main(toy.APPLICATION, common + ["--set", "units=8"])  # as recorded
    with pytest.raises(SystemExit) as exit_info:
        cli.train_main(toy.APPLICATION, common + ["--set", "units=9"])
    assert exit_info.value.code == 2
    assert "--set cannot change it. Received: --set units=9" in capsys.readouterr().err


def test_apply_overrides_types():
    config = {"rate": 1e-3, "name": "a", "extra": None, "flag": False}
    new = cli.apply_overrides(config, [("rate", 2), ("extra", 0.5), ("flag", True)])
    assert new == {"rate": 2.0, "name": "a", "extra": 0.5, "flag": True}
    assert config["rate"] == 1e-3  # the preset is not modified
    with pytest.raises(ValueError, match="takes a bool"):
        cli.apply_overrides(config, [("flag", 1)])


def test_resume_after_sigkill_keeps_finished_epochs(tmp_path):
    out = str(tmp_path / "run")
    args = ["tests.zoo.toy.train", "--dataset", "toy_long", "--epochs", "4", "--output-dir", out, "--verbose", "0"]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONPATH=ROOT)
    proc = subprocess.Popen(TOY + args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    state_file = os.path.join(out, "train_state.json")
    deadline = time.time() + 240
    try:
        while time.time() < deadline:
            if os.path.exists(state_file) and json.load(open(state_file))["epoch"] >= 1:
                break
            if proc.poll() is not None:
                pytest.fail(f"training ended early: {proc.stderr.read().decode()[-2000:]}")
            time.sleep(0.05)
        else:
            pytest.fail("no epoch finished in time")
        time.sleep(0.3)  # into the next epoch
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    killed_at = json.load(open(state_file))
    assert 1 <= killed_at["epoch"] < 4
    result = _run(args + ["--resume"], timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    state = json.load(open(state_file))
    assert state["epoch"] == 4
    assert [h["epoch"] for h in state["history"]] == [1, 2, 3, 4]
    # The epochs finished before the kill are kept as they were.
    assert state["history"][: killed_at["epoch"]] == killed_at["history"]


def test_export_serving_layout_and_fresh_process(trained, tmp_path):
    path = cli.export_main(toy.APPLICATION, ["--weights", trained, "--output", str(tmp_path / "serve"), "--version", "3"])
    assert path == os.path.join(str(tmp_path / "serve"), "toy", "3")
    assert os.path.exists(os.path.join(path, "saved_model.pb"))
    x = np.random.default_rng(5).standard_normal((6, 12, 1)).astype("float32")
    got = run_saved_model_fresh(path, {"x": x}, tmp_path)
    model, pre, _ = toy.APPLICATION.from_pretrained(trained)
    expected = keras.ops.convert_to_numpy(model(pre(x))).reshape(-1)
    np.testing.assert_allclose(got["positive_probability"], expected, atol=1e-5)
    np.testing.assert_array_equal(got["label"], (expected >= 0.5).astype("int32"))
    # saved_model_cli lists the signatures.
    cli_bin = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")
    if os.path.exists(cli_bin):
        shown = subprocess.run([cli_bin, "show", "--dir", path, "--all"], capture_output=True, text=True)
        assert "serving_default" in shown.stdout and "serve_sequences" in shown.stdout



def test_toy_application_meets_the_shared_check(tmp_path):
    """The harness's `check_application` on the toy, as every application runs it."""
    from tests.harness import check_application

    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 12, 1)).astype("float32")
    examples = list(zip(x, (x.sum(axis=(1, 2)) > 0).astype("float32")))
    check_application(toy.APPLICATION, toy.APPLICATION.preset("quick"), examples, {"x": x[:5]}, tmp_path)

# -- weights registry --------------------------------------------------------

def _manifest_for(trained, tmp_path, monkeypatch, corrupt=False, url=False):
    root = tmp_path / "weights"
    monkeypatch.setenv("RNN_ZOO_WEIGHTS", str(root))
    entry = registry.add("toy_entry", trained, command="python -m tests.zoo.toy.train", metrics={"accuracy": 1.0})
    if corrupt:
        with open(root / "toy_entry" / "model.weights.h5", "ab") as f:
            f.write(b"x")
    return root, entry


def test_registry_add_load_and_verify(trained, tmp_path, monkeypatch):
    root, entry = _manifest_for(trained, tmp_path, monkeypatch)
    assert entry["sha256"] == sha256_file(root / "toy_entry" / "model.weights.h5")
    assert entry["command"].startswith("python -m") and entry["versions"]["keras"] == keras.__version__
    assert registry.names("toy") == ["toy_entry"]
    model, _, run = toy.APPLICATION.from_pretrained("toy_entry")
    assert run["application"] == "toy"
    assert registry.verify() == []


def test_registry_sha_mismatch_is_refused(trained, tmp_path, monkeypatch):
    _manifest_for(trained, tmp_path, monkeypatch, corrupt=True)
    with pytest.raises(registry.WeightsError, match=r"sha256 mismatch.*Received: sha256="):
        toy.APPLICATION.from_pretrained("toy_entry")


def test_registry_unknown_and_missing(trained, tmp_path, monkeypatch):
    root, _ = _manifest_for(trained, tmp_path, monkeypatch)
    with pytest.raises(registry.WeightsError, match=r"Received: weights='nope'"):
        registry.load("nope")
    os.remove(root / "toy_entry" / "model.weights.h5")
    with pytest.raises(registry.WeightsError, match=r"missing.*Received: file="):
        registry.load("toy_entry")


def test_registry_remote_url_with_hash(trained, tmp_path, monkeypatch):
    root, entry = _manifest_for(trained, tmp_path, monkeypatch)
    remote = tmp_path / "remote.weights.h5"
    os.replace(root / "toy_entry" / "model.weights.h5", remote)
    manifest = registry.load_manifest()
    manifest["toy_entry"]["url"] = remote.as_uri()
    monkeypatch.setenv("RNN_ZOO_DATA_DIR", str(tmp_path / "cache"))
    directory, config, weights_path = registry.load("toy_entry", manifest)
    assert config["application"] == "toy"
    assert weights_path.startswith(str(tmp_path / "cache"))
    assert sha256_file(weights_path) == entry["sha256"]
    # A corrupt download is refused.
    manifest["toy_entry"]["sha256"] = "0" * 64
    with pytest.raises(Exception, match="hash"):
        registry.load("toy_entry", manifest)


def test_application_mismatch_is_refused(trained, tmp_path, monkeypatch):
    _manifest_for(trained, tmp_path, monkeypatch)
    import dataclasses

    other = dataclasses.replace(toy.APPLICATION, name="other")
    with pytest.raises(registry.WeightsError, match="belong to application 'toy'"):
        other.from_pretrained("toy_entry")


def test_keras_file_with_lambda_is_refused(tmp_path):
    inputs = keras.Input((3,))
    model = keras.Model(inputs, keras.layers.Lambda(lambda x: x * 2)(inputs))
    path = str(tmp_path / "lambda.keras")
    model.save(path)
    with pytest.raises(ValueError, match="safe_mode"):
        keras.saving.load_model(path, safe_mode=True)


# -- damaged files: one `error:` line naming the file --------------------------

@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    """One trained run for the tests below, which only read it or copy it."""
    out = str(tmp_path_factory.mktemp("pristine"))
    cli.train_main(toy.APPLICATION, ["--output-dir", out, "--verbose", "0", "--epochs", "1"])
    return out


def _copy_run(trained, tmp_path):
    import shutil

    copy = str(tmp_path / "copy")
    shutil.copytree(trained, copy)
    return copy


def _damage(path, how):
    if how == "truncated":
        size = os.path.getsize(path)
        with open(path, "r+b") as f:
            f.truncate(size // 2)
    elif how == "garbage":
        with open(path, "wb") as f:
            f.write(np.random.default_rng(0).bytes(4096))
    else:  # empty
        open(path, "wb").close()


def _error_line(capsys):
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err, err
    assert len(err.splitlines()) == 1, err
    return err


@pytest.mark.parametrize("how", ["truncated", "garbage", "empty"])
@pytest.mark.parametrize("command", ["evaluate", "export"])
def test_damaged_weights_file_is_named(pristine, tmp_path, capsys, how, command):
    run = _copy_run(pristine, tmp_path)
    weights = os.path.join(run, "model.weights.h5")
    _damage(weights, how)
    argv = ["--weights", run] + (["--output", str(tmp_path / "serve")] if command == "export" else [])
    with pytest.raises(SystemExit) as exit_info:
        getattr(cli, f"{command}_main")(toy.APPLICATION, argv)
    assert exit_info.value.code == 2
    err = _error_line(capsys)
    assert err.startswith(f"python -m applications.toy.{command}: error: The weights file {weights} is damaged")
    assert "train again" in err
    assert err.endswith(f"Received: file={weights!r} ({os.path.getsize(weights)} bytes)")
    with pytest.raises(registry.WeightsError, match="is damaged"):
        toy.APPLICATION.from_pretrained(run)


def test_weights_of_another_config_are_named(pristine, tmp_path, capsys):
    run = _copy_run(pristine, tmp_path)
    config = json.load(open(os.path.join(run, "config.json")))
    config["config"]["units"] = 5
    json.dump(config, open(os.path.join(run, "config.json"), "w"))
    with pytest.raises(SystemExit):
        cli.evaluate_main(toy.APPLICATION, ["--weights", run])
    err = _error_line(capsys)
    assert "model.weights.h5 does not fit the model that its config.json describes" in err
    assert "Received: file=" in err


@pytest.mark.parametrize("content", [b'{"application": "toy", "config": {"units"', b"\xff\xfe\x00",
                                     b'["a list"]', b'{"application": "toy"}'])
def test_damaged_config_json_is_named(pristine, tmp_path, capsys, content):
    run = _copy_run(pristine, tmp_path)
    path = os.path.join(run, "config.json")
    with open(path, "wb") as f:
        f.write(content)
    with pytest.raises(SystemExit) as exit_info:
        cli.evaluate_main(toy.APPLICATION, ["--weights", run])
    assert exit_info.value.code == 2
    err = _error_line(capsys)
    assert f"{path} " in err and "Received: " in err
    assert ("is damaged: it is not valid JSON" in err) or ("is not a run's config" in err)


def test_resume_from_damaged_files_is_named(pristine, tmp_path, capsys):
    run = _copy_run(pristine, tmp_path)
    checkpoint = os.path.join(run, "checkpoint.keras")
    _damage(checkpoint, "truncated")
    argv = ["--output-dir", run, "--verbose", "0", "--resume", "--epochs", "3"]
    with pytest.raises(SystemExit) as exit_info:
        cli.train_main(toy.APPLICATION, argv)
    assert exit_info.value.code == 2
    err = _error_line(capsys)
    assert f"error: The checkpoint {checkpoint} that --resume restarts from is damaged" in err
    assert "train_state.json" in err and err.endswith(f"Received: file={checkpoint!r} "
                                                      f"({os.path.getsize(checkpoint)} bytes)")
    state = os.path.join(run, "train_state.json")
    _damage(state, "garbage")
    with pytest.raises(SystemExit):
        cli.train_main(toy.APPLICATION, argv)
    err = _error_line(capsys)
    assert f"error: {state} (the training state --resume continues from) is damaged" in err
    assert err.endswith(f"Received: file={state!r} (4096 bytes)")


def test_unknown_weights_list_only_this_applications_entries(pristine, tmp_path, monkeypatch, capsys):
    _manifest_for(pristine, tmp_path, monkeypatch)
    manifest = registry.load_manifest()
    manifest["other_entry"] = dict(manifest["toy_entry"], name="other_entry", application="other")
    with open(registry.manifest_path(), "w") as f:
        json.dump(manifest, f)
    missing = str(tmp_path / "runs" / "typo")
    for command in ("evaluate", "export"):
        argv = ["--weights", missing] + (["--output", str(tmp_path)] if command == "export" else [])
        with pytest.raises(SystemExit) as exit_info:
            getattr(cli, f"{command}_main")(toy.APPLICATION, argv)
        assert exit_info.value.code == 2
        err = _error_line(capsys)
        assert f"the path {missing} does not exist" in err
        assert "the toy application ships: ['toy_entry']" in err and "other_entry" not in err
        assert err.endswith(f"Received: weights={missing!r}")
    # A file instead of its directory says so.
    weights_file = os.path.join(pristine, "model.weights.h5")
    with pytest.raises(registry.WeightsError, match="is a file; pass the run directory"):
        toy.APPLICATION.from_pretrained(weights_file)


# -- the first screen: no start-up noise, one line per epoch in a log ---------

def test_train_in_a_log_has_one_line_per_epoch_and_no_startup_noise(tmp_path):
    """`python -m ... train > log 2>&1`: Keras's bar would write escape codes
    and carriage returns per batch; "auto" verbosity writes a line per epoch.
    Run as a user runs it, without TF_CPP_MIN_LOG_LEVEL."""
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "TQDM_DISABLE")}
    env["PYTHONPATH"] = ROOT
    out = str(tmp_path / "run")
    done = subprocess.run(TOY + ["tests.zoo.toy.train", "--output-dir", out, "--epochs", "2"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    for stream in (done.stdout, done.stderr):
        assert "\x1b[" not in stream and "\r" not in stream and "\b" not in stream, stream[-2000:]
    epochs = [line for line in done.stdout.splitlines() if " - val_accuracy: " in line]
    assert len(epochs) == 2, done.stdout
    assert [line for line in done.stdout.splitlines() if line.startswith("Epoch ")] == ["Epoch 1/2", "Epoch 2/2"]
    for noise in ("cuInit", "absl::InitializeLog", "oneDNN custom operations", "cuda drivers",
                  "cpu_feature_guard"):
        assert noise not in done.stderr, done.stderr


def test_verbose_flag():
    parser = cli.train_parser(toy.APPLICATION)
    assert parser.parse_args([]).verbose == "auto"
    assert parser.parse_args(["--verbose", "2"]).verbose == 2

    class Stream:
        def __init__(self, tty):
            self.tty = tty

        def isatty(self):
            return self.tty

    assert cli.fit_verbosity("auto", Stream(True)) == 1
    assert cli.fit_verbosity("auto", Stream(False)) == 2
    assert cli.fit_verbosity(0, Stream(True)) == 0
    with pytest.raises(SystemExit):
        parser.parse_args(["--verbose", "3"])


STARTUP = (
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
    "I0000 00:00:1796284529.393951    3597 port.cc:153] oneDNN custom operations are on.\n"
    "I0000 00:00:1796284529.503790    3597 cpu_feature_guard.cc:227] This TensorFlow binary is optimized.\n"
    "To enable the following instructions: AVX2 FMA, rebuild TensorFlow.\n"
    "W0000 00:00:1796284529.503790    3597 some.cc:1] a warning\n"
    "E0000 00:00:1796284535.304561    3597 cuda_platform.cc:52] failed call to cuInit: INTERNAL: (303)\n"
    "E0000 00:00:1796284535.304561    3597 other.cc:9] a real error\n"
    "/x.py:3: UserWarning: a Python warning\n"
)


def test_startup_noise_filter_keeps_what_matters():
    kept = cli._startup_noise_filter(STARTUP, 2, driver_present=False).splitlines()
    assert kept == [
        "E0000 00:00:1796284535.304561    3597 other.cc:9] a real error",
        "/x.py:3: UserWarning: a Python warning",
    ]
    # With an NVIDIA driver a failed cuInit is a real error; a lower level
    # (TF_CPP_MIN_LOG_LEVEL=0) shows the notes and their continuation lines.
    assert any("cuInit" in line for line in cli._startup_noise_filter(STARTUP, 2, True).splitlines())
    everything = cli._startup_noise_filter(STARTUP, 0, True)
    assert everything == STARTUP.split("\n", 1)[1]


@pytest.mark.parametrize("module", [
    "applications.sentiment.train", "applications.sentiment.evaluate", "applications.sentiment.export",
    "applications.sentiment.predict", "applications.translation.translate", "applications.trading.train",
    "applications.trading.backtest", "applications.translation.export",
])
def test_help_imports_no_tensorflow(module):
    code = (
        "import runpy, sys\n"
        f"sys.argv = [{module!r}, '--help']\n"
        "try:\n"
        f"    runpy.run_module({module!r}, run_name='__main__')\n"
        "except SystemExit as e:\n"
        "    assert e.code == 0, e.code\n"
        "print(sorted(m for m in ('tensorflow', 'keras', 'jax') if m in sys.modules))\n"
    )
    env = dict(os.environ, PYTHONPATH=ROOT)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "[]", done.stdout[-500:]
    assert "usage: python -m" in done.stdout


# -- the template: a declaration, hooks, refused flags, the user command ------
def test_declaration_is_lazy_and_checked():
    from zoo.application import Application

    app = dataclasses.replace(toy.APPLICATION, build_model="no_such_package.model:build_model")
    with pytest.raises(ModuleNotFoundError):
        app.build_model({})
    with pytest.raises(ValueError, match="module:attribute"):
        dataclasses.replace(toy.APPLICATION, build_model="no_colon").build_model({})
    with pytest.raises(ValueError, match="'quick' preset"):
        dataclasses.replace(toy.APPLICATION, presets={"full": {}})
    conventional = Application(name="x", description="", presets={"quick": {}}, datasets=("d",))
    assert conventional._hook_build_model == "applications.x.model:build_model"
    with pytest.raises(ModuleNotFoundError):
        conventional.build_model({})
    with pytest.raises(TypeError, match="Received: evaluate=3"):
        dataclasses.replace(toy.APPLICATION, evaluate=3)


def test_a_flag_the_application_cannot_honour_is_refused(tmp_path, capsys):
    app = dataclasses.replace(
        toy.APPLICATION, unsupported_flags={"--batch-size": "it trains on whole sequences"}
    )
    assert "--batch-size" not in cli.train_parser(app).format_help()
    with pytest.raises(SystemExit):
        cli.train_main(app, ["--output-dir", str(tmp_path / "r"), "--batch-size", "3"])
    err = capsys.readouterr().err
    assert "--batch-size is not supported by the toy application: it trains on whole sequences" in err
    assert "Received: --batch-size 3" in err


def test_custom_trainer_gets_the_config_and_its_own_flags(tmp_path):
    seen = {}

    def add(parser):
        parser.add_argument("--extra", default="none")

    def train(application, config, args, out):
        seen.update(config=config, extra=args.extra, out=out)
        return out

    def evaluate(model, preprocessor, config, dataset, data_dir, split, **options):
        seen.update(options=options)
        return {"x": 1.0}

    app = dataclasses.replace(toy.APPLICATION, train=train, evaluate=evaluate,
                              add_arguments={"train": add, "evaluate": add})
    out = str(tmp_path / "run")
    cli.train_main(app, ["--output-dir", out, "--set", "units=5", "--epochs", "7", "--extra", "yes"])
    assert seen["config"]["units"] == 5 and seen["config"]["epochs"] == 7
    assert seen["extra"] == "yes" and seen["out"] == out


def test_evaluate_passes_the_application_options(trained):
    seen = {}

    def evaluate(model, preprocessor, config, dataset, data_dir, split, **options):
        seen.update(options)
        return {"x": 1.0}

    app = dataclasses.replace(
        toy.APPLICATION, evaluate=evaluate,
        add_arguments={"evaluate": lambda p: p.add_argument("--plots", default=None)},
    )
    cli.evaluate_main(app, ["--weights", trained, "--plots", "DIR"])
    assert seen == {"plots": "DIR"}


def test_user_command(trained, capsys):
    seq = ",".join(["1"] * 12)
    rows = cli.user_main(toy.APPLICATION, ["--weights", trained, "--", seq, seq.replace("1", "-1")])
    assert rows[0]["positive_probability"] > 0.5 > rows[1]["positive_probability"]
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and lines[0].endswith(seq)
    with pytest.raises(SystemExit):
        cli.user_main(toy.APPLICATION, ["--weights", trained, "1,2"])
    assert "Received: 2 in '1,2'" in capsys.readouterr().err


def test_patience_stops_when_validation_stops_improving(tmp_path):
    # A learning rate of 0: the validation metric never improves after the
    # first epoch, so `patience: 1` ends the run after epoch 2 of 6.
    app = dataclasses.replace(toy.APPLICATION, presets={"quick": {
        "units": 8, "epochs": 6, "batch_size": 32, "learning_rate": 0.0, "patience": 1}})
    out = str(tmp_path / "run")
    cli.train_main(app, ["--output-dir", out, "--verbose", "0"])
    state = json.load(open(os.path.join(out, "train_state.json")))
    assert state["epoch"] == 2 and state["best_epoch"] == 1
