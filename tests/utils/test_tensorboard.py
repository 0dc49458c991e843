"""ember.utils.tensorboard.SummaryWriter: event files read back with TensorBoard's
EventAccumulator, and the same summary protobufs as torch's SummaryWriter writes."""
import io
import os

import numpy as np
import pytest

import ember

pytest.importorskip("tensorboard")
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402
from torch.utils.tensorboard import summary as torch_summary  # noqa: E402

from ember.utils.tensorboard import SummaryWriter  # noqa: E402
from ember.utils.tensorboard import _summary  # noqa: E402


def _read(logdir):
    acc = EventAccumulator(str(logdir), size_guidance={"images": 0, "tensors": 0,
                                                       "histograms": 0, "scalars": 0})
    acc.Reload()
    return acc


def test_scalars_read_back(tmp_path):
    with SummaryWriter(tmp_path) as w:
        for step in range(5):
            w.add_scalar("loss", 1.0 / (step + 1), step)
        w.add_scalar("tensor_value", ember.tensor(2.5), 7)
        w.add_scalar("new_style", 0.25, 1, new_style=True)
    acc = _read(tmp_path)
    assert [(e.step, e.value) for e in acc.Scalars("loss")] == \
        [(s, pytest.approx(1.0 / (s + 1))) for s in range(5)]
    assert [(e.step, e.value) for e in acc.Scalars("tensor_value")] == [(7, 2.5)]
    (ev,) = acc.Tensors("new_style")
    assert ev.step == 1 and ev.tensor_proto.float_val == [0.25]


def test_add_scalars_writes_one_run_per_key(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_scalars("run", {"train": 1.0, "test": 2.0}, 3)
        w.add_scalars("run", {"train": 0.5, "test": 1.5}, 4)
    for key, values in (("train", [1.0, 0.5]), ("test", [2.0, 1.5])):
        acc = _read(tmp_path / f"run_{key}")
        assert [(e.step, e.value) for e in acc.Scalars("run")] == list(zip([3, 4], values))


def test_histogram_same_as_torchs_and_read_back(tmp_path):
    values = np.random.default_rng(0).normal(size=1000).astype(np.float32)
    w = SummaryWriter(tmp_path)
    w.add_histogram("w", ember.tensor(values), 0)
    w.add_histogram("w_auto", values, 0, bins="auto")
    w.add_histogram("w_max", values, 0, bins=64, max_bins=10)
    w.close()
    acc = _read(tmp_path)
    for tag, bins, max_bins in (("w", w.default_bins, None), ("w_auto", "auto", None),
                                ("w_max", 64, 10)):
        got = acc.Histograms(tag)[0].histogram_value
        expected = torch_summary.histogram(tag, values, bins, max_bins).value[0].histo
        assert got.num == expected.num == 1000
        assert got.min == pytest.approx(float(values.min()))
        assert got.sum == pytest.approx(expected.sum)
        assert got.sum_squares == pytest.approx(expected.sum_squares)
        assert list(got.bucket_limit) == pytest.approx(list(expected.bucket_limit))
        assert list(got.bucket) == list(expected.bucket)


def _decoded(image_event):
    from PIL import Image
    return np.asarray(Image.open(io.BytesIO(image_event.encoded_image_string)))


@pytest.mark.parametrize("shape, fmt", [((3, 8, 10), "CHW"), ((8, 10, 3), "HWC"),
                                        ((1, 8, 10), "CHW"), ((8, 10), "HW")])
def test_image_pixels(tmp_path, shape, fmt):
    img = np.random.default_rng(1).random(shape).astype(np.float32)
    with SummaryWriter(tmp_path) as w:
        w.add_image("img", ember.tensor(img), 2, dataformats=fmt)
    (ev,) = _read(tmp_path).Images("img")
    pixels = _decoded(ev)
    expected = torch_summary.image("img", img, dataformats=fmt).value[0].image
    assert ev.step == 2 and (ev.height, ev.width) == (8, 10)
    assert np.array_equal(pixels, _decoded(expected))
    hwc = _summary.convert_to_HWC(img, fmt)
    assert np.array_equal(pixels, (hwc * 255).clip(0, 255).astype(np.uint8))


def test_images_tiled_like_torchs(tmp_path):
    batch = (np.random.default_rng(2).random((5, 3, 4, 6)) * 255).astype(np.uint8)
    with SummaryWriter(tmp_path) as w:
        w.add_images("batch", batch, 0)
        w.add_images("batch_nhwc", ember.tensor(batch.transpose(0, 2, 3, 1)), 0,
                     dataformats="NHWC")
    acc = _read(tmp_path)
    expected = _decoded(torch_summary.image("batch", batch).value[0].image)
    assert expected.shape == (4, 30, 3)
    assert np.array_equal(_decoded(acc.Images("batch")[0]), expected)
    assert np.array_equal(_decoded(acc.Images("batch_nhwc")[0]), expected)


def test_text_and_same_proto_as_torchs(tmp_path):
    with SummaryWriter(tmp_path) as w:
        w.add_text("notes", "hello *world*", 4)
    (ev,) = _read(tmp_path).Tensors("notes/text_summary")
    assert ev.step == 4 and ev.tensor_proto.string_val == [b"hello *world*"]
    assert _summary.text("t", "x") == torch_summary.text("t", "x")
    assert _summary.scalar("s", 1.5) == torch_summary.scalar("s", 1.5)


def test_hparams_same_protos_as_torchs_in_a_sub_run(tmp_path):
    hp = {"lr": 0.1, "optimizer": "adam", "nesterov": True, "layers": 3}
    metrics = {"hparam/accuracy": 0.9}
    ours = _summary.hparams(hp, metrics, {"optimizer": ["adam", "sgd"]})
    theirs = torch_summary.hparams(hp, metrics, {"optimizer": ["adam", "sgd"]})
    assert [s.SerializeToString() for s in ours] == [s.SerializeToString() for s in theirs]
    with SummaryWriter(tmp_path) as w:
        w.add_hparams(hp, metrics, run_name="trial0")
    acc = _read(tmp_path / "trial0")
    assert [e.value for e in acc.Scalars("hparam/accuracy")] == [pytest.approx(0.9)]
    assert {"_hparams_/experiment", "_hparams_/session_start_info",
            "_hparams_/session_end_info"} <= set(acc.summary_metadata)
    with pytest.raises(TypeError, match="hparam_dict should be a dictionary"):
        _summary.hparams([1], metrics)


def test_add_graph_of_a_module(tmp_path):
    ember.manual_seed(0)
    model = ember.nn.Sequential(ember.nn.Linear(4, 3), ember.nn.ReLU(), ember.nn.Linear(3, 2))
    with SummaryWriter(tmp_path) as w:
        w.add_graph(model, ember.randn(5, 4))
    acc = _read(tmp_path)
    nodes = {n.name: n for n in acc.Graph().node}
    assert nodes["input/input"].op == "IO Node"
    relu = nodes["Sequential/ReLU[1]/aten::relu"]
    assert relu.op == "aten::relu"
    first = relu.input[0]
    assert first.startswith("Sequential/Linear[0]/")
    assert set(nodes[first].input) >= {"input/input", "Sequential/Linear[0]/bias"}
    (out,) = [n for n in nodes.values() if n.name.startswith("output/")]
    assert out.input[0].startswith("Sequential/Linear[2]/")
    shape = nodes[out.input[0]].attr["_output_shapes"].list.shape[0]
    assert [d.size for d in shape.dim] == [5, 2]
    assert "Sequential/Linear[2]/weight" in nodes
    assert acc.RunMetadata("step1") is not None
    assert all(p.grad is None for p in model.parameters())


def test_flush_close_reopen_and_default_logdir(tmp_path, monkeypatch):
    w = SummaryWriter(tmp_path, flush_secs=3600)
    w.add_scalar("a", 1.0, 0)
    w.flush()
    assert [e.value for e in _read(tmp_path).Scalars("a")] == [1.0]
    w.close()
    w.add_scalar("a", 2.0, 1)     # reopens a new event file, as torch's writer does
    w.close()
    assert [e.value for e in _read(tmp_path).Scalars("a")] == [1.0, 2.0]
    monkeypatch.chdir(tmp_path)
    with SummaryWriter(comment="_exp") as w2:
        w2.add_scalar("b", 0.0, 0)
    (run,) = os.listdir(tmp_path / "runs")
    assert run.endswith("_exp") and w2.get_logdir() == os.path.join("runs", run)


def test_demo_logs_loss_accuracy_and_learning_rate(tmp_path):
    from ember import demo
    result = demo.run(epochs=3, progress=False, log=lambda line: None,
                      checkpoint=str(tmp_path / "c.pt"), tensorboard=str(tmp_path / "tb"))
    acc = _read(tmp_path / "tb")
    assert [(e.step, e.value) for e in acc.Scalars("loss/train")] == \
        [(i + 1, pytest.approx(v)) for i, v in enumerate(result["losses"])]
    assert [e.step for e in acc.Scalars("accuracy/held_out")] == [1, 2, 3]
    assert acc.Scalars("accuracy/held_out")[-1].value == pytest.approx(result["test_accuracy"])
    lrs = [e.value for e in acc.Scalars("learning_rate")]
    assert lrs[0] == pytest.approx(3e-3) and lrs[0] > lrs[1] > lrs[2]
