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
