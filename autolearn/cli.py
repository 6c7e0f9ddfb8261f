"""The command line: the only place that parses arguments and prints for people.

`autolearn sweep [SPEC.yaml] [--options]` (also `python scripts/sweep.py`) runs a sweep; with no
spec it runs the built-in seed task. A wrong spec exits with code 2 and one line naming the field.
"""
from __future__ import annotations

import argparse
import logging
import math
import sys
import time
from collections.abc import Sequence
from typing import Any

from autolearn.errors import AutolearnError, ConfigError, ResourceError, SweepInterrupted

EXIT_BAD_INPUT = 2


SWEEP_DESCRIPTION = """Run a hyperparameter sweep: `autolearn sweep [SPEC.yaml] [--options]` (also
`python scripts/sweep.py`). With no spec it runs the built-in seed task (1000x20 synthetic binary
classification, an MLP, random search). A wrong spec exits with code 2 and one line naming the field."""


def _sweep_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser("sweep", help="run a hyperparameter sweep", description=SWEEP_DESCRIPTION,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("spec", nargs="?", help="experiment spec (YAML); default: the built-in seed task")
    p.add_argument("--strategy", help="search strategy: grid, random, tpe, gp or bohb (bohb: with asha)")
    p.add_argument("--num-samples", type=int, help="trials to run (grid: repeats of the whole grid)")
    p.add_argument("--max-epochs", type=int, help="training budget of each trial (train.epochs)")
    p.add_argument("--scheduler", help="early stopping: fifo (none), asha, hyperband or median")
    p.add_argument("--cpus-per-trial", type=float, help="CPUs reserved for each trial (fractions allowed)")
    p.add_argument("--gpus-per-trial", type=_gpu_share,
                   help="GPUs for each trial (0.5 = two trials share one; auto = sized from a measured trial)")
    p.add_argument("--fuse", help="train K configs at a time as one batched model, each still its own trial "
                   "(a whole number, or auto); default 1: each trial alone")
    p.add_argument("--address", help="join a running Ray cluster ('auto' on its head node); "
                   "default: start a local Ray instance")
    p.add_argument("--storage", help="where experiment folders go (a path, or s3://, gs:// URI)")
    p.add_argument("--name", help="experiment name, the folder under --storage")
    p.add_argument("--seed", type=int, help="seed of the search strategy")
    p.add_argument("--quiet", action="store_true", help="print only the final summary")
    p.add_argument("--verbose", action="store_true", help="also show Ray's own logs and progress tables "
                   "(hidden by default)")
    p.add_argument("--print-spec", action="store_true", help="print the effective spec as YAML and exit")
    p.add_argument("--resume", nargs="?", const="", metavar="EXPERIMENT_DIR",
                   help="continue an interrupted sweep: give its folder (runs/NAME), or give no folder "
                   "and the spec and --name it was started with")
    return p


def _gpu_share(value: str) -> float | str:
    """A number, or `auto` (resources.gpus_per_trial: auto)."""
    return value if value == "auto" else float(value)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="autolearn", description="Parallel hyperparameter tuning for "
                                     "PyTorch on Ray Tune.")
    sub = parser.add_subparsers(dest="command", required=True)
    _sweep_parser(sub)
    _report_parser(sub)
    _lr_find_parser(sub)
    _profile_parser(sub)
    return parser


# Option → where it lands in the spec (section, key); `None` section = top level.
_OVERRIDES: dict[str, tuple[str | None, str]] = {
    "strategy": ("search", "strategy"), "num_samples": ("search", "num_samples"), "seed": ("search", "seed"),
    "fuse": ("search", "fuse"),
    "cpus_per_trial": ("resources", "cpus_per_trial"), "gpus_per_trial": ("resources", "gpus_per_trial"),
    "storage": (None, "storage"), "name": (None, "name"),
}


def _overrides(args: argparse.Namespace, data: dict[str, Any]) -> dict[str, Any]:
    """Apply command-line overrides to the spec's dict form, so errors still name spec fields."""
    data = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}

    def section(key: str) -> dict[str, Any]:
        if not isinstance(data.get(key), dict):
            data[key] = {}
        return data[key]

    for option, (where, key) in _OVERRIDES.items():
        value = getattr(args, option)
        if value is not None:
            (section(where) if where else data)[key] = value
    if args.scheduler:  # another scheduler's options do not carry over; the same one's do
        same = isinstance(data.get("scheduler"), dict) and data["scheduler"].get("name") == args.scheduler
        data["scheduler"] = {**(data["scheduler"] if same else {}), "name": args.scheduler}
    if args.max_epochs is not None:
        user_trainable = isinstance(data.get("task"), dict) and data["task"].get("trainable")
        section("scheduler" if user_trainable else "train")["max_t" if user_trainable else "epochs"] = args.max_epochs
    return data


def load_experiment(args: argparse.Namespace) -> Any:
    from autolearn.config.defaults import seed_spec
    from autolearn.config.spec import Experiment, read_spec

    if args.spec:
        data = read_spec(args.spec)
    else:
        data = seed_spec()
        if not args.name:  # the default task runs again and again: give each run its own folder
            data["name"] = f"{data['name']}-{time.strftime('%Y%m%d-%H%M%S')}"
    return Experiment.from_dict(_overrides(args, data), source=args.spec or "the seed spec")


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4g}"
    return "" if value is None else str(value)


def print_table(result: Any, out: Any = None) -> None:
    out = out or sys.stdout  # looked up per call: a default bound at import misses redirection (capsys)
    metric = result.metric
    retried = any(t.retries for t in result.trials)
    columns = ["trial_id", "status", "epochs", *(["retries"] if retried else []), *result.space_keys,
               metric, f"best_{metric}"]
    if result.multi_objective:  # several objectives: the others' values and front membership
        columns += [o["name"] for o in result.objectives[1:]] + ["pareto"]
    rows = [[_fmt(row.get(c)) for c in columns] for row in result.table()]
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths)), file=out)
    for r in rows:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths)), file=out)


def print_summary(result: Any, out: Any = None) -> None:
    out = out or sys.stdout  # looked up per call: a default bound at import misses redirection (capsys)
    counts = ", ".join(f"{n} {s}" for s, n in result.status_counts().items() if n)
    print(f"\n{len(result.trials)} trials ({counts}) in {result.wall_time_s:.1f} s", file=out)
    if result.best is not None:
        print(f"best {result.metric}: {result.best_score:.4f} (trial {result.best_trial_id})", file=out)
        print(f"best config: {result.best_config}", file=out)
        for key, value in result.test_scores.items():
            print(f"{key}: {value:.4f}", file=out)
    else:
        print(f"no trial produced a usable {result.metric}", file=out)
    if result.multi_objective:
        names = ", ".join(o["name"] for o in result.objectives)
        print(f"Pareto front over {names}: {len(result.pareto_ids)} trials ({', '.join(result.pareto_ids)}); "
              "summary.json has each one's test scores", file=out)
    print(f"results: {result.experiment_dir}/results.csv, summary.json", file=out)
    print(f"tensorboard --logdir {result.experiment_dir}", file=out)


def cmd_sweep(args: argparse.Namespace) -> int:
    from autolearn.execution.runner import run_experiment

    if args.resume is not None:
        return cmd_resume(args)
    exp = load_experiment(args)
    if args.print_spec:
        import yaml

        print(yaml.safe_dump(exp.to_dict(), sort_keys=False), end="")
        return 0
    result = run_experiment(exp, address=args.address, callbacks=progress_callbacks(exp, args.quiet),
                            ray_output=args.verbose)
    return report(result, args)


def report(result: Any, args: argparse.Namespace) -> int:
    if not args.quiet:
        print_table(result)
    print_summary(result)
    print_errors(result)
    return 0


# Options that change the spec: an experiment folder carries its own, so they cannot go with it.
_SPEC_OPTIONS = ("strategy", "num_samples", "max_epochs", "scheduler", "cpus_per_trial", "gpus_per_trial",
                 "storage", "name", "seed", "fuse")


def cmd_resume(args: argparse.Namespace) -> int:
    """`--resume DIR`, or `SPEC --resume [--name N]`: continue the sweep in that folder."""
    from autolearn.execution.resume import check_same_spec, find_experiment, resume_experiment
    from autolearn.execution.tuner import experiment_dir

    if args.resume.endswith((".yaml", ".yml")) and not args.spec:  # `--resume spec.yaml`: the spec
        args.spec, args.resume = args.resume, ""
    if args.resume:
        given = ["SPEC"] * bool(args.spec) + [f"--{k.replace('_', '-')}" for k in _SPEC_OPTIONS
                                               if getattr(args, k) is not None]
        if given:
            raise ConfigError("resume", f"an experiment folder carries its own spec; drop {given[0]} "
                              "(or resume with the spec and the --name it was started with)")
        _, saved = find_experiment(args.resume)
        return report(resume_experiment(args.resume, address=args.address, ray_output=args.verbose,
                                        callbacks=progress_callbacks(saved, args.quiet)), args)
    if not args.spec and not args.name:
        raise ConfigError("resume", "give the experiment folder (--resume runs/NAME), or the spec and "
                          "the --name it was started with")
    exp = load_experiment(args)
    directory, saved = find_experiment(experiment_dir(exp))
    check_same_spec(exp, saved)
    return report(resume_experiment(directory, address=args.address, ray_output=args.verbose,
                                    callbacks=progress_callbacks(saved, args.quiet)), args)


def print_errors(result: Any, out: Any = None) -> None:
    """Each distinct trial error once, with the trial's traceback (the user's bug, not Ray's)."""
    out = out or sys.stderr
    groups: dict[str, list[Any]] = {}
    for trial in result.trials:
        if trial.status == "error":
            groups.setdefault(trial.error, []).append(trial)
    for error, trials in groups.items():
        first = trials[0]
        more = f" (and {len(trials) - 1} more trial(s) with the same error)" if len(trials) > 1 else ""
        print(f"\ntrial {first.trial_id} failed after {first.retries} retries{more}:", file=out)
        print(_traceback(first.path) or error, file=out)


def _traceback(trial_dir: str) -> str:
    """The trial's last failure from Ray's error.txt, without Ray's own frames and colours."""
    import re
    from pathlib import Path

    from autolearn.internals import FAILURE_HEADER, TRIAL_ERROR_FILE

    file = Path(trial_dir) / TRIAL_ERROR_FILE if trial_dir else None
    if file is None or not file.is_file():
        return ""
    text = re.sub(r"\x1b\[[0-9;]*m", "", file.read_text(errors="replace"))
    lines = re.split(FAILURE_HEADER, text, flags=re.M)[-1].strip().splitlines()
    first = next((i for i, line in enumerate(lines) if line.startswith('  File "')), None)
    if first is None:
        return "\n".join(lines)
    frames: list[list[str]] = []
    tail: list[str] = []
    for line in lines[first:]:
        if line.strip() and set(line.strip()) <= set("^~"):
            continue  # the column markers under a frame's source line
        if line.startswith('  File "') and not tail:
            frames.append([line])
        elif line.startswith("    ") and frames and not tail:
            frames[-1].append(line)
        else:
            tail.append(line)
    mine = [f for f in frames if "/site-packages/ray/" not in f[0]] or frames
    return "\n".join(["Traceback (most recent call last):", *(ln for f in mine for ln in f), *tail])


def progress_callbacks(exp: Any, quiet: bool, out: Any = None) -> list[Any]:
    """Live progress on stderr (in place on a terminal, a line every 30 s otherwise); none with --quiet."""
    if quiet:
        return []
    from autolearn.execution.tuner import search_plan
    from autolearn.inspection.progress import ProgressCallback, SweepProgress

    progress = SweepProgress(metric=exp.metric.name, mode=exp.metric.mode,
                             expected_trials=search_plan(exp).expected_trials, max_epochs=exp.max_epochs,
                             timeout=exp.run.trial_timeout, space_keys=list(exp.space),
                             constraints=tuple(exp.constraints))
    return [ProgressCallback(progress, out or sys.stderr)]


def _report_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser("report", help="plots and report.md for a sweep (finished or still running)",
                       description="Write PNG plots (best so far, learning curves, parallel coordinates, "
                       "score per hyperparameter, importance) and report.md for one experiment folder.")
    p.add_argument("experiment_dir", help="the experiment folder: STORAGE/NAME (e.g. runs/seed-random-search)")
    p.add_argument("--out", help="where to write the report (default: EXPERIMENT_DIR/report)")
    return p


def cmd_report(args: argparse.Namespace) -> int:
    from autolearn.inspection.report import write_report

    report = write_report(args.experiment_dir, args.out)
    print(f"report: {report.markdown}")
    for path in report.images.values():
        print(f"  {path.name}")
    if report.best_config is not None:
        print(f"best config: {report.best_config}")
    return 0


def _lr_find_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser("lr-find", help="LR range test: loss against an exponentially rising learning rate",
                       description="Train the spec's model for a few hundred steps while the learning rate "
                       "rises exponentially, stop when the loss blows up, write the loss-vs-LR plot and "
                       "print a suggested rate (Smith, 2017).")
    p.add_argument("spec", nargs="?", help="experiment spec (YAML); default: the built-in seed task")
    p.add_argument("--steps", type=int, default=200, help="mini-batches to train (default 200)")
    p.add_argument("--low", type=float, help="first rate (default: space.lr's low when auto, else 1e-7)")
    p.add_argument("--high", type=float, help="last rate (default: space.lr's high when auto, else 10)")
    p.add_argument("--optimizer", help="test this optimizer instead of train.optimizer")
    p.add_argument("--out", default="lr_find.png", help="where to write the plot (default: lr_find.png)")
    return p


def cmd_lr_find(args: argparse.Namespace) -> int:
    from autolearn.config.defaults import seed_spec
    from autolearn.config.spec import Experiment, read_spec
    from autolearn.training.auto import range_test_for
    from autolearn.training.lr_finder import plot_range_test

    if args.steps < 20:
        raise ConfigError("--steps", f"must be >= 20 for a usable curve, got {args.steps}")
    exp = Experiment.from_dict(read_spec(args.spec) if args.spec else seed_spec(), source=args.spec or "the seed spec")
    test = range_test_for(exp, args.steps, args.low, args.high, args.optimizer)
    plot = plot_range_test(test, args.out)
    low, high = test.bounds()
    print(f"tested {len(test.lrs)} rates from {test.lrs[0]:.3g} to {test.lrs[-1]:.3g} (stopped: {test.stopped})")
    optimizer = args.optimizer or exp.builtin_sections()[2].optimizer
    print(f"suggested lr for {optimizer}: {test.suggestion:.3g} (rule: {test.rule})")
    print(f"space.lr auto would search log-uniform [{low:.3g}, {high:.3g}] for it "
          "(a searched optimizer gets one test each, and the union of their ranges)")
    print(f"plot: {plot}")
    return 0


def _profile_parser(sub: Any) -> argparse.ArgumentParser:
    p = sub.add_parser("profile", help="one trial's peak memory, samples/s and a suggested packing",
                       description="Train the spec's base config for an epoch or two in this process (no Ray) "
                       "and print its peak memory (GPU, or this process's RSS on a CPU), its samples per "
                       "second and how many such trials fit on one GPU (the share gpus_per_trial: auto picks).")
    p.add_argument("spec", help="experiment spec (YAML)")
    p.add_argument("--epochs", type=int, default=2, help="epochs to measure (default 2)")
    return p


def cmd_profile(args: argparse.Namespace) -> int:
    from autolearn.config.spec import load_spec
    from autolearn.training.profile import profile_trial

    if args.epochs < 1:
        raise ConfigError("--epochs", f"must be >= 1, got {args.epochs}")
    p = profile_trial(load_spec(args.spec), epochs=args.epochs)
    what = "peak GPU memory allocated" if p.memory_kind == "gpu" else "peak memory (RSS of this process)"
    print(f"device: {p.device}")
    print(f"{what}: {p.peak_memory_bytes / 2**20:.1f} MiB of {p.total_memory_bytes / 2**30:.1f} GiB")
    print(f"throughput: {p.samples_per_s:.1f} samples/s; {p.seconds_per_epoch:.2f} s per epoch "
          f"(mean of {p.epochs}, with validation)")
    if p.memory_kind == "gpu":
        print(f"suggested packing: {p.trials_per_device} trial(s) per GPU -> gpus_per_trial: {p.gpus_per_trial}")
    else:
        print(f"suggested packing: {p.trials_per_device} trial(s) per machine like this one (by cores and "
              "memory); no GPU here, so gpus_per_trial: auto would resolve to 0")
    return 0


COMMANDS = {"sweep": cmd_sweep, "report": cmd_report, "lr-find": cmd_lr_find, "profile": cmd_profile}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return COMMANDS[args.command](args)
    except (ConfigError, ResourceError) as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except SweepInterrupted as err:  # results of the finished trials are saved; 128 + the signal
        print(f"{err}", file=sys.stderr)
        return err.exit_code
    except AutolearnError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted; finished trials are kept in the experiment folder", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
