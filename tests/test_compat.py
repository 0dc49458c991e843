"""ember.compat: `import torch` resolving to Ember, in-process and through `-m ember.compat`."""
import os
import subprocess
import sys
import textwrap

import pytest
import torch as real_torch

import ember
import ember.compat
from ember.torch_version import TorchVersion

SRC = os.path.dirname(os.path.dirname(ember.__file__))


@pytest.fixture
def hooked():
    ember.compat.install()
    try:
        yield
    finally:
        ember.compat.uninstall()


def test_install_serves_ember_modules_themselves(hooked):
    import torch
    import torch.nn.functional as F
    from torch import nn
    from torch.optim.lr_scheduler import StepLR
    assert isinstance(torch, ember.compat.TorchModule)
    assert torch.nn is ember.nn and nn is ember.nn
    assert F is ember.nn.functional and torch.nn.functional is F
    assert torch.Tensor is ember.Tensor and torch.float32 is ember.float32
    assert StepLR is ember.optim.lr_scheduler.StepLR
    assert sys.modules["torch.nn"] is ember.nn
    # the served module keeps its own identity
    assert ember.nn.functional.__spec__.name == "ember.nn.functional"
    assert torch.ones(2).sum().item() == 2.0


def test_uninstall_restores_real_torch():
    before = sys.modules["torch"]
    ember.compat.install()
    import torch
    assert torch is not before
    ember.compat.uninstall()
    import torch
    assert torch is before is real_torch
    assert "torch.nn" not in sys.modules or sys.modules["torch.nn"] is real_torch.nn
    assert not ember.compat.is_installed()


def test_monkeypatching_torch_patches_ember(hooked):
    import torch
    torch._compat_probe = 3
    try:
        assert ember._compat_probe == 3
    finally:
        del torch._compat_probe
    assert not hasattr(ember, "_compat_probe")


def test_version_is_torchs_with_ember_local_part(hooked):
    import torch
    assert torch.__version__ == "2.13.0+ember"
    assert isinstance(torch.__version__, str) and isinstance(torch.__version__, TorchVersion)
    assert ember.__version__ == "0.1.0"
    assert torch.version.__version__ == torch.__version__ and torch.version.cuda is None
    assert torch.__version__ >= "2.0" and torch.__version__ >= (2, 0)
    assert torch.__version__ < (3,) and torch.__version__ > "1.13.1"
    assert torch.__version__.split("+")[0] == "2.13.0"


@pytest.mark.parametrize("other", ["2.0", "2.13.0", "2.13", "2.14", "1.9.1", (2, 0), (2, 13, 0),
                                   [3], "2.13.0+cpu"])
def test_version_comparisons_as_torchs(other):
    ours = TorchVersion("2.13.0+ember")
    theirs = real_torch.torch_version.TorchVersion("2.13.0+local")
    other_ours = other.replace("+cpu", "+ember") if isinstance(other, str) else other
    other_theirs = other.replace("+cpu", "+local") if isinstance(other, str) else other
    for op in ("__lt__", "__le__", "__gt__", "__ge__", "__eq__"):
        assert getattr(ours, op)(other_ours) == getattr(theirs, op)(other_theirs), (op, other)


def test_version_with_packaging():
    version = pytest.importorskip("packaging.version")
    ours = TorchVersion("2.13.0+ember")
    assert version.parse(ours) >= version.parse("2.0")
    assert ours > version.parse("2.0") and version.parse(ours).local == "ember"


def test_missing_submodule_names_the_torch_name(hooked):
    with pytest.raises(ModuleNotFoundError,
                       match=r"^No module named 'torch\.foo' \(Ember has no ember\.foo\)$") as e:
        import torch.foo  # noqa: F401
    assert e.value.name == "torch.foo"
    with pytest.raises(ModuleNotFoundError, match=r"'torch\.nn\.nothing_here'"):
        import torch.nn.nothing_here  # noqa: F401


def test_missing_attribute_names_the_torch_name(hooked):
    import torch
    with pytest.raises(AttributeError,
                       match=r"^module 'torch' has no attribute 'bar' \(Ember has no ember\.bar\)$"):
        _ = torch.bar
    assert not hasattr(torch, "bar")


def test_functorch_alias(hooked):
    import functorch
    from functorch import vmap
    assert functorch is ember.func and vmap is ember.func.vmap


def test_new_torch_modules_resolve(hooked):
    import torch
    import torch._dynamo
    import torch.utils._pytree as pytree
    from torch._C import _LinAlgError
    from torch.nn.attention import SDPBackend, sdpa_kernel  # noqa: F401
    assert torch.jit.is_scripting() is False and torch.compiler.is_compiling() is False
    assert torch._dynamo.is_compiling() is False
    assert pytree is ember.utils._pytree
    assert _LinAlgError is torch.linalg.LinAlgError


def test_gradcheck_stays_the_function():
    import ember.autograd.gradcheck
    from ember.autograd import gradcheck
    from ember.autograd.gradcheck import gradcheck as gradcheck_fn
    assert callable(gradcheck) and gradcheck is gradcheck_fn is ember.autograd.gradcheck
    assert callable(real_torch.autograd.gradcheck)
    x = ember.randn(3, dtype=ember.float64, requires_grad=True)
    assert gradcheck(ember.sin, (x,))


def test_linalg_error_is_torchs_class():
    assert ember._C._LinAlgError is ember.linalg.LinAlgError
    with pytest.raises(real_torch._C._LinAlgError) as expected:
        real_torch.linalg.inv(real_torch.zeros(2, 2))
    with pytest.raises(ember.linalg.LinAlgError) as got:
        ember.linalg.inv(ember.zeros(2, 2))
    assert str(got.value) == str(expected.value)
    assert type(got.value).__name__ == type(expected.value).__name__


def _run(args, cwd):
    env = dict(os.environ, PYTHONPATH=SRC)
    return subprocess.run([sys.executable, "-m", "ember.compat", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


_PROBE = textwrap.dedent("""
    import sys, torch, ember
    print(__name__, sys.argv[1:], torch.nn is ember.nn, torch.__version__)
""")


def test_run_script_subprocess(tmp_path):
    script = tmp_path / "train.py"
    script.write_text(_PROBE + "import helper\nprint(helper.VALUE)\n")
    (tmp_path / "helper.py").write_text("VALUE = 'helper-from-script-dir'\n")
    proc = _run([str(script), "--lr", "0.1"], cwd=os.getcwd())
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["__main__ ['--lr', '0.1'] True 2.13.0+ember",
                                        "helper-from-script-dir"]


def test_run_module_subprocess(tmp_path):
    (tmp_path / "probe_pkg").mkdir()
    (tmp_path / "probe_pkg" / "__init__.py").write_text("")
    (tmp_path / "probe_pkg" / "run.py").write_text(_PROBE)
    proc = _run(["-m", "probe_pkg.run", "a", "b"], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "__main__ ['a', 'b'] True 2.13.0+ember"


def test_run_script_exit_status_and_usage(tmp_path):
    script = tmp_path / "fail.py"
    script.write_text("import sys, torch\nsys.exit(3)\n")
    assert _run([str(script)], cwd=tmp_path).returncode == 3
    proc = _run([], cwd=tmp_path)
    assert proc.returncode == 2 and "usage" in proc.stderr
