"""Smoke tests: each example runs with short settings and gets a meaningful result."""
import importlib.util
import math
import os

import pytest

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "examples")


def _load(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(EXAMPLES, name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cnn_digits(capsys):
    result = _load("cnn_digits").main(["--epochs", "3", "--limit", "640"])
    assert result["accuracy"] > 0.5
    assert "test accuracy" in capsys.readouterr().out


def test_char_transformer_learns_and_samples(capsys):
    result = _load("char_transformer").main(["--steps", "20", "--batch-size", "4",
                                             "--sample-chars", "12"])
    assert result["val_loss"] < result["uniform_loss"] - 0.4
    assert result["sample"].startswith("The ") and len(result["sample"]) == 16
    assert "sample:" in capsys.readouterr().out


def test_lstm_sequence_beats_the_persistence_baseline():
    result = _load("lstm_sequence").main(["--epochs", "4", "--train-size", "256"])
    assert result["test_mse"] < result["baseline_mse"] / 2


def test_lbfgs_regression_matches_closed_form_and_recovers_parameters():
    result = _load("lbfgs_regression").main(["--steps", "5"])
    assert result["poly_error"] < 1e-5
    assert result["theta"] == pytest.approx((2.0, 3.0, 0.5), abs=0.05)


def test_custom_function():
    result = _load("custom_function").main(["--steps", "200"])
    assert result["grad_gap"] < 1e-6 and result["second_gap"] < 1e-12
    assert result["overflow_free"][2] == 1000.0 and not math.isinf(result["overflow_free"][2])
    assert result["mse"] < 0.1
