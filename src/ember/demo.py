"""``python -m ember.demo``: train a classifier on the handwritten digits, end to end.

A multilayer perceptron learns the 8x8 digits shipped with Ember (1,797 images; 80% for
training, 20% held out), with Adam and a cosine learning-rate schedule, a tqdm progress
bar and the loss per epoch.  It then reports the held-out accuracy, saves a checkpoint
with ``ember.save``, reloads it into a fresh model and checks the accuracy is the same.

    python -m ember.demo              # full run (30 epochs, a few seconds)
    EMBER_DEMO_EPOCHS=3 python -m ember.demo

The 2018 seed session lives on as ``python -m ember.seed_session``.
"""
import os
import tempfile
import time

from tqdm import tqdm

import ember
import ember.nn as nn
import ember.optim as optim
from ember.datasets import load_digits
from ember.serialization import load, save
from ember.utils.data import DataLoader, TensorDataset, random_split

DEFAULT_EPOCHS = 30


def make_model():
    return nn.Sequential(nn.Flatten(), nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))


def _stack(subset):
    """A whole split as two tensors (evaluation needs no batching)."""
    images, labels = zip(*(subset[i] for i in range(len(subset))))
    return ember.stack(images), ember.stack(labels)


def accuracy(model, images, labels):
    model.eval()
    with ember.no_grad():
        predicted = model(images).argmax(1)
    return (predicted == labels).float().mean().item()


def run(epochs=DEFAULT_EPOCHS, seed=0, checkpoint=None, progress=True, log=print):
    """Train, evaluate, save, reload; returns a dict of the results."""
    ember.manual_seed(seed)
    images, labels = load_digits()
    train_set, test_set = random_split(TensorDataset(images, labels), [0.8, 0.2],
                                       generator=ember.Generator().manual_seed(seed))
    loader = DataLoader(train_set, batch_size=32, shuffle=True,
                        generator=ember.Generator().manual_seed(seed + 1))
    test_images, test_labels = _stack(test_set)

    model = make_model()
    optimizer = optim.Adam(model.parameters(), lr=3e-3)
    scheduler = optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    loss_fn = nn.CrossEntropyLoss()
    log(f"digits: {len(train_set)} training and {len(test_set)} held-out images; {model}")

    start = time.perf_counter()
    losses = []
    bar = tqdm(range(1, epochs + 1), desc="training", unit="epoch", disable=not progress)
    for epoch in bar:
        model.train()
        total, count = 0.0, 0
        for xb, yb in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            total += loss.item() * len(yb)
            count += len(yb)
        scheduler.step()
        losses.append(total / count)
        bar.set_postfix(loss=f"{losses[-1]:.4f}")
        line = f"epoch {epoch:3d}  loss {losses[-1]:.4f}  lr {scheduler.get_last_lr()[0]:.2e}"
        if progress:
            tqdm.write(line)   # printed above the bar, which stays at the bottom
        else:
            log(line)
    train_seconds = time.perf_counter() - start

    test_acc = accuracy(model, test_images, test_labels)
    log(f"held-out accuracy: {test_acc:.2%} ({len(test_set)} images), "
        f"training took {train_seconds:.1f} s")

    own_dir = None
    if checkpoint is None:
        own_dir = tempfile.TemporaryDirectory()
        checkpoint = os.path.join(own_dir.name, "digits_mlp.pt")
    save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
          "epochs": epochs, "test_accuracy": test_acc}, checkpoint)
    restored = make_model()
    state = load(checkpoint)
    restored.load_state_dict(state["model"])
    reloaded_acc = accuracy(restored, test_images, test_labels)
    log(f"checkpoint {checkpoint} ({os.path.getsize(checkpoint)} bytes) reloaded into a fresh "
        f"model: accuracy {reloaded_acc:.2%}"
        + (" (same)" if reloaded_acc == test_acc else " (DIFFERENT)"))
    if own_dir is not None:
        own_dir.cleanup()
    return {"test_accuracy": test_acc, "reloaded_accuracy": reloaded_acc, "losses": losses,
            "train_seconds": train_seconds, "n_test": len(test_set),
            "checkpoint_epochs": state["epochs"]}


def main():
    epochs = int(os.environ.get("EMBER_DEMO_EPOCHS", DEFAULT_EPOCHS))
    start = time.perf_counter()
    run(epochs=epochs)
    print(f"total time {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
