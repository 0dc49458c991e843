"""python -m ember.compat SCRIPT [ARGS] | -m MODULE [ARGS] | -c CODE [ARGS]: run with
``import torch`` resolving to Ember, as ``python SCRIPT`` / ``python -m MODULE`` would."""
import os
import runpy
import sys

from . import install

_USAGE = "usage: python -m ember.compat (SCRIPT | -m MODULE | -c CODE) [ARGS...]"


def main(argv):
    if not argv or argv[0] in ("-h", "--help"):
        print(_USAGE, file=sys.stderr if not argv else sys.stdout)
        return 2 if not argv else 0
    if argv[0] in ("-m", "-c") and len(argv) < 2:
        print(f"Argument expected for the {argv[0]} option\n{_USAGE}", file=sys.stderr)
        return 2
    install()
    if argv[0] == "-m":
        # As `python -m`: sys.path[0] stays the working directory; runpy sets argv[0].
        sys.argv = argv[1:]
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
    elif argv[0] == "-c":
        sys.argv = ["-c", *argv[2:]]
        exec(compile(argv[1], "<string>", "exec"), {"__name__": "__main__"})
    else:
        sys.argv = list(argv)
        sys.path[0] = os.path.dirname(os.path.abspath(argv[0]))
        runpy.run_path(argv[0], run_name="__main__")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
