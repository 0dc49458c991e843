"""Regression with L-BFGS: a least-squares polynomial fit (checked against the closed-form
solution) and a nonlinear curve fit (an exponential decay) recovering its parameters.

    python examples/lbfgs_regression.py          # a few seconds
"""
import argparse

import numpy as np

import ember as torch
import ember.optim as optim


def fit(params, loss_fn, max_steps, line_search_fn="strong_wolfe"):
    optimizer = optim.LBFGS(params, lr=1, max_iter=50, history_size=20,
                            line_search_fn=line_search_fn, tolerance_grad=1e-10,
                            tolerance_change=1e-14)

    def closure():
        optimizer.zero_grad()
        loss = loss_fn()
        loss.backward()
        return loss

    for _ in range(max_steps):
        optimizer.step(closure)
    return loss_fn().item(), optimizer.state[params[0]]["func_evals"]


def main(argv=None):
    parser = argparse.ArgumentParser(description="regression with L-BFGS")
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args(argv)

    gen = torch.Generator().manual_seed(0)
    x = torch.linspace(-1, 1, 200, dtype=torch.float64)
    noise = 0.05 * torch.randn(200, generator=gen, dtype=torch.float64)

    # 1. Polynomial least squares: the optimum is also given by the normal equations.
    y = 0.5 - 1.5 * x + 2.0 * x ** 3 + noise
    features = torch.stack([x ** k for k in range(4)], dim=1)
    coef = torch.zeros(4, dtype=torch.float64, requires_grad=True)
    poly_loss, evals = fit([coef], lambda: ((features @ coef - y) ** 2).mean(), args.steps)
    exact = np.linalg.lstsq(features.numpy(), y.numpy(), rcond=None)[0]
    poly_error = float(np.abs(coef.detach().numpy() - exact).max())
    print(f"polynomial fit: coefficients {np.round(coef.detach().numpy(), 4)}, "
          f"closed form {np.round(exact, 4)} (max difference {poly_error:.1e}, "
          f"{evals} function evaluations)")

    # 2. Nonlinear: y = a * exp(-b * t) + c, starting far from the truth (2.0, 3.0, 0.5).
    t = (x + 1) * 2
    y2 = 2.0 * torch.exp(-3.0 * t) + 0.5 + noise * 0.2
    theta = torch.tensor([1.0, 1.0, 0.0], dtype=torch.float64, requires_grad=True)

    def curve_loss():
        a, b, c = theta[0], theta[1], theta[2]
        return ((a * torch.exp(-b * t) + c - y2) ** 2).mean()

    curve, evals = fit([theta], curve_loss, args.steps)
    a, b, c = theta.detach().tolist()
    print(f"exponential fit: a={a:.3f} b={b:.3f} c={c:.3f} (truth 2, 3, 0.5), mse {curve:.2e}, "
          f"{evals} function evaluations")
    return {"poly_error": poly_error, "theta": (a, b, c), "curve_mse": curve}


if __name__ == "__main__":
    main()
