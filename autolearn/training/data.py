"""Datasets for the built-in training loop: loaded once per sweep on the driver, split, standardised.

A loader is a small function returning `(X, y)`; its keyword arguments are the spec's dataset
fields (checked against its signature at load time). Users plug in their own with an import path.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from autolearn.config.plugins import check_kwargs, resolve
from autolearn.errors import ConfigError, DataError
from autolearn.training.data_checks import check_features, check_labels


def synthetic_classification(n_samples: int = 1000, n_features: int = 20, n_informative: int = 2,
                             n_redundant: int = 2, n_classes: int = 2, n_clusters_per_class: int = 2,
                             class_sep: float = 1.0, flip_y: float = 0.01,
                             random_state: int | None = 42) -> tuple[np.ndarray, np.ndarray]:
    """The seed task: scikit-learn's `make_classification` (its defaults, 1000×20, two classes)."""
    from sklearn.datasets import make_classification

    if n_classes > 2 and n_informative < 2:
        n_informative = 2
    try:
        return make_classification(n_samples=n_samples, n_features=n_features, n_informative=n_informative,
                                   n_redundant=n_redundant, n_classes=n_classes,
                                   n_clusters_per_class=n_clusters_per_class, class_sep=class_sep,
                                   flip_y=flip_y, random_state=random_state)
    except ValueError as err:
        raise DataError("task.dataset", f"make_classification rejected the parameters: {err}") from None


def digits(image: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's bundled 8×8 digits (1797 images, 10 classes); `image` keeps the 1×8×8 shape."""
    from sklearn.datasets import load_digits

    bunch = load_digits()
    x = bunch.images[:, None, :, :] if image else bunch.data
    return x.astype(np.float32), bunch.target


def csv(path: str, target: str, delimiter: str = ",") -> tuple[np.ndarray, np.ndarray]:
    """A user's table: numeric feature columns and one target column (class labels of any type)."""
    import pandas as pd

    file = Path(path).expanduser()
    if not file.is_file():
        raise DataError("task.dataset.path", f"no CSV file at {str(file)!r}")
    try:
        frame = pd.read_csv(file, sep=delimiter)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as err:
        raise DataError("task.dataset.path", f"cannot read {str(file)!r} as CSV: {err}") from None
    if frame.empty:
        raise DataError("task.dataset.path", f"{str(file)!r} has no data rows")
    if target not in frame.columns:
        raise DataError("task.dataset.target", f"column {target!r} is not in {str(file)!r}; "
                        f"columns: {', '.join(map(str, frame.columns))}")
    features = frame.drop(columns=[target])
    bad = [c for c in features.columns if not pd.api.types.is_numeric_dtype(features[c])]
    if bad:
        raise DataError("task.dataset", f"feature columns must be numeric; not numeric: {', '.join(map(str, bad))}")
    if features.shape[1] == 0:
        raise DataError("task.dataset", f"{str(file)!r} has no feature columns besides {target!r}")
    if features.isna().any().any():
        raise DataError("task.dataset", f"{str(file)!r} has missing values; fill or drop them first")
    x = features.to_numpy(np.float32)
    check_features(x, repr(str(file)))
    check_labels(frame[target], f"{str(file)!r} column {target!r}", "task.dataset.target")
    return x, frame[target].to_numpy()


DATASETS: dict[str, Callable[..., tuple[Any, Any]]] = {
    "synthetic_classification": synthetic_classification,
    "digits": digits,
    "csv": csv,
}


@dataclass(frozen=True)
class Dataset:
    """Train/validation/test arrays ready for torch: float32 features, int64 class indices."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    classes: tuple[Any, ...]

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    @property
    def n_outputs(self) -> int:
        """One logit for binary tasks (BCE), one per class otherwise (cross-entropy)."""
        return 1 if self.n_classes == 2 else self.n_classes


def _loader(name: Any, params: dict[str, Any], path: str) -> Callable[..., Any]:
    """The dataset's loader, once its name resolves and `params` fit its signature."""
    loader = resolve(name, DATASETS, f"{path}.name", "dataset")
    check_kwargs(loader, params, path, owner=f"dataset {name!r}" if isinstance(name, str) else None)
    return loader


# A user builder's result from the load-time check, kept for the sweep's own load to take (once): a
# builder is called once per spec, however it is checked. One entry, so at most one data set waits.
_CHECKED: dict[str, Any] = {}


def _key(name: Any, params: dict[str, Any]) -> str:
    return f"{id(name) if callable(name) else name}|{sorted(params.items())!r}"


def check_dataset(name: Any, params: dict[str, Any], path: str = "task.dataset") -> Callable[..., Any]:
    """Load-time checks: known loader and keys; a CSV is read in full (training holds it in memory
    anyway), so a missing, empty or non-numeric table is a spec error, found before Ray starts. A
    user's builder is called: what it returns, (X, y) or torch Datasets, is checked here (Datasets
    by their first item only; see torch_data.py), and the result kept for `load_dataset`."""
    loader = _loader(name, params, path)
    if loader is csv:
        csv(**params)
    elif loader not in DATASETS.values() and _key(name, params) not in _CHECKED:  # re-validations: once
        from autolearn.training.torch_data import check_builder_result, describe, is_torch_data

        built = call_builder(name, params)
        check_builder_result(built, name)
        if is_torch_data(built):
            describe(built, name, params, (0.2, 0.2, 0))
        _CHECKED.clear()
        _CHECKED[_key(name, params)] = built
    return loader


def call_builder(name: Any, params: dict[str, Any]) -> Any:
    """The loader's result as it comes; its own failure becomes a DataError naming it."""
    loader = _loader(name, params, "task.dataset")
    key = _key(name, params)
    if key in _CHECKED:
        return _CHECKED.pop(key)
    try:
        return loader(**params)
    except ConfigError:
        raise
    except Exception as err:  # a user's loader: report which one failed and why
        raise DataError("task.dataset.name", f"loading the dataset failed: {type(err).__name__}: {err}") from err


def load_dataset(name: Any, params: dict[str, Any], test: float = 0.2, validation: float = 0.2,
                 random_state: int | None = 42) -> Any:
    """Load, split (stratified where every class allows it) and standardise on the training part.

    A builder returning torch Datasets gives a `torch_data.TorchData` instead (see there)."""
    built = call_builder(name, params)
    from autolearn.training.torch_data import check_builder_result, describe, is_torch_data

    if is_torch_data(built):  # described from one sample; every trial builds its own
        return describe(built, name, params, (test, validation, random_state))
    check_builder_result(built, name)
    x, y = built
    x = np.asarray(getattr(x, "numpy", lambda: x)(), dtype=np.float32)
    y = np.asarray(getattr(y, "numpy", lambda: y)())
    if x.ndim < 2 or len(x) != len(y) or len(x) == 0:
        raise DataError("task.dataset", f"expected X of shape (n, features...) and y of shape (n,), "
                        f"got X{x.shape} and y{y.shape}")
    check_features(x, "the dataset")
    check_labels(y, "the dataset's target")
    classes, y_idx = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise DataError("task.dataset", f"the target has {len(classes)} class; classification needs at least 2")
    y_idx = y_idx.astype(np.int64)
    x_rest, x_test, y_rest, y_test = _split(x, y_idx, test, random_state)
    x_train, x_val, y_train, y_val = _split(x_rest, y_rest, validation, random_state)
    axes = 0 if x.ndim == 2 else tuple(range(x_train.ndim))  # images: one scale for all pixels
    mean = x_train.mean(axis=axes, keepdims=True)
    std = x_train.std(axis=axes, keepdims=True)
    std[std == 0] = 1.0
    scale = lambda a: ((a - mean) / std).astype(np.float32)
    return Dataset(scale(x_train), y_train, scale(x_val), y_val, scale(x_test), y_test,
                   n_classes=len(classes), classes=tuple(c.item() if hasattr(c, "item") else c for c in classes))


def _split(x: np.ndarray, y: np.ndarray, share: float, seed: int | None) -> list[np.ndarray]:
    from sklearn.model_selection import train_test_split

    counts = np.bincount(y)
    stratify = y if counts[counts > 0].min() >= 2 else None
    try:
        return train_test_split(x, y, test_size=share, random_state=seed, stratify=stratify)
    except ValueError as err:
        raise DataError("task.split", f"cannot split {len(x)} rows with share {share}: {err}") from None
