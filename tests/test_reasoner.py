"""The Qwen3-VL reasoner on a tiny, randomly initialised model of the real classes (plumbing, not content)."""

import logging

import numpy as np
import pytest
import torch

from reasoner import QwenReasoner, ReasonerLoadError
from reasoner.train import ReasonerTrainConfig, build_trainer
from rnr import Diagnosis
from rnr.cli.train import main as train_main

TINY = "configs/reasoner/tiny.yaml"


def _config(tiny_qwen3_vl, tiny_synth_set, tmp_path, **changes):
    from rnr.config import load_config

    config = load_config(ReasonerTrainConfig, TINY)
    return __import__("dataclasses").replace(
        config, model=str(tiny_qwen3_vl), data=str(tiny_synth_set), output=str(tmp_path / "run"), **changes
    )


def test_two_sft_steps_change_the_lora_weights_and_nothing_else(tiny_qwen3_vl, tiny_synth_set, tmp_path):
    trainer = build_trainer(_config(tiny_qwen3_vl, tiny_synth_set, tmp_path, save_steps=100))
    before = {name: p.detach().clone() for name, p in trainer.model.named_parameters()}
    lora = [name for name, p in trainer.model.named_parameters() if p.requires_grad]
    assert lora and all("lora_" in name for name in lora)
    assert not any("visual" in name for name in lora)  # LoRA on the text tower only
    result = trainer.train()
    assert np.isfinite(result.training_loss)
    after = dict(trainer.model.named_parameters())
    assert any(not torch.equal(before[name], after[name]) for name in lora if "lora_B" in name)
    frozen = [name for name in before if name not in lora]
    assert all(torch.equal(before[name], after[name]) for name in frozen)


def test_the_loss_covers_the_answer_only(tiny_qwen3_vl, tiny_synth_set, tmp_path):
    trainer = build_trainer(_config(tiny_qwen3_vl, tiny_synth_set, tmp_path))
    examples = [trainer.train_dataset[i] for i in range(2)]
    batch = trainer.data_collator(examples)
    tokenizer = trainer.processing_class.tokenizer
    image_token = tokenizer.convert_tokens_to_ids("<|image_pad|>")
    for row, example in zip(range(2), examples):
        content = example["completion"][0]["content"]
        expected = content if isinstance(content, str) else "".join(block["text"] for block in content)
        assert expected.startswith("Fog degradation:")
        labels = batch["labels"][row]
        answer = tokenizer.decode(labels[labels != -100])
        assert answer.startswith(expected)
        assert answer[len(expected) :].strip() == "<|im_end|>"
        assert (batch["input_ids"][row][labels != -100] != image_token).all()
        assert "Please analyze" not in answer


def test_rnr_train_end_to_end_resumes_and_reloads(tiny_qwen3_vl, tiny_synth_set, tmp_path, caplog):
    out = tmp_path / "reasoner"
    args = ["--stage", "reasoner", "--config", TINY, "--data", str(tiny_synth_set), "--model", str(tiny_qwen3_vl), "--output", str(out)]
    assert train_main(args) == 0
    assert {"adapter_model.safetensors", "adapter_config.json", "rnr-train.yaml", "processor_config.json"} <= {
        p.name for p in out.iterdir()
    }
    assert "model: " + str(tiny_qwen3_vl) in (out / "rnr-train.yaml").read_text()
    assert train_main([*args, "--max-steps", "3"]) == 0  # resumes from checkpoint-2
    state = __import__("json").loads((out / "checkpoint-3" / "trainer_state.json").read_text())
    assert state["global_step"] == 3

    reasoner = QwenReasoner.from_pretrained(str(out), max_new_tokens=24)
    assert type(reasoner.model).__name__.startswith("PeftModel")  # the LoRA is loaded on the base
    rng = np.random.default_rng(0)
    images = [rng.random((h, w, 3), dtype=np.float32) for h, w in ((64, 64), (48, 96), (80, 40))]
    with caplog.at_level(logging.WARNING):
        diagnoses = reasoner.diagnose(images, batch_size=2, names=["a.png", "b.png", "c.png"])
    assert len(diagnoses) == 3 and all(isinstance(d, Diagnosis) for d in diagnoses)
    assert reasoner.severities(images).shape == (3, 4)
    scenes = reasoner.describe_scene(images)
    assert len(scenes) == 3 and all(len(s.split()) <= 30 for s in scenes)


def test_batched_decoding_is_deterministic_and_matches_one_at_a_time(tiny_qwen3_vl):
    reasoner = QwenReasoner.from_pretrained(str(tiny_qwen3_vl), max_new_tokens=12)
    rng = np.random.default_rng(1)
    images = [rng.random((h, w, 3), dtype=np.float32) for h, w in ((64, 64), (32, 96))]
    batched = reasoner.generate(images, "Describe.", batch_size=2)
    assert batched == reasoner.generate(images, "Describe.", batch_size=2)
    assert batched == [reasoner.generate([image], "Describe.")[0] for image in images]


def test_garbage_answers_give_empty_diagnoses_with_a_warning_naming_the_image(tiny_qwen3_vl, caplog):
    reasoner = QwenReasoner.from_pretrained(str(tiny_qwen3_vl), max_new_tokens=16)  # untrained: garbage
    with caplog.at_level(logging.WARNING, logger="reasoner.qwen"):
        diagnoses = reasoner.diagnose([np.zeros((32, 32, 3), np.float32)], names=["holiday.jpg"])
    assert diagnoses == [Diagnosis()]
    assert "holiday.jpg: the reasoner's answer was not a complete diagnosis" in caplog.text


def test_bad_model_paths_get_clear_errors(tmp_path, capsys):
    with pytest.raises(ReasonerLoadError, match="not found as a local folder or in the hub cache"):
        QwenReasoner.from_pretrained(str(tmp_path / "nowhere"))
    from transformers import BertConfig

    BertConfig(hidden_size=8, num_hidden_layers=1, num_attention_heads=1, intermediate_size=8).save_pretrained(tmp_path / "bert")
    with pytest.raises(ReasonerLoadError, match="is a 'bert' model, not Qwen3-VL"):
        QwenReasoner.from_pretrained(str(tmp_path / "bert"))
    assert train_main(["--stage", "reasoner", "--config", TINY, "--data", str(tmp_path), "--output", str(tmp_path / "o")]) == 2
    assert not (tmp_path / "o").exists()  # refused before writing anything
    assert "no model to train: pass --model" in capsys.readouterr().err
    assert train_main(["--stage", "reasoner", "--config", TINY, "--output", str(tmp_path / "o"), "lora_rr=3"]) == 2
    assert "unknown config key(s) lora_rr; known keys: model, data" in capsys.readouterr().err
    assert train_main(["--stage", "grpo", "--backend", "lite", "--data", str(tmp_path), "--output", str(tmp_path / "o")]) == 2
    assert "no restorer: pass --restorer PATH" in capsys.readouterr().err


# --- accuracy ----------------------------------------------------------------------
from rnr import Finding  # noqa: E402


def test_accuracy_maths_on_hand_made_diagnoses():
    from reasoner.accuracy import accuracy_report

    fog = lambda severity, **params: Finding(True, severity, params)  # noqa: E731
    truth = [
        Diagnosis(fog=fog(50, beta=1.0, atmospheric_light=(0.8, 0.8, 0.8)), shake=Finding(True, 30, {"direction_deg": 2.0})),
        Diagnosis(fog=fog(20, beta=2.0)),
        Diagnosis(),
        Diagnosis(shake=Finding(True, 10, {"direction_deg": 90.0})),
    ]
    predicted = [
        Diagnosis(fog=fog(60, beta=1.5, atmospheric_light=(0.9, 0.7, 0.8)), shake=Finding(True, 30, {"direction_deg": 178.0})),
        Diagnosis(),
        Diagnosis(fog=fog(10)),
        Diagnosis(shake=Finding(True, 20, {"direction_deg": 80.0})),
    ]
    report = accuracy_report(predicted, truth, parse_failures=1, seconds=2.0)
    assert report["presence"]["fog"] == {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2}
    assert report["presence"]["shake"]["f1"] == 1.0
    assert report["presence"]["rain"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 0}
    assert report["severity_mae"]["fog"] == pytest.approx((10 + 20 + 10 + 0) / 4)
    assert report["parameters"]["fog"]["beta"] == {"mae": pytest.approx(0.5), "count": 1}
    assert report["parameters"]["fog"]["atmospheric_light"]["mae"] == pytest.approx(0.2 / 3)
    assert report["parameters"]["shake"]["direction_deg"]["mae"] == pytest.approx((4 + 10) / 2)  # 178 vs 2 is 4 degrees
    assert report["parse_failure_rate"] == 0.25 and report["images_per_second"] == 2.0


def test_rnr_eval_reasoner_writes_json_and_markdown(tiny_qwen3_vl, tiny_synth_set, tmp_path, capsys):
    from rnr.cli.eval import main as eval_main

    code = eval_main(["reasoner", "--data", str(tiny_synth_set), "--reasoner", str(tiny_qwen3_vl), "--limit", "4", "--output", str(tmp_path)])
    assert code == 0
    report = __import__("json").loads((tmp_path / "results.json").read_text())
    assert report["samples"] == 4 and report["parse_failure_rate"] == 1.0  # an untrained model writes garbage
    assert set(report["presence"]) == {"fog", "shake", "rain", "noise"}
    assert "| fog |" in (tmp_path / "results.md").read_text()
    assert eval_main(["reasoner", "--data", str(tmp_path / "none"), "--reasoner", str(tiny_qwen3_vl)]) == 2
    assert "none: no such folder" in capsys.readouterr().err


def test_rnr_synth_captioner_fills_each_scene_from_the_clean_crop(tiny_qwen3_vl, photo_dir, tmp_path, capsys):
    from datasets import load_from_disk

    from rnr.cli.synth import main as synth_main

    out = tmp_path / "set"
    args = ["--quiet", "--workers", "1", "--size", "64", "--input", str(photo_dir), "--output", str(out), "--num", "3"]
    assert synth_main([*args, "--captioner", str(tiny_qwen3_vl), "--caption-batch", "2"]) == 0
    dataset = load_from_disk(str(out))
    reasoner = QwenReasoner.from_pretrained(str(tiny_qwen3_vl))
    assert dataset["scene"] == reasoner.describe_scene(dataset["clean"])  # greedy: the same text again
    assert all(d.endswith(f"Clean scene: {s}".rstrip()) for d, s in zip(dataset["diagnosis"], dataset["scene"]))
    manifest = __import__("json").loads((out / "rnr-synth.json").read_text())
    assert manifest["job"]["captioner"] == str(tiny_qwen3_vl)
    assert synth_main([*args[:-4], "--output", str(tmp_path / "o2"), "--num", "1", "--captioner", str(tmp_path)]) == 2
    assert "not found as a local folder" in capsys.readouterr().err
    assert not (tmp_path / "o2").exists()  # refused before anything was written
