"""One PSNR and one F: every part of the project measures the same way (docs/DESIGN.md, Conventions)."""


import numpy as np
import pytest

from reasoner.accuracy import f_score, precision_recall, presence_scores
from rnr import Diagnosis, Finding
from rnr.metrics import PSNR_CAP, MetricSuite, psnr


def test_psnr_is_pyiqas_and_identical_images_score_the_cap(photo):
    suite = MetricSuite.create(["psnr"])
    rng = np.random.default_rng(1)
    for sigma in (0.0, 1e-5, 0.01, 0.2):
        noisy = np.clip(photo + rng.normal(0, sigma, photo.shape), 0, 1).astype(np.float32)
        assert psnr(noisy, photo) == pytest.approx(suite.score(noisy, photo)["psnr"], abs=1e-4), sigma
    assert psnr(photo, photo) == PSNR_CAP == 80.0


def test_grpo_rewards_psnr_by_the_same_convention(photo):
    from rl.grpo import candidate_psnrs

    noisy = np.clip(photo + 0.05, 0, 1).astype(np.float32)
    assert candidate_psnrs([photo, noisy], photo) == [PSNR_CAP, psnr(noisy, photo)]


def test_the_lite_calibration_tunes_the_reported_f():
    """best_thresholds picks, per column, the highest cut-off whose reasoner.accuracy.f_score is best."""
    from reasoner.lite_train import THRESHOLD_GRID, best_thresholds

    rng = np.random.default_rng(3)
    probabilities, present = rng.random((40, 2)), rng.random((40, 2)) < 0.5
    for beta in (0.5, 1.0, 2.0):
        for column, cut in enumerate(best_thresholds(probabilities, present, beta)):
            scores = {c: f_score(probabilities[:, column] >= c, present[:, column], beta) for c in THRESHOLD_GRID}
            assert scores[cut] == max(scores.values()) and all(scores[c] < scores[cut] for c in THRESHOLD_GRID if c > cut)


def test_presence_scores_are_precision_recall_and_f_of_the_calls():
    yes = Diagnosis(rain=Finding(True, 30.0))
    said, truth = [yes, Diagnosis(), yes, Diagnosis()], [yes, yes, Diagnosis(), Diagnosis()]
    rain = presence_scores(said, truth)["rain"]
    calls, real = np.array([1, 0, 1, 0], bool), np.array([1, 1, 0, 0], bool)
    assert (rain["precision"], rain["recall"]) == precision_recall(calls, real) == (0.5, 0.5)
    assert rain["f1"] == f_score(calls, real) == 0.5
    # nothing called and nothing there: a perfect score, not 0/0
    assert presence_scores([Diagnosis()], [Diagnosis()])["fog"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 0}
    assert precision_recall(np.zeros(2, bool), np.ones(2, bool)) == (0.0, 0.0)
