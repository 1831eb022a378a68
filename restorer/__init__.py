"""The Restore phase: restorer backends conditioned on a `rnr.Diagnosis`."""

from restorer.lite import LiteRestorer
from restorer.prompts import ABLATIONS, Ablation, restoration_prompt
from restorer.qwen import QwenEditRestorer, RestorerLoadError

__all__ = ["ABLATIONS", "Ablation", "LiteRestorer", "QwenEditRestorer", "RestorerLoadError", "restoration_prompt"]
