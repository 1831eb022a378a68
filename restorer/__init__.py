"""The Restore phase: restorer backends conditioned on a `rnr.Diagnosis`."""

from restorer.prompts import restoration_prompt
from restorer.qwen import Ablation, QwenEditRestorer, RestorerLoadError

__all__ = ["Ablation", "QwenEditRestorer", "RestorerLoadError", "restoration_prompt"]
