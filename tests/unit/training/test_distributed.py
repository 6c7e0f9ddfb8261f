"""One rank's part of a DDP epoch, without Ray: the shards, and a world of one equal to a plain Fitter."""
from __future__ import annotations

import pytest
import torch

from autolearn.config.sections import ModelSpec, TrainSpec
from autolearn.training.data import load_dataset
from autolearn.training.distributed import DistributedFitter, shard
from autolearn.training.loop import Fitter, TrainJob


@pytest.mark.parametrize("size, world", [(10, 2), (7, 3), (1, 2), (4, 4)])
def test_shards_split_a_batch_into_disjoint_parts_that_cover_it(size, world):
    batch = torch.randperm(size)
    parts = [shard(batch, rank, world) for rank in range(world)]
    assert sorted(torch.cat(parts).tolist()) == sorted(batch.tolist())
    assert max(len(p) for p in parts) - min(len(p) for p in parts) <= 1
    with pytest.raises(ValueError, match="rank must be in"):
        shard(batch, world, world)


@pytest.mark.slow  # a process group and an optimizer's first import: seconds on a loaded machine
def test_a_world_of_one_trains_exactly_like_one_process(tmp_path):
    import torch.distributed as dist

    data = load_dataset("synthetic_classification", {"n_samples": 120, "n_features": 5})
    job = TrainJob(data, ModelSpec("mlp", {"hidden_units": 8}), TrainSpec(epochs=1, seed=3, batch_size=25))
    plain = Fitter(job, {}, torch.device("cpu"))
    expected = plain.train_epoch()
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'group'}", rank=0, world_size=1)
    try:
        ddp = DistributedFitter(job, {}, torch.device("cpu"), rank=0, world_size=1)
        assert ddp.train_epoch() == pytest.approx(expected, rel=1e-6)
    finally:
        dist.destroy_process_group()
    for name, tensor in plain.model.state_dict().items():
        torch.testing.assert_close(ddp.model.state_dict()[name], tensor)
    assert set(ddp.state(1)["model"]) == set(plain.state(1)["model"])  # no DDP `module.` prefix


@pytest.mark.slow  # a process group, the image example's PNGs and a small ResNet
def test_torch_datasets_train_in_a_world_of_one_like_one_loader_fitter(tmp_path):
    """The torch-Dataset path of a distributed trial: a world of one reads the same shuffled
    batches as a plain `LoaderFitter` would (the sampler differs, the data order must not matter
    for the shape of the result), trains with finite losses, resumes its epoch count from a
    checkpoint, and its validation is the plain one (all-reduced over one rank)."""
    import math

    import torch.distributed as dist

    from autolearn.training.ddp_loader import DistributedLoaderFitter
    from autolearn.training.ddp_trainable import make_rank_fitter
    from autolearn.training.loader_fit import LoaderFitter

    data = load_dataset("examples.images:build", {"n_per_class": 6, "size": 8, "root": str(tmp_path / "img")},
                        test=0.2, validation=0.25, random_state=0)
    job = TrainJob(data, ModelSpec("examples.images:resnet", {"width": 4}), TrainSpec(epochs=2, seed=1, batch_size=4))
    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'group'}", rank=0, world_size=1)
    try:
        fitter = make_rank_fitter(job, {"lr": 0.01}, torch.device("cpu"), 0, 1)
        assert isinstance(fitter, DistributedLoaderFitter) and fitter.loaders.train.batch_size == 4
        assert math.isfinite(fitter.train_epoch()) and fitter.epochs_done == 1
        plain = LoaderFitter(job, {"lr": 0.01}, torch.device("cpu"))
        plain.model.load_state_dict(fitter.state(1)["model"])  # no DDP `module.` prefix
        assert fitter.validate() == pytest.approx(plain.validate(), rel=1e-6)
        again = DistributedLoaderFitter(job, {"lr": 0.01}, torch.device("cpu"), rank=0, world_size=1)
        assert again.load_state(fitter.state(1)) == 1 and again.epochs_done == 1
    finally:
        dist.destroy_process_group()
