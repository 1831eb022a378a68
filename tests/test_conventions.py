"""One PSNR and one F: every part of the project measures the same way (docs/DESIGN.md, Conventions)."""

import itertools

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


def test_the_lite_calibration_f_is_the_reported_f():
    from reasoner.lite_train import f_beta

    cases = list(itertools.product([False, True], repeat=3))
    for said, truth in itertools.product(cases, cases):
        said, truth = np.array(said), np.array(truth)
        for beta in (0.5, 1.0, 2.0):
            assert f_beta(said, truth, beta) == pytest.approx(f_score(said, truth, beta)), (said, truth, beta)


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
