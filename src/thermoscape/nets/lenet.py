"""Feng & Tu's LeNets (Methods; Figs. S1B, S3C-D): ``"lenet"`` with ``variant`` ``mnist`` or ``cifar``.

Drawn from the global torch generator at construction (PyTorch's default init); build with ``nets.build``.
"""

from __future__ import annotations

from torch import Tensor, nn

VARIANTS = ("mnist", "cifar")


class LeNet(nn.Module):
    """The paper's CNNs (Methods). ``mnist``: conv 1x3x3x16 (pad 1) - pool - conv 16x5x5x32 (pad 2) - pool -
    FC 1568x10. ``cifar``: the classic LeNet-5 on 3x32x32 (conv 3x5x5x6, conv 6x5x5x16, FC 400-120-84-10).
    ReLU activations and biases (unspecified in the paper; brief 2.1 [ASSUMPTION]). Takes flat or image
    inputs."""

    def __init__(self, variant: str) -> None:
        super().__init__()
        if variant == "mnist":
            self.features = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                          nn.Conv2d(16, 32, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2))
            self.classifier = nn.Linear(32 * 7 * 7, 10)
            self.image_shape: tuple[int, ...] = (1, 28, 28)
        elif variant == "cifar":
            self.features = nn.Sequential(nn.Conv2d(3, 6, 5), nn.ReLU(), nn.MaxPool2d(2),
                                          nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2))
            self.classifier = nn.Sequential(nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(),
                                            nn.Linear(84, 10))
            self.image_shape = (3, 32, 32)
        else:
            raise ValueError(f"unknown LeNet variant {variant!r}; valid: {', '.join(VARIANTS)}")

    def forward(self, x: Tensor) -> Tensor:
        return self.classifier(self.features(x.view(-1, *self.image_shape)).flatten(1))
