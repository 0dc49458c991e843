"""Gamma, Beta and Dirichlet.  Samples are drawn on the host with NumPy's
Generator.standard_gamma (from ember's default generator, so ember.manual_seed governs them)
and are reparameterised: d sample / d concentration comes from implicitly differentiating the
gamma CDF at the drawn value (see _standard_gamma_grad), and Beta and Dirichlet samples are
normalised gammas, whose gradients follow by the chain rule through the normalisation."""
import numpy as np
import scipy.special as sp

import ember
from ember._random import _rng
from ember.autograd import Function
from . import constraints
from .distribution import Distribution, broadcast_all

__all__ = ["Gamma", "Beta", "Dirichlet"]


def _standard_gamma_grad(x, alpha):
    """d x / d alpha for x ~ Gamma(alpha, 1), holding the CDF F(x; alpha) fixed:
    dx/dalpha = -(dF/dalpha) / f(x; alpha).  dF/dalpha is a central difference in float64
    with a step relative to alpha; where F > 1/2 the upper function Q = 1 - F is differenced
    instead (dF/dalpha = -dQ/dalpha), so that neither tail loses its relative precision.
    The density is formed in log space so that it neither overflows nor underflows early."""
    x = np.asarray(x, dtype=np.float64)
    alpha = np.asarray(alpha, dtype=np.float64)
    h = alpha * 1e-5
    lower = sp.gammainc(alpha, x) < 0.5
    d_lower = (sp.gammainc(alpha + h, x) - sp.gammainc(alpha - h, x)) / (2 * h)
    d_upper = -(sp.gammaincc(alpha + h, x) - sp.gammaincc(alpha - h, x)) / (2 * h)
    dF = np.where(lower, d_lower, d_upper)
    with np.errstate(divide="ignore"):
        log_pdf = (alpha - 1) * np.log(x) - x - sp.gammaln(alpha)
    return -dF / np.exp(log_pdf)


def _host(t):
    return np.asarray(t.detach().cpu().numpy(), dtype=np.float64)


class _StandardGamma(Function):
    """Gamma(alpha, 1) draws with the implicit reparameterisation gradient.  The gradient
    itself is computed on the host, so (like torch's) it has no derivative of its own."""

    @staticmethod
    def forward(ctx, alpha):
        a = _host(alpha)
        draw = _rng(None).standard_gamma(a)
        # a zero draw (possible for tiny alpha) would give log_prob -inf and a 0/0 gradient
        out = ember.tensor(draw, dtype=alpha.dtype, device=alpha.device)
        out = out.clamp(min=ember.finfo(alpha.dtype).tiny)
        ctx.save_for_backward(alpha, out)
        return out

    @staticmethod
    def backward(ctx, grad):
        alpha, out = ctx.saved_tensors
        dx = _standard_gamma_grad(_host(out), _host(alpha))
        return grad * ember.tensor(dx, dtype=alpha.dtype, device=alpha.device)


def _standard_gamma(alpha):
    return _StandardGamma.apply(alpha)


def _sample_gammas(concentration, shape):
    return _standard_gamma(concentration.expand(shape))


class Gamma(Distribution):
    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = broadcast_all(concentration, rate)
        super().__init__(self.concentration.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expand_params(batch_shape, ("concentration", "rate"))

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def mode(self):
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self):
        return self.concentration / self.rate.pow(2)

    def sample(self, sample_shape=ember.Size()):
        with ember.no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=ember.Size()):
        shape = self._extended_shape(sample_shape)
        value = _sample_gammas(self.concentration, shape) / self.rate.expand(shape)
        tiny = ember.finfo(value.dtype).tiny
        # dividing by a large rate may underflow to zero, outside log_prob's finite domain
        return ember.where(value.detach() < tiny, value + (tiny - value.detach()), value)

    def log_prob(self, value):
        value = ember.as_tensor(value, dtype=self.rate.dtype, device=self.rate.device)
        if self._validate_args:
            self._validate_sample(value)
        return (ember.xlogy(self.concentration, self.rate)
                + ember.xlogy(self.concentration - 1, value)
                - self.rate * value - ember.lgamma(self.concentration))

    def entropy(self):
        c = self.concentration
        return c - ember.log(self.rate) + ember.lgamma(c) + (1.0 - c) * ember.digamma(c)

    def cdf(self, value):
        if self._validate_args:
            self._validate_sample(value)
        z = self.rate * value
        # ember's gammainc op has no backward, so its derivative in z (the density, as in
        # torch; torch has none in the concentration either) is attached by hand: first
        # derivatives are exact, second ones are not available through cdf
        c = self.concentration.detach()
        zd = z.detach()
        density = ember.exp(ember.xlogy(c - 1, zd) - zd - ember.lgamma(c))
        return ember.special.gammainc(c, zd) + (z - zd) * density


class Dirichlet(Distribution):
    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration, validate_args=None):
        if concentration.dim() < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        batch_shape, event_shape = concentration.shape[:-1], concentration.shape[-1:]
        super().__init__(batch_shape, event_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expand_params(batch_shape, ("concentration",),
                                   event_dims={"concentration": 1})

    @property
    def mean(self):
        return self.concentration / self.concentration.sum(-1, True)

    @property
    def mode(self):
        concm1 = (self.concentration - 1).clamp(min=0.0)
        mode = concm1 / concm1.sum(-1, True)
        mask = (self.concentration < 1).all(dim=-1)
        one_hot = ember.nn.functional.one_hot(concm1.argmax(dim=-1), concm1.shape[-1])
        return ember.where(mask.unsqueeze(-1), one_hot.to(mode.dtype), mode)

    @property
    def variance(self):
        con0 = self.concentration.sum(-1, True)
        return self.concentration * (con0 - self.concentration) / (con0.pow(2) * (con0 + 1))

    def sample(self, sample_shape=ember.Size()):
        with ember.no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=ember.Size()):
        shape = self._extended_shape(sample_shape)
        gammas = _sample_gammas(self.concentration, shape)
        return gammas / gammas.sum(-1, True)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        c = self.concentration
        return (ember.xlogy(c - 1.0, value).sum(-1) + ember.lgamma(c.sum(-1))
                - ember.lgamma(c).sum(-1))

    def entropy(self):
        c = self.concentration
        k = c.size(-1)
        a0 = c.sum(-1)
        return (ember.lgamma(c).sum(-1) - ember.lgamma(a0) - (k - a0) * ember.digamma(a0)
                - ((c - 1.0) * ember.digamma(c)).sum(-1))


class Beta(Distribution):
    arg_constraints = {"concentration1": constraints.positive,
                       "concentration0": constraints.positive}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1, concentration0, validate_args=None):
        c1, c0 = broadcast_all(concentration1, concentration0)
        # a Dirichlet over (x, 1 - x); its validation runs first, as torch's does
        self._dirichlet = Dirichlet(ember.stack([c1, c0], -1), validate_args=validate_args)
        super().__init__(self._dirichlet._batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        batch_shape = ember.Size(batch_shape)
        new = type(self).__new__(type(self))
        new._dirichlet = self._dirichlet.expand(batch_shape)
        Distribution.__init__(new, batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def concentration1(self):
        return self._dirichlet.concentration[..., 0]

    @property
    def concentration0(self):
        return self._dirichlet.concentration[..., 1]

    @property
    def mean(self):
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def mode(self):
        return self._dirichlet.mode[..., 0]

    @property
    def variance(self):
        total = self.concentration1 + self.concentration0
        return self.concentration1 * self.concentration0 / (total.pow(2) * (total + 1))

    def sample(self, sample_shape=ember.Size()):
        with ember.no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=ember.Size()):
        return self._dirichlet.rsample(sample_shape).select(-1, 0)

    def log_prob(self, value):
        value = ember.as_tensor(value, dtype=self._dirichlet.concentration.dtype)
        if self._validate_args:
            self._validate_sample(value)
        heads_tails = ember.stack([value, 1.0 - value], -1)
        return self._dirichlet.log_prob(heads_tails)

    def entropy(self):
        return self._dirichlet.entropy()
