"""``python -m ember.distributed.run --nproc-per-node N script.py ARGS``: torchrun's
command line, starting the processes with MPI's ``mpiexec``.

Each process gets torchrun's environment (RANK, LOCAL_RANK, WORLD_SIZE, LOCAL_WORLD_SIZE,
MASTER_ADDR, MASTER_PORT, and OMP_NUM_THREADS=1 unless set), so ``init_process_group(init_method="env://")`` and scripts
that read those variables work unchanged. Several machines: list them in a host file
(one ``host[:slots]`` a line, MPICH's format) and pass ``--hostfile FILE --nnodes M``;
mpiexec starts ``--nproc-per-node`` processes on each. The exit status is mpiexec's:
non-zero as soon as any rank fails (mpiexec then stops the others).
"""
import argparse
import os
import runpy
import shutil
import subprocess
import sys

_WORKER = "EMBER_DISTRIBUTED_RUN_WORKER"


def find_mpiexec():
    """The mpiexec beside this Python (the mpich wheel installs it there), else on PATH."""
    here = os.path.join(os.path.dirname(sys.executable), "mpiexec")
    found = here if os.path.exists(here) else shutil.which("mpiexec")
    if found is None:
        raise RuntimeError("mpiexec not found: pip install 'ember[distributed]' brings MPICH's")
    return found


def _parser():
    p = argparse.ArgumentParser(
        prog="python -m ember.distributed.run",
        description="Start a training script on several processes (torchrun's options).")
    p.add_argument("--nproc-per-node", "--nproc_per_node", type=int, default=1)
    p.add_argument("--nnodes", type=int, default=1)
    p.add_argument("--hostfile", default=None,
                   help="MPICH host file, one machine a line (needed when --nnodes > 1)")
    p.add_argument("--master-addr", "--master_addr", default="127.0.0.1")
    p.add_argument("--master-port", "--master_port", type=int, default=29500)
    p.add_argument("--standalone", action="store_true", help="accepted for torchrun's sake")
    p.add_argument("-m", "--module", action="store_true",
                   help="run the target as a module (python -m), not a file")
    p.add_argument("--mpiexec-arg", action="append", default=[],
                   help="an extra argument for mpiexec (repeatable)")
    p.add_argument("script")
    p.add_argument("script_args", nargs=argparse.REMAINDER)
    return p


def command(args):
    """The mpiexec command line that runs ``args`` (parsed options)."""
    total = args.nproc_per_node * args.nnodes
    cmd = [find_mpiexec(), "-n", str(total), "-ppn", str(args.nproc_per_node)]
    if args.hostfile:
        cmd += ["-f", args.hostfile]
    elif args.nnodes > 1:
        raise SystemExit("--nnodes > 1 needs --hostfile (the machines to start on)")
    cmd += list(args.mpiexec_arg)
    if _one_thread_each(args):
        cmd += ["-genv", "OMP_NUM_THREADS", "1"]
    cmd += ["-genv", _WORKER, "1", "-genv", "MASTER_ADDR", args.master_addr,
            "-genv", "MASTER_PORT", str(args.master_port),
            "-genv", "LOCAL_WORLD_SIZE", str(args.nproc_per_node),
            "-genv", "WORLD_SIZE", str(total)]
    cmd += [sys.executable, "-m", "ember.distributed.run"]
    cmd += (["-m"] if args.module else []) + [args.script] + list(args.script_args)
    return cmd


def _one_thread_each(args):
    """torchrun's default: with several processes a machine and OMP_NUM_THREADS unset,
    each process gets one BLAS thread. OpenBLAS threads spin while they wait for work, so
    two ranks with two threads each on two cores took 145-157 ms a DDP step of the
    benchmark's MLP where one thread each took 13-25 ms (a machine busy with other work)."""
    return args.nproc_per_node > 1 and "OMP_NUM_THREADS" not in os.environ


_THREADS_NOTE = ("*****************************************\n"
                 "Setting OMP_NUM_THREADS environment variable for each process to be 1 in "
                 "default, to avoid your system being overloaded, please further tune the "
                 "variable for optimal performance in your application as needed. \n"
                 "*****************************************")


def _worker(argv):
    """Inside a started process: torchrun's variables from MPI's, then the script."""
    rank = os.environ.get("PMI_RANK", os.environ.get("OMPI_COMM_WORLD_RANK", "0"))
    local = os.environ.get("MPI_LOCALRANKID",
                           os.environ.get("OMPI_COMM_WORLD_LOCAL_RANK", rank))
    os.environ.update(RANK=rank, LOCAL_RANK=local, GROUP_RANK=str(int(rank) - int(local)))
    module = argv[0] == "-m"
    target, rest = (argv[1], argv[2:]) if module else (argv[0], argv[1:])
    sys.argv = [target] + rest
    if module:
        runpy.run_module(target, run_name="__main__", alter_sys=True)
    else:
        sys.path.insert(0, os.path.dirname(os.path.abspath(target)))
        runpy.run_path(target, run_name="__main__")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if os.environ.get(_WORKER) == "1":
        return _worker(argv)
    args = _parser().parse_args(argv)
    if _one_thread_each(args):
        print(_THREADS_NOTE, file=sys.stderr, flush=True)
    return subprocess.call(command(args))


if __name__ == "__main__":
    sys.exit(main())
