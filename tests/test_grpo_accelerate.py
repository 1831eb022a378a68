"""GRPO and the restorer's SFT on accelerate: mixed precision that reaches the network, resume, two CPU
processes taking one process's step, and the many-GPU configs as accelerate reads them."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from rl.grpo import GRPOConfig, train

CPU_TWO_PROCESSES = "configs/accelerate/cpu-2-processes.yaml"


@pytest.fixture
def fresh_accelerate_state():
    """accelerate keeps one state per process and refuses a second mixed_precision: start each run from none."""
    from accelerate.state import AcceleratorState

    AcceleratorState._reset_state(True)
    yield
    AcceleratorState._reset_state(True)


def _lite_run(tiny_synth_set, output, **changes):
    from reasoner.lite import LiteReasoner
    from restorer.lite import LitePolicy, LiteRestorer

    settings = dict(max_steps=3, num_generations=2, learning_rate=1e-3, psnr_reward=1.0, save_steps=100, limit=4)
    # psnr_reward: a spread of rewards whatever the judge says, so every step moves the weights
    config = GRPOConfig(restorer="lite", reasoner="lite", data=str(tiny_synth_set), output=str(output), **{**settings, **changes})
    policy = LitePolicy(LiteRestorer.load(), config)
    train(config, policy=policy, judge=LiteReasoner.load())
    return policy


@pytest.mark.parametrize("precision, dtype", [("no", torch.float32), ("bf16", torch.bfloat16)])
def test_mixed_precision_changes_the_dtype_of_the_policys_activations(precision, dtype, tiny_synth_set, tmp_path, fresh_accelerate_state):
    from reasoner.lite import LiteReasoner
    from restorer.lite import LitePolicy, LiteRestorer

    config = GRPOConfig(restorer="lite", reasoner="lite", data=str(tiny_synth_set), output=str(tmp_path / "g"), max_steps=1,
                        num_generations=2, save_steps=100, limit=2, mixed_precision=precision)
    policy = LitePolicy(LiteRestorer.load(), config)
    first_conv = next(m for m in policy.restorer.model.modules() if isinstance(m, torch.nn.Conv2d))
    seen = []
    first_conv.register_forward_hook(lambda module, inputs, output: seen.append(output.dtype))
    train(config, policy=policy, judge=LiteReasoner.load())
    assert seen and set(seen) == {dtype}
    assert all(p.dtype == torch.float32 for p in policy.trainable_parameters())  # autocast: the weights stay float32


def test_a_resumed_run_continues_with_the_same_step_and_optimizer_state(tiny_synth_set, tmp_path):
    from restorer.lite import LiteRestorer

    original = LiteRestorer.load().model.state_dict()
    whole = _lite_run(tiny_synth_set, tmp_path / "whole")  # 3 steps in one go
    _lite_run(tiny_synth_set, tmp_path / "split", max_steps=2, save_steps=2)
    optimizer = torch.load(tmp_path / "split" / "checkpoint-2" / "optimizer.bin", weights_only=True)
    assert {int(s["step"]) for s in optimizer["state"].values()} == {2}  # AdamW's own step count went into the checkpoint
    resumed = _lite_run(tiny_synth_set, tmp_path / "split", max_steps=3)  # a fresh policy: weights come from checkpoint-2
    log = json.loads((tmp_path / "split" / "rnr-restorer.json").read_text())["log"]
    assert [entry["step"] for entry in log] == [1, 2, 3]
    assert log == json.loads((tmp_path / "whole" / "rnr-restorer.json").read_text())["log"]
    after_whole, after_resumed = whole.restorer.model.state_dict(), resumed.restorer.model.state_dict()
    assert any(not torch.equal(original[k], after_whole[k]) for k in original)
    # With AdamW's moments reset, step 3 would differ; with the step count lost, its bias correction would.
    assert all(torch.equal(after_whole[k], after_resumed[k]) for k in after_whole)


ONE_CPU_PROCESS = ["--cpu", "--num_processes", "1", "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no"]


def _launch(args: list[str], processes: int = 2, use_cpu: str = "true") -> subprocess.CompletedProcess:
    """rnr-train under `accelerate launch` on the CPU; one thread a process, so both runs add up floats alike."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false", "ACCELERATE_USE_CPU": use_cpu}
    accelerate = Path(sys.executable).with_name("accelerate")
    launcher = ["--config_file", CPU_TWO_PROCESSES] if processes == 2 else ONE_CPU_PROCESS
    command = [str(accelerate), "launch", *launcher, "-m", "rnr.cli.train", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)


def test_grpo_on_two_processes_saves_the_adapter_one_process_saves(sft_restorer, tiny_qwen3_vl, tiny_synth_set, tiny_qwen_edit_dir, tmp_path):
    """Two processes with one input each take the step one process takes with both; the result loads anywhere."""
    from restorer.qwen import QwenEditRestorer

    args = ["--stage", "grpo", "--config", "configs/grpo/tiny.yaml", "--restorer", str(sft_restorer), "--reasoner", str(tiny_qwen3_vl),
            "--data", str(tiny_synth_set), "num_generations=2", "psnr_reward=1.0", "judge_max_new_tokens=8", "save_steps=100"]
    for name, processes, batch in (("two", 2, "batch_size=1"), ("one", 1, "batch_size=2")):
        result = _launch([*args, "--output", str(tmp_path / name), batch], processes)
        assert result.returncode == 0, result.stderr[-3000:]
    two, one = (load_file(tmp_path / name / "pytorch_lora_weights.safetensors") for name in ("two", "one"))
    sft = load_file(sft_restorer / "pytorch_lora_weights.safetensors")
    assert two.keys() == one.keys() == sft.keys()
    assert any(not torch.equal(one[k], sft[k]) for k in one)  # the step moved the LoRA
    assert all(torch.allclose(two[k], one[k], atol=1e-6, rtol=1e-5) for k in one)
    records = [json.loads((tmp_path / name / "rnr-restorer.json").read_text()) for name in ("two", "one")]
    assert [(r["steps"], r["processes"]) for r in records] == [(2, 2), (2, 1)]
    restorer = QwenEditRestorer.from_pretrained(str(tiny_qwen_edit_dir), lora=str(tmp_path / "two"))
    loaded = {n: p for n, p in restorer.pipeline.transformer.named_parameters() if "lora_" in n}
    assert len(loaded) == len(two)


def test_the_restorer_sft_on_two_processes_saves_a_lora_one_process_loads(tiny_qwen_edit_dir, tiny_synth_set, tmp_path):
    from restorer.qwen import QwenEditRestorer

    out = tmp_path / "restorer"
    result = _launch(["--stage", "restorer", "--config", "configs/restorer/tiny.yaml", "--data", str(tiny_synth_set),
                      "--model", str(tiny_qwen_edit_dir), "--output", str(out), "batch_size=1"])
    assert result.returncode == 0, result.stderr[-3000:]
    record = json.loads((out / "rnr-restorer.json").read_text())
    assert record["steps"] == 2 and record["processes"] == 2 and sorted(p.name for p in out.glob("checkpoint-*")) == ["checkpoint-1", "checkpoint-2"]
    restorer = QwenEditRestorer.from_pretrained(str(tiny_qwen_edit_dir), lora=str(out))
    saved = load_file(out / "pytorch_lora_weights.safetensors")
    assert saved and sum("lora_" in n for n, _ in restorer.pipeline.transformer.named_parameters()) == len(saved)


def test_a_cpu_launch_that_accelerate_would_not_join_is_refused_with_the_fix(tiny_synth_set, tmp_path):
    """Without ACCELERATE_USE_CPU each of the two processes would train alone and overwrite the other's output."""
    out = tmp_path / "grpo"
    result = _launch(["--stage", "grpo", "--backend", "lite", "--restorer", "rnr/weights/lite-restorer.safetensors",
                      "--reasoner", "rnr/weights/lite-reasoner.safetensors", "--data", str(tiny_synth_set), "--output", str(out), "max_steps=1"], use_cpu="false")
    assert result.returncode != 0 and not (out / "rnr-restorer.json").exists()
    assert ("rnr-train: error: 2 processes were launched but accelerate joined 1: "
            "on a CPU, launch with ACCELERATE_USE_CPU=true in the environment") in result.stderr


def test_the_many_gpu_configs_parse_as_accelerate_reads_them():
    from accelerate.commands.config.config_args import load_config_from_file
    from diffusers.models.transformers import transformer_qwenimage

    fsdp = load_config_from_file("configs/accelerate/fsdp-8x48gb.yaml")
    assert (fsdp.distributed_type, fsdp.num_processes, fsdp.mixed_precision) == ("FSDP", 8, "bf16")
    wrapped = fsdp.fsdp_config["fsdp_transformer_layer_cls_to_wrap"]
    assert hasattr(transformer_qwenimage, wrapped)  # the block class FSDP shards the 20 B transformer by
    cpu = load_config_from_file(CPU_TWO_PROCESSES)
    assert (cpu.num_processes, cpu.use_cpu) == (2, True)
