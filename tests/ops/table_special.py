"""Op-table entries: torch.special functions."""
import torch

import ember

from .harness import OpInfo, Sample, arr, positive


def unary(low, high, ints=False):
    def make(rng):
        out = [Sample((arr(rng, (3, 4), low=low, high=high),)),
               Sample((arr(rng, (5,), "float64", low=low, high=high),)), Sample((arr(rng, (), low=low, high=high),))]
        if ints:
            out.append(Sample((arr(rng, (4,), "int64", 1, 4),), grad=False))
        return out
    return make


def pair(rng, scalar=True):
    out = [Sample((positive(rng, (3, 4), low=1.5, high=4.0),
                   positive(rng, (3, 4), low=1.0, high=3.0)), grad=False),
           Sample((positive(rng, (2, 1), low=1.5, high=4.0), positive(rng, (3,), low=1.0, high=3.0)),
                  grad=False)]
    if scalar:
        out.append(Sample((positive(rng, (4,), low=1.5, high=4.0), 2.0), grad=False))
    return out


def tensor_pair(rng):
    return pair(rng, scalar=False)


def shape_and_x(rng):
    """Integer shapes (which need no gradient) with float x: the gradient torch defines."""
    return [Sample((arr(rng, (3, 4), "int64", 1, 5), positive(rng, (3, 4), low=0.3, high=4.0))),
            Sample((arr(rng, (2, 1), "int64", 1, 4), positive(rng, (3,), low=0.3, high=4.0)))]


def special(name):
    return getattr(ember.special, name), getattr(torch.special, name)


ENTRIES = [
    OpInfo("i0", *special("i0"), unary(-3, 3, ints=True)),
    OpInfo("i0e", *special("i0e"), unary(-3, 3)),
    OpInfo("i1", *special("i1"), unary(-3, 3)),
    OpInfo("i1e", *special("i1e"), unary(-3, 3)),
    OpInfo("sinc", *special("sinc"), unary(-2, 2, ints=True)),
    OpInfo("sinc_method", lambda x: x.sinc(), lambda x: x.sinc(), unary(-2, 2), covers=("sinc",)),
    OpInfo("entr", *special("entr"), unary(0.2, 3)),
    OpInfo("erfcx", *special("erfcx"), unary(-1, 3)),
    OpInfo("ndtr", *special("ndtr"), unary(-3, 3)),
    OpInfo("ndtri", *special("ndtri"), unary(0.05, 0.95), grad_atol=1e-3),
    OpInfo("log_ndtr", *special("log_ndtr"), unary(-3, 3)),
    OpInfo("bessel_j0", *special("bessel_j0"), unary(-5, 5), grad=False),
    OpInfo("bessel_j1", *special("bessel_j1"), unary(-5, 5), grad=False),
    OpInfo("zeta", *special("zeta"), pair, grad=False),
    OpInfo("gammainc", *special("gammainc"), lambda rng: tensor_pair(rng) + shape_and_x(rng)),
    OpInfo("gammaincc", *special("gammaincc"), lambda rng: tensor_pair(rng) + shape_and_x(rng)),
    OpInfo("xlog1py", *special("xlog1py"),
           lambda rng: [Sample((arr(rng, (3, 4)), positive(rng, (3, 4)))),
                        Sample((arr(rng, (4,)), 1.5))], covers=("mul", "log1p", "where")),
    OpInfo("multigammaln", lambda x: ember.special.multigammaln(x, 3),
           lambda x: torch.special.multigammaln(x, 3),
           lambda rng: [Sample((positive(rng, (4,), low=1.5, high=4.0),))], covers=("lgamma",)),
    OpInfo("special_aliases", lambda x: (ember.special.expit(x), ember.special.gammaln(x.abs() + 1),
                                         ember.special.psi(x.abs() + 1)),
           lambda x: (torch.special.expit(x), torch.special.gammaln(x.abs() + 1),
                      torch.special.psi(x.abs() + 1)),
           lambda rng: [Sample((arr(rng, (5,)),), grad=False)], covers=("sigmoid",), grad=False),
]

