"""The reasoner's prompts, from the paper's appendix A.1.

The image itself is not written into the text: chat templates insert it (trl puts the
image placeholder before the first user text), so the paper's ``<image>`` markers are
dropped here.
"""

SCENE_INSTRUCTION = """Provide a detailed semantic and geometric description of this image (max 30 words):
- Main subjects and their shape
- Geometry and edges that should be sharp
- Texture that should be restored
- Regions that should be smooth
- Probable true colors of objects
- Relative depth ordering
- Occlusion relationships
- Do NOT describe fog, blur, rain, noise, low contrast, artifacts, or anything related to degradation.
- Only reconstruct the scene content in words."""

DIAGNOSIS_PROMPT = f"""Please analyze this image and do the following steps, step-by-step:
First, analyze the degradation effects applied to this image.
Second, based on previous understanding, give each degradation a severity score, 0 means no degradation and 100 means the worst degradation.
Third, based on previous understanding, give degradation-specific parameters accordingly.
Fourth, based on previous understanding, describe the underlying clean scene (max 30 words) following the instruction:
{SCENE_INSTRUCTION}
Finally, check all your outputs and ensure they are correct and self-consistent."""

SCENE_PROMPT = SCENE_INSTRUCTION
