"""rnr: Reason and Restore universal image restoration — diagnose a photo, then restore it."""

from pathlib import Path

from rnr.diagnosis import DEGRADATIONS, Diagnosis, DiagnosisError, Finding, ParseResult

__version__ = (Path(__file__).parent / "VERSION").read_text().strip()
BUNDLED_PHOTOS = Path(__file__).parent / "assets" / "photos"

__all__ = ["BUNDLED_PHOTOS", "DEGRADATIONS", "Diagnosis", "DiagnosisError", "Finding", "ParseResult", "__version__"]
