"""rnr-eval: pyiqa metrics on known pairs, skipped metrics, the conventional baseline, the tables end to end."""

import json
import socket

import numpy as np
import pytest
from PIL import Image

from restorer.classical import ClassicalRestorer, dehaze, restore_array
from restorer.lite import LiteRestorer, ablated
from restorer.prompts import ABLATIONS, Ablation
from rnr import Diagnosis, Finding
from rnr.cli.eval import main as eval_main
from rnr.encoding import encode
from rnr.metrics import MetricSuite, psnr

NOISE = Diagnosis(noise=Finding(True, 40.0, {"k": 0.1, "b": 5.0, "sigma_mean": 0.04}))


def test_pyiqa_metrics_on_known_pairs(photo):
    suite = MetricSuite.create(["psnr", "ssim"])
    same = suite.score(photo, photo)
    assert same["psnr"] == pytest.approx(80.0) and same["ssim"] == pytest.approx(1.0)  # pyiqa caps identical at 80 dB
    flat = np.full((32, 32, 3), 0.5, np.float32)
    offset = suite.score(flat + 0.1, flat)
    assert offset["psnr"] == pytest.approx(20.0, abs=1e-3)  # MSE 0.01
    rng = np.random.default_rng(0)
    noisy = np.clip(photo + rng.normal(0, 0.05, photo.shape), 0, 1).astype(np.float32)
    scores = suite.score(noisy, photo)
    assert scores["psnr"] == pytest.approx(psnr(noisy, photo), abs=0.01)  # pyiqa agrees with the numpy PSNR
    assert 0.2 < scores["ssim"] < 0.99
    assert not suite.lower_better("psnr")
    no_reference = MetricSuite.create(["entropy"])  # a no-reference metric that needs no weights
    assert set(no_reference.score(photo, None)) == {"entropy"}  # full-reference ones need the ground truth
    assert no_reference.score(photo, photo)["entropy"] > no_reference.score(np.full_like(photo, 0.5), photo)["entropy"]


def test_metrics_without_local_weights_are_skipped_with_the_file_to_fetch(no_local_weights):
    suite = MetricSuite.create(["lpips", "niqe", "no-such-metric"])
    assert suite.names == ["psnr", "ssim"]
    assert "alexnet" in suite.skipped["lpips"] and "put " in suite.skipped["lpips"]
    assert "niqe_modelparameters.mat" in suite.skipped["niqe"]
    assert "no metric named 'no-such-metric'" in suite.skipped["no-such-metric"]
    assert socket.getaddrinfo("localhost", 80)  # the offline guard is lifted afterwards


def test_the_conventional_restorer_undoes_fog_and_noise_with_their_parameters(photo):
    from degradations import fog, noise

    depth = np.tile(np.linspace(0.2, 1.0, photo.shape[0], dtype=np.float32)[:, None], (1, photo.shape[1]))
    fog_params = fog.FogParams(atmospheric_light=(0.85, 0.87, 0.9), beta=1.5)
    t = fog.transmission(depth, fog_params.beta)
    foggy = fog.apply(photo, fog_params, t)
    restored = dehaze(foggy, fog_params.atmospheric_light, float(t.mean()))
    assert psnr(restored, photo) > psnr(foggy, photo) + 5
    noisy = noise.apply(photo, noise.NoiseParams(k=0.0, b=10.0, seed=0))
    assert psnr(restore_array(noisy, NOISE), photo) > psnr(noisy, photo) + 3
    assert np.array_equal(restore_array(photo, Diagnosis()), photo)  # nothing diagnosed, nothing changed
    assert ClassicalRestorer().restore([photo], [None])[0].shape == photo.shape


def test_lite_ablations_withhold_parts_of_the_condition(photo):
    vector = encode(NOISE)
    assert ablated(vector, Ablation(scores=False))[7] == 0 and ablated(vector, Ablation(scores=False))[-1] == vector[-1]
    assert not ablated(vector, Ablation(params=False))[8:].any() and ablated(vector, Ablation(params=False))[3] == 1
    restorer = LiteRestorer.load()
    blind = restorer.restore([photo], [None])[0]
    restorer.ablation = ABLATIONS["w/o reasoner"]
    np.testing.assert_array_equal(restorer.restore([photo], [NOISE])[0], blind)


def test_rnr_eval_writes_the_tables_and_the_sheet(tiny_synth_set, tmp_path, capsys, no_local_weights):
    out = tmp_path / "eval"
    code = eval_main(["--data", str(tiny_synth_set), "--ablation", "--baselines", "--metrics", "psnr,ssim,niqe,entropy",
                      "--output", str(out), "--sheet", "3"])
    assert code == 0
    report = json.loads((out / "results.json").read_text())
    methods = report["methods"]
    assert list(methods) == ["degraded input", "conventional (diagnosed parameters)", "full (lite)", "oracle diagnosis",
                             "w/o reasoner", "w/o score", "w/o parameters", "w/o RL", "full"]
    assert methods["full"]["overall"] == methods["full (lite)"]["overall"]
    assert methods["w/o RL"]["overall"] != methods["full"]["overall"]  # the shipped SFT weights, not the GRPO default
    assert list(report["skipped_rows"]) == ["w/o semantics"]  # the lite reasoner writes no scene text
    assert "niqe_modelparameters.mat" in report["skipped_metrics"]["niqe"]  # reported, not dropped
    assert report["metrics"] == ["psnr", "ssim", "entropy"] and methods["full (lite)"]["overall"]["entropy"] > 0
    # the degraded-input row is the plain PSNR of each degraded sample against its clean one
    from datasets import load_from_disk

    dataset = load_from_disk(str(tiny_synth_set))
    records = [json.loads(r) for r in dataset["record"]]
    hurt = [i for i, r in enumerate(records) if not r["clean"]]
    expected = np.mean([psnr(np.asarray(dataset[i]["degraded"], np.float32) / 255, np.asarray(dataset[i]["clean"], np.float32) / 255) for i in hurt])
    assert methods["degraded input"]["overall"]["psnr"] == pytest.approx(expected, abs=0.01)
    assert report["overall_samples"] == len(hurt) and report["samples"] == len(records)
    assert sum(g["count"] for g in report["breakdowns"]["combination"].values()) == len(records)
    assert len(report["per_sample"]) == len(records)
    assert report["reasoner_accuracy"]["samples"] == len(records)
    table = (out / "results.md").read_text()
    for heading in ("## Methods (Table 2)", "## Ablations (Table 3)", "By degradation combination", "By severity band", "NIQE:"):
        assert heading in table
    sheet = Image.open(out / "contact-sheet.png")
    columns = 1 + 7 + 1  # input | conventional, full, oracle, w/o reasoner, w/o score, w/o parameters, w/o RL | ground truth
    assert sheet.size == (columns * 164 - 4, 3 * (178 + 4) - 4)
    assert "wrote" in capsys.readouterr().err


def test_rnr_eval_on_paired_folders(tmp_path, photo, capsys):
    from rnr.imageio import write_image

    for folder in ("degraded", "clean"):
        (tmp_path / "pairs" / folder).mkdir(parents=True)
    rng = np.random.default_rng(1)
    for name in ("a", "b"):
        write_image(tmp_path / "pairs" / "clean" / f"{name}.png", photo)
        write_image(tmp_path / "pairs" / "degraded" / f"{name}.png", np.clip(photo + rng.normal(0, 0.06, photo.shape), 0, 1))
    args = ["--data", str(tmp_path / "pairs"), "--restorer", "classical", "--metrics", "psnr", "--output", str(tmp_path / "out")]
    assert eval_main(args) == 0
    report = json.loads((tmp_path / "out" / "results.json").read_text())
    assert report["kind"] == "paired folders" and report["grouped_by"] == "diagnosis"
    assert "reasoner_accuracy" not in report
    write_image(tmp_path / "pairs" / "degraded" / "c.png", photo)
    capsys.readouterr()
    assert eval_main(args) == 2
    err = capsys.readouterr().err
    assert "no ground truth for c" in err and err.count("\n") == 1  # one line
    assert eval_main(["--data", str(tmp_path / "nowhere")]) == 2


def test_rnr_eval_drives_a_qwen_restorer_through_the_ablation_rows(tiny_qwen_edit_dir, tiny_synth_set, tmp_path, monkeypatch):
    """Plumbing only: a tiny random Qwen-Image-Edit's numbers mean nothing."""
    from restorer.qwen import QwenEditRestorer

    prompts = []
    original = QwenEditRestorer.denoise

    def spy(self, image, prompt, *args, **kwargs):
        prompts.append(prompt)
        return original(self, image, prompt, *args, **kwargs)

    monkeypatch.setattr(QwenEditRestorer, "denoise", spy)
    out = tmp_path / "eval"
    code = eval_main(["--data", str(tiny_synth_set), "--limit", "2", "--restorer", str(tiny_qwen_edit_dir), "--ablation",
                      "--sft-restorer", str(tiny_qwen_edit_dir), "--metrics", "psnr", "--output", str(out), "--sheet", "1",
                      "--steps", "2", "--max-pixels", str(64 * 64)])
    assert code == 0
    report = json.loads((out / "results.json").read_text())
    assert {"w/o reasoner", "w/o score", "w/o parameters", "w/o RL", "full"} <= set(report["methods"])
    from restorer.prompts import NO_REASONER_INSTRUCTION

    assert NO_REASONER_INSTRUCTION in prompts  # the w/o reasoner row reached the prompt
    for sample in report["per_sample"]:  # and each switch reached it, for every image
        diagnosis = Diagnosis.from_dict(sample["diagnosis"])
        assert {Ablation(scores=False).prompt(diagnosis), Ablation(params=False).prompt(diagnosis), Ablation().prompt(diagnosis)} <= set(prompts)


def test_rnr_restore_takes_the_conventional_restorer_by_name(tmp_path):
    from rnr.cli.restore import main as restore_main

    source = tmp_path / "p.png"
    Image.open("rnr/assets/demo/motorcycle-fog-rain-noise.png").crop((0, 0, 96, 64)).save(source)
    assert restore_main([str(source), "--restorer", "classical", "-o", str(tmp_path / "out")]) == 0
    assert Image.open(tmp_path / "out" / "p.restored.png").size == (96, 64)


def test_missing_optional_packages_are_one_line_errors(tmp_path, monkeypatch, capsys):
    import sys

    monkeypatch.setitem(sys.modules, "pyiqa", None)  # as if not installed
    assert eval_main(["--data", str(tmp_path)]) == 2
    assert "pip install -e '.[eval]'" in capsys.readouterr().err
    monkeypatch.setitem(sys.modules, "skimage.restoration", None)
    with pytest.raises(ValueError, match="needs scikit-image"):
        ClassicalRestorer()
