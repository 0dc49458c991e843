"""A small convolutional network on the 8x8 handwritten digits shipped with Ember.

    python examples/cnn_digits.py            # 8 epochs, about a minute on 2 CPU cores
    python examples/cnn_digits.py --epochs 1 --limit 300
"""
import argparse
import time

import ember as torch
import ember.nn as nn
import ember.nn.functional as F
import ember.optim as optim
from ember.datasets import load_digits
from ember.utils.data import DataLoader, Subset, TensorDataset, random_split


class DigitsCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1)
        self.fc = nn.Linear(16 * 4 * 4, 10)

    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)   # 8x8 -> 4x4
        x = F.relu(self.conv2(x))
        return self.fc(torch.flatten(x, 1))


def evaluate(model, loader):
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for x, y in loader:
            correct += (model(x).argmax(1) == y).sum().item()
            total += len(y)
    return correct / total


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--limit", type=int, default=None,
                        help="train on only this many images (for a quick check)")
    args = parser.parse_args(argv)

    torch.manual_seed(0)
    images, labels = load_digits()
    train_set, test_set = random_split(TensorDataset(images, labels), [0.8, 0.2],
                                       generator=torch.Generator().manual_seed(0))
    if args.limit is not None:
        train_set = Subset(train_set, range(args.limit))
    train_loader = DataLoader(train_set, batch_size=64, shuffle=True)
    test_loader = DataLoader(test_set, batch_size=256)

    model = DigitsCNN()
    optimizer = optim.AdamW(model.parameters(), lr=1e-2, weight_decay=1e-4)
    scheduler = optim.lr_scheduler.OneCycleLR(optimizer, max_lr=1e-2, epochs=args.epochs,
                                              steps_per_epoch=len(train_loader))
    start = time.perf_counter()
    for epoch in range(args.epochs):
        model.train()
        total = 0.0
        for x, y in train_loader:
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            scheduler.step()
            total += loss.item() * len(y)
        print(f"epoch {epoch + 1}: loss {total / len(train_set):.4f}  "
              f"test accuracy {evaluate(model, test_loader):.2%}")
    accuracy = evaluate(model, test_loader)
    print(f"test accuracy {accuracy:.2%} after {time.perf_counter() - start:.1f} s")
    return {"accuracy": accuracy}


if __name__ == "__main__":
    main()
