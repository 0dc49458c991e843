"""ember.distributed on real processes: the workers beside this file run under mpiexec
(2 and 4 processes; more processes than cores is fine) and check every result themselves.
Each run has a hard timeout, so a hang fails the test instead of stalling the suite."""
import os
import subprocess
import sys
import time

import pytest
import torch
from torch.utils.data.distributed import DistributedSampler as TorchSampler

import ember
import ember.distributed as dist
from ember.distributed.run import command, find_mpiexec
from ember.utils.data import DistributedSampler, TensorDataset

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(os.path.abspath(ember.__file__)))
LIMIT = 120


def _env(**extra):
    env = dict(os.environ)
    env["PYTHONPATH"] = SRC + os.pathsep + env.get("PYTHONPATH", "")
    for name in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        env.pop(name, None)
    env.update(extra)
    return env


def _run(cmd, env=None):
    return subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          timeout=LIMIT, env=env or _env())


def _mpiexec(n, script, *args, mpiexec_args=()):
    return _run([find_mpiexec(), *mpiexec_args, "-n", str(n), sys.executable,
                 os.path.join(HERE, script), *args])


def _expect_ok(result, word, n):
    assert result.returncode == 0, result.stdout + result.stderr
    for r in range(n):
        assert f"{word} ok {r}" in result.stdout, result.stdout + result.stderr


@pytest.mark.parametrize("n", [2, 4])
def test_every_collective_on_several_dtypes_and_shapes(n):
    _expect_ok(_mpiexec(n, "collectives_worker.py"), "collectives", n)


@pytest.mark.parametrize("n", [2, 4])
def test_ddp_matches_single_process_training_on_the_whole_batch(n):
    _expect_ok(_mpiexec(n, "ddp_worker.py"), "ddp", n)


# The NCCL backend on CUDA tensors, on the CUDA stand-in: Ember's NCCLBackend makes the
# same cupy.cuda.nccl calls as on a GPU, carried over MPI by the stand-in's NCCL.
@pytest.mark.parametrize("n", [2, 4])
def test_every_collective_through_nccl_on_cuda_tensors(n):
    _expect_ok(_run([find_mpiexec(), "-n", str(n), sys.executable,
                     os.path.join(HERE, "collectives_worker.py"), "nccl"],
                    env=_env(EMBER_CUDA_STANDIN="1")), "collectives", n)


def test_ddp_on_cuda_through_nccl_matches_single_process_training():
    _expect_ok(_run([find_mpiexec(), "-n", "2", sys.executable,
                     os.path.join(HERE, "ddp_worker.py"), "nccl"],
                    env=_env(EMBER_CUDA_STANDIN="1")), "ddp", 2)


def test_a_rank_that_never_arrives_raises_after_the_timeout():
    start = time.monotonic()
    result = _mpiexec(2, "failure_worker.py", "timeout", mpiexec_args=["-disable-auto-cleanup"])
    assert "rank 0 raised after" in result.stdout, result.stdout + result.stderr
    assert "timed out: not every rank of the group took part" in result.stdout
    assert "finished all_reduce without its peer" not in result.stdout
    assert time.monotonic() - start < 60


def test_a_rank_that_fails_ends_the_job():
    start = time.monotonic()
    result = _mpiexec(2, "failure_worker.py", "crash")
    assert result.returncode != 0
    assert "rank 1 fails on purpose" in result.stderr
    assert "finished all_reduce" not in result.stdout
    assert time.monotonic() - start < 60


def test_launcher_sets_torchrun_environment(tmp_path):
    # each rank writes its own file: mpiexec forwards the ranks' stdout in chunks that can
    # interleave within a line
    script = tmp_path / "show_env.py"
    script.write_text(
        "import os, sys\nimport ember.distributed as dist\n"
        "dist.init_process_group('gloo', init_method='env://')\n"
        "words = ['env', *(os.environ[k] for k in ('RANK', 'LOCAL_RANK', 'WORLD_SIZE',"
        " 'LOCAL_WORLD_SIZE', 'MASTER_ADDR', 'OMP_NUM_THREADS')), dist.get_rank(),"
        " dist.get_world_size(), *sys.argv[1:]]\n"
        f"open(os.path.join({str(tmp_path)!r}, f'env{{dist.get_rank()}}.txt'), 'w')"
        ".write(' '.join(map(str, words)))\n")
    env = _env()
    env.pop("OMP_NUM_THREADS", None)
    # unset: one thread a process, as torchrun sets it (and says so); set: left alone
    for threads, expected in ((None, "1"), ("3", "3")):
        if threads is not None:
            env["OMP_NUM_THREADS"] = threads
        result = _run([sys.executable, "-m", "ember.distributed.run", "--nproc-per-node", "2",
                       str(script), "--lr", "0.5"], env=env)
        assert result.returncode == 0, result.stdout + result.stderr
        assert ("Setting OMP_NUM_THREADS environment variable for each process to be 1"
                in result.stderr) == (threads is None), result.stderr
        lines = [(tmp_path / f"env{r}.txt").read_text() for r in range(2)]
        assert lines == [f"env {r} {r} 2 2 127.0.0.1 {expected} {r} 2 --lr 0.5"
                         for r in range(2)]


def test_launcher_command_for_several_machines():
    import argparse
    args = argparse.Namespace(nproc_per_node=4, nnodes=2, hostfile="hosts", mpiexec_arg=[],
                              master_addr="10.0.0.1", master_port=29500, module=False,
                              script="train.py", script_args=["--epochs", "3"])
    cmd = command(args)
    assert cmd[1:7] == ["-n", "8", "-ppn", "4", "-f", "hosts"]
    assert cmd[-2:] == ["--epochs", "3"] and "train.py" in cmd


def test_ranks_come_from_mpi_and_a_mislaunched_script_fails_at_once():
    code = ("import ember.distributed as dist\n"
            "try:\n    dist.init_process_group('gloo')\n"
            "except ValueError as e:\n    print(e)\n")
    result = _run([sys.executable, "-c", code], env=_env(WORLD_SIZE="2", RANK="1"))
    assert "this process is MPI rank 0 of 1, but was asked for rank 1 of world size 2" \
        in result.stdout, result.stdout + result.stderr


def test_import_ember_does_not_import_mpi4py():
    code = "import sys, ember, ember.distributed, ember.nn.parallel\nprint('mpi4py' in sys.modules)"
    result = _run([sys.executable, "-c", code])
    assert result.stdout.strip() == "False", result.stderr


def test_calls_before_init_raise_torchs_error():
    assert not dist.is_initialized()
    for call in (dist.get_rank, dist.barrier, lambda: dist.all_reduce(ember.ones(1)),
                 lambda: dist.broadcast(ember.ones(1), src=0), dist.new_group,
                 lambda: DistributedSampler(range(3)),
                 lambda: ember.nn.parallel.DistributedDataParallel(ember.nn.Linear(1, 1))):
        with pytest.raises(ValueError, match="Default process group has not been initialized"):
            call()
    with pytest.raises(ValueError) as expected:
        torch.distributed.barrier()
    with pytest.raises(ValueError) as got:
        dist.barrier()
    assert str(got.value) == str(expected.value)


@pytest.mark.parametrize("size", [10, 11, 3, 1])
@pytest.mark.parametrize("replicas", [1, 2, 3, 4])
@pytest.mark.parametrize("drop_last", [False, True])
def test_distributed_sampler_shards_as_torch(size, replicas, drop_last):
    data = TensorDataset(ember.arange(size))
    for rank in range(replicas):
        ours = DistributedSampler(data, num_replicas=replicas, rank=rank, shuffle=False,
                                  drop_last=drop_last)
        theirs = TorchSampler(range(size), num_replicas=replicas, rank=rank, shuffle=False,
                              drop_last=drop_last)
        assert list(ours) == list(theirs) and len(ours) == len(theirs)
        # shuffled: the generators are torch's, so the shards are torch's exactly
        for epoch in (3, 4):
            shuffled = DistributedSampler(data, num_replicas=replicas, rank=rank, seed=7,
                                          drop_last=drop_last)
            reference = TorchSampler(range(size), num_replicas=replicas, rank=rank, seed=7,
                                     drop_last=drop_last)
            shuffled.set_epoch(epoch)
            reference.set_epoch(epoch)
            assert list(shuffled) == list(reference)


def test_distributed_sampler_partitions_every_epoch():
    data = list(range(23))
    shards = [DistributedSampler(data, num_replicas=4, rank=r, seed=1) for r in range(4)]
    for epoch in range(2):
        for s in shards:
            s.set_epoch(epoch)
        indices = [i for s in shards for i in s]
        assert len(indices) == 24 and set(indices) == set(data)
    with pytest.raises(ValueError,
                       match=r"Invalid rank 4, rank should be in the interval \[0, 3\]"):
        DistributedSampler(data, num_replicas=4, rank=4)


def test_ddp_digits_example_started_by_mpiexec():
    example = os.path.join(HERE, "..", "..", "examples", "ddp_digits.py")
    result = _run([find_mpiexec(), "-n", "2", sys.executable, example, "--epochs", "3"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 processes, 719 of 1438 training images each" in result.stdout
    assert "every rank holds the same weights: True" in result.stdout
    accuracy = float(result.stdout.split("held-out accuracy: ")[1].split("%")[0])
    assert accuracy > 80, result.stdout
