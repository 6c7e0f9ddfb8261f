"""Fused trials: K configs trained as one batched model, each still its own Ray Tune trial.

`plan.py` decides whether a sweep fuses and K; `driver.py` runs the sweep: Tune's own search
algorithm makes every member's `Trial`, Tune's scheduler decides per member, Tune's callbacks
write each member's results, TensorBoard run and checkpoints, and `fit()` returns Tune's
`ResultGrid`; `host.py` trains the groups, in the driver's process on one machine without GPUs
(Ray is not even started), in Ray actors placed like trials on a cluster or a GPU; `state.py`
keeps what `--resume` needs.

The runner asks `fuses` before it starts Ray and builds the sweep with `fused_sweep`.
"""
from __future__ import annotations

import logging
import math
import os
from collections.abc import Sequence
from typing import Any

from autolearn.execution.fusion.plan import fuse_factor, why_not

log = logging.getLogger(__name__)

__all__ = ["fused_sweep", "fuses", "in_process", "local_cpus"]


def fuses(exp: Any) -> bool:
    """Whether the sweep trains fused (`search.fuse` not 1, and nothing stands in the way: logged)."""
    if exp.search.fuse == 1:
        return False
    reason = why_not(exp)
    if reason is not None:
        log.warning("search.fuse: %s; the trials run one by one as usual", reason)
        return False
    return True


def in_process(exp: Any, address: str | None) -> bool:
    """A fused sweep on this machine alone, without GPUs, trains in the driver's process: no Ray."""
    import ray

    return not address and not ray.is_initialized() and not exp.resources.gpus_per_trial


def fused_sweep(exp: Any, job: Any, plan: Any, callbacks: Sequence[Any] = (), *, resume: bool = False) -> Any:
    """The `FusedSweep` of `exp` (a Tuner to the runner: `fit()` returns a `ResultGrid`)."""
    import ray

    from autolearn.execution.fusion.driver import FusedSweep
    from autolearn.execution.fusion.pool import HostPool
    from autolearn.execution.tuner import experiment_dir, stoppers, storage_path, sweep_callbacks
    from autolearn.search.schedulers import make_scheduler

    remote = ray.is_initialized()
    cpus, memory = _capacity(remote)
    expected = plan.expected_trials or exp.search.num_samples or 1
    k = fuse_factor(exp, job, expected, cpus, memory)
    slots = max(1, math.floor(cpus / exp.resources.cpus_per_trial))
    if remote:
        hosts, threads, capacity = min(slots, math.ceil(expected / k)), max(1, int(exp.resources.cpus_per_trial)), k
    else:  # one process holds all the CPUs: one group of every slot's members, trained with all of them
        hosts, threads, capacity = 1, max(1, int(cpus)), k * slots
    log.info("search.fuse: %d group(s) of up to %d member(s) (%s)", hosts, capacity,
             "Ray actors" if remote else "in this process")
    experiment = _tune_experiment(exp, plan, storage_path(exp))
    search_alg = _search_alg(exp, plan, experiment)
    scheduler = make_scheduler(exp.scheduler.name, exp.scheduler.options, exp.max_epochs, exp.space)
    scheduler.set_search_properties(exp.metric.name, exp.metric.mode)
    pool = HostPool(job, hosts, remote, threads, exp.resources.cpus_per_trial, exp.resources.gpus_per_trial or 0,
                    exp.train.checkpoint_every, costs=_names_costs(exp))
    sweep = FusedSweep(exp, job, search_alg, scheduler, experiment, sweep_callbacks(exp, callbacks),
                       stoppers(exp), k=capacity, pool=pool, directory=experiment_dir(exp))
    if resume:
        sweep.restore()
    else:
        search_alg.add_configurations([experiment])
    return sweep


def _names_costs(exp: Any) -> bool:
    """Whether an objective or constraint names a model cost (members then measure theirs)."""
    from autolearn.config.sections import COST_METRICS

    named = {m.name for m in exp.objectives} | {c.metric for c in exp.constraints}
    return bool(named & set(COST_METRICS))


def _capacity(remote: bool) -> tuple[float, float]:
    """CPUs and free memory: the cluster's (Ray is up), or this machine's."""
    if remote:
        import ray

        resources = ray.cluster_resources()
        return float(resources.get("CPU", 1.0)), float(resources.get("memory", 2**31))
    cpus = local_cpus()
    try:  # free physical memory, from the OS (no psutil: it is not a dependency)
        free = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        free = 2**31
    return float(cpus), float(free)


def local_cpus() -> int:
    """The CPUs this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _tune_experiment(exp: Any, plan: Any, storage: str) -> Any:
    """Tune's `Experiment` for the members: the trials' names, folders, checkpoints and retries are
    Tune's own, as in an unfused sweep (`tuner.make_tuner`)."""
    from ray import tune

    from autolearn.execution.fusion.reports import train_trial
    from autolearn.execution.fusion.staging import DriverExperiment, stage
    from autolearn.execution.tuner import checkpoint_config

    param_space = {**dict(exp.task.params), **plan.param_space}
    experiment = DriverExperiment(name=exp.name, run=train_trial, config=param_space, num_samples=plan.num_samples,
                      storage_path=storage, checkpoint_config=checkpoint_config(exp, population=None),
                      max_failures=exp.run.max_failures,
                      resources_per_trial=tune.PlacementGroupFactory([{"CPU": exp.resources.cpus_per_trial}]))
    stage(experiment.storage)
    return experiment


def _search_alg(exp: Any, plan: Any, experiment: Any) -> Any:
    """The plan's search algorithm as Tune would drive it (a `Searcher` inside a `SearchGenerator`)."""
    from ray.tune.search import Searcher, SearchGenerator
    from ray.tune.search.basic_variant import BasicVariantGenerator

    search_alg = plan.search_alg if plan.search_alg is not None else BasicVariantGenerator()
    if isinstance(search_alg, Searcher):
        search_alg = SearchGenerator(search_alg)
    search_alg.set_search_properties(exp.metric.name, exp.metric.mode, experiment.spec.get("config", {}),
                                     **experiment.public_spec)
    return search_alg

