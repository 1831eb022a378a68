"""rnr-synth writes what it wrote before its engine was split into modules (issue 17).

tests/golden/synth-small.json holds sha256 digests (16 hex digits) of two small runs made
with the single-file engine (commit 729098e): every column of an hf set, with soft
and looked crops, and every file of a folder set with centred squares. A change to any
sample, record, PNG, diagnosis or conversation changes a digest. Floats in columns and
JSON lines are digested at 10 significant digits (`golden_compare.py`): NumPy's kernels
differ by CPU in the last bit, so byte digests of them failed on another machine; the
digests were re-recorded that way from output byte-identical to the golden one. The digests depend on
the PNG encoder and the decoders too: an OpenCV or NumPy release that changes them is
a change of output, to be looked at, not re-recorded blindly.
"""

import hashlib
import json
from pathlib import Path

from golden_compare import rounded
from rnr.cli.synth import main

GOLDEN = Path(__file__).parent / "golden" / "synth-small.json"
COMMON = ["--quiet", "--workers", "1", "--size", "64", "--input", "photos"]


def column_digests(folder: Path) -> dict[str, str]:
    """Per column, the digest of its values in row order, images as their encoded bytes."""
    from datasets import Image, load_from_disk

    dataset = load_from_disk(str(folder))
    for column, feature in dataset.features.items():
        if isinstance(feature, Image):
            dataset = dataset.cast_column(column, Image(decode=False))
    digests = {}
    for column in dataset.column_names:
        if column == "images":  # a list of Image features stays decoded; it holds the degraded image again
            continue
        hasher = hashlib.sha256()
        for value in dataset[column]:
            hasher.update(json.dumps(rounded(value), sort_keys=True, default=lambda data: data.hex()).encode())
        digests[column] = hasher.hexdigest()[:16]
    return digests


def file_content(path: Path) -> bytes:
    """A file's bytes; for JSON lines, each line with its floats rounded."""
    if path.suffix != ".jsonl":
        return path.read_bytes()
    lines = path.read_text().splitlines()
    return "\n".join(json.dumps(rounded(json.loads(line))) for line in lines).encode()


def file_digests(folder: Path) -> dict[str, str]:
    """Per file but the manifest (it records the time taken), the digest of its content."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(file_content(path)).hexdigest()[:16]
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != "rnr-synth.json"
    }


def test_outputs_are_byte_identical_to_the_single_file_engine(photo_dir, monkeypatch):
    monkeypatch.chdir(photo_dir.parent)  # the records name their source as given: "photos/..."
    assert photo_dir.name == "photos"
    golden = json.loads(GOLDEN.read_text())
    assert main([*COMMON, "--output", "hf", "--num", "8", "--seed", "3", "look_share=0.5", "soft_share=0.5"]) == 0
    assert column_digests(photo_dir.parent / "hf") == golden["hf"]
    assert main([*COMMON, "--output", "folder", "--num", "5", "--seed", "2", "--fit", "resize", "--format", "folder"]) == 0
    assert file_digests(photo_dir.parent / "folder") == golden["folder"]
