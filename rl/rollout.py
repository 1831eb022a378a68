"""The GRPO policy as the torch module that accelerate prepares: its forward is one rollout.

accelerate acts on calls that go through what it prepared: DDP synchronises the gradients
of the parameters used inside the wrapper's forward, mixed precision autocasts that
forward, FSDP gathers the shards of the modules inside it. A policy calls its network
deep inside a denoising loop (or the lite restorer's forward), so the module handed to
accelerate is this one: it holds the policy's network (when the policy names one, so that
FSDP shards the frozen base too) or else its trainable parameters, and its forward runs
`policy.rollout`. Its state dict is the trainable parameters only, so `save_state`
checkpoints hold the LoRA and the optimizer, not a copy of the 20 B base.
"""

from __future__ import annotations

from typing import Any

import torch


class RolloutModule(torch.nn.Module):
    """`policy.rollout` as a module whose parameters are the policy's."""

    def __init__(self, policy: Any, network: torch.nn.Module | None = None) -> None:
        super().__init__()
        self.policy = policy  # not a module: its parameters are registered below, once
        trainable = {id(p) for p in policy.trainable_parameters()}
        if network is not None:
            self.network = network
            if not trainable <= {id(p) for p in network.parameters()}:
                raise ValueError("the policy's trainable parameters must belong to its network")
        else:
            self.weights = torch.nn.ParameterList(policy.trainable_parameters())
        self.trainable_names = {name for name, p in self.named_parameters() if id(p) in trainable}
        self.register_state_dict_post_hook(_keep_trainable)
        self.register_load_state_dict_post_hook(_forgive_frozen)

    def forward(self, image, diagnosis, clean, seeds):
        return self.policy.rollout(image, diagnosis, clean, seeds)


def _keep_trainable(module: RolloutModule, state_dict: dict, prefix: str, local_metadata: dict) -> None:
    """Checkpoints carry what training changes; the frozen weights come from the base model."""
    for key in [key for key in state_dict if key.startswith(prefix)]:
        if key[len(prefix) :] not in module.trainable_names:
            del state_dict[key]


def _forgive_frozen(module: RolloutModule, incompatible_keys) -> None:
    """A checkpoint without the frozen weights loads strictly: only missing trainable ones are an error."""
    frozen = [key for key in incompatible_keys.missing_keys if not _names_trainable(module, key)]
    for key in frozen:
        incompatible_keys.missing_keys.remove(key)


def _names_trainable(module: RolloutModule, key: str) -> bool:
    return any(key == name or key.endswith("." + name) for name in module.trainable_names)
