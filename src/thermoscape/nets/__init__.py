"""Networks and the loss landscapes on their flat parameter vectors: ``build(spec, seed)``, the one builder of every
module network (``registry``; the architectures in ``small``, ``resnet``, ``vgg``, ``lenet``, their initialisers
in ``inits``), the flat view of a module (``networks``), the batched functional MLP (``mlp``) and landscapes
(``losses``)."""

from thermoscape.nets.registry import architectures, build, register

__all__ = ["architectures", "build", "register"]
