"""The trading application: no look-ahead, Keras policies, the zoo.cli commands, export without the zoo."""

import json
import os

import keras
import numpy as np
import pandas as pd
import pytest

from applications.trading import APPLICATION
from applications.trading import PRESETS
from applications.trading import data
from applications.trading import engine
from applications.trading import rrl
from applications.trading.lstm_policy_cell import LSTMPolicyCell
from applications.trading.model import build_model
from applications.trading.model import policy_cell
from applications.trading.model import predict_positions
from applications.trading.model import sharpe_loss
from applications.trading.rrl_cell import RRLCell
from tests.harness import check_layer
from tests.harness import gradients
from tests.harness import run_saved_model_fresh
from zoo.cli import evaluate_main
from zoo.cli import train_main
from zoo.cli import user_main

SPLITS = {"train_start": "1950-01", "train_end": "1964-12", "validation_end": "1969-12", "test_end": "1973-12"}
SMALL = dict(PRESETS["full"], lags=[3], l2=[0.01], epochs=30)


@pytest.fixture(scope="module")
def panel():
    return data.load_panel("frenchdata")[0]


def _perturb_after(frame, when):
    changed = frame.copy()
    later = changed.index >= pd.Timestamp(when)
    for column in changed.columns:
        changed.loc[later, column] = changed.loc[later, column] * -3.0 + 0.01
    return changed


def test_changing_the_future_never_changes_a_past_position(panel):
    """Training, scaling, selection and walk-forward refits use only the past."""
    when = "1972-06-30"
    changed = _perturb_after(panel, when)
    results = {}
    for name, frame in (("original", panel), ("changed", changed)):
        (result,) = engine.select_rrl(frame, SMALL, [0], SPLITS)
        fixed, info, _ = engine.positions_for(result, frame, SMALL, SPLITS)
        walked, _, _ = engine.walk_forward(frame, dict(SMALL, epochs=10), result, SPLITS, window_years=6)
        results[name] = (result["theta"], fixed, walked, info.index)
    theta, fixed, walked, dates = results["original"]
    theta2, fixed2, walked2, _ = results["changed"]
    np.testing.assert_array_equal(theta, theta2)  # fitted before 1970: the change is later
    past = np.asarray(dates < pd.Timestamp(when))
    np.testing.assert_array_equal(fixed[past], fixed2[past])
    np.testing.assert_array_equal(walked[past], walked2[past])
    # ... and the test has teeth: later positions do move.
    assert np.nanmax(np.abs(walked[~past] - walked2[~past])) > 1e-3
    assert np.abs(fixed[~past] - fixed2[~past]).max() > 1e-3


def test_walk_forward_refits_only_on_the_past(panel):
    """A change in 1973 leaves the 1970-1972 walk-forward positions (and their refits) unchanged."""
    (result,) = engine.select_rrl(panel, SMALL, [1], SPLITS)
    a, info, masks = engine.walk_forward(panel, dict(SMALL, epochs=10), result, SPLITS, window_years=6, seed=1)
    b, _, _ = engine.walk_forward(_perturb_after(panel, "1973-01-31"), dict(SMALL, epochs=10), result, SPLITS,
                                  window_years=6, seed=1)
    before = np.asarray(info.index < pd.Timestamp("1973-01-31"))
    np.testing.assert_array_equal(a[before], b[before])
    assert np.isfinite(a[masks["test"]]).all()


def test_keras_rrl_equals_numpy(panel):
    features, info = data.build_features(panel, "returns", 4)
    x = features.to_numpy()[:200] * 20
    theta = rrl.init_theta(4, seed=0, scale=0.5)[0]
    model = build_model({"policy": "rrl", "num_features": 4})
    policy_cell(model).set_theta(theta)
    np.testing.assert_allclose(policy_cell(model).get_theta(), theta, atol=1e-7)
    keras_positions = keras.ops.convert_to_numpy(model(x[None].astype("float32")))[0, :, 0]
    np.testing.assert_allclose(keras_positions, rrl.positions(theta, x), atol=1e-5)
    # One step of the cell with the previous position as its state.
    step, _ = policy_cell(model)(x[10:11].astype("float32"), [keras_positions[9:10][:, None]])
    np.testing.assert_allclose(keras.ops.convert_to_numpy(step)[0, 0], keras_positions[10], atol=1e-5)


@pytest.mark.backend_parity
def test_keras_rrl_gradient_equals_exact_numpy_gradient():
    """Backend autodiff through the recurrence == the hand-written BPTT (float32 tolerance)."""
    import zoo.layers

    rng = np.random.default_rng(0)
    x = rng.normal(size=(1, 40, 3)).astype("float32")
    theta = np.array([0.1, 0.4, -0.3, 0.2, 0.7])
    layer = zoo.layers.RNN(RRLCell(), return_sequences=True)
    layer(x)
    layer.cell.set_theta(theta)
    w = rng.normal(size=(1, 40, 1)).astype("float32")
    out, grads, _ = gradients(layer, x, output_weights=w)
    # d(sum w_t F_t)/dtheta from the RTRL Jacobians.
    jac = rrl.position_jacobians(theta, x[0].astype("float64"))
    expected = w[0, :, 0] @ jac
    got = {name.split("/")[-1]: g for name, g in grads.items()}
    np.testing.assert_allclose(got["bias"].reshape(-1), expected[:1], atol=1e-4)
    np.testing.assert_allclose(got["kernel"].reshape(-1), expected[1:-1], atol=1e-4)
    np.testing.assert_allclose(got["recurrent_kernel"].reshape(-1), expected[-1:], atol=1e-4)


@pytest.mark.backend_parity
def test_sharpe_loss_equals_numpy_objective():
    rng = np.random.default_rng(1)
    f = np.tanh(rng.normal(size=(2, 30)))
    y = rng.normal(0.01, 0.05, size=(2, 30))
    loss = keras.ops.convert_to_numpy(sharpe_loss(0.005)(y.astype("float32"), f[..., None].astype("float32")))
    expected = [-rrl.sharpe(rrl.trading_returns(f[i], y[i], 0.005)) for i in range(2)]
    np.testing.assert_allclose(loss, expected, rtol=1e-4)


def test_cells_follow_the_layer_contract(tmp_path):
    import zoo.layers

    x = np.random.default_rng(0).normal(size=(2, 6, 3)).astype("float32")
    check_layer(lambda: zoo.layers.RNN(RRLCell(), return_sequences=True), x, tmp_path, atol=1e-5)
    (tmp_path / "lstm").mkdir()
    check_layer(lambda: zoo.layers.RNN(LSTMPolicyCell(4), return_sequences=True), x, tmp_path / "lstm", atol=1e-5)
    cell = LSTMPolicyCell(4)
    assert LSTMPolicyCell.from_config(cell.get_config()).get_config() == cell.get_config()
    with pytest.raises(ValueError, match="units"):
        LSTMPolicyCell(0)


def test_lstm_policy_trains_by_fit():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1, 40, 2)).astype("float32")
    y = (0.01 * np.sign(x[..., 0]) + 0.002 * rng.normal(size=(1, 40))).astype("float32")
    keras.utils.set_random_seed(0)
    model = build_model({"policy": "lstm", "num_features": 2, "units": 4, "learning_rate": 0.05, "cost": 0.0})
    before = float(model.evaluate(x, y, verbose=0))
    model.fit(x, y, epochs=15, verbose=0)
    assert float(model.evaluate(x, y, verbose=0)) < before - 0.3  # higher Sharpe
    positions = predict_positions(model, x[0])
    assert positions.shape == (40,) and np.all(np.abs(positions) < 1)


def test_build_model_bad_config():
    with pytest.raises(ValueError, match="policy"):
        build_model({"policy": "gru", "num_features": 3})
    with pytest.raises(ValueError, match="num_features"):
        build_model({"policy": "rrl"})


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("trading") / "run")
    train_main(APPLICATION, ["--preset", "quick", "--output-dir", out, "--epochs", "30"])
    return out


def test_train_evaluate_cli(run_dir, tmp_path, capsys):
    config = json.load(open(os.path.join(run_dir, "config.json")))
    assert config["application"] == "trading" and config["config"]["num_features"] == 8
    assert config["config"]["epochs"] == 30 and config["requested_config"]["lags"] == [8]
    # A second train into the same directory needs --resume, which finds the run finished.
    with pytest.raises(SystemExit):
        train_main(APPLICATION, ["--preset", "quick", "--output-dir", run_dir])
    assert "--resume" in capsys.readouterr().err
    train_main(APPLICATION, ["--preset", "quick", "--output-dir", run_dir, "--epochs", "30", "--resume"])
    assert "nothing to do" in capsys.readouterr().out
    # ... and cannot change it.
    with pytest.raises(SystemExit):
        train_main(APPLICATION, ["--preset", "quick", "--output-dir", run_dir, "--resume"])
    assert "changed keys ['epochs']" in capsys.readouterr().err
    out = str(tmp_path / "m.json")
    plots = str(tmp_path / "plots")
    metrics = evaluate_main(APPLICATION, ["--weights", run_dir, "--json", out, "--plots", plots])
    saved = json.load(open(out))
    for key in ("sharpe_rrl", "sharpe_buy_and_hold", "sharpe_diff_low_rrl", "max_drawdown_rrl", "turnover_rrl"):
        assert key in saved
    assert saved["sharpe_diff_low_rrl"] <= saved["sharpe_diff_rrl"] <= saved["sharpe_diff_high_rrl"]
    assert saved["periods"] == 300  # 1970-1994
    assert saved["turnover_buy_and_hold"] == 0
    assert os.listdir(plots) == ["trading_rrl_frenchdata_test.png"]
    # The evaluate hook, called as the manifest test does, gives the same numbers.
    model, scaler, run = APPLICATION.from_pretrained(run_dir)
    direct = APPLICATION.evaluate(model, scaler, run["config"], "frenchdata", None, "test")
    assert direct == pytest.approx(metrics)


def test_set_reaches_the_trainer(tmp_path, capsys):
    """--set features=macro (no --features flag), checked before training."""
    out = str(tmp_path / "macro")
    train_main(APPLICATION, ["--output-dir", out, "--epochs", "20", "--set", "features=macro", "--set", "lags=[3]"])
    config = json.load(open(os.path.join(out, "config.json")))["config"]
    assert config["features"] == "macro" and config["lags"] == 3 and config["strategy"] == "rrl_macro"
    for setting, message in (("features=bogus", "Unknown feature set"), ("cost=0.7", "cost"),
                             ("lags=[0]", "lags")):
        with pytest.raises(SystemExit):
            train_main(APPLICATION, ["--output-dir", str(tmp_path / "bad"), "--set", setting])
        assert message in capsys.readouterr().err
    assert not os.path.exists(os.path.join(tmp_path, "bad", "config.json"))


@pytest.mark.parametrize("flag", [["--batch-size", "3"], ["--distribute", "mirrored"], ["--verbose", "1"],
                                  ["--data-dir", "/tmp"]])
def test_flags_it_cannot_honour_are_refused(flag, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        train_main(APPLICATION, ["--output-dir", str(tmp_path / "run")] + flag)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert f"{flag[0]} is not supported by the trading application: " in err
    assert not os.path.exists(tmp_path / "run")
    if flag[0] in ("--batch-size", "--data-dir"):  # shared with evaluate
        with pytest.raises(SystemExit):
            evaluate_main(APPLICATION, flag)
        assert f"{flag[0]} is not supported" in capsys.readouterr().err


def test_build_preprocessor_reads_a_run_back(run_dir):
    from applications.trading.preprocessing import FeatureScaler

    assert APPLICATION.build_preprocessor({}, None, run_dir).names == FeatureScaler.load(run_dir).names
    with pytest.raises(ValueError, match="fitted by the trainer"):
        APPLICATION.build_preprocessor({}, object(), None)


def test_lstm_optimizer_from_config():
    """Adam with per-variable clipnorm 1.0 by default (as the results were made); --set reaches it."""
    model = build_model(dict(PRESETS["lstm"], num_features=2))
    assert model.optimizer.clipnorm == 1.0 and model.optimizer.global_clipnorm is None
    assert float(model.optimizer.learning_rate) == pytest.approx(0.01)
    bare = build_model({"policy": "lstm", "num_features": 2})  # a shipped config has no clip keys
    assert bare.optimizer.clipnorm == 1.0 and float(bare.optimizer.learning_rate) == pytest.approx(0.01)
    other = build_model(dict(PRESETS["lstm"], num_features=2, clip="global_norm", clipnorm=5.0))
    assert other.optimizer.global_clipnorm == 5.0 and other.optimizer.clipnorm is None


def test_application_contract(run_dir, tmp_path):
    """The shared application check on a run of the RRL trainer, then the
    serving signatures against the numpy recurrence on real data."""
    from tests.harness import check_application

    model, scaler, run = APPLICATION.from_pretrained(run_dir)
    frame, _ = data.load_panel("frenchdata")
    features, _ = data.build_features(frame, "returns", 8)
    positions = predict_positions(model, scaler.transform(features))
    t = np.arange(500, 505)
    window = np.stack([frame["excess"].loc[:features.index[i]].to_numpy()[-8:, None] for i in t]).astype("float32")
    previous = positions[t - 1].astype("float32")
    window[4, 2, 0] = np.nan  # a missing value: not traded
    inputs = {"window": window, "previous_position": previous}
    check_application(APPLICATION, run["config"], None, inputs, tmp_path, run_dir=run_dir)
    path = os.path.join(str(tmp_path), "serving", "trading", "1")
    got = run_saved_model_fresh(path, inputs, tmp_path)
    np.testing.assert_allclose(got["position"][:4], positions[t[:4]], atol=1e-5)
    assert got["valid"].tolist() == [True] * 4 + [False]
    assert got["position"][4] == pytest.approx(previous[4])
    feats = features.to_numpy()[t].astype("float32")
    plain = run_saved_model_fresh(path, {"features": feats, "previous_position": previous}, tmp_path,
                                  signature="serve_features")
    np.testing.assert_allclose(plain["position"], positions[t], atol=1e-5)


def test_lstm_export_is_refused(run_dir):
    from applications.trading.preprocessing import FeatureScaler
    from applications.trading.serving import export_endpoints

    model = build_model({"policy": "lstm", "num_features": 8, "units": 2})
    with pytest.raises(ValueError, match="RRL policy"):
        export_endpoints(model, FeatureScaler.load(run_dir))


def backtest(argv):
    return user_main(APPLICATION, argv)


def test_backtest_csv(tmp_path, capsys):
    rng = np.random.default_rng(0)
    n = 400
    dates = pd.bdate_range("2010-01-01", periods=n)
    prices = 100 * np.exp(np.cumsum(0.0003 + 0.01 * rng.normal(size=n)))
    path = tmp_path / "prices.csv"
    pd.DataFrame({"Date": dates, "Close": prices}).to_csv(path, index=False)
    out = str(tmp_path / "m.json")
    (row,) = backtest(["--csv", str(path), "--preset", "quick", "--json", out, "--cost", "0.001"])
    assert "trading backtest · prices.csv" in capsys.readouterr().out
    (metrics,) = json.load(open(out))
    assert metrics == row and metrics["csv"] == str(path)
    assert "sharpe_rrl" in metrics and metrics["periods"] > 60
    bad = tmp_path / "bad.csv"
    pd.DataFrame({"Date": dates[:60], "Close": prices[:60]}).to_csv(bad, index=False)
    with pytest.raises(SystemExit):
        backtest(["--csv", str(bad)])
    assert "too short" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        backtest(["--csv", str(path), "--preset", "full"])
    assert "lagged returns" in capsys.readouterr().err
    # Shipped weights, no training; training options are refused with them.
    (shipped,) = backtest(["--csv", str(path), "--weights", "trading_rrl_monthly", "--json", "-"])
    assert shipped["periods"] == metrics["periods"]
    assert json.loads(capsys.readouterr().out) == [shipped]
    with pytest.raises(SystemExit):
        backtest(["--csv", str(path), "--weights", "trading_rrl_monthly", "--seed", "1"])
    assert "--seed would be ignored" in capsys.readouterr().err


@pytest.mark.parametrize("policy,cell", [("rrl", "RRLCell"), ("lstm", "LSTMPolicyCell")])
def test_keras_files_saved_under_the_former_names_still_load(policy, cell, tmp_path):
    """The cells are registered as `trading>...` now; `.keras` files written
    when they were `zoo>...` load as before."""
    import zipfile

    import numpy as np

    from applications.trading.model import build_model

    model = build_model({"policy": policy, "num_features": 3, "units": 4})
    x = np.random.default_rng(0).standard_normal((1, 7, 3)).astype("float32")
    path = str(tmp_path / "new.keras")
    model.save(path)
    old = str(tmp_path / "old.keras")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(old, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "config.json":
                assert f"trading>{cell}".encode() in data
                data = data.replace(f"trading>{cell}".encode(), f"zoo>{cell}".encode())
            dst.writestr(item, data)
    loaded = keras.saving.load_model(old, compile=False)  # the Sharpe loss is a closure
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), atol=1e-6)
