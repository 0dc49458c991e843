"""The benchmark workloads, written once for any torch-like library.

Each workload is ``make(lib) -> step`` where ``lib`` is ``ember`` or ``torch`` and
``step()`` runs one unit of work (a training step, a forward + backward, or an inference
pass) and returns a scalar tensor (the loss, or a sum of the output) so that tests can
check that Ember computes torch's numbers.  Parameters and data come from a NumPy RNG and
are copied into the model, so both libraries start from identical weights.

Every ``make`` also takes ``device`` ("cpu", the default, or "cuda"): the model, its data
and the optimizer's state live there.  ``WORKLOADS`` maps a name to ``(make, kind)``; kind
is "train", "chain", "op" or "inference".  Sizes follow issue 10.  ``EXTRA`` holds further layers (pooling, attention,
other convolution shapes, a GRU, a TransformerEncoderLayer) that ``run.py --extra`` adds;
``ALL`` is both.  ``BLAS`` maps a workload to the bare NumPy calls it reduces to
(``make() -> step``), the floor it is measured against.  ``RATES`` holds the GPU-sized
single ops (``make(lib, device, size) -> step``, timed for a rate, not a loss) with the
work of one step: a large matmul's flops, a large elementwise op's bytes.
"""
import numpy as np


def _rng(seed=0):
    return np.random.default_rng(seed)


def _tensor(lib, array, device="cpu"):
    t = lib.from_numpy(np.ascontiguousarray(array))
    return t if device == "cpu" else t.to(device)


def _init_params(lib, model, device="cpu", seed=0):
    """Overwrite every parameter with the same NumPy draws in both libraries, then move
    the model to ``device``."""
    rng = _rng(seed)
    with lib.no_grad():
        for _, p in model.named_parameters():
            fan_in = p.shape[1] if p.dim() > 1 else p.shape[0]
            for d in p.shape[2:]:
                fan_in *= d
            bound = 1.0 / np.sqrt(fan_in)
            data = rng.uniform(-bound, bound, size=tuple(p.shape)).astype(np.float32)
            p.copy_(_tensor(lib, data))
    return model.to(device)


def _images(lib, n, c, hw, device="cpu", seed=1):
    return _tensor(lib, _rng(seed).standard_normal((n, c, hw, hw)).astype(np.float32), device)


def _labels(lib, n, classes, device="cpu", seed=2):
    return _tensor(lib, _rng(seed).integers(0, classes, size=n).astype(np.int64), device)


def _train(lib, model, opt, x, y):
    F = lib.nn.functional

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


# -- training steps -------------------------------------------------------------------

def _mlp_model(lib, device="cpu"):
    nn = lib.nn
    return _init_params(lib, nn.Sequential(
        nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 256), nn.ReLU(), nn.Linear(256, 10)),
        device)


def _mlp_input(lib, device="cpu"):
    return _tensor(lib, _rng(1).standard_normal((128, 784)).astype(np.float32), device)


def mlp(lib, device="cpu"):
    model = _mlp_model(lib, device)
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    return _train(lib, model, opt, _mlp_input(lib, device), _labels(lib, 128, 10, device))


def mlp_gelu_ln(lib, device="cpu"):
    nn = lib.nn
    model = _init_params(lib, nn.Sequential(
        nn.Linear(784, 512), nn.LayerNorm(512), nn.GELU(),
        nn.Linear(512, 256), nn.LayerNorm(256), nn.GELU(), nn.Linear(256, 10)), device)
    opt = lib.optim.AdamW(model.parameters(), lr=1e-3)
    return _train(lib, model, opt, _mlp_input(lib, device), _labels(lib, 128, 10, device))


def _cnn_model(lib, device="cpu"):
    nn = lib.nn
    return _init_params(lib, nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 14 * 14, 10)), device)


def cnn(lib, device="cpu"):
    model = _cnn_model(lib, device)
    opt = lib.optim.Adam(model.parameters(), lr=1e-3)
    return _train(lib, model, opt, _images(lib, 32, 1, 28, device), _labels(lib, 32, 10, device))


def _resnet_model(lib, device="cpu"):
    nn = lib.nn

    class BasicBlock(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.conv1 = nn.Conv2d(c, c, 3, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(c)
            self.conv2 = nn.Conv2d(c, c, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(c)

        def forward(self, x):
            out = lib.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return lib.relu(out + x)

    class ResNet(nn.Module):
        def __init__(self, c=32, blocks=2, classes=10):
            super().__init__()
            self.stem = nn.Conv2d(3, c, 3, padding=1, bias=False)
            self.bn = nn.BatchNorm2d(c)
            self.blocks = nn.Sequential(*[BasicBlock(c) for _ in range(blocks)])
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(c, classes)

        def forward(self, x):
            x = lib.relu(self.bn(self.stem(x)))
            x = self.pool(self.blocks(x))
            return self.fc(lib.flatten(x, 1))

    return _init_params(lib, ResNet(), device)


def resnet(lib, device="cpu"):
    model = _resnet_model(lib, device)
    opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    return _train(lib, model, opt, _images(lib, 32, 3, 32, device), _labels(lib, 32, 10, device))


def _gpt_model(lib, vocab=65, width=128, heads=4, layers=2, seq=64, device="cpu"):
    nn = lib.nn
    F = lib.nn.functional

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.ln1 = nn.LayerNorm(width)
            self.qkv = nn.Linear(width, 3 * width)
            self.proj = nn.Linear(width, width)
            self.ln2 = nn.LayerNorm(width)
            self.fc = nn.Linear(width, 4 * width)
            self.out = nn.Linear(4 * width, width)

        def forward(self, x):
            b, t, c = x.shape
            q, k, v = self.qkv(self.ln1(x)).split(c, dim=2)
            q, k, v = (z.view(b, t, heads, c // heads).transpose(1, 2) for z in (q, k, v))
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            x = x + self.proj(y.transpose(1, 2).contiguous().view(b, t, c))
            return x + self.out(F.gelu(self.fc(self.ln2(x))))

    class GPT(nn.Module):
        def __init__(self):
            super().__init__()
            self.tok = nn.Embedding(vocab, width)
            self.pos = nn.Embedding(seq, width)
            self.blocks = nn.Sequential(*[Block() for _ in range(layers)])
            self.ln = nn.LayerNorm(width)
            self.head = nn.Linear(width, vocab)

        def forward(self, idx):
            t = idx.shape[1]
            x = self.tok(idx) + self.pos(lib.arange(t, device=idx.device))
            return self.head(self.ln(self.blocks(x)))

    return _init_params(lib, GPT(), device)


def gpt(lib, device="cpu", vocab=65, seq=64, batch=16):
    model = _gpt_model(lib, vocab=vocab, seq=seq, device=device)
    opt = lib.optim.AdamW(model.parameters(), lr=3e-4)
    idx = _tensor(lib, _rng(1).integers(0, vocab, size=(batch, seq + 1)).astype(np.int64),
                  device)
    x, y = idx[:, :-1], idx[:, 1:]
    F = lib.nn.functional

    def step():
        opt.zero_grad()
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, vocab), y.reshape(-1))
        loss.backward()
        opt.step()
        return loss
    return step


def lstm(lib, device="cpu", vocab=64, width=128, seq=32, batch=16):
    nn = lib.nn

    class LM(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(vocab, 64)
            self.rnn = nn.LSTM(64, width, batch_first=True)
            self.head = nn.Linear(width, vocab)

        def forward(self, idx):
            out, _ = self.rnn(self.emb(idx))
            return self.head(out)

    model = _init_params(lib, LM(), device)
    opt = lib.optim.Adam(model.parameters(), lr=1e-3)
    idx = _tensor(lib, _rng(1).integers(0, vocab, size=(batch, seq + 1)).astype(np.int64),
                  device)
    x, y = idx[:, :-1], idx[:, 1:]
    F = lib.nn.functional

    def step():
        opt.zero_grad()
        loss = F.cross_entropy(model(x).reshape(-1, vocab), y.reshape(-1))
        loss.backward()
        opt.step()
        return loss
    return step


# -- dispatch overhead ----------------------------------------------------------------

def chain(lib, device="cpu"):
    """150 small pointwise ops on 16 elements, with backward: pure per-op overhead."""
    x = _tensor(lib, _rng(1).standard_normal(16).astype(np.float32), device).requires_grad_()

    def step():
        x.grad = None
        y = x
        for _ in range(50):
            y = y * 1.01
            y = y + 0.1
            y = y.tanh()
        out = y.sum()
        out.backward()
        return out
    return step


# -- large single ops (forward + backward) -------------------------------------------

def _op_case(lib, device, fn, *shapes, seed=1):
    rng = _rng(seed)
    xs = [_tensor(lib, rng.standard_normal(s).astype(np.float32), device).requires_grad_()
          for s in shapes]

    def step():
        for x in xs:
            x.grad = None
        out = fn(lib, *xs).sum()
        out.backward()
        return out
    return step


def matmul(lib, device="cpu"):
    return _op_case(lib, device, lambda lib, a, b: a @ b, (1024, 1024), (1024, 1024))


def conv2d(lib, device="cpu"):
    return _op_case(lib, device, lambda lib, x, w: lib.nn.functional.conv2d(x, w, padding=1),
                    (32, 64, 32, 32), (64, 64, 3, 3))


def softmax(lib, device="cpu"):
    return _op_case(lib, device, lambda lib, x: (lib.softmax(x, -1) * x), (512, 4096))


def layer_norm(lib, device="cpu"):
    return _op_case(lib, device, lambda lib, x, w, b: lib.nn.functional.layer_norm(x, (1024,), w, b) * x,
                    (2048, 1024), (1024,), (1024,))


def cross_entropy(lib, device="cpu"):
    y = _labels(lib, 2048, 1000, device)
    return _op_case(lib, device, lambda lib, x: lib.nn.functional.cross_entropy(x, y),
                    (2048, 1000))


def matmul_blas():
    """What ``matmul`` costs at the BLAS: the product and the two gradient products."""
    rng = _rng(1)
    a, b = (rng.standard_normal((1024, 1024)).astype(np.float32) for _ in range(2))
    g = np.ones((1024, 1024), dtype=np.float32)

    def step():
        a @ b
        g @ b.T
        a.T @ g
    return step


# -- inference ------------------------------------------------------------------------

def _inference(lib, model, x):
    model.eval()

    def step():
        with lib.no_grad():
            return model(x).sum()
    return step


def mlp_inference(lib, device="cpu"):
    return _inference(lib, _mlp_model(lib, device), _mlp_input(lib, device))


def cnn_inference(lib, device="cpu"):
    return _inference(lib, _cnn_model(lib, device), _images(lib, 32, 1, 28, device))


WORKLOADS = {
    "mlp": (mlp, "train"),
    "cnn": (cnn, "train"),
    "gpt": (gpt, "train"),
    "resnet": (resnet, "train"),
    "mlp_gelu_ln": (mlp_gelu_ln, "train"),
    "lstm": (lstm, "train"),
    "chain": (chain, "chain"),
    "matmul": (matmul, "op"),
    "conv2d": (conv2d, "op"),
    "softmax": (softmax, "op"),
    "layer_norm": (layer_norm, "op"),
    "cross_entropy": (cross_entropy, "op"),
    "mlp_inference": (mlp_inference, "inference"),
    "cnn_inference": (cnn_inference, "inference"),
}


# -- further layers (run.py --extra) ---------------------------------------------------

def chain_nograd(lib, device="cpu"):
    """The 150-op chain without autograd: the dispatch cost alone."""
    x = _tensor(lib, _rng(1).standard_normal(16).astype(np.float32), device)

    def step():
        with lib.no_grad():
            y = x
            for _ in range(50):
                y = (y * 1.01 + 0.1).tanh()
            return y.sum()
    return step


def conv2d_strided(lib, device="cpu"):
    return _op_case(lib, device, lambda lib, x, w: lib.nn.functional.conv2d(x, w, stride=2),
                    (16, 32, 32, 32), (64, 32, 5, 5))


def conv2d_first_layer(lib, device="cpu"):
    return _op_case(lib, device, lambda lib, x, w, b: lib.nn.functional.conv2d(x, w, b),
                    (64, 1, 28, 28), (32, 1, 3, 3), (32,))


def max_pool2d(lib, device="cpu"):
    return _op_case(lib, device, lambda lib, x: lib.nn.functional.max_pool2d(x, 2) ** 2,
                    (64, 32, 26, 26))


def avg_pool2d(lib, device="cpu"):
    return _op_case(lib, device, lambda lib, x: lib.nn.functional.avg_pool2d(x, 2) ** 2,
                    (64, 32, 26, 26))


def sdpa(lib, device="cpu"):
    return _op_case(lib, device, lambda lib, q, k, v: lib.nn.functional.scaled_dot_product_attention(q, k, v),
                    (8, 4, 64, 32), (8, 4, 64, 32), (8, 4, 64, 32))


def transformer_layer(lib, device="cpu"):
    nn = lib.nn
    layer = nn.TransformerEncoderLayer(d_model=128, nhead=4, dim_feedforward=256,
                                       dropout=0.0, batch_first=True)
    model = _init_params(lib, nn.Sequential(layer, nn.Flatten(0, 1), nn.Linear(128, 10)),
                         device)
    opt = lib.optim.SGD(model.parameters(), lr=0.01)
    x = _tensor(lib, _rng(1).standard_normal((16, 32, 128)).astype(np.float32), device)
    return _train(lib, model, opt, x, _labels(lib, 16 * 32, 10, device))


def gru(lib, device="cpu"):
    nn = lib.nn

    class Head(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = nn.GRU(64, 128, batch_first=True)
            self.head = nn.Linear(128, 10)

        def forward(self, x):
            return self.head(self.rnn(x)[0][:, -1])

    model = _init_params(lib, Head(), device)
    opt = lib.optim.SGD(model.parameters(), lr=0.01)
    x = _tensor(lib, _rng(1).standard_normal((32, 35, 64)).astype(np.float32), device)
    return _train(lib, model, opt, x, _labels(lib, 32, 10, device))


EXTRA = {
    "chain_nograd": (chain_nograd, "chain"),
    "conv2d_strided": (conv2d_strided, "op"),
    "conv2d_first_layer": (conv2d_first_layer, "op"),
    "max_pool2d": (max_pool2d, "op"),
    "avg_pool2d": (avg_pool2d, "op"),
    "sdpa": (sdpa, "op"),
    "transformer_layer": (transformer_layer, "train"),
    "gru": (gru, "train"),
}

ALL = {**WORKLOADS, **EXTRA}

BLAS = {"matmul": matmul_blas}


# -- GPU-sized single ops, timed for a rate (gpu_check.py) ------------------------------

def matmul_large(lib, device="cpu", size=8192):
    """One float32 (size x size) @ (size x size) product: 2 size³ flops, cuBLAS's rate."""
    rng = _rng(1)
    a, b = (_tensor(lib, rng.standard_normal((size, size), dtype=np.float32), device)
            for _ in range(2))

    def step():
        a @ b
    return step


def add_large(lib, device="cpu", size=256 * 2 ** 20):
    """``a + b`` on ``size`` float32 elements: two reads and one write, memory-bound."""
    a = lib.full((size,), 1.5, device=device)
    b = lib.full((size,), 2.5, device=device)

    def step():
        a + b
    return step


def copy_large(lib, device="cpu", size=256 * 2 ** 20):
    """A device-to-device copy of ``size`` float32 elements: the card's usable bandwidth,
    the reference the elementwise op is measured against."""
    src = lib.full((size,), 1.5, device=device)
    dst = lib.empty((size,), device=device)

    def step():
        dst.copy_(src)
    return step


# name: (make, work of one step for a size: flops or bytes, unit)
RATES = {
    "matmul_large": (matmul_large, lambda n: 2 * n ** 3, "flop"),
    "add_large": (add_large, lambda n: 3 * 4 * n, "byte"),
    "copy_large": (copy_large, lambda n: 2 * 4 * n, "byte"),
}
