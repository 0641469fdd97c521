"""Minibatch orders: which samples each SGD step of an epoch sees, and how each epoch's randomness is seeded.

One shuffled order (``epoch_batches``: a fresh ``torch.randperm`` per epoch, the last partial batch dropped,
or kept with ``drop_last=False``), one fixed cyclic order (``cyclic_batches``), and three per-epoch seed
conventions, each the one a study's published numbers were produced with (so its streams stay bitwise):

* ``"stream"`` (Yang et al., App. A): one ``torch.Generator`` seeded once with ``seed``; epoch ``e`` takes
  the next permutation of that stream, so epochs must be drawn in order and a resumed run restores the
  generator's state (``BatchOrder.state_dict``).
* ``"derived"`` (Feng & Tu): epoch ``e`` draws from ``derive_seed(seed, "epoch", e)``.
* ``"affine"`` (Fort & Ganguli, Bradley et al.): epoch ``e`` draws from ``seed * 100_003 + e``.

The last two are functions of ``(seed, epoch)`` alone, so any epoch can be drawn on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor

from thermoscape.core.seeds import derive_seed

SEEDINGS = ("stream", "derived", "affine")
AFFINE_STRIDE = 100_003


def epoch_batches(n: int, batch_size: int, generator: torch.Generator, drop_last: bool = True) -> list[Tensor]:
    """Index batches of one random permutation of ``range(n)`` drawn from ``generator``; the last incomplete
    batch is dropped (``drop_last``) or kept."""
    if batch_size < 1 or batch_size > n:
        raise ValueError(f"batch_size must lie in [1, n={n}], got {batch_size}")
    order = torch.randperm(n, generator=generator)
    if not drop_last:
        return list(order.split(batch_size))
    n_batches = n // batch_size
    return list(order[: n_batches * batch_size].split(batch_size))


def cyclic_batches(n: int, batch_size: int, drop_last: bool = True) -> list[slice]:
    """The fixed order ``0..n-1`` cut into batches (slices, so no copy); a last partial batch is dropped
    when ``drop_last``."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    stop = n - n % batch_size if drop_last else n
    return [slice(start, min(start + batch_size, stop)) for start in range(0, stop, batch_size)]


def epoch_seed(seed: int, epoch: int, seeding: str) -> int:
    """The seed of epoch ``epoch``'s generator under the ``"derived"`` or ``"affine"`` convention."""
    if seeding == "derived":
        return derive_seed(seed, "epoch", epoch)
    if seeding == "affine":
        return seed * AFFINE_STRIDE + epoch
    raise ValueError(f"seeding {seeding!r} has no per-epoch seed; use 'derived' or 'affine'")


@dataclass
class BatchOrder:
    """``order(epoch) -> list of index batches`` of ``n`` samples, as a trainer's ``batches`` argument.

    ``shuffle=False`` gives ``cyclic_batches`` (no randomness); ``batch_size=None`` one full batch
    ``slice(None)`` per epoch (in the data's order; ``batch_size=n`` is one shuffled batch). Otherwise ``epoch_batches`` from the generator of ``seeding``.
    """

    n: int
    batch_size: int | None
    seed: int = 0
    seeding: str = "stream"
    shuffle: bool = True
    drop_last: bool = True
    _generator: torch.Generator | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.seeding not in SEEDINGS:
            raise ValueError(f"unknown seeding {self.seeding!r}; valid: {', '.join(SEEDINGS)}")
        if self.seeding == "stream":
            self._generator = torch.Generator().manual_seed(self.seed)

    @property
    def full_batch(self) -> bool:
        return self.batch_size is None

    def generator(self, epoch: int) -> torch.Generator:
        if self.seeding == "stream":
            return self._generator
        return torch.Generator().manual_seed(epoch_seed(self.seed, epoch, self.seeding))

    def __call__(self, epoch: int) -> list[Tensor] | list[slice]:
        if self.full_batch:
            return [slice(None)]
        if not self.shuffle:
            return cyclic_batches(self.n, self.batch_size, self.drop_last)
        return epoch_batches(self.n, self.batch_size, self.generator(epoch), self.drop_last)

    def state_dict(self) -> dict:
        """The stream generator's state (empty for the per-epoch conventions)."""
        return {"generator": self._generator.get_state()} if self._generator is not None else {}

    def load_state_dict(self, state: dict) -> None:
        if self._generator is not None:
            self._generator.set_state(state["generator"])


@dataclass
class ReplicaBatchOrder:
    """The ``batches`` of the trainer's replica mode: one ``BatchOrder`` per replica, stacked.

    ``order(epoch, replicas)`` is the epoch's ``(S, len(replicas), B)`` index tensor: step ``s`` gives each
    listed replica its own batch from its own order (replicas not listed do not draw, so a replica's
    stream is the one a separate run of it draws). Every replica must cut the same number of equal
    batches (``drop_last``, or ``n`` a multiple of ``batch_size``).
    """

    orders: list[BatchOrder]

    def __call__(self, epoch: int, replicas: list[int]) -> Tensor:
        return torch.stack([torch.stack(self.orders[k](epoch)) for k in replicas], dim=1)

    def state_dict(self) -> dict:
        return {"orders": [order.state_dict() for order in self.orders]}

    def load_state_dict(self, state: dict) -> None:
        for order, saved in zip(self.orders, state["orders"], strict=True):
            order.load_state_dict(saved)
