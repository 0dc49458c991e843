"""A custom autograd.Function: a numerically stable log(1 + exp(x)) (softplus) with a
hand-written backward, checked against finite differences and used to train a model.

    python examples/custom_function.py          # a couple of seconds
"""
import argparse
import warnings

import ember as torch
import ember.nn as nn
import ember.optim as optim
from ember.autograd import Function


class StableSoftplus(Function):
    """softplus(x) = max(x, 0) + log1p(exp(-|x|)): never overflows, even for x = 1000.

    The backward is sigmoid(x), computed from the saved input; it is written in Ember
    ops, so it is itself differentiable.
    """

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.clamp(x, min=0) + torch.log1p(torch.exp(-x.abs()))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        return grad_output * torch.sigmoid(x)


def softplus(x):
    return StableSoftplus.apply(x)


def finite_difference_check(fn, x, eps=1e-6):
    """Largest gap between autograd's gradient of sum(fn(x)) and central differences."""
    x = x.detach().requires_grad_(True)
    fn(x).sum().backward()
    numeric = []
    flat = x.detach().reshape(-1)
    for i in range(flat.numel()):
        plus, minus = flat.clone(), flat.clone()
        plus[i] += eps
        minus[i] -= eps
        numeric.append((fn(plus).sum() - fn(minus).sum()).item() / (2 * eps))
    return (x.grad.reshape(-1) - torch.tensor(numeric, dtype=x.dtype)).abs().max().item()


class SoftplusMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.l1 = nn.Linear(1, 32)
        self.l2 = nn.Linear(32, 1)

    def forward(self, x):
        return self.l2(softplus(self.l1(x)))


def main(argv=None):
    parser = argparse.ArgumentParser(description="a custom autograd.Function")
    parser.add_argument("--steps", type=int, default=500)
    args = parser.parse_args(argv)
    torch.manual_seed(0)

    x = torch.linspace(-5, 5, 11, dtype=torch.float64)
    grad_gap = finite_difference_check(softplus, x)
    print(f"gradient vs finite differences: max gap {grad_gap:.1e}")
    big = torch.tensor([-1000.0, 0.0, 1000.0], requires_grad=True)
    out = softplus(big)
    out.sum().backward()
    print(f"softplus([-1000, 0, 1000]) = {out.tolist()}, gradient {big.grad.tolist()}")
    with warnings.catch_warnings():   # NumPy warns about the overflow; torch does not
        warnings.simplefilter("ignore", RuntimeWarning)
        naive = torch.log(1 + torch.exp(torch.tensor([1000.0])))
    print(f"(the naive log(1 + exp(x)) gives {naive.item()} at 1000)")

    # Second derivative through the custom backward: d2/dx2 softplus = s(x) (1 - s(x)).
    x0 = torch.tensor([0.3], dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(softplus(x0).sum(), x0, create_graph=True)
    (g2,) = torch.autograd.grad(g.sum(), x0)
    s = torch.sigmoid(x0.detach())
    second_gap = (g2 - s * (1 - s)).abs().item()
    print(f"second derivative gap {second_gap:.1e}")

    # Use it in a model: fit y = |x| (which softplus units approximate well).
    xs = torch.linspace(-2, 2, 64).unsqueeze(1)
    ys = xs.abs()
    model = SoftplusMLP()
    optimizer = optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(args.steps):
        optimizer.zero_grad()
        loss = ((model(xs) - ys) ** 2).mean()
        loss.backward()
        optimizer.step()
    print(f"fit of |x| with softplus units: mse {loss.item():.5f}")
    return {"grad_gap": grad_gap, "second_gap": second_gap, "overflow_free": out.tolist(),
            "mse": loss.item()}


if __name__ == "__main__":
    main()
