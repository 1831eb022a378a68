"""rnr-eval beyond the paper: the oracle row, perturbed diagnoses, significance, the reasoner's errors, photos alone."""

import csv
import io
import json

import numpy as np
import pytest
from PIL import Image

from restorer.lite import LiteRestorer
from rnr import Diagnosis, Finding
from rnr.cli.eval import main as eval_main
from rnr.eval_data import load_eval_set
from rnr.eval_perturb import PERTURBATIONS, Perturbation, flip_presence, perturbed, scale_parameters, shift_severities
from rnr.eval_stats import paired_difference, verdict
from rnr.metrics import MetricSuite

PERTURBED_ROWS = ["severity −25", "severity −10", "severity +10", "severity +25", "parameters ±20%", "one presence flipped"]


@pytest.fixture(scope="module")
def perturbed_run(tiny_synth_set, tmp_path_factory):
    """rnr-eval --perturb on the 6-sample set, lite reasoner and restorer: (output folder, results.json)."""
    out = tmp_path_factory.mktemp("eval") / "out"
    assert eval_main(["--data", str(tiny_synth_set), "--perturb", "--metrics", "psnr,ssim", "--output", str(out), "--sheet", "2"]) == 0
    return out, json.loads((out / "results.json").read_text())


def test_the_oracle_row_is_the_restorer_given_the_records_diagnoses(perturbed_run, tiny_synth_set):
    out, report = perturbed_run
    assert list(report["methods"]) == ["degraded input", "full (lite)", "oracle diagnosis", *PERTURBED_ROWS]
    eval_set = load_eval_set(str(tiny_synth_set))
    restored = LiteRestorer.load().restore(eval_set.degraded, eval_set.truth)
    suite = MetricSuite.create(["psnr"])
    expected = [suite.score(image, clean)["psnr"] for image, clean in zip(restored, eval_set.clean)]
    assert [s["scores"]["oracle diagnosis"]["psnr"] for s in report["per_sample"]] == pytest.approx(expected, abs=1e-6)
    degraded = [i for i, d in enumerate(eval_set.truth) if not d.is_clean]
    gap = report["significance"]["oracle diagnosis"]["psnr"]
    full = [report["per_sample"][i]["scores"]["full (lite)"]["psnr"] for i in degraded]
    assert gap["n"] == len(degraded) and gap["mean_difference"] == pytest.approx(np.mean([expected[i] for i in degraded]) - np.mean(full))
    assert "Oracle gap: the restorer given the records' true diagnosis scores" in (out / "results.md").read_text()


def test_psnr_falls_as_the_diagnosis_error_grows_on_the_lite_pair(perturbed_run):
    """Where the lite restorer is monotone on this fixed set: over-stated severities, and a flipped presence."""
    out, report = perturbed_run
    psnr = {label: row["overall"]["psnr"] for label, row in report["methods"].items()}
    assert psnr["oracle diagnosis"] > psnr["severity +10"] > psnr["severity +25"]
    assert psnr["one presence flipped"] < psnr["oracle diagnosis"] - 0.5
    assert set(report["perturbation_vs_oracle"]) == set(PERTURBED_ROWS)
    assert report["methods"]["severity +25"]["perturbation"] == {"kind": "severity", "size": 25, "label": "severity +25"}
    assert Image.open(out / "perturbation.png").size[0] > 600
    assert "![PSNR against diagnosis error](perturbation.png)" in (out / "results.md").read_text()


def test_perturbations_are_reproducible_and_of_the_size_asked(tiny_synth_set):
    truth = load_eval_set(str(tiny_synth_set)).truth
    for perturbation in PERTURBATIONS:
        assert perturbed(truth, perturbation, seed=3) == perturbed(truth, perturbation, seed=3)
    params, flip = Perturbation("parameters", 20), Perturbation("presence", 1)
    assert perturbed(truth, params, seed=3) != perturbed(truth, params, seed=4)
    for before, after in zip(truth, perturbed(truth, flip, seed=3)):  # exactly one degradation changes its verdict
        assert sum(getattr(before, n).present != getattr(after, n).present for n in ("fog", "shake", "rain", "noise")) == 1
    for before, after in zip(truth, perturbed(truth, Perturbation("severity", 10))):
        assert [min(s + 10, 100) if s else 0 for s in before.severities()] == list(after.severities())


def test_each_perturbation_does_what_it_says_on_a_hand_diagnosis():
    d = Diagnosis(fog=Finding(True, 95.0, {"atmospheric_light": (0.9, 0.5, 0.7), "beta": 2.0, "t_mean": 0.5}),
                  shake=Finding(True, 5.0, {"direction_deg": 170.0, "length_px": 4.0, "energy": 0.2, "kernel_size": 15}))
    assert shift_severities(d, 10).fog.severity == 100.0 and shift_severities(d, -10).shake.severity == 1.0  # clipped to [1, 100]
    assert shift_severities(d, 10).fog.params == d.fog.params  # severity only
    off = scale_parameters(d, 0.2, np.random.default_rng(0))
    assert off.fog.params["beta"] in (1.6, 2.4) and off.fog.params["t_mean"] in (0.4, 0.6) and off.shake.params["energy"] in (0.16, 0.24)
    assert all(abs(a - b) == pytest.approx(0.2 * b) or a == 1.0 for a, b in zip(off.fog.params["atmospheric_light"], (0.9, 0.5, 0.7)))
    assert off.shake.params["direction_deg"] in (152.0, 8.0)  # turned by 18 degrees, axial
    assert off.shake.params["kernel_size"] in (13, 19) and off.severities() == d.severities()  # kept odd; severities untouched
    rain_donor = Diagnosis(rain=Finding(True, 30.0, {"density": 0.01}))
    flips = [flip_presence(d, np.random.default_rng(seed), [rain_donor]) for seed in range(12)]
    assert Diagnosis(fog=d.fog) in flips and Diagnosis(fog=d.fog, shake=d.shake, rain=rain_donor.rain) in flips
    assert Diagnosis(fog=d.fog, shake=d.shake, noise=Finding(True, 50.0)) in flips  # no donor has noise: the default score


def test_intervals_and_p_values_are_scipys_on_a_hand_example():
    from scipy import stats

    row, full = [20.3, 19.9, 21.8, 22.2, 20.5, 20.0, 21.9, 19.6], [20.0] * 8
    differences = np.subtract(row, full)
    result = paired_difference(row, full, seed=7)
    interval = stats.bootstrap((differences,), np.mean, confidence_level=0.95, method="BCa", rng=np.random.default_rng(7)).confidence_interval
    assert result["ci"] == [pytest.approx(interval.low), pytest.approx(interval.high)]
    assert result["p_value"] == pytest.approx(stats.wilcoxon(differences).pvalue)
    assert result["mean_difference"] == pytest.approx(0.775) and result["n"] == 8
    # by hand: five differences, all positive: the exact two-sided signed-rank p-value is 2 / 2^5
    assert paired_difference([1, 2, 3, 4, 5], [0] * 5)["p_value"] == pytest.approx(0.0625)
    covering = paired_difference([1.0, -1.0, 2.0, -2.0, 0.5], [0.0] * 5)
    assert covering["ci"][0] < 0 < covering["ci"][1] and verdict(covering, lower_better=False) == "not different"
    same = paired_difference([3.0, 4.0], [3.0, 4.0])
    assert same["ci"] == [0.0, 0.0] and same["p_value"] == 1.0 and not same["different"]
    lower = paired_difference([0.1, 0.2, 0.15], [0.3, 0.4, 0.35])  # e.g. LPIPS, where lower is better
    assert verdict(lower, lower_better=True) == "better" and verdict(lower, lower_better=False) == "worse"
    assert paired_difference([1.0, float("nan")], [0.0, 0.0]) == {"n": 1, "mean_difference": 1.0, "ci": None, "p_value": None, "different": None}


def test_the_reasoner_analysis_agrees_with_its_accuracy(perturbed_run):
    out, report = perturbed_run
    analysis, accuracy = report["reasoner_analysis"], report["reasoner_accuracy"]
    for name in ("fog", "shake", "rain", "noise"):
        presence = accuracy["presence"][name]
        assert analysis["confusion"][name][name] == round(presence["recall"] * presence["support"])
        assert sum(band["count"] for band in analysis["severity_error"][name].values()) == presence["support"]
    calibration = analysis["calibration"]  # the lite reasoner gives presence probabilities
    assert calibration["answers"] == 4 * report["samples"] and sum(b["count"] for b in calibration["bins"]) == calibration["answers"]
    assert 0 <= calibration["ece"] <= 1 and Image.open(out / "reliability.png").size[1] > 400
    table = (out / "results.md").read_text()
    for heading in ("## Reasoner: which degradation is called which", "## Reasoner: severity error against true severity",
                    f"ECE {calibration['ece']:.3f}", "![reliability diagram](reliability.png)",
                    "![PSNR by severity band per degradation](severity-bands.png)"):
        assert heading in table


def test_the_per_sample_csv_has_a_row_per_sample_and_method(perturbed_run):
    out, report = perturbed_run
    rows = list(csv.DictReader(io.StringIO((out / "results.csv").read_text())))
    assert len(rows) == report["samples"] * len(report["methods"])
    first = rows[len(report["methods"]) + 1]  # sample 1, its full row
    assert first["method"] == "full (lite)" and first["index"] == "1"
    assert float(first["psnr"]) == report["per_sample"][1]["scores"]["full (lite)"]["psnr"]
    assert first["true"] == "+".join(n for n in ("fog", "shake", "rain", "noise") if report["per_sample"][1]["truth"][n]["present"]) or "clean"


def test_a_folder_of_photos_without_ground_truth_gets_a_no_reference_report(photo_dir, tmp_path, no_local_weights, capsys):
    from reasoner.lite import LiteReasoner
    from rnr.imageio import read_image

    out = tmp_path / "out"
    assert eval_main(["--data", str(photo_dir), "--baselines", "--perturb", "--metrics", "entropy,niqe,lpips",
                      "--output", str(out), "--sheet", "2"]) == 0
    report = json.loads((out / "results.json").read_text())
    assert report["has_reference"] is False and report["kind"] == "photos without ground truth" and report["samples"] == 3
    assert report["metrics"] == ["entropy", "residual_severity"]
    assert "niqe_modelparameters.mat" in report["skipped_metrics"]["niqe"] and "lpips" not in report["skipped_metrics"]
    assert "oracle diagnosis" in report["skipped_rows"] and "severity +10" in report["skipped_rows"]
    photos = [read_image(p) for p in sorted(photo_dir.iterdir())]
    before = LiteReasoner.load().severities(photos).numpy()
    assert list(report["residual"]["degraded input"]["after"].values()) == pytest.approx(before.mean(axis=0).tolist(), abs=1e-4)
    assert report["residual"]["degraded input"]["reduction"] == 0.0 and report["residual"]["full (lite)"]["reduction"] is not None
    assert "No ground truth (photos alone)" in (out / "results.md").read_text()
    assert Image.open(out / "contact-sheet.png").size == (3 * 164 - 4, 2 * (178 + 4) - 4)  # input | conventional | full
    assert len((out / "results.csv").read_text().splitlines()) == 1 + 3 * 3
    assert "wrote" in capsys.readouterr().err
