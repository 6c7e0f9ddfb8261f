"""Data sets of torch `Dataset`s: described on the driver, built and read inside every trial.

A `task.dataset` builder may return torch Datasets instead of `(X, y)` arrays: a
`(train, validation, test)` tuple, a dict with `train` (and optionally `validation`, `test`), or
one Dataset that `task.split` divides. The arrays path ships the data through Ray's object store;
this path ships only a `TorchData` description (the builder's name and arguments, the shapes), and
each trial calls the builder itself, so a folder of images on every node is read where it lies.

The driver calls the builder once too, to check what it returns and read ONE sample (its shape
and the classes): a Dataset object is normally a list of files, cheap to make; its items are
never all read there.

The one entry point for a training loop is `build_loaders`, also for data-parallel trials:
`rank`/`world_size` shard the training part with a `DistributedSampler` (call
`loaders.set_epoch(epoch)` each epoch so every epoch shuffles differently).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import torch
from torch.utils.data import DataLoader, Dataset, DistributedSampler, RandomSampler, Subset

from autolearn.errors import DataError

PARTS = ("train", "validation", "test")
EXPECTED = ("(X, y) arrays, or torch Datasets: a (train, validation, test) tuple, a dict with 'train' "
            "(and 'validation', 'test'), or one Dataset to split")


@dataclass(frozen=True)
class TorchData:
    """What every trial needs to know of a torch data set, without its items."""

    name: Any  # the builder: registry name, import path or callable
    params: Mapping[str, Any]
    split: tuple[float, float, int | None]  # task.split: test, validation, random_state
    input_shape: tuple[int, ...]
    n_classes: int
    classes: tuple[Any, ...] = field(default=())

    @property
    def n_outputs(self) -> int:
        """One logit for binary tasks (BCE), one per class otherwise (cross-entropy)."""
        return 1 if self.n_classes == 2 else self.n_classes


@dataclass
class Loaders:
    """The DataLoaders of one trial (or of one rank of a data-parallel trial)."""

    train: DataLoader
    validation: DataLoader
    test: DataLoader
    sampler: DistributedSampler | None = None

    def set_epoch(self, epoch: int) -> None:
        """A new shuffle per epoch for the sharded sampler (the unsharded one draws from its generator)."""
        if self.sampler is not None:
            self.sampler.set_epoch(epoch)


def is_torch_data(built: Any) -> bool:
    """Whether a builder's result is the torch form (a Dataset, or a tuple/dict holding Datasets)."""
    if isinstance(built, Dataset):
        return True
    values = built.values() if isinstance(built, Mapping) else built if isinstance(built, (tuple, list)) else ()
    return any(isinstance(v, Dataset) for v in values)


def _parts(built: Any) -> dict[str, Dataset]:
    """The builder's result as {part: Dataset}; anything else is a one-line DataError."""
    if isinstance(built, Dataset):
        parts: dict[str, Any] = {"train": built}
    elif isinstance(built, Mapping):
        unknown = [k for k in built if k not in PARTS]
        if unknown or "train" not in built:
            raise DataError("task.dataset.name", f"the builder's dict must have 'train' and only "
                            f"{', '.join(PARTS)}; got keys {sorted(map(str, built))}")
        parts = dict(built)
    elif isinstance(built, (tuple, list)) and len(built) == 3:
        parts = dict(zip(PARTS, built))
    else:
        raise DataError("task.dataset.name", f"the builder returned {type(built).__name__}; expected {EXPECTED}")
    for part, value in parts.items():
        if not isinstance(value, Dataset):
            raise DataError("task.dataset.name", f"the builder's {part} part is {type(value).__name__}, "
                            "not a torch.utils.data.Dataset")
    return parts


def _classes(dataset: Any) -> tuple[Any, ...] | None:
    """The `classes` list (torchvision's convention), looked up through Subsets."""
    while dataset is not None:
        classes = getattr(dataset, "classes", None)
        if classes is not None:
            return tuple(classes)
        dataset = getattr(dataset, "dataset", None)
    return None


def describe(built: Any, name: Any, params: Mapping[str, Any], split: tuple[float, float, int | None]) -> TorchData:
    """Check a builder's result on the driver from one sample; the description trials rebuild from."""
    parts = _parts(built)
    train = parts["train"]
    classes = _classes(train)
    if classes is None or len(classes) < 2:
        raise DataError("task.dataset", "a torch Dataset needs a `classes` attribute listing at least 2 classes "
                        f"(as torchvision's ImageFolder has); got {classes!r}")
    try:
        n = len(train)  # type: ignore[arg-type]
        sample = train[0]
    except Exception as err:
        raise DataError("task.dataset", f"cannot read the first item of the train Dataset: "
                        f"{type(err).__name__}: {err}") from err
    if n == 0 or not isinstance(sample, (tuple, list)) or len(sample) != 2 or not isinstance(sample[0], torch.Tensor):
        raise DataError("task.dataset", f"a Dataset item must be an (input tensor, class index) pair, got "
                        f"{type(sample).__name__}" + ("" if n else " (the Dataset is empty)"))
    return TorchData(name, dict(params), split, tuple(sample[0].shape), len(classes), classes)


def build_datasets(data: TorchData) -> dict[str, Dataset]:
    """Call the builder (in the trial) and split what it did not split, the same way on every node."""
    from autolearn.training.data import call_builder

    parts = _parts(call_builder(data.name, dict(data.params)))
    test, validation, seed = data.split
    order = torch.Generator().manual_seed(seed if seed is not None else 0)
    if "test" not in parts:
        parts["train"], parts["test"] = _split(parts["train"], test, order)
    if "validation" not in parts:
        parts["train"], parts["validation"] = _split(parts["train"], validation, order)
    return parts


def _split(dataset: Any, share: float, generator: torch.Generator) -> tuple[Subset, Subset]:
    n = len(dataset)
    held = int(round(n * share))
    if held < 1 or held >= n:
        raise DataError("task.split", f"cannot split {n} items with share {share}")
    order = torch.randperm(n, generator=generator).tolist()
    return Subset(dataset, order[held:]), Subset(dataset, order[:held])


def build_loaders(data: TorchData, options: Mapping[str, Any] | None, batch_size: int, *, rank: int = 0,
                  world_size: int = 1, seed: int = 0, device: torch.device | None = None) -> Loaders:
    """The trial's DataLoaders: train shuffled (seeded; sharded by `rank` of `world_size`), the
    validation and test parts in order. `options` are `train.loader`'s, checked at load time."""
    parts = build_datasets(data)
    opts = dict(options or {})
    if device is None or device.type != "cuda":
        opts.pop("pin_memory", None)  # pinning needs CUDA; on a CPU trial it only warns
    sampler: DistributedSampler | None = None
    if world_size > 1:
        sampler = DistributedSampler(parts["train"], num_replicas=world_size, rank=rank, shuffle=True, seed=seed)
        train_sampler: Any = sampler
    else:
        train_sampler = RandomSampler(parts["train"], generator=torch.Generator().manual_seed(seed))  # type: ignore[arg-type]

    def loader(part: str, **kw: Any) -> DataLoader:
        return DataLoader(parts[part], batch_size=batch_size, **kw, **opts)

    def shard(part: str) -> Any:
        return DistributedSampler(parts[part], world_size, rank, shuffle=False) if world_size > 1 else None

    return Loaders(loader("train", sampler=train_sampler), loader("validation", sampler=shard("validation")),
                   loader("test", sampler=shard("test")), sampler)


def check_builder_result(built: Any, name: Any) -> None:
    """Not (X, y) and not Datasets: the one-line error naming what the builder gave."""
    if not (isinstance(built, (tuple, list)) and len(built) == 2) and not is_torch_data(built):
        raise DataError("task.dataset.name", f"the builder {getattr(name, '__name__', name)!r} returned "
                        f"{type(built).__name__}; expected {EXPECTED}")


__all__ = ["Loaders", "TorchData", "build_datasets", "build_loaders", "describe", "is_torch_data"]
