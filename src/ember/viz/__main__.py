"""``python -m ember.viz [FILE] [--format svg|png|dot]``: draw the seed session's graph.

The session is ``x = ones(2, 2, requires_grad=True); y = x + 2; z = y * y * 3;
out = z.mean()``; the picture shows ``out``'s graph down to ``x``.
"""
import argparse

import ember
from ember.viz import make_dot


def seed_graph():
    x = ember.ones(2, 2, requires_grad=True)
    y = x + 2
    z = y * y * 3
    out = z.mean()
    return make_dot(out, params={"x": x})


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m ember.viz", description=__doc__.split("\n")[0])
    parser.add_argument("file", nargs="?", default="seed_graph.svg",
                        help="where to write the picture (default: seed_graph.svg)")
    parser.add_argument("--format", choices=("svg", "png", "dot"),
                        help="file format (default: from the file's extension, else svg)")
    args = parser.parse_args(argv)
    fmt = args.format or (args.file.rpartition(".")[2] if "." in args.file else "svg")
    if fmt not in ("svg", "png", "dot"):
        parser.error(f"unknown format {fmt!r}: use svg, png or dot")
    dot = seed_graph()
    if fmt == "dot":
        with open(args.file, "w") as f:
            f.write(dot.source)
        written = args.file
    else:
        written = dot.render(outfile=args.file, format=fmt, cleanup=True)
    print(f"wrote {written}")
    return written


if __name__ == "__main__":
    main()
