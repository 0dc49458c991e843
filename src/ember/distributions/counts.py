"""Count distributions: Poisson and Binomial.  Samples are drawn on the host from ember's
default generator; log_prob, mean and variance are Ember ops, differentiable in the
parameters."""
import numbers

import numpy as np

import ember
from ember._random import _rng
from . import constraints
from .discrete import BinaryParams
from .distribution import Distribution, broadcast_all

__all__ = ["Poisson", "Binomial"]


def _host(t):
    return np.asarray(t.detach().cpu().numpy())


def _drawn(arr, like):
    return ember.tensor(np.asarray(arr), dtype=like.dtype, device=like.device)


class Poisson(Distribution):
    arg_constraints = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer

    def __init__(self, rate, validate_args=None):
        (self.rate,) = broadcast_all(rate)
        batch_shape = ember.Size() if isinstance(rate, numbers.Number) else self.rate.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        return self._expand_params(batch_shape, ("rate",))

    @property
    def mean(self):
        return self.rate

    @property
    def mode(self):
        return self.rate.floor()

    @property
    def variance(self):
        return self.rate

    def sample(self, sample_shape=ember.Size()):
        shape = self._extended_shape(sample_shape)
        with ember.no_grad():
            rate = _host(self.rate.expand(shape)).astype(np.float64)
            return _drawn(_rng(None).poisson(rate), self.rate)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        rate, value = broadcast_all(self.rate, value)
        return ember.xlogy(value, rate) - rate - ember.lgamma(value + 1)


def _clamp_by_zero(x):
    # max(x, 0) whose gradient at 0 is 1/2, matching torch's
    return (x.clamp(min=0) + x - x.clamp(max=0)) / 2


class Binomial(BinaryParams, Distribution):
    arg_constraints = {"total_count": constraints.nonnegative_integer,
                       "probs": constraints.unit_interval, "logits": constraints.real}
    has_enumerate_support = True

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            self.total_count, self.probs = broadcast_all(total_count, probs)
            self.total_count = self.total_count.type_as(self.probs)
        else:
            self.total_count, self.logits = broadcast_all(total_count, logits)
            self.total_count = self.total_count.type_as(self.logits)
        self._param = self.probs if probs is not None else self.logits
        super().__init__(self._param.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._expand_params(batch_shape, ("total_count", "probs", "logits"))
        new._param = new.__dict__["probs" if "probs" in new.__dict__ else "logits"]
        return new

    @property
    def support(self):
        return constraints.integer_interval(0, self.total_count)


    @property
    def mean(self):
        return self.total_count * self.probs

    @property
    def mode(self):
        return ((self.total_count + 1) * self.probs).floor().clamp(max=self.total_count)

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)

    def sample(self, sample_shape=ember.Size()):
        shape = self._extended_shape(sample_shape)
        with ember.no_grad():
            n = _host(self.total_count.expand(shape)).astype(np.int64)
            p = _host(self.probs.expand(shape)).astype(np.float64)
            return _drawn(_rng(None).binomial(n, p), self.probs)

    def log_prob(self, value):
        if self._validate_args:
            self._validate_sample(value)
        n, k = self.total_count, value
        log_factorial_n = ember.lgamma(n + 1)
        log_factorial_k = ember.lgamma(k + 1)
        log_factorial_nmk = ember.lgamma(n - k + 1)
        # log(1 + e^logits) * n, written so that neither sign of logits overflows
        normalize_term = (n * _clamp_by_zero(self.logits)
                          + n * ember.log1p(ember.exp(-self.logits.abs())) - log_factorial_n)
        return k * self.logits - log_factorial_k - log_factorial_nmk - normalize_term
