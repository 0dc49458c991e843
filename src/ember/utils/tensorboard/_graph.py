"""add_graph: a module's graph, traced from one forward, as a TensorBoard GraphDef.

Every op the forward runs is seen through the dispatch hook (``registry.push_around``),
named inside the scope of the module that ran it (``Sequential/Linear[0]/aten::addmm``,
as torch's traced graphs read); its inputs are the nodes that produced its tensor
arguments, the model's parameters (``.../weight``) or the model's inputs.
"""
from tensorboard.compat.proto.attr_value_pb2 import AttrValue
from tensorboard.compat.proto.config_pb2 import RunMetadata
from tensorboard.compat.proto.graph_pb2 import GraphDef
from tensorboard.compat.proto.node_def_pb2 import NodeDef
from tensorboard.compat.proto.step_stats_pb2 import DeviceStepStats, StepStats
from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
from tensorboard.compat.proto.versions_pb2 import VersionDef

from ..._ops import registry
from ..._tensor import Tensor
from ...autograd import grad_mode


def _shape_attr(tensors):
    shapes = [TensorShapeProto(dim=[TensorShapeProto.Dim(size=d) for d in t.shape])
              for t in tensors]
    return {"_output_shapes": AttrValue(list=AttrValue.ListValue(shape=shapes))}


def _flatten(x):
    if isinstance(x, Tensor):
        return [x]
    if isinstance(x, (list, tuple)):
        return [t for item in x for t in _flatten(item)]
    if isinstance(x, dict):
        return [t for item in x.values() for t in _flatten(item)]
    return []


class _Tracer:
    def __init__(self, model):
        self.nodes = []
        self.producer = {}     # id(tensor) -> node name
        self.keep = []         # the traced tensors, alive so their ids stay theirs
        self.counts = {}
        root = type(model).__name__
        self.scope = [root]
        self.module_scope = {id(model): root}
        for name, module in model.named_modules():
            if name:
                parent, _, attr = name.rpartition(".")
                self.module_scope[id(module)] = (
                    self.module_scope[id(model.get_submodule(parent)) if parent else id(model)]
                    + f"/{type(module).__name__}[{attr}]")
        for name, p in list(model.named_parameters()) + list(model.named_buffers()):
            owner, _, attr = name.rpartition(".")
            scope = self.module_scope[id(model.get_submodule(owner)) if owner else id(model)]
            self.add(f"{scope}/{attr}", "prim::GetAttr", [], [p])

    def unique(self, name):
        n = self.counts.get(name, 0)
        self.counts[name] = n + 1
        return name if n == 0 else f"{name}.{n}"

    def add(self, name, op, inputs, outputs, attrs=""):
        name = self.unique(name)
        node = NodeDef(name=name, op=op, input=inputs, device="/device:CPU:0",
                       attr={**_shape_attr(outputs), "attr": AttrValue(s=attrs.encode())})
        self.nodes.append(node)
        for t in outputs:
            self.producer[id(t)] = name
            self.keep.append(t)
        return name

    def around(self, op, inputs, params, run):
        out = run(op, inputs, params)
        ins = [self.producer[id(x)] for x in inputs if isinstance(x, Tensor)
               and id(x) in self.producer]
        attrs = ", ".join(f"{k}={v!r}" for k, v in params.items()
                          if not hasattr(v, "shape"))
        self.add(f"{self.scope[-1]}/aten::{op.name}", f"aten::{op.name}", ins, _flatten(out),
                 "{" + attrs + "}")
        return out


def graph(model, args, verbose=False):
    """(GraphDef, RunMetadata) of ``model(*args)``, run once without recording autograd."""
    if not isinstance(args, (list, tuple)):
        args = (args,)
    tracer = _Tracer(model)
    for i, t in enumerate(_flatten(list(args))):
        tracer.add(f"input/input.{i + 1}" if i else "input/input", "IO Node", [], [t])
    handles = []
    for module in model.modules():
        scope = tracer.module_scope[id(module)]

        def pre(mod, inp, scope=scope):
            tracer.scope.append(scope)

        def post(mod, inp, out):
            tracer.scope.pop()
        handles.append(module.register_forward_pre_hook(pre))
        handles.append(module.register_forward_hook(post))
    restore = registry.push_around(tracer.around)
    try:
        with grad_mode.no_grad():
            out = model(*args)
    finally:
        restore()
        for h in handles:
            h.remove()
    for i, t in enumerate(_flatten(out)):
        src = tracer.producer.get(id(t))
        tracer.add(f"output/output.{i + 1}", "IO Node", [src] if src else [], [t])
    if verbose:
        for node in tracer.nodes:
            print(node.name, node.op, list(node.input))
    stats = RunMetadata(step_stats=StepStats(dev_stats=[DeviceStepStats(device="/device:CPU:0")]))
    return GraphDef(node=tracer.nodes, versions=VersionDef(producer=22)), stats
