"""TensorBoard in a real browser: the demo's --tensorboard logs, served by ``tensorboard
--logdir`` on a loopback port, show the loss chart in headless Chromium.

Runs where Chromium is installed (``.ci/run`` installs Debian's ``chromium``); a
screenshot is saved under the test's temp dir.
"""
import json
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

pytest.importorskip("tensorboard")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None, reason="needs Chromium (CI installs it)")]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(logdir, port):
    """Start TensorBoard and wait until it lists the run's scalar tags."""
    proc = subprocess.Popen([sys.executable, "-m", "tensorboard.main", "--logdir", str(logdir),
                             "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError("tensorboard exited: " + proc.stderr.read().decode()[-2000:])
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/data/plugin/scalars/tags",
                                        timeout=5) as r:
                tags = json.load(r)
            if tags:
                return proc, tags
        except OSError:
            pass
        time.sleep(0.5)
    proc.terminate()
    raise AssertionError("tensorboard did not serve the logs in 90 s")


def _chromium(url, *args):
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
           "--window-size=1400,1000", "--virtual-time-budget=20000", *args, url]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180)


def _page_text(dom):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", dom))


def test_demo_loss_chart_shows_in_chromium(tmp_path):
    from ember import demo
    logdir = tmp_path / "tb"
    result = demo.run(epochs=3, progress=False, log=lambda line: None,
                      checkpoint=str(tmp_path / "c.pt"), tensorboard=str(logdir))
    port = _free_port()
    proc, tags = _serve(logdir, port)
    try:
        assert set(tags["."]) == {"loss/train", "accuracy/held_out", "learning_rate"}
        url = f"http://127.0.0.1:{port}/?tagFilter=loss#timeseries"
        # The page fetches its data after it loads; on a busy machine a first look can
        # come before the chart does, so look again (a fresh browser each time).
        for _ in range(4):
            page = _chromium(url, "--dump-dom")
            assert page.returncode == 0, page.stderr[-2000:]
            cards = page.stdout.split("<scalar-card ")[1:]
            if cards and "Relative" in cards[0]:
                break
        (tmp_path / "dom.html").write_text(page.stdout)
        assert len(cards) == 1, "one scalar chart for the 'loss' filter"
        card = _page_text(cards[0])
        assert "loss /train" in card or "loss/train" in card
        assert "<line-chart" in cards[0]
        # the chart's data table: the last epoch's loss at step 3
        assert re.search(rf"Value Step Relative \. [\d.]+ {result['losses'][-1]:.4f} 3 ", card)
        shot = tmp_path / "tensorboard_loss.png"
        taken = _chromium(url, f"--screenshot={shot}")
        assert taken.returncode == 0, taken.stderr[-2000:]
        assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    finally:
        proc.terminate()
        proc.wait(timeout=30)
