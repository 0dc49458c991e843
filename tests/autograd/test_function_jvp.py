"""Custom Function.jvp under forward-mode AD (forward_ad's dual_level/make_dual/
unpack_dual): the tangent comes from jvp, also for Functions without a backward;
compared with torch."""
import importlib

import numpy as np

from tests._compare import same


def _fwad(lib):
    return importlib.import_module(lib.__name__ + ".autograd.forward_ad")


def _classes(lib):
    class MulExp(lib.autograd.Function):
        @staticmethod
        def forward(x, y):
            return x * y.exp()

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_forward(*inputs)

        @staticmethod
        def jvp(ctx, tx, ty):
            x, y = ctx.saved_tensors
            return tx * y.exp() + x * y.exp() * ty

    class SquareSin(lib.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_forward(x)
            return x ** 2, x.sin()

        @staticmethod
        def jvp(ctx, tx):
            x, = ctx.saved_tensors
            return 2 * x * tx, x.cos() * tx

    class Scaled(lib.autograd.Function):
        """A jvp that is deliberately not the derivative: the tangent must come from it."""
        @staticmethod
        def forward(ctx, x, k):
            ctx.k = k
            return x * k

        @staticmethod
        def jvp(ctx, tx, tk):
            return tx * 10 * ctx.k
    return MulExp, SquareSin, Scaled


def _round(t):
    return None if t is None else np.round(t.detach().numpy().astype(float), 5).tolist()


def test_tangents_from_jvp():
    def f(lib):
        fw = _fwad(lib)
        MulExp, SquareSin, Scaled = _classes(lib)
        x = lib.tensor([1.0, 2.0])
        y = lib.tensor([0.5, 1.0])
        out = []
        with fw.dual_level():
            d = fw.make_dual(x, lib.ones(2))
            r = MulExp.apply(d, y)
            out += [_round(fw.unpack_dual(r).primal), _round(fw.unpack_dual(r).tangent)]
            out.append(_round(fw.unpack_dual((r * d).sum()).tangent))  # through later ops
            out.append(_round(fw.unpack_dual(MulExp.apply(y, d.sin())).tangent))  # ty only
            a, b = SquareSin.apply(fw.make_dual(x, lib.tensor([1.0, 3.0])))
            out += [_round(fw.unpack_dual(a).tangent), _round(fw.unpack_dual(b).tangent),
                    _round(fw.unpack_dual(a * b).tangent)]
            out.append(_round(fw.unpack_dual(Scaled.apply(fw.make_dual(x, lib.ones(2)),
                                                          3.0)).tangent))
            out.append(fw.unpack_dual(MulExp.apply(x, y)).tangent)  # no dual input
        out.append([_round(t) for t in SquareSin.apply(x)])  # outside forward AD: the forward
        return out
    same(f)


def test_jvp_sees_zero_tangents_for_plain_inputs():
    def f(lib):
        fw = _fwad(lib)
        seen = []

        class Probe(lib.autograd.Function):
            @staticmethod
            def forward(ctx, x, y):
                return x + y

            @staticmethod
            def jvp(ctx, tx, ty):
                seen.append((tx, ty))
                return tx + ty
        with fw.dual_level():
            Probe.apply(fw.make_dual(lib.ones(2), lib.full((2,), 2.0)), lib.ones(2))
        return seen
    same(f)
