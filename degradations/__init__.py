"""The semi-realworld degradation model: fog, shake, rain, noise, their composition and depth priors."""

from degradations.compose import ORDER, Plan, Sample, SynthConfig, apply_plan, plan, replay, synthesize

__all__ = ["ORDER", "Plan", "Sample", "SynthConfig", "apply_plan", "plan", "replay", "synthesize"]
