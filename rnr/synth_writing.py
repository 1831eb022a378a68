"""rnr-synth's writing: each chunk to .parts/ whole or not at all, then the chunks assembled into the dataset.

``hf`` format: each chunk is an Arrow stream with the dataset's features, and the finished
chunks become a `datasets` dataset through its public API (`Dataset.from_file`,
`concatenate_datasets`, `save_to_disk`). ``folder`` format: each chunk's PNGs go straight
to ``images/`` and its JSONL lines to .parts/, joined into ``records.jsonl`` and
``sft.jsonl`` at the end.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from rnr.diagnosis import Diagnosis
from rnr.imageio import atomic_write_bytes, atomic_write_text
from rnr.synth_job import PARTS, Job
from rnr.synth_rows import conversation, encode_sample, hf_features, hf_row, image_filename
from rnr.synth_sample import make_sample

ASSEMBLING = "assembling"  # the folder in .parts/ where save_to_disk writes before the files move out


def chunk_files(job: Job, chunk_id: int) -> list[Path]:
    """The files a finished chunk consists of (each appears, by rename, only once written whole)."""
    parts = Path(job.output) / PARTS
    if job.format == "hf":
        return [parts / f"chunk-{chunk_id:05d}.arrow"]
    return [parts / f"chunk-{chunk_id:05d}.jsonl", parts / f"chunk-{chunk_id:05d}.sft.jsonl"]


def write_chunk(job: Job, chunk: tuple[int, int, int]) -> int:
    """Make and write one chunk's samples; the chunk appears in .parts/ only when complete."""
    chunk_id, first, end = chunk
    samples = [make_sample(job, index) for index in range(first, end)]
    encoded = [encode_sample(sample, job.stages) for sample, _ in samples]
    if job.format == "hf":
        _write_hf_chunk(job, chunk_id, samples, encoded)
    else:
        _write_folder_chunk(job, chunk_id, samples, encoded)
    return end - first


def _write_hf_chunk(job: Job, chunk_id: int, samples, encoded) -> None:
    # An Arrow stream straight from pyarrow, as `datasets` writes its own files: a Dataset built
    # per chunk (from_list) would pickle the whole chunk to fingerprint it, as much as a third
    # of the PNG encoding. `Dataset.from_file` reads the stream back with its features.
    import pyarrow as pa

    features = hf_features()
    rows = [features.encode_example(hf_row(sample, record, images)) for (sample, record), images in zip(samples, encoded)]
    table = pa.Table.from_pylist(rows, schema=features.arrow_schema)
    (final,) = chunk_files(job, chunk_id)
    tmp = final.parent / f".tmp-chunk-{chunk_id:05d}-{os.getpid()}"
    with pa.OSFile(str(tmp), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    os.replace(tmp, final)


def _write_folder_chunk(job: Job, chunk_id: int, samples, encoded) -> None:
    records, sft = [], []
    for (_sample, record), images in zip(samples, encoded):
        files = {}
        for key, data in images.items():
            files[key] = image_filename(record["index"], key)
            atomic_write_bytes(Path(job.output) / files[key], data)
        text = Diagnosis.from_record(record).render()
        records.append(json.dumps({**record, "files": files, "diagnosis": text}))
        sft.append(json.dumps({"images": [files["degraded"]], **conversation(text)}))
    records_file, sft_file = chunk_files(job, chunk_id)
    atomic_write_text(records_file, "\n".join(records) + "\n")
    atomic_write_text(sft_file, "\n".join(sft) + "\n")


def finalize(job: Job) -> None:
    """Assemble the chunks into the final dataset, then drop .parts/."""
    out = Path(job.output)
    ids = [chunk_id for chunk_id, _, _ in job.chunks()]
    if job.format == "hf":
        from datasets import Dataset, concatenate_datasets

        chunks = [Dataset.from_file(str(chunk_files(job, i)[0])) for i in ids]
        publish_dataset(concatenate_datasets(chunks), out, staging=out / PARTS / ASSEMBLING)
    else:
        for name, column in (("records.jsonl", 0), ("sft.jsonl", 1)):
            text = "".join(chunk_files(job, i)[column].read_text() for i in ids)
            atomic_write_text(out / name, text)
    shutil.rmtree(out / PARTS, ignore_errors=True)


def publish_dataset(dataset, out: Path, staging: Path) -> None:
    """`save_to_disk` into `staging`, then move its files into `out`, the dataset's state file last.

    Until that last rename `out` holds no loadable dataset (an older one's state file is
    removed first), so an interrupted run never leaves a half dataset that loads as whole.
    """
    from datasets import config

    shutil.rmtree(staging, ignore_errors=True)
    dataset.save_to_disk(str(staging))
    state = config.DATASET_STATE_JSON_FILENAME
    (out / state).unlink(missing_ok=True)
    for stale in out.glob("data-*.arrow"):
        stale.unlink()
    for item in sorted(staging.iterdir(), key=lambda path: path.name == state):  # False sorts first
        os.replace(item, out / item.name)
    staging.rmdir()
