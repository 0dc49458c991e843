"""Convolution, pooling, attention and recurrent layers: Ember and torch side by side.

    python benchmarks/bench_nn.py [--repeat N] [--only SUBSTRING] [--threads N]

Every case builds the same model or tensors in both libraries and times one
forward + backward (or one training step).  Runs alternate between the libraries
so that machine noise hits both alike; the figures are medians and the
Ember/torch ratio.  Nothing is asserted: timings never belong in tests.

``--threads N`` caps both libraries' BLAS/OpenMP threads (NumPy's only through the
environment, so it is read before NumPy loads).  On a machine shared with other
jobs, multithreaded GEMMs stall unpredictably; one thread gives steadier figures.
"""
import argparse
import os
import sys

if "--threads" in sys.argv:
    _n = sys.argv[sys.argv.index("--threads") + 1]
    for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[_var] = _n

import ember  # noqa: E402  (after the thread settings)
from bench_overhead import measure  # noqa: E402  (the same alternating median timer)

try:
    import torch
except ImportError:  # the benchmark still reports Ember alone
    torch = None


def case_conv(n, c, o, hw, k, stride=1, padding=0):
    def make(lib):
        x = lib.randn(n, c, hw, hw, requires_grad=True)
        w = lib.randn(o, c, k, k, requires_grad=True)
        b = lib.randn(o, requires_grad=True)

        def run():
            lib.nn.functional.conv2d(x, w, b, stride, padding).sum().backward()
        return run
    return make


def case_max_pool(n, c, hw, k):
    def make(lib):
        x = lib.randn(n, c, hw, hw, requires_grad=True)

        def run():
            lib.nn.functional.max_pool2d(x, k).sum().backward()
        return run
    return make


def case_avg_pool(n, c, hw, k):
    def make(lib):
        x = lib.randn(n, c, hw, hw, requires_grad=True)

        def run():
            lib.nn.functional.avg_pool2d(x, k).sum().backward()
        return run
    return make


def _train_step(lib, model, x, y):
    opt = lib.optim.SGD(model.parameters(), lr=0.01)

    def run():
        opt.zero_grad()
        lib.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    return run


def case_mnist_cnn(lib):
    nn = lib.nn
    lib.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(64 * 5 * 5, 10))
    return _train_step(lib, model, lib.randn(64, 1, 28, 28), lib.randint(0, 10, (64,)))


def case_transformer(lib):
    nn = lib.nn
    lib.manual_seed(0)
    layer = nn.TransformerEncoderLayer(d_model=128, nhead=4, dim_feedforward=256,
                                       dropout=0.0, batch_first=True)
    head = nn.Linear(128, 10)
    model = nn.Sequential(layer, nn.Flatten(0, 1), head)
    x = lib.randn(16, 32, 128)
    y = lib.randint(0, 10, (16 * 32,))
    return _train_step(lib, model, x, y)


class _LSTMHead:
    def __init__(self, lib):
        self.lstm = lib.nn.LSTM(64, 128, batch_first=True)
        self.head = lib.nn.Linear(128, 10)

    def parameters(self):
        return list(self.lstm.parameters()) + list(self.head.parameters())

    def __call__(self, x):
        out, _ = self.lstm(x)
        return self.head(out[:, -1])


def case_lstm(lib):
    lib.manual_seed(0)
    model = _LSTMHead(lib)
    return _train_step(lib, model, lib.randn(32, 35, 64), lib.randint(0, 10, (32,)))


class _GRUHead(_LSTMHead):
    def __init__(self, lib):
        self.lstm = lib.nn.GRU(64, 128, batch_first=True)
        self.head = lib.nn.Linear(128, 10)


def case_gru(lib):
    lib.manual_seed(0)
    model = _GRUHead(lib)
    return _train_step(lib, model, lib.randn(32, 35, 64), lib.randint(0, 10, (32,)))


def case_sdpa(lib):
    q = lib.randn(8, 4, 64, 32, requires_grad=True)
    k = lib.randn(8, 4, 64, 32, requires_grad=True)
    v = lib.randn(8, 4, 64, 32, requires_grad=True)

    def run():
        lib.nn.functional.scaled_dot_product_attention(q, k, v).sum().backward()
    return run


CASES = [
    ("conv2d 64x1x28x28 -> 32, k3", case_conv(64, 1, 32, 28, 3)),
    ("conv2d 64x32x13x13 -> 64, k3", case_conv(64, 32, 64, 13, 3)),
    ("conv2d 16x64x32x32 -> 64, k3 p1", case_conv(16, 64, 64, 32, 3, padding=1)),
    ("conv2d 16x32x32x32 -> 64, k5 s2", case_conv(16, 32, 64, 32, 5, stride=2)),
    ("max_pool2d 64x32x26x26, k2", case_max_pool(64, 32, 26, 2)),
    ("avg_pool2d 64x32x26x26, k2", case_avg_pool(64, 32, 26, 2)),
    ("sdpa 8x4x64x32", case_sdpa),
    ("MNIST CNN train step, batch 64", case_mnist_cnn),
    ("TransformerEncoderLayer step", case_transformer),
    ("LSTM step 32x35x64 -> 128", case_lstm),
    ("GRU step 32x35x64 -> 128", case_gru),
]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=10)
    p.add_argument("--only", default="", help="run the cases whose name contains this")
    p.add_argument("--threads", type=int, default=None, help="threads for both libraries")
    args = p.parse_args()
    libs = {"ember": ember}
    if torch is not None:
        libs["torch"] = torch
        if args.threads:
            torch.set_num_threads(args.threads)
    print(f"{'case':34} {'ember':>10} {'torch':>10} {'ratio':>8}")
    for name, make in CASES:
        if args.only not in name:
            continue
        med = measure({k: make(lib) for k, lib in libs.items()}, args.repeat)
        ratio = f"{med['ember'] / med['torch']:7.2f}x" if "torch" in med else f"{'-':>8}"
        torch_ms = f"{med['torch'] * 1e3:8.2f}ms" if "torch" in med else f"{'-':>10}"
        print(f"{name:34} {med['ember'] * 1e3:8.2f}ms {torch_ms} {ratio}", flush=True)


if __name__ == "__main__":
    main()
