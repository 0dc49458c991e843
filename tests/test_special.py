"""ember.special as a namespace (its ops are checked in tests/ops/table_special.py)."""
import pytest
import torch

import ember


def test_every_name_is_torch_special_name():
    assert ember.special.__all__
    for name in ember.special.__all__:
        assert hasattr(torch.special, name), name
        assert callable(getattr(ember.special, name)), name


def test_gammainc_refuses_numbers_as_torch():
    for lib in (torch, ember):
        with pytest.raises(TypeError, match="must be Tensor, not float"):
            lib.special.gammainc(lib.ones(2), 2.0)


def test_multigammaln_p_error_and_out_of_domain_values_as_torch():
    for lib in (torch, ember):
        with pytest.raises(RuntimeError, match="p has to be greater than or equal to 1"):
            lib.special.multigammaln(lib.tensor([0.5]), 0)
    # torch does not check the domain: compare what it computes there
    t = torch.special.multigammaln(torch.tensor([0.5, 0.7]), 3)
    e = ember.special.multigammaln(ember.tensor([0.5, 0.7]), 3)
    assert e.tolist() == pytest.approx(t.tolist(), nan_ok=True, rel=1e-5)


def test_igamma_has_no_derivative_in_a_as_torch():
    msgs = []
    for lib in (torch, ember):
        a = lib.tensor([1.5, 2.0], dtype=lib.float64, requires_grad=True)
        x = lib.tensor([0.7, 3.0], dtype=lib.float64, requires_grad=True)
        with pytest.raises(NotImplementedError) as e:
            lib.special.gammainc(a, x).sum().backward()
        msgs.append(str(e.value))
        assert type(lib.special.gammaincc(a.detach(), x).grad_fn).__name__ == "IgammacBackward0"
    assert msgs[0] == msgs[1]
