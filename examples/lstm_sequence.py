"""An LSTM learns a sequence task: forecast the next value of sine waves of random
frequency, phase and amplitude, from the values so far.

    python examples/lstm_sequence.py            # well under a minute
    python examples/lstm_sequence.py --epochs 2
"""
import argparse
import math
import time

import ember as torch
import ember.nn as nn
import ember.optim as optim
from ember.utils.data import DataLoader, TensorDataset


def make_waves(n, length, generator):
    """Sine waves with random frequency, phase and amplitude; the target is each next value."""
    freq = torch.rand(n, 1, generator=generator) * 0.4 + 0.1
    phase = torch.rand(n, 1, generator=generator) * 2 * math.pi
    amp = torch.rand(n, 1, generator=generator) * 0.5 + 0.5
    t = torch.arange(length + 1).float().unsqueeze(0)
    waves = amp * torch.sin(freq * t + phase)
    return waves[:, :-1].unsqueeze(-1), waves[:, 1:].unsqueeze(-1)


class Forecaster(nn.Module):
    def __init__(self, hidden=32):
        super().__init__()
        self.lstm = nn.LSTM(1, hidden, batch_first=True)
        self.out = nn.Linear(hidden, 1)

    def forward(self, x):
        h, _ = self.lstm(x)
        return self.out(h)


def main(argv=None):
    parser = argparse.ArgumentParser(description="an LSTM forecasts sine waves")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--train-size", type=int, default=512)
    args = parser.parse_args(argv)

    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    x_train, y_train = make_waves(args.train_size, 30, gen)
    x_test, y_test = make_waves(128, 30, gen)
    loader = DataLoader(TensorDataset(x_train, y_train), batch_size=32, shuffle=True)
    model = Forecaster()
    optimizer = optim.Adam(model.parameters(), lr=1e-2)
    scheduler = optim.lr_scheduler.StepLR(optimizer, step_size=max(1, args.epochs // 3),
                                          gamma=0.5)
    loss_fn = nn.MSELoss()
    # The error of guessing "same as now", which the LSTM must beat by reading the phase.
    baseline = loss_fn(x_test, y_test).item()
    start = time.perf_counter()
    for epoch in range(args.epochs):
        total = 0.0
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(xb)
        scheduler.step()
        print(f"epoch {epoch + 1}: train mse {total / len(x_train):.5f}")
    with torch.no_grad():
        # Skip the first steps: the LSTM needs a few values to infer frequency and phase.
        test_mse = loss_fn(model(x_test)[:, 5:], y_test[:, 5:]).item()
    print(f"test mse {test_mse:.5f} vs {baseline:.5f} for repeating the last value "
          f"({time.perf_counter() - start:.1f} s)")
    return {"test_mse": test_mse, "baseline_mse": baseline}


if __name__ == "__main__":
    main()
