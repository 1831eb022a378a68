"""The Qwen-Image-Edit restorer on tiny random components of the real classes (plumbing, not quality)."""

import json

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from restorer.prompts import restoration_prompt
from restorer.prompts import Ablation
from restorer.qwen import QwenEditRestorer, RestorerLoadError, prompt_drop_index
from rnr import Diagnosis, Finding
from rnr.cli.train import main as train_main

TINY = "configs/restorer/tiny.yaml"
FOGGY = Diagnosis(
    fog=Finding(True, 56.1, {"atmospheric_light": [0.8, 0.8, 0.9], "beta": 1.5, "t_mean": 0.5}),
    noise=Finding(True, 20.0, {"k": 0.1, "b": 2.0, "sigma_mean": 0.02}),
    scene="A kite over a beach",
)


def test_the_prompt_template_and_each_ablation_switch():
    full = restoration_prompt(FOGGY)
    assert "- Fog: present, severity 56.1/100; atmospheric light [0.800, 0.800, 0.900], beta 1.500" in full
    assert "- Rain streaks: absent" in full and full.endswith("Clean scene: A kite over a beach")
    no_scores = restoration_prompt(FOGGY, scores=False)
    assert "severity" not in no_scores and "beta 1.500" in no_scores
    no_params = restoration_prompt(FOGGY, params=False)
    assert "beta" not in no_params and "severity 56.1/100" in no_params
    assert "Clean scene" not in restoration_prompt(FOGGY, scene=False)
    assert Ablation(reasoner=False).prompt(FOGGY) == restoration_prompt(None)
    assert "fog" in restoration_prompt(None).lower() and "56" not in restoration_prompt(None)
    assert restoration_prompt(Diagnosis()).startswith("This photo has no degradation")


@pytest.fixture(scope="module")
def restorer(tiny_qwen_edit_dir):
    return QwenEditRestorer.from_pretrained(str(tiny_qwen_edit_dir), max_pixels=64 * 64, steps=2, guidance=1.0)


def test_the_prompt_drop_index_comes_from_the_loaded_tokenizer(restorer):
    pipe = restorer.pipeline
    index = prompt_drop_index(pipe)
    assert pipe.prompt_template_encode_start_idx == index != 64  # 64 fits only the real tokenizer
    ids = pipe.tokenizer(pipe.prompt_template_encode.format("Restore"))["input_ids"]
    assert ids[index] == pipe.tokenizer.convert_tokens_to_ids("<|vision_start|>")


def test_restore_returns_each_image_at_its_input_size(restorer):
    rng = np.random.default_rng(0)
    images = [rng.random(shape, dtype=np.float32) for shape in ((37, 53, 3), (64, 40, 3), (20, 90, 3))]
    outputs = restorer.restore(images, [FOGGY, None, Diagnosis()], generator=torch.Generator().manual_seed(0))
    assert [o.shape for o in outputs] == [(37, 53, 3), (64, 40, 3), (20, 90, 3)]
    assert all(o.dtype == np.float32 and 0 <= o.min() and o.max() <= 1 for o in outputs)
    with pytest.raises(ValueError, match="one diagnosis per image"):
        restorer.restore(images, [FOGGY])


def test_sample_is_reproducible_with_the_same_seed_and_diverse_within_a_group(restorer):
    image = np.random.default_rng(1).random((48, 48, 3), dtype=np.float32)
    first = restorer.sample([image], [FOGGY], n=3, generator=torch.Generator().manual_seed(7))[0]
    again = restorer.sample([image], [FOGGY], n=3, generator=torch.Generator().manual_seed(7))[0]
    other = restorer.sample([image], [FOGGY], n=3, generator=torch.Generator().manual_seed(8))[0]
    assert len(first) == 3 and all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not np.array_equal(first[0], first[1])
    assert not np.array_equal(first[0], other[0])


def test_two_training_steps_change_only_the_lora_weights(tiny_qwen_edit_dir, tiny_synth_set, tmp_path):
    from restorer import train as stage
    from rnr.config import load_config

    config = load_config(stage.RestorerTrainConfig, TINY, [f"model={tiny_qwen_edit_dir}", f"data={tiny_synth_set}"])
    restorer = QwenEditRestorer.from_pretrained(str(tiny_qwen_edit_dir))
    files = stage.build_cache(config, restorer.pipeline, stage.load_pairs(config), tmp_path / "cache")
    transformer = restorer.pipeline.transformer
    trainable = stage.add_lora(transformer, config)
    assert trainable and all(n.count("lora_") for n, p in transformer.named_parameters() if p.requires_grad)
    before = {name: p.detach().clone() for name, p in transformer.named_parameters()}
    optimizer = torch.optim.AdamW(trainable, lr=1e-3)
    generator = torch.Generator().manual_seed(0)
    for step in range(2):
        batch = stage.collate([torch.load(f, weights_only=True) for f in files[:2]])
        sigmas = torch.rand(2, generator=generator)
        loss = stage.flow_matching_loss(transformer, batch, sigmas, torch.randn(batch["target"].shape, generator=generator))
        assert torch.isfinite(loss)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    changed = {name for name, p in transformer.named_parameters() if not torch.equal(before[name], p)}
    assert changed and all("lora_" in name for name in changed)
    assert any("lora_B" in name for name in changed)


def test_rnr_train_restorer_end_to_end_and_the_lora_loads_into_the_stock_pipeline(
    tiny_qwen_edit_dir, tiny_synth_set, tmp_path, monkeypatch
):
    out = tmp_path / "lora"
    args = ["--stage", "restorer", "--config", TINY, "--data", str(tiny_synth_set), "--model", str(tiny_qwen_edit_dir), "--output", str(out)]
    assert train_main(args) == 0
    assert (out / "pytorch_lora_weights.safetensors").is_file() and (out / "checkpoint-2").is_dir()
    assert train_main([*args, "--max-steps", "3"]) == 0  # resumes at step 2
    assert json.loads((out / "rnr-restorer.json").read_text())["steps"] == 3
    cached = sorted((out / "cache").glob("*.pt"))
    stamps = [p.stat().st_mtime_ns for p in cached]
    assert train_main([*args, "--max-steps", "4"]) == 0
    assert [p.stat().st_mtime_ns for p in cached] == stamps  # the cache is reused, not rebuilt
    entry = torch.load(cached[0], weights_only=True)
    assert entry["prompt"].startswith(("Restore this photo", "This photo has no degradation"))

    import diffusers.pipelines.qwenimage.pipeline_qwenimage_edit as edit
    from diffusers import QwenImageEditPipeline
    from PIL import Image

    stock = QwenImageEditPipeline.from_pretrained(str(tiny_qwen_edit_dir))
    stock.prompt_template_encode_start_idx = prompt_drop_index(stock)  # the stock pipeline's pitfall 1
    real_dimensions = edit.calculate_dimensions
    monkeypatch.setattr(edit, "calculate_dimensions", lambda area, ratio: real_dimensions(64 * 64, ratio))  # pitfall 2
    image = Image.fromarray((np.random.default_rng(2).random((64, 64, 3)) * 255).astype(np.uint8))

    def run():
        result = stock(image=image, prompt="Restore", num_inference_steps=2, true_cfg_scale=1.0,
                       generator=torch.Generator().manual_seed(0), output_type="np")
        return result.images[0]

    before = run()
    stock.load_lora_weights(str(out))  # the 4-step LoRA
    assert not np.array_equal(before, run())
    stock.unload_lora_weights()
    assert np.array_equal(before, run())  # the change came from the LoRA and nothing else

    base = QwenEditRestorer.from_pretrained(str(tiny_qwen_edit_dir), max_pixels=4096, steps=2, guidance=1.0)
    tuned = QwenEditRestorer.from_pretrained(str(tiny_qwen_edit_dir), lora=str(out), max_pixels=4096, steps=2, guidance=1.0)
    from peft.utils import get_peft_model_state_dict

    saved = load_file(out / "pytorch_lora_weights.safetensors")
    transformer = tuned.pipeline.transformer
    loaded = get_peft_model_state_dict(transformer, adapter_name=next(iter(transformer.peft_config)))
    assert {"transformer." + key for key in loaded} == set(saved)  # every trained matrix, and only those
    assert all(torch.equal(loaded[key.removeprefix("transformer.")], value) for key, value in saved.items())
    x = np.asarray(image, np.float32) / 255
    assert not np.array_equal(
        base.restore([x], [FOGGY], generator=torch.Generator().manual_seed(0))[0],
        tuned.restore([x], [FOGGY], generator=torch.Generator().manual_seed(0))[0],
    )


def test_bad_restorer_paths_get_clear_errors(tmp_path, tiny_qwen_edit_dir, tiny_synth_set, capsys):
    with pytest.raises(RestorerLoadError, match="cannot load a Qwen-Image-Edit pipeline"):
        QwenEditRestorer.from_pretrained(str(tmp_path / "nowhere"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(RestorerLoadError, match="not a Qwen-Image-Edit LoRA"):
        QwenEditRestorer.from_pretrained(str(tiny_qwen_edit_dir), lora=str(tmp_path / "empty"))
    # a usable set: rnr-train checks the data (cheap) before it loads the model
    assert train_main(["--stage", "restorer", "--config", TINY, "--data", str(tiny_synth_set), "--model", str(tmp_path / "x"), "--output", str(tmp_path / "o")]) == 2
    assert not (tmp_path / "o").exists()
    assert "cannot load a Qwen-Image-Edit pipeline" in capsys.readouterr().err


def test_prompts_from_a_reasoner_instead_of_the_records(tiny_qwen_edit_dir, tiny_qwen3_vl, tiny_synth_set, tmp_path):
    from restorer import train as stage
    from rnr.config import load_config

    config = load_config(
        stage.RestorerTrainConfig, TINY, [f"model={tiny_qwen_edit_dir}", f"data={tiny_synth_set}", f"reasoner={tiny_qwen3_vl}", "limit=2"]
    )
    restorer = QwenEditRestorer.from_pretrained(str(tiny_qwen_edit_dir))
    files = stage.build_cache(config, restorer.pipeline, stage.load_pairs(config), tmp_path / "cache")
    # the untrained reasoner diagnoses nothing, whatever the records say
    assert [torch.load(f, weights_only=True)["prompt"] for f in files] == [restoration_prompt(Diagnosis())] * 2


def test_memory_switches(tiny_qwen_edit_dir):
    restorer = QwenEditRestorer.from_pretrained(str(tiny_qwen_edit_dir), vae_tiling=True, dtype="float32")
    assert restorer.pipeline.vae.use_tiling
