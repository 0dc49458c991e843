"""``python -m ember.demo``: train a classifier on the handwritten digits, end to end.

A multilayer perceptron learns the 8x8 digits shipped with Ember (1,797 images; 80% for
training, 20% held out), with Adam and a cosine learning-rate schedule, a tqdm progress
bar and the loss per epoch.  It then reports the held-out accuracy, saves a checkpoint
with ``ember.save``, reloads it into a fresh model and checks the accuracy is the same.

    python -m ember.demo              # full run (30 epochs, a few seconds)
    EMBER_DEMO_EPOCHS=3 python -m ember.demo
    python -m ember.demo --tensorboard runs/digits   # loss, accuracy, lr per epoch
    python -m ember.demo --graph model.svg           # the autograd graph of one batch's loss

The 2018 seed session lives on as ``python -m ember.seed_session``.
"""
import argparse
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


def write_graph(model, loss_fn, images, labels, path):
    """Draw the autograd graph of one batch's loss (ember.viz) into ``path``; the format
    comes from the extension (``.svg``, ``.png``, ``.pdf``; ``.dot`` writes the DOT text)."""
    from ember.viz import make_dot
    dot = make_dot(loss_fn(model(images), labels), params=dict(model.named_parameters()))
    fmt = path.rpartition(".")[2].lower() if "." in os.path.basename(path) else "svg"
    if fmt == "dot":
        with open(path, "w") as f:
            f.write(dot.source)
        return path
    return dot.render(outfile=path, format=fmt, cleanup=True)


def run(epochs=DEFAULT_EPOCHS, seed=0, checkpoint=None, progress=True, log=print,
        tensorboard=None, graph=None):
    """Train, evaluate, save, reload; returns a dict of the results.

    ``tensorboard``: a log directory for loss, held-out accuracy and learning rate per
    epoch (ember.utils.tensorboard); ``graph``: a file for the model's autograd graph."""
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
    if graph is not None:
        xb, yb = next(iter(loader))
        written = write_graph(model, loss_fn, xb, yb, graph)
        log(f"autograd graph of one batch's loss written to {written}")
    writer = None
    if tensorboard is not None:
        from ember.utils.tensorboard import SummaryWriter
        writer = SummaryWriter(tensorboard)

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
        lr = scheduler.get_last_lr()[0]
        scheduler.step()
        losses.append(total / count)
        if writer is not None:
            writer.add_scalar("loss/train", losses[-1], epoch)
            writer.add_scalar("accuracy/held_out", accuracy(model, test_images, test_labels),
                              epoch)
            writer.add_scalar("learning_rate", lr, epoch)
        bar.set_postfix(loss=f"{losses[-1]:.4f}")
        line = f"epoch {epoch:3d}  loss {losses[-1]:.4f}  lr {scheduler.get_last_lr()[0]:.2e}"
        if progress:
            tqdm.write(line)   # printed above the bar, which stays at the bottom
        else:
            log(line)
    train_seconds = time.perf_counter() - start
    if writer is not None:
        writer.close()
        log(f"TensorBoard logs in {tensorboard}: tensorboard --logdir {tensorboard}")

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


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m ember.demo",
                                     description="Train an MLP on the digits, end to end.")
    parser.add_argument("--tensorboard", metavar="DIR",
                        help="log loss, accuracy and learning rate per epoch for TensorBoard "
                             "(needs the tensorboard package: pip install 'ember[tensorboard]')")
    parser.add_argument("--graph", metavar="FILE",
                        help="draw the model's autograd graph (.svg, .png, .pdf or .dot; "
                             "needs pip install 'ember[viz]' and Graphviz)")
    args = parser.parse_args(argv)
    epochs = int(os.environ.get("EMBER_DEMO_EPOCHS", DEFAULT_EPOCHS))
    start = time.perf_counter()
    run(epochs=epochs, tensorboard=args.tensorboard, graph=args.graph)
    print(f"total time {time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
