"""The restorer's conditioning: a `Diagnosis` as the Qwen-Image-Edit instruction (paper section 3.2).

One template; switches drop the severity scores, the parameters or the scene text
(the paper's Table 3 ablations), and `None` gives the "w/o reasoner" instruction.

>>> from rnr import Diagnosis, Finding
>>> d = Diagnosis(fog=Finding(True, 56.1, {"beta": 1.86}), scene="A dune under a blue sky")
>>> print(restoration_prompt(d))
Restore this photo: remove the degradations diagnosed below and keep everything else unchanged.
- Fog: present, severity 56.1/100; beta 1.860
- Motion blur: absent
- Rain streaks: absent
- Gaussian noise: absent
Clean scene: A dune under a blue sky
>>> print(restoration_prompt(d, scores=False, params=False, scene=False).splitlines()[1])
- Fog: present
"""

from __future__ import annotations

from dataclasses import dataclass

from rnr.diagnosis import DEGRADATIONS, Diagnosis, render_params

INSTRUCTION = "Restore this photo: remove the degradations diagnosed below and keep everything else unchanged."
CLEAN_INSTRUCTION = "This photo has no degradation: reproduce it unchanged."
NO_REASONER_INSTRUCTION = "Restore this photo: remove any fog, motion blur, rain streaks and noise, and keep everything else unchanged."
LABELS = {"fog": "Fog", "shake": "Motion blur", "rain": "Rain streaks", "noise": "Gaussian noise"}


def restoration_prompt(diagnosis: Diagnosis | None, scores: bool = True, params: bool = True, scene: bool = True) -> str:
    """The edit instruction for one image."""
    if diagnosis is None:
        return NO_REASONER_INSTRUCTION
    lines = [CLEAN_INSTRUCTION if diagnosis.is_clean else INSTRUCTION]
    for name in DEGRADATIONS:
        finding = getattr(diagnosis, name)
        if not finding.present:
            lines.append(f"- {LABELS[name]}: absent")
            continue
        line = f"- {LABELS[name]}: present"
        if scores:
            line += f", severity {finding.severity:.1f}/100"
        if params and finding.params:
            line += f"; {render_params(name, finding.params)}"
        lines.append(line)
    if scene and diagnosis.scene:
        lines.append(f"Clean scene: {diagnosis.scene}")
    return "\n".join(lines)


@dataclass(frozen=True)
class Ablation:
    """What of the diagnosis reaches the restorer (paper Table 3); `reasoner=False` is "w/o reasoner".

    Both backends read it: the Qwen restorer through the prompt's switches, the lite one
    by zeroing the matching slots of its condition vector (zeros are what it sees for
    "no reasoner"). These are inference-time ablations of one trained model; the paper
    retrains a model per row.
    """

    reasoner: bool = True
    scores: bool = True
    params: bool = True
    scene: bool = True

    def prompt(self, diagnosis: Diagnosis | None) -> str:
        if not self.reasoner:
            return restoration_prompt(None)
        return restoration_prompt(diagnosis, scores=self.scores, params=self.params, scene=self.scene)


# Table 3's rows that switch conditioning; "w/o RL" swaps the model instead (rnr-eval --ablation).
ABLATIONS = {
    "w/o reasoner": Ablation(reasoner=False),
    "w/o score": Ablation(scores=False),
    "w/o parameters": Ablation(params=False),
    "w/o semantics": Ablation(scene=False),
    "full": Ablation(),
}
