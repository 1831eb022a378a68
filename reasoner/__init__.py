"""The Reason phase: prompts and reasoner backends that turn a photo into a `rnr.Diagnosis`."""

from reasoner.lite import LiteReasoner
from reasoner.prompts import DIAGNOSIS_PROMPT, SCENE_PROMPT
from reasoner.qwen import QwenReasoner, ReasonerLoadError

__all__ = ["DIAGNOSIS_PROMPT", "SCENE_PROMPT", "LiteReasoner", "QwenReasoner", "ReasonerLoadError"]
