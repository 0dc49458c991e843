"""Run code written for torch on Ember: ``import torch`` resolves to Ember.

    import ember.compat
    ember.compat.install()
    import torch                       # Ember, under torch's name
    import torch.nn.functional as F    # the module object ember.nn.functional itself

or, for a whole program, ``python -m ember.compat train.py [ARGS]`` /
``python -m ember.compat -m pytest [ARGS]``.

The hook is a finder at the front of ``sys.meta_path``, so it wins over a real torch
installed in site-packages. ``torch.X.Y`` (and ``functorch.X``) is served as the module
``ember.X.Y`` (``ember.func.X``) itself: ``sys.modules["torch.nn"] is ember.nn``.

``torch`` itself is the one exception: it is a thin module (``TorchModule``) whose
attribute reads and writes go to ``ember``, so ``torch.nn is ember.nn`` and
``torch.Tensor is ember.Tensor``, but whose ``__version__`` is the torch release Ember
follows (``2.13.0+ember``, a ``TorchVersion``): libraries refuse ``ember.__version__``
(0.1.0) in their ``version.parse(torch.__version__) >= version.parse("2.0")`` checks, and
Ember's own version must stay its own.
"""
import importlib
import importlib.abc
import importlib.machinery
import sys
import types

__all__ = ["install", "uninstall", "is_installed", "TorchModule"]

# torch-world name prefix -> the Ember module that stands for it.
_ALIASES = {"torch": "ember", "functorch": "ember.func"}


def _ember_name(fullname):
    """The Ember module name for a torch-world module name, or None if not aliased."""
    head, _, rest = fullname.partition(".")
    target = _ALIASES.get(head)
    if target is None:
        return None
    return f"{target}.{rest}" if rest else target


class TorchModule(types.ModuleType):
    """``sys.modules["torch"]`` under the hook: ember's namespace with torch's version."""

    def __init__(self, ember_module):
        super().__init__("torch", ember_module.__doc__)
        from ..version import __version__
        d = self.__dict__
        d["_ember"] = ember_module
        d["__version__"] = __version__
        d["__path__"] = list(ember_module.__path__)
        d["__file__"] = ember_module.__file__

    def __getattr__(self, name):
        ember_module = self.__dict__["_ember"]
        try:
            return getattr(ember_module, name)
        except AttributeError:
            if name == "__all__":  # `from torch import *`: ember's public names
                return [n for n in dir(ember_module) if not n.startswith("_")]
            raise AttributeError(f"module 'torch' has no attribute '{name}' "
                                 f"(Ember has no ember.{name})") from None

    def __setattr__(self, name, value):
        # Monkeypatching torch.X patches the namespace every alias reads; the module's
        # own identity (name, spec, version) stays this module's.
        if name.startswith("__") and name.endswith("__"):
            self.__dict__[name] = value
        else:
            setattr(self.__dict__["_ember"], name, value)

    def __delattr__(self, name):
        delattr(self.__dict__["_ember"], name)

    def __dir__(self):
        return sorted(set(dir(self.__dict__["_ember"])) | set(self.__dict__) - {"_ember"})


class _Loader(importlib.abc.Loader):
    def __init__(self, ember_name):
        self.ember_name = ember_name

    def create_module(self, spec):
        module = importlib.import_module(self.ember_name)
        if spec.name == "torch":
            return TorchModule(module)
        return module

    def exec_module(self, module):
        # The import system has just set the served Ember module's __spec__ to the torch
        # alias's; give it back its own so ember.X keeps behaving as itself.
        if not isinstance(module, TorchModule):
            module.__spec__ = _ORIGINAL_SPECS[self.ember_name]


_ORIGINAL_SPECS = {}


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname, path=None, target=None):
        ember_name = _ember_name(fullname)
        if ember_name is None:
            return None
        try:
            module = importlib.import_module(ember_name)
        except ModuleNotFoundError as e:
            if e.name is not None and not ember_name.startswith(e.name + ".") \
                    and e.name != ember_name:
                raise  # something the Ember module itself imports is missing
            raise ModuleNotFoundError(f"No module named '{fullname}' (Ember has no "
                                      f"{ember_name})", name=fullname) from None
        _ORIGINAL_SPECS[ember_name] = module.__spec__
        spec = importlib.machinery.ModuleSpec(fullname, _Loader(ember_name),
                                              origin=getattr(module, "__file__", None),
                                              is_package=hasattr(module, "__path__"))
        spec.has_location = spec.origin is not None  # repr: <module 'torch' from '...'>
        return spec


_FINDER = _Finder()
_stashed = {}  # real torch modules imported before install(), put back by uninstall()


def _aliased_entries():
    return [name for name in sys.modules if _ember_name(name) is not None]


def is_installed():
    return _FINDER in sys.meta_path


def install():
    """Make ``import torch`` / ``torch.*`` / ``functorch`` resolve to Ember."""
    if is_installed():
        return
    # Modules of a real torch imported earlier would shadow the hook through sys.modules;
    # set them aside (code holding references to them keeps them).
    for name in _aliased_entries():
        _stashed[name] = sys.modules.pop(name)
    sys.meta_path.insert(0, _FINDER)


def uninstall():
    """Undo ``install()``: torch names resolve as before (a real torch, if installed)."""
    if not is_installed():
        return
    sys.meta_path.remove(_FINDER)
    for name in _aliased_entries():
        del sys.modules[name]
    sys.modules.update(_stashed)
    _stashed.clear()
