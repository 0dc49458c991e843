"""Ember's CPU generator is torch's: after the same seed, the same numbers.

Every case seeds both libraries alike and compares the draws with real torch: bit for bit
where torch's arithmetic is reproducible in NumPy (uniforms, integers, permutations,
Bernoulli masks, the double-precision normal path), to about one float32 ulp where torch
uses SIMD ``log``/``cos``/``sin`` (the float32 normal path).
"""
import numpy as np
import pytest
import torch

import ember

SEEDS = [0, 1, 12345, 2 ** 40 + 7, -5]
SIZES = [1, 3, 16, 17, 100, 1000]


def _draw(lib, seed, fn):
    lib.manual_seed(seed)
    out = fn(lib)
    return np.asarray(out.tolist() if hasattr(out, "tolist") else out, dtype=np.float64)


def check(fn, exact=True, seeds=SEEDS):
    for seed in seeds:
        a, b = _draw(ember, seed, fn), _draw(torch, seed, fn)
        assert a.shape == b.shape, (seed, a.shape, b.shape)
        if exact:
            np.testing.assert_array_equal(a, b, err_msg=f"seed {seed}")
        else:
            np.testing.assert_allclose(a, b, rtol=2e-6, atol=2e-6, err_msg=f"seed {seed}")


EXACT = {
    "rand": lambda n: lambda L: L.rand(n),
    "rand_float64": lambda n: lambda L: L.rand(n, dtype=L.float64),
    "rand_float16": lambda n: lambda L: L.rand(n, dtype=L.float16),
    "rand_bfloat16": lambda n: lambda L: L.rand(n, dtype=L.bfloat16),
    "randn_float64": lambda n: lambda L: L.randn(min(n, 15), dtype=L.float64),
    "randint": lambda n: lambda L: L.randint(-3, 1000, (n,)),
    "randint_wide": lambda n: lambda L: L.randint(0, 2 ** 40, (n,)),
    "randint_2_28": lambda n: lambda L: L.randint(0, 2 ** 28, (n,)),
    "randperm": lambda n: lambda L: L.randperm(n),
    "bernoulli_scalar": lambda n: lambda L: L.empty(n).bernoulli_(0.3),
    "bernoulli_tensor": lambda n: lambda L: L.bernoulli(L.full((n,), 0.4)),
    "uniform_": lambda n: lambda L: L.empty(n).uniform_(-2, 3),
    "random_int64": lambda n: lambda L: L.empty(n, dtype=L.int64).random_(),
    "random_int32": lambda n: lambda L: L.empty(n, dtype=L.int32).random_(),
    "random_float": lambda n: lambda L: L.empty(n).random_(),
    "random_half": lambda n: lambda L: L.empty(n, dtype=L.float16).random_(),
    "random_bool": lambda n: lambda L: L.empty(n, dtype=L.bool).random_(),
    "random_to": lambda n: lambda L: L.empty(n).random_(0, 77),
    "geometric_": lambda n: lambda L: L.empty(n, dtype=L.float64).geometric_(0.2),
    "multinomial": lambda n: lambda L: L.multinomial(L.rand(3, n + 4), 4),
    "multinomial_replacement": lambda n: lambda L: L.multinomial(L.rand(2, n + 1), 7, True),
    "dropout": lambda n: lambda L: L.nn.functional.dropout(L.ones(n), 0.3),
}
CLOSE = {
    "randn": lambda n: lambda L: L.randn(n),
    "randn_float64_fill": lambda n: lambda L: L.randn(n, dtype=L.float64),
    "normal_": lambda n: lambda L: L.empty(n).normal_(1, 3),
    "normal_tensor_args": lambda n: lambda L: L.normal(L.zeros(n), L.ones(n)),
    "normal_floats": lambda n: lambda L: L.normal(2.0, 3.0, (n,)),
    "randn_complex": lambda n: lambda L: L.view_as_real(L.randn(n, dtype=L.complex64)),
    "rand_complex": lambda n: lambda L: L.view_as_real(L.rand(n, dtype=L.complex64)),
    "exponential_": lambda n: lambda L: L.empty(n).exponential_(2.0),
    "cauchy_": lambda n: lambda L: L.empty(n).cauchy_(),
    "log_normal_": lambda n: lambda L: L.empty(n).log_normal_(),
}


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("name", sorted(EXACT))
def test_bit_identical_draws(name, n):
    check(EXACT[name](n))


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("name", sorted(CLOSE))
def test_draws_within_an_ulp(name, n):
    check(CLOSE[name](n), exact=False)


def test_the_double_normal_cache_carries_across_calls():
    check(lambda L: np.concatenate([L.randn(3, dtype=L.float64).numpy(),
                                    L.randn(1, dtype=L.float64).numpy(),
                                    L.randn(5, dtype=L.float64).numpy()]))


def test_an_explicit_generator_and_the_default_seed():
    check(lambda L: L.rand(5, generator=L.Generator().manual_seed(3)), seeds=[0])
    check(lambda L: L.randn(4, generator=L.Generator()), exact=False, seeds=[0])
    check(lambda L: L.randint_like(L.zeros(5), 10), seeds=[0])


@pytest.mark.parametrize("make", [
    lambda L: L.nn.Linear(5, 3),
    lambda L: L.nn.Conv2d(3, 4, 3),
    lambda L: L.nn.Embedding(10, 4),
    lambda L: L.nn.LSTM(4, 5),
    lambda L: L.nn.GRU(4, 5, num_layers=2),
    lambda L: L.nn.BatchNorm2d(3),
    lambda L: L.nn.MultiheadAttention(8, 2),
    lambda L: L.nn.TransformerEncoderLayer(8, 2, 16),
], ids=["linear", "conv", "embedding", "lstm", "gru", "batchnorm", "mha", "transformer"])
def test_modules_start_from_torchs_weights(make):
    check(lambda L: L.cat([p.detach().flatten() for p in make(L).parameters()]), exact=False)


@pytest.mark.parametrize("init", [
    lambda L, t: L.nn.init.xavier_uniform_(t),
    lambda L, t: L.nn.init.xavier_normal_(t),
    lambda L, t: L.nn.init.kaiming_uniform_(t, a=0.1),
    lambda L, t: L.nn.init.kaiming_normal_(t),
    lambda L, t: L.nn.init.trunc_normal_(t, std=0.02),
    lambda L, t: L.nn.init.trunc_normal_(t, mean=0, std=1, a=2, b=3),
    lambda L, t: L.nn.init.orthogonal_(t),
    lambda L, t: L.nn.init.sparse_(t, 0.5),
], ids=["xavier_uniform", "xavier_normal", "kaiming_uniform", "kaiming_normal", "trunc_normal",
        "trunc_normal_tail", "orthogonal", "sparse"])
def test_init_functions_match_torch(init):
    check(lambda L: init(L, L.empty(20, 30)), exact=False)


def test_rng_state_is_torchs_and_crosses_both_ways():
    for seed in (0, 7):
        ember.manual_seed(seed)
        torch.manual_seed(seed)
        assert bytes(ember.get_rng_state().numpy()) == bytes(torch.get_rng_state().numpy())
        ember.rand(5), ember.randn(3, dtype=ember.float64)   # an odd count: a cached normal
        torch.rand(5), torch.randn(3, dtype=torch.float64)
        state = ember.get_rng_state()
        assert bytes(state.numpy()) == bytes(torch.get_rng_state().numpy())
    # Ember's state drives torch, and torch's drives Ember
    torch.set_rng_state(torch.from_numpy(state.numpy()))
    expected = torch.randn(5, dtype=torch.float64).tolist()
    ember.set_rng_state(state)
    assert ember.randn(5, dtype=ember.float64).tolist() == expected
    ember.set_rng_state(ember.from_numpy(torch.get_rng_state().numpy()))
    assert ember.rand(4).tolist() == torch.rand(4).tolist()


def test_set_state_errors_are_torchs():
    from _compare import same_error
    same_error(lambda lib: lib.Generator().set_state(lib.zeros(3)))
    same_error(lambda lib: lib.Generator().set_state(lib.zeros(3, dtype=lib.uint8)))
    same_error(lambda lib: lib.Generator().set_state([1]))


@pytest.mark.parametrize("workers", [0, 2])
def test_dataloader_shuffles_as_torch_and_leaves_the_stream_as_torch(workers):
    def run(L):
        L.manual_seed(0)
        data = L.utils.data.TensorDataset(L.arange(10.0))
        loader = L.utils.data.DataLoader(data, batch_size=3, shuffle=True, num_workers=workers)
        order = [b[0].tolist() for epoch in range(2) for b in loader]
        return order, L.rand(3).tolist()
    assert run(ember) == run(torch)


def test_a_seeded_training_run_gives_torchs_losses():
    def run(L):
        L.manual_seed(0)
        model = L.nn.Sequential(L.nn.Linear(8, 16), L.nn.ReLU(), L.nn.Dropout(0.2),
                                L.nn.Linear(16, 3))
        opt = L.optim.SGD(model.parameters(), lr=0.1)
        x, y = L.randn(32, 8), L.randint(0, 3, (32,))
        losses = []
        for _ in range(5):
            opt.zero_grad()
            loss = L.nn.functional.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        return losses
    np.testing.assert_allclose(run(ember), run(torch), rtol=1e-5)
