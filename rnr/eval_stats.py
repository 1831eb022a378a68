"""Is a row really different from the full method? Paired differences, bootstrap intervals, Wilcoxon tests.

Every row is run on the same samples as the full method, so each sample gives one
difference (row − full). `paired_difference` reports their mean, a 95% bootstrap
confidence interval of that mean (`scipy.stats.bootstrap`, BCa, a seeded
`np.random.Generator`) and the Wilcoxon signed-rank p-value (`scipy.stats.wilcoxon`,
exact for small sets). A row whose interval covers zero is "not different": at this
sample size the table cannot tell it from the full method, whatever its mean says.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

CONFIDENCE = 0.95
RESAMPLES = 9999  # scipy's default; ~0.1 s for a few hundred samples


def paired_difference(values: Sequence[float], reference: Sequence[float], seed: int = 0,
                      resamples: int = RESAMPLES) -> dict[str, Any]:
    """Mean of `values − reference` per sample, its 95% bootstrap interval and the Wilcoxon p-value.

    Pairs where either side is not finite are left out (`n` counts the rest). An interval
    needs two pairs; with fewer, `ci` and `p_value` are None. When every difference is the
    same, the interval is that value (no resample differs) and the p-value is 1 if it is 0.

    >>> result = paired_difference([1.0, 2.0, 3.5, 4.0], [1.0, 1.0, 1.0, 1.0])
    >>> result["n"], result["mean_difference"], result["different"]
    (4, 1.625, True)
    """
    a, b = np.asarray(values, np.float64), np.asarray(reference, np.float64)
    keep = np.isfinite(a) & np.isfinite(b)
    differences = a[keep] - b[keep]
    n = int(differences.size)
    result: dict[str, Any] = {"n": n, "mean_difference": float(differences.mean()) if n else None,
                              "ci": None, "p_value": None, "different": None}
    if n < 2:
        return result
    if np.all(differences == differences[0]):
        low = high = float(differences[0])
    else:
        low, high = _bootstrap_interval(differences, seed, resamples)
    result["ci"] = [low, high]
    result["p_value"] = 1.0 if np.all(differences == 0) else float(_wilcoxon(differences))
    result["different"] = not (low <= 0.0 <= high)
    return result


def _bootstrap_interval(differences: np.ndarray, seed: int, resamples: int) -> tuple[float, float]:
    import warnings

    from scipy import stats

    with warnings.catch_warnings():  # BCa on a few ties warns and may give NaN: the percentile interval is used then
        warnings.simplefilter("ignore")
        interval = stats.bootstrap((differences,), np.mean, confidence_level=CONFIDENCE, n_resamples=resamples,
                                   method="BCa", rng=np.random.default_rng(seed)).confidence_interval
        if not (math.isfinite(interval.low) and math.isfinite(interval.high)):
            interval = stats.bootstrap((differences,), np.mean, confidence_level=CONFIDENCE, n_resamples=resamples,
                                       method="percentile", rng=np.random.default_rng(seed)).confidence_interval
    return float(interval.low), float(interval.high)


def _wilcoxon(differences: np.ndarray) -> float:
    import warnings

    from scipy import stats

    with warnings.catch_warnings():  # ties and zeros make scipy fall back from the exact test, with a warning
        warnings.simplefilter("ignore")
        return stats.wilcoxon(differences).pvalue


def verdict(comparison: dict[str, Any], lower_better: bool) -> str:
    """'better', 'worse' or 'not different' (than the reference); 'too few samples' below two pairs."""
    if comparison["different"] is None:
        return "too few samples"
    if not comparison["different"]:
        return "not different"
    return "better" if (comparison["mean_difference"] < 0) == lower_better else "worse"


def significance(scores: dict[str, list[dict[str, float]]], labels: Sequence[str], reference: str, indices: Sequence[int],
                 metrics: Sequence[str], lower_better: dict[str, bool], seed: int = 0) -> dict[str, dict[str, Any]]:
    """Each row in `labels` (but the reference) against `reference`, per metric, on the samples `indices`."""
    out: dict[str, dict[str, Any]] = {}
    for label in labels:
        if label == reference:
            continue
        out[label] = {}
        for metric in metrics:
            values = [scores[label][i].get(metric, math.nan) for i in indices]
            base = [scores[reference][i].get(metric, math.nan) for i in indices]
            comparison = paired_difference(values, base, seed)
            comparison["verdict"] = verdict(comparison, lower_better.get(metric, False))
            out[label][metric] = comparison
    return out
