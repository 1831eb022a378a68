"""GRPO with the fidelity-softmax proxy: the maths by hand, then the loop on tiny real components."""

import json

import numpy as np
import pytest
import torch

from rl.grpo import GRPOConfig, QwenPolicy, fidelity_log_probs, group_advantages, grpo_loss, train
from rnr import Diagnosis, Finding
from rnr.cli.train import main as train_main
from rnr.config import ConfigError


def test_the_proxy_the_advantages_and_the_loss_on_hand_made_numbers():
    energies = torch.tensor([0.1, 0.2, 0.3], requires_grad=True)
    log_p = fidelity_log_probs(energies, temperature=0.1)
    expected = torch.log_softmax(torch.tensor([-1.0, -2.0, -3.0]), dim=0)
    assert torch.allclose(log_p, expected) and log_p[0].item() == pytest.approx(-0.40761, abs=1e-5)
    rewards = torch.tensor([3.0, 1.0, 2.0])  # mean 2, sample std 1
    assert torch.allclose(group_advantages(rewards, epsilon=0.0), torch.tensor([1.0, -1.0, 0.0]))
    loss = grpo_loss(energies, rewards, temperature=0.1, epsilon=0.0)
    assert loss.item() == pytest.approx(-(1 / 3) * (log_p[0] - log_p[1]).item())
    loss.backward()
    # dL/dE_j = A_j / (N·τ): the rewarded candidate's error is pushed down, the other's up
    assert torch.allclose(energies.grad, torch.tensor([1.0, -1.0, 0.0]) / 0.3, atol=1e-6)


def test_a_group_with_equal_rewards_gives_zero_gradient():
    energies = torch.tensor([0.05, 0.5, 0.2], requires_grad=True)
    loss = grpo_loss(energies, torch.tensor([7.0, 7.0, 7.0]), temperature=0.01)
    loss.backward()
    assert loss.item() == 0.0 and torch.count_nonzero(energies.grad) == 0


def test_config_refuses_what_cannot_work():
    with pytest.raises(ValueError, match="num_generations must be at least 2"):
        GRPOConfig(num_generations=1)
    with pytest.raises(ValueError, match="grad_steps must be in"):
        GRPOConfig(denoising_steps=2, grad_steps=3)


FOGGY = Diagnosis(fog=Finding(True, 60.0, {"beta": 1.5}))


@pytest.fixture
def policy(tiny_qwen_edit_dir):
    from restorer.qwen import QwenEditRestorer

    config = GRPOConfig(denoising_steps=2, grad_steps=1, max_pixels=48 * 48)
    return QwenPolicy(QwenEditRestorer.from_pretrained(str(tiny_qwen_edit_dir), guidance=1.0), config)


def test_one_step_lowers_the_rewarded_candidates_error_relative_to_its_group(policy):
    rng = np.random.default_rng(0)
    degraded, clean = rng.random((48, 48, 3), dtype=np.float32), rng.random((48, 48, 3), dtype=np.float32)
    seeds = [11, 12, 13]
    _, before, _ = policy.rollout(degraded, FOGGY, clean, seeds)
    optimizer = torch.optim.Adam(policy.trainable_parameters(), lr=1e-4)
    loss = grpo_loss(before, torch.tensor([10.0, 0.0, 0.0]), temperature=0.01)
    loss.backward()
    optimizer.step()
    with torch.no_grad():
        _, after, _ = policy.rollout(degraded, FOGGY, clean, seeds)  # same noise: only the weights moved
    gap = lambda e: (e[0] - e.mean()).item()  # noqa: E731
    assert gap(after) < gap(before.detach())


def _transformer_state(restorer_dir, base):
    from restorer.qwen import QwenEditRestorer

    restorer = QwenEditRestorer.from_pretrained(str(base), lora=str(restorer_dir))
    return {n: p.detach().clone() for n, p in restorer.pipeline.transformer.named_parameters()}


def test_rnr_train_grpo_end_to_end_with_the_tiny_reasoner_as_judge(sft_restorer, tiny_qwen3_vl, tiny_synth_set, tiny_qwen_edit_dir, tmp_path):
    out = tmp_path / "grpo"
    args = ["--stage", "grpo", "--config", "configs/grpo/tiny.yaml", "--restorer", str(sft_restorer),
            "--reasoner", str(tiny_qwen3_vl), "--data", str(tiny_synth_set), "--output", str(out)]
    assert train_main(args) == 0
    log = json.loads((out / "rnr-restorer.json").read_text())["log"]
    assert [entry["step"] for entry in log] == [1, 2]
    assert all(np.isfinite(entry["energy_mean"]) for entry in log)
    # an untrained judge diagnoses nothing anywhere: no reward spread, so no signal, and it says so
    assert all(entry["zero_spread_share"] == 1.0 and entry["grad_norm"] == 0.0 for entry in log)
    assert train_main([*args, "--max-steps", "3"]) == 0  # resumes from checkpoint-2
    assert json.loads((out / "rnr-restorer.json").read_text())["steps"] == 3
    sft, refined = _transformer_state(sft_restorer, tiny_qwen_edit_dir), _transformer_state(out, tiny_qwen_edit_dir)
    assert all(torch.equal(sft[n], refined[n]) for n in sft)  # zero gradient: unchanged, and reloadable


def test_grpo_steps_with_reward_spread_change_the_lora_and_nothing_else(sft_restorer, tiny_qwen3_vl, tiny_synth_set, tiny_qwen_edit_dir, tmp_path):
    from reasoner import QwenReasoner
    from restorer.qwen import QwenEditRestorer

    config = GRPOConfig(
        restorer=str(sft_restorer), reasoner=str(tiny_qwen3_vl), data=str(tiny_synth_set), output=str(tmp_path / "grpo"),
        max_steps=2, num_generations=3, denoising_steps=2, max_pixels=4096, learning_rate=1e-3, save_steps=100,
    )
    restorer = QwenEditRestorer.from_pretrained(str(tiny_qwen_edit_dir), lora=str(sft_restorer))
    policy = QwenPolicy(restorer, config)
    before = {n: p.detach().clone() for n, p in restorer.pipeline.transformer.named_parameters()}
    frozen = {n: p.detach().clone() for module in (restorer.pipeline.vae, restorer.pipeline.text_encoder) for n, p in module.named_parameters()}

    def brightness_reward(candidates, input_severities, candidate_severities):
        """A plain reward function with spread (the tiny judge's severities are all 0)."""
        return [float(c.mean()) for c in candidates]

    train(config, reward_function=brightness_reward, policy=policy, judge=QwenReasoner.from_pretrained(str(tiny_qwen3_vl), max_new_tokens=8))
    after = dict(restorer.pipeline.transformer.named_parameters())
    changed = {n for n in before if not torch.equal(before[n], after[n])}
    assert changed and all("lora_" in n for n in changed)
    assert all(torch.equal(p, frozen[n]) for module in (restorer.pipeline.vae, restorer.pipeline.text_encoder) for n, p in module.named_parameters())
    reloaded = _transformer_state(tmp_path / "grpo", tiny_qwen_edit_dir)
    assert all(torch.equal(reloaded[n], after[n].detach()) for n in changed)


def test_latent_fidelity_energies_are_latent_distances_and_reach_the_lora(tiny_qwen_edit_dir):
    from restorer.qwen import QwenEditRestorer

    config = GRPOConfig(denoising_steps=2, grad_steps=1, max_pixels=48 * 48, fidelity_space="latent")
    policy = QwenPolicy(QwenEditRestorer.from_pretrained(str(tiny_qwen_edit_dir), guidance=1.0), config)
    rng = np.random.default_rng(3)
    degraded, clean = rng.random((48, 48, 3), dtype=np.float32), rng.random((48, 48, 3), dtype=np.float32)
    candidates, energies, _ = policy.rollout(degraded, FOGGY, clean, [1, 2])
    assert len(candidates) == 2 and candidates[0].shape == (48, 48, 3)
    # E_k is the mean squared distance between candidate k's final latents and the clean image's
    from restorer.qwen import encode_latents
    from restorer.train import pack
    from rnr.imageio import to_pil

    restorer = policy.restorer
    with torch.no_grad():
        reference = pack(encode_latents(restorer.pipeline, to_pil(clean), 48, 48)[None])
        for seed, energy in zip([1, 2], energies):
            latents = restorer.denoise(to_pil(degraded), restorer.ablation.prompt(FOGGY), 2, config.guidance,
                                       torch.Generator().manual_seed(seed), config.max_pixels, grad_steps=1, output="latent")
            assert float(energy) == pytest.approx(float(((latents - reference) ** 2).mean()), rel=1e-4)
    assert energies[0] != energies[1]
    energies.sum().backward()  # and its gradient reaches the LoRA, the only trainable weights
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in policy.trainable_parameters())


@pytest.mark.parametrize("fidelity_weight", [0.0, 1.0])
def test_the_fidelity_term_alone_moves_the_lite_policy(fidelity_weight, tiny_synth_set, tmp_path):
    """Equal rewards give GRPO no gradient; the optional fidelity term still pulls towards the ground truth."""
    from reasoner.lite import LiteReasoner
    from restorer.lite import LitePolicy, LiteRestorer

    config = GRPOConfig(restorer="lite", reasoner="lite", data=str(tiny_synth_set), output=str(tmp_path / "g"), max_steps=2,
                        num_generations=2, learning_rate=1e-3, fidelity_weight=fidelity_weight, save_steps=100, limit=4)
    policy = LitePolicy(LiteRestorer.load(), config)
    before = [p.detach().clone() for p in policy.trainable_parameters()]
    train(config, reward_function=lambda candidates, **_: [0.0] * len(candidates), policy=policy, judge=LiteReasoner.load())
    moved = any(not torch.equal(a, b) for a, b in zip(before, policy.trainable_parameters()))
    assert moved == (fidelity_weight > 0)


def test_the_papers_reward_end_to_end_gives_a_spread_and_moves_the_policy(tiny_synth_set, tmp_path, capsys):
    """The default reward (severity reduction judged by the frozen lite reasoner), no fidelity term."""
    from reasoner.lite import LiteReasoner
    from restorer.lite import LitePolicy, LiteRestorer

    config = GRPOConfig(restorer="lite", reasoner="lite", data=str(tiny_synth_set), output=str(tmp_path / "g"), max_steps=2,
                        num_generations=4, learning_rate=1e-3, save_steps=100, logging_steps=1, limit=4)
    policy = LitePolicy(LiteRestorer.load(), config)
    before = [p.detach().clone() for p in policy.trainable_parameters()]
    train(config, policy=policy, judge=LiteReasoner.load())
    log = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith("{")]
    assert [entry["step"] for entry in log] == [1, 2]
    # the judge tells the candidates apart, so groups carry a signal and the weights move on the reward alone
    assert all(entry["reward_std"] > 0 and entry["zero_spread_share"] < 1.0 and entry["grad_norm"] > 0 for entry in log)
    assert any(not torch.equal(a, b) for a, b in zip(before, policy.trainable_parameters()))


def test_the_candidate_proxy_moves_the_lite_restorers_output_towards_the_rewarded_candidate():
    """policy_proxy=candidate: E_k = ‖μ_θ − sg(Ĵ_k)‖², so a step pulls the deterministic output towards the winner."""
    from restorer.lite import LitePolicy, LiteRestorer
    from rnr.encoding import encode

    policy = LitePolicy(LiteRestorer.load(), GRPOConfig(policy_proxy="candidate", num_generations=3))
    rng = np.random.default_rng(5)
    degraded, clean = rng.random((64, 64, 3), dtype=np.float32), rng.random((64, 64, 3), dtype=np.float32)
    candidates, energies, error = policy.rollout(degraded, FOGGY, clean, [1, 2, 3])
    assert energies.requires_grad and error.requires_grad and len({float(e) for e in energies}) == 3
    x = torch.from_numpy(degraded).permute(2, 0, 1)[None]
    condition = torch.from_numpy(encode(FOGGY))[None]
    targets = [torch.from_numpy(c).permute(2, 0, 1)[None] for c in candidates]

    def gap():
        with torch.no_grad():
            mean = policy.restorer.forward(x, condition)
            distances = torch.stack([((mean - t) ** 2).mean() for t in targets])
        return (distances[0] - distances.mean()).item()

    before = gap()
    optimizer = torch.optim.Adam(policy.trainable_parameters(), lr=1e-4)
    grpo_loss(energies, torch.tensor([10.0, 0.0, 0.0]), temperature=0.01).backward()
    optimizer.step()
    assert gap() < before


def test_only_the_lite_policy_takes_the_candidate_proxy(tiny_qwen_edit_dir):
    from restorer.qwen import QwenEditRestorer

    with pytest.raises(ValueError, match="policy_proxy"):
        GRPOConfig(policy_proxy="best")
    with pytest.raises(ConfigError, match="--backend lite"):
        QwenPolicy(QwenEditRestorer.from_pretrained(str(tiny_qwen_edit_dir)), GRPOConfig(policy_proxy="candidate"))


def test_candidate_psnrs_against_the_ground_truth_of_any_size():
    from PIL import Image

    from rl.grpo import candidate_psnrs

    clean = np.full((32, 48, 3), 0.5, np.float32)
    assert candidate_psnrs([clean, clean + 0.1], clean) == pytest.approx([80.0, 20.0], abs=1e-3)  # rnr.metrics.PSNR_CAP
    big = Image.fromarray(np.full((64, 96, 3), 128, np.uint8))  # the Qwen restorer's working size differs from the input's
    assert candidate_psnrs([np.full((32, 48, 3), 128 / 255, np.float32)], big) == [80.0]
