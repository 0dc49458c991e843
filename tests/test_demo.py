"""The digits demo: a short run trains, reports accuracy, and reloads the same model."""
import os
import subprocess
import sys

from ember import demo


def test_short_training_run_learns_and_checkpoint_reloads(tmp_path):
    lines = []
    result = demo.run(epochs=6, progress=False, log=lines.append,
                      checkpoint=str(tmp_path / "ckpt.pt"))
    assert result["test_accuracy"] >= 0.93
    assert result["reloaded_accuracy"] == result["test_accuracy"]
    assert result["losses"][-1] < result["losses"][0] / 4
    assert result["n_test"] == 359 and result["checkpoint_epochs"] == 6
    assert (tmp_path / "ckpt.pt").exists()
    assert sum(line.startswith("epoch") for line in lines) == 6
    assert any("(same)" in line for line in lines)


def test_python_dash_m_ember_demo_prints_progress_losses_and_accuracy():
    env = dict(os.environ, EMBER_DEMO_EPOCHS="2")
    proc = subprocess.run([sys.executable, "-m", "ember.demo"], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout + proc.stderr
    assert "training: 100%" in out            # the tqdm bar
    assert "epoch   1  loss" in out and "epoch   2  loss" in out
    assert "held-out accuracy:" in out and "(same)" in out


def test_seed_session_still_runs():
    proc = subprocess.run([sys.executable, "-m", "ember.seed_session"], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "x.grad" in proc.stdout and "tensor([[6., 6.]," in proc.stdout
