"""GRPO on accelerate: mixed precision that reaches the network; the many-GPU configs as accelerate reads them."""

import pytest
import torch

from rl.grpo import GRPOConfig, train

CPU_TWO_PROCESSES = "configs/accelerate/cpu-2-processes.yaml"


@pytest.fixture
def fresh_accelerate_state():
    """accelerate keeps one state per process and refuses a second mixed_precision: start each run from none."""
    from accelerate.state import AcceleratorState

    AcceleratorState._reset_state(True)
    yield
    AcceleratorState._reset_state(True)


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


def test_the_many_gpu_configs_parse_as_accelerate_reads_them():
    from accelerate.commands.config.config_args import load_config_from_file
    from diffusers.models.transformers import transformer_qwenimage

    fsdp = load_config_from_file("configs/accelerate/fsdp-8x48gb.yaml")
    assert (fsdp.distributed_type, fsdp.num_processes, fsdp.mixed_precision) == ("FSDP", 8, "bf16")
    wrapped = fsdp.fsdp_config["fsdp_transformer_layer_cls_to_wrap"]
    assert hasattr(transformer_qwenimage, wrapped)  # the block class FSDP shards the 20 B transformer by
    cpu = load_config_from_file(CPU_TWO_PROCESSES)
    assert (cpu.num_processes, cpu.use_cpu) == (2, True)
