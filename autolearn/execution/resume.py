"""Continue an interrupted sweep from its experiment folder.

Ray Tune keeps the state of an experiment (trials, their last checkpoints, the searcher) in the
folder; `Tuner.restore` reads it back. Finished trials are kept as they are, trials that were
running go on from their last checkpoint, pending ones run, and the searcher suggests only what
it had not suggested yet. autolearn adds what Ray needs from us: the same trainable, rebuilt from
the `spec.yaml` that `run_experiment` saved next to Ray's state.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

from autolearn.config.spec import Experiment, load_spec
from autolearn.errors import ConfigError, SweepError
from autolearn.internals import ray_settings, tuner_run_config
from autolearn.results import SweepResult
from autolearn.values import is_uri

log = logging.getLogger(__name__)


def find_experiment(path: str | Path) -> tuple[str | Path, Experiment]:
    """The experiment folder (a path, or a URI for remote storage) and its saved spec, or a
    ConfigError naming what is missing. A `file://` URI is the local folder it names."""
    text = str(path)
    if text.startswith("file://"):
        path = url2pathname(urlparse(text).path)
    elif is_uri(text):
        return _find_remote(text.rstrip("/"))
    from autolearn.execution.runner import SPEC_FILE

    directory = Path(path).expanduser().resolve()
    if not directory.is_dir():
        raise ConfigError("resume", f"{str(path)!r} is not an experiment folder (no such directory)")
    if not (directory / SPEC_FILE).is_file():
        raise ConfigError("resume", f"{str(path)!r} holds no autolearn experiment (no {SPEC_FILE}); "
                          "give the folder a sweep created, e.g. runs/NAME")
    exp = load_spec(directory / SPEC_FILE)
    # The folder may have moved since: Ray restores from where it is now, and so do we.
    return directory, replace(exp, storage=str(directory.parent), name=directory.name)


def _find_remote(uri: str) -> tuple[str, Experiment]:
    """An experiment on URI storage (`s3://bucket/runs/NAME`): its spec read through pyarrow."""
    from autolearn.config.limits import load_yaml
    from autolearn.execution.runner import SPEC_FILE
    from autolearn.results import storage

    try:
        text = storage.read_text(uri, SPEC_FILE)
    except (OSError, ValueError) as err:
        raise ConfigError("resume", f"{uri!r} holds no autolearn experiment (cannot read {SPEC_FILE}: "
                          f"{type(err).__name__})") from None
    exp = Experiment.from_dict(load_yaml(text, f"{uri}/{SPEC_FILE}"), source=f"{uri}/{SPEC_FILE}")
    parent, _, name = uri.rpartition("/")
    return uri, replace(exp, storage=parent, name=name)


def check_same_spec(exp: Experiment, saved: Experiment) -> None:
    """`--resume` with a spec: it must be the spec the sweep started with (Ray cannot change it)."""
    mine, theirs = exp.to_dict(), saved.to_dict()
    for section in mine:
        if section not in ("name", "storage") and mine[section] != theirs.get(section):
            raise ConfigError(section, f"differs from the spec the experiment {saved.name!r} was started "
                              f"with ({theirs.get(section)!r}); resume with the same spec and options, "
                              "or start a new sweep with another --name")


def resume_experiment(path: str | Path, *, address: str | None = None, callbacks: Sequence[Any] = (),
                      ray_output: bool = False) -> SweepResult:
    """Run an interrupted sweep to its end and return (and save) its `SweepResult`.

    `callbacks` (the CLI's live progress) join the callbacks restored with Ray's state;
    `address` and `ray_output` as in `run_experiment`.
    """
    from autolearn.execution import runner
    from autolearn.execution.fusion.state import has_state

    directory, exp = find_experiment(path)
    with ray_settings(ray_output), runner.experiment_guard(exp):  # before Ray is imported: a refusal is quick
        if has_state(str(directory)):  # a fused sweep: its driver kept its own state (`fusion/state.py`)
            return _resume_fused(exp, directory, address, callbacks, ray_output)
        from ray import tune

        from autolearn.execution.tuner import build_trainable, tensorboard_dir

        if not tune.Tuner.can_restore(str(directory)):
            # Interrupted before Ray wrote any state: nothing ran, so start it afresh in the same folder.
            log.warning("%s holds no Ray Tune state yet; starting the sweep from the beginning", directory)
            return runner.run_experiment(exp, address=address, overwrite=True, callbacks=callbacks,
                                         ray_output=ray_output)
        started, earlier = time.monotonic(), earlier_wall_time(directory)
        # The restored run config already holds the per-trial file loggers runner chose; ray_settings
        # stops Ray adding its default ones (a TensorBoard copy in every trial folder) on top.
        job, started_ray = runner.start(exp, address, ray_output)
        try:
            runner.check_resources(exp)
            check_saved_state(directory)
            tuner = restore_tuner(directory, build_trainable(exp, job))
            _configure(tuner, callbacks, ray_output, tensorboard_dir(exp), str(directory))
            return runner.fit_and_collect(exp, lambda: tuner, job, started, earlier)
        finally:
            if started_ray:
                import ray

                ray.shutdown()


def _resume_fused(exp: Experiment, directory: str | Path, address: str | None, callbacks: Sequence[Any],
                  ray_output: bool) -> SweepResult:
    """Go on with a fused sweep where its last saved state left it (`runner.fit_fused`)."""
    from autolearn.execution import runner

    started, earlier = time.monotonic(), earlier_wall_time(directory)
    return runner.fit_fused(exp, runner.search_plan(exp), address, callbacks, ray_output, started, earlier,
                            resume=True)


def restore_tuner(directory: str | Path, trainable: Any) -> Any:
    """`Tuner.restore`, with a clear message when Ray's saved state cannot be read back."""
    import pickle

    from ray import tune

    damaged = (OSError, EOFError, ValueError, RuntimeError, KeyError, AttributeError, ImportError,
               pickle.UnpicklingError)
    try:
        return tune.Tuner.restore(str(directory), trainable, resume_unfinished=True, resume_errored=False)
    except damaged as err:
        detail = " ".join(str(err).split())[:200]
        raise SweepError(f"cannot resume {str(directory)!r}: Ray Tune's saved state there is damaged or "
                         f"unreadable ({type(err).__name__}: {detail}); finished trials are "
                         "still in their folders and results.csv; start a new sweep with another --name") from err


def check_saved_state(directory: str | Path) -> None:
    """Read Ray's saved state files before Ray does: given a damaged experiment state, Ray logs
    the error and starts the whole sweep afresh in the same folder, running finished trials again.
    The newest state file of each kind (experiment, searcher) must load; URIs are left to Ray."""
    import json
    import pickle

    if is_uri(str(directory)):
        return
    newest: dict[str, Path] = {}
    for file in sorted(Path(directory).glob("*-state-*.*")) + sorted(Path(directory).glob("experiment_state-*")):
        newest[file.name.split("-state-")[0] if "-state-" in file.name else "experiment"] = file
    for file in newest.values():
        try:
            if file.name.startswith("experiment_state"):  # JSON; the searchers' ".json" are pickles
                json.loads(file.read_text())
            else:
                with open(file, "rb") as handle:
                    pickle.load(handle)
        except (OSError, ValueError, EOFError, pickle.UnpicklingError, AttributeError, ImportError) as err:
            raise SweepError(f"cannot resume {str(directory)!r}: Ray Tune's saved state {file.name!r} is damaged "
                             f"({type(err).__name__}); finished trials are still in their folders and "
                             "results.csv; start a new sweep with another --name") from None


def earlier_wall_time(directory: str | Path) -> float:
    """The wall time of the sweep's earlier runs (summary.json of the run a signal stopped), so a
    sweep resumed twice reports the time of all its runs, not the last one's."""
    import json

    try:
        from autolearn.results import storage

        return float(json.loads(storage.read_text(str(directory), "summary.json")).get("wall_time_s", 0.0) or 0.0)
    except (OSError, ValueError, TypeError, AttributeError):
        return 0.0


def _configure(tuner: Any, callbacks: Sequence[Any], ray_output: bool, tensorboard: Path, where: str) -> None:
    """Tuner.restore takes no new callbacks or verbosity; its run config (from tuner.pkl) does.

    The callbacks saved there write where the folder was when the sweep started: pointed at
    `where` (the experiment now) and `tensorboard` (its runs, or their staging folder), a moved
    folder's runs, uploads and disk reserve follow it.
    """
    from autolearn.execution.disk_guard import StorageGuard
    from autolearn.inspection.tensorboard import TensorBoardCallback

    run_config = tuner_run_config(tuner)
    if run_config is None:  # Ray client mode: the restored tuner lives elsewhere; no live progress
        if callbacks:
            log.warning("cannot attach live progress to a restored sweep over Ray client")
        return
    for callback in run_config.callbacks or []:
        if isinstance(callback, TensorBoardCallback):
            callback.logdir = tensorboard
            uploader = getattr(callback, "uploader", None)  # None: local storage, or pickled before uploads
            if uploader is not None:
                uploader.location = where
        elif isinstance(callback, StorageGuard):
            callback.folder = where
    run_config.callbacks = [*(run_config.callbacks or []), *callbacks]
    run_config.verbose = int(ray_output)
