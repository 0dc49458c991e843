"""How much of PyTorch's public API Ember has.

    python tools/api_coverage.py [--missing] [--all]

Lists the public names of ``torch``, ``torch.Tensor``, ``torch.nn.functional`` and
``torch.linalg`` from the installed PyTorch (the oracle), marks which exist in
Ember, and prints counts per namespace.  The headline figure is measured on
``tools/common_api.txt``: ~400 most-used names, curated as that file's header says.
``--missing`` prints the missing names; ``--all`` also measures the full namespaces.
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def namespaces():
    import torch
    import torch.nn.functional as F
    import ember
    try:
        import ember.nn.functional as EF
    except ImportError:
        EF = None
    return {
        "torch": (torch, ember),
        "Tensor": (torch.Tensor, ember.Tensor),
        "nn.functional": (F, EF),
        "linalg": (torch.linalg, getattr(ember, "linalg", None)),
    }


def public_names(obj):
    return sorted(n for n in dir(obj) if not n.startswith("_"))


def has(ember_obj, name):
    return ember_obj is not None and hasattr(ember_obj, name)


def curated():
    with open(os.path.join(HERE, "common_api.txt")) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                ns, _, name = line.rpartition(".")
                yield ns, name


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--missing", action="store_true", help="print the missing names")
    p.add_argument("--all", action="store_true", help="also measure the full namespaces")
    args = p.parse_args(argv)
    ns = namespaces()

    counts = {}
    missing = []
    for space, name in curated():
        present = has(ns[space][1], name)
        c = counts.setdefault(space, [0, 0])
        c[0] += present
        c[1] += 1
        if not present:
            missing.append(f"{space}.{name}")
    total = sum(c[0] for c in counts.values()), sum(c[1] for c in counts.values())
    print("Curated list of most-used names (tools/common_api.txt):")
    for space, (n, d) in counts.items():
        print(f"  {space:14} {n:4d}/{d:<4d} {100 * n / d:5.1f}%")
    print(f"  {'total':14} {total[0]:4d}/{total[1]:<4d} {100 * total[0] / total[1]:5.1f}%")
    if args.all:
        print("Full public namespaces of the installed torch:")
        for space, (t_obj, e_obj) in ns.items():
            names = public_names(t_obj)
            n = sum(has(e_obj, x) for x in names)
            print(f"  {space:14} {n:4d}/{len(names):<4d} {100 * n / len(names):5.1f}%")
    if args.missing:
        print("Missing from the curated list:")
        for m in missing:
            print("  " + m)
    return total


if __name__ == "__main__":
    main()
    sys.exit(0)
