"""rnr-synth end to end, into temporary folders, as a user runs it."""

import io
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
from datasets import Image as ImageFeature
from datasets import load_from_disk
from PIL import Image

from degradations import replay
from rnr import Diagnosis
from rnr.cli.synth import main
from rnr.imageio import decode_image, read_image, to_uint8


def synth(*args: str) -> int:
    return main(["--quiet", "--workers", "1", "--size", "64", *args])


def raw_rows(folder: Path) -> list[dict]:
    """Rows with undecoded image bytes, for byte-level comparisons."""
    dataset = load_from_disk(str(folder))
    for column in ("clean", "degraded", "after_fog", "after_shake", "after_rain", "after_noise"):
        dataset = dataset.cast_column(column, ImageFeature(decode=False))
    return [{k: v for k, v in row.items() if k != "images"} for row in dataset]


def test_hf_dataset_columns_types_and_diagnosis(tmp_path, photo_dir):
    out = tmp_path / "set"
    assert synth("--input", str(photo_dir), "--output", str(out), "--num", "12", "--seed", "3") == 0
    dataset = load_from_disk(str(out))
    assert len(dataset) == 12
    features = dataset.features
    assert isinstance(features["clean"], ImageFeature) and isinstance(features["degraded"], ImageFeature)
    assert features["fog_severity"].dtype == "float64" and features["shake_kernel_size"].dtype == "int32"
    row = dataset[5]
    assert row["clean"].size == (64, 64) and row["degraded"].size == (64, 64)
    assert row["images"][0].size == (64, 64)
    assert row["prompt"][0]["role"] == "user" and "severity score" in row["prompt"][0]["content"]
    assert row["completion"] == [{"role": "assistant", "content": row["diagnosis"]}]
    for row in dataset:
        record = json.loads(row["record"])
        parsed = Diagnosis.parse(row["diagnosis"])
        assert parsed.ok, parsed.problems
        assert parsed.diagnosis == Diagnosis.from_record(record)
        for name in ("fog", "shake", "rain", "noise"):
            assert row[f"{name}_present"] == record[name]["present"]
            assert row[f"{name}_severity"] == record[name]["severity"]
            assert (row[f"after_{name}"] is not None) == record[name]["present"]
        assert row["is_clean"] == (not any(record[n]["present"] for n in ("fog", "shake", "rain", "noise")))
    # the stored images replay bit for bit from the stored clean image and record
    for row in raw_rows(out):
        rebuilt = replay(decode_image(row["clean"]["bytes"]), json.loads(row["record"]))
        np.testing.assert_array_equal(to_uint8(rebuilt.degraded), to_uint8(decode_image(row["degraded"]["bytes"])))
    manifest = json.loads((out / "rnr-synth.json").read_text())
    assert manifest["complete"] and manifest["job"]["num"] == 12 and not (out / ".parts").exists()


def test_folder_format_writes_pngs_records_and_conversations(tmp_path, photo_dir):
    out = tmp_path / "set"
    assert synth("--input", str(photo_dir), "--output", str(out), "--num", "5", "--format", "folder") == 0
    records = [json.loads(line) for line in (out / "records.jsonl").read_text().splitlines()]
    conversations = [json.loads(line) for line in (out / "sft.jsonl").read_text().splitlines()]
    assert [r["index"] for r in records] == list(range(5)) and len(conversations) == 5
    for record, chat in zip(records, conversations):
        assert chat["images"] == [record["files"]["degraded"]]
        assert chat["completion"][0]["content"] == record["diagnosis"]
        assert all((out / path).is_file() for path in record["files"].values())
        clean = read_image(out / record["files"]["clean"])
        np.testing.assert_array_equal(
            to_uint8(replay(clean, record).degraded), to_uint8(read_image(out / record["files"]["degraded"]))
        )


def test_same_command_same_bytes_whatever_the_worker_count(tmp_path, photo_dir):
    common = ["--input", str(photo_dir), "--num", "6", "--seed", "9"]
    assert synth(*common, "--output", str(tmp_path / "one")) == 0
    assert main(["--quiet", "--workers", "2", "--size", "64", *common, "--output", str(tmp_path / "two")]) == 0
    assert raw_rows(tmp_path / "one") == raw_rows(tmp_path / "two")
    assert synth(*common[:-1], "10", "--output", str(tmp_path / "other")) == 0
    assert raw_rows(tmp_path / "other")[0]["degraded"] != raw_rows(tmp_path / "one")[0]["degraded"]
    rows = raw_rows(tmp_path / "one")
    assert len({row["degraded"]["bytes"] for row in rows}) == len(rows)  # different index, different sample


def test_shards_are_disjoint_and_merge_into_the_unsharded_dataset(tmp_path, photo_dir):
    common = ["--input", str(photo_dir), "--num", "7", "--seed", "1"]
    assert synth(*common, "--output", str(tmp_path / "whole")) == 0
    for shard in ("0/3", "1/3", "2/3"):
        assert synth(*common, "--shard", shard, "--output", str(tmp_path / f"part{shard[0]}")) == 0
    sizes = [len(load_from_disk(str(tmp_path / f"part{i}"))) for i in range(3)]
    assert sizes == [2, 2, 3]
    parts = [str(tmp_path / f"part{i}") for i in (2, 0, 1)]  # any order
    assert main(["--merge", *parts, "--output", str(tmp_path / "merged")]) == 0
    assert raw_rows(tmp_path / "merged") == raw_rows(tmp_path / "whole")
    # the merge is the same dataset: rerunning the unsharded job on it has nothing to do
    assert synth(*common, "--output", str(tmp_path / "merged")) == 0
    assert main(["--merge", parts[0], parts[0], "--output", str(tmp_path / "twice")]) == 2


def test_a_killed_run_resumes_and_matches_an_uninterrupted_one(tmp_path, photo_dir, monkeypatch, capsys):
    import rnr.synth_writing

    common = ["--input", str(photo_dir), "--num", "9", "--seed", "4"]
    out = tmp_path / "resumed"
    real = rnr.synth_writing.write_chunk
    calls = {"n": 0}

    def dies_on_the_fourth_chunk(job, chunk):
        calls["n"] += 1
        if calls["n"] == 4:
            (Path(job.output) / ".parts" / ".tmp-chunk-99999-1").mkdir()  # a half-written chunk left behind
            raise KeyboardInterrupt
        return real(job, chunk)

    monkeypatch.setattr(rnr.synth_writing, "write_chunk", dies_on_the_fourth_chunk)
    assert synth(*common, "--output", str(out)) == 130
    assert "run the same command again to resume" in capsys.readouterr().err
    assert not json.loads((out / "rnr-synth.json").read_text())["complete"]
    assert not (out / "state.json").exists()  # no half dataset pretending to be whole
    monkeypatch.setattr(rnr.synth_writing, "write_chunk", real)
    assert synth(*common, "--output", str(out)) == 0
    assert "resuming: 3 of 9 samples already written" in capsys.readouterr().err
    assert synth(*common, "--output", str(tmp_path / "fresh")) == 0
    assert raw_rows(out) == raw_rows(tmp_path / "fresh")
    assert sorted(p.name for p in out.iterdir() if p.name.startswith(".")) == []
    assert synth(*common, "--output", str(out)) == 0
    assert "nothing to do" in capsys.readouterr().out


def test_an_output_holding_something_else_is_refused_and_left_intact(tmp_path, photo_dir, capsys):
    out = tmp_path / "set"
    assert synth("--input", str(photo_dir), "--output", str(out), "--num", "3") == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert synth("--input", str(photo_dir), "--output", str(out), "--num", "3", "--seed", "5") == 2
    err = capsys.readouterr().err
    assert "already holds a different dataset (differs in: seed)" in err
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "thesis.tex").write_text("precious")
    assert synth("--input", str(photo_dir), "--output", str(foreign), "--num", "3") == 2
    assert "is not empty and holds no rnr-synth dataset" in capsys.readouterr().err
    assert [p.name for p in foreign.iterdir()] == ["thesis.tex"]


def _write_awkward_inputs(folder: Path) -> dict[str, str]:
    """Every kind of file a real photo folder holds; returns the bad ones and why they fail."""
    folder.mkdir()
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 255, (80, 96, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(folder / "good.png")
    Image.fromarray(pixels[..., 0]).save(folder / "grey.png")
    Image.fromarray(np.dstack([pixels, np.full((80, 96), 200, np.uint8)]), "RGBA").save(folder / "alpha.png")
    cv2.imwrite(str(folder / "deep16.png"), (pixels.astype(np.uint16) * 257))
    rotated = Image.fromarray(pixels)
    exif = rotated.getexif()
    exif[0x0112] = 6
    rotated.save(folder / "rotated.jpg", exif=exif)
    Image.fromarray(pixels[:20, :30]).save(folder / "small.png")  # smaller than --size: upscaled
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, format="PNG")
    (folder / "truncated.png").write_bytes(buffer.getvalue()[:300])
    (folder / "readme.jpg").write_text("this is not a picture")
    (folder / "empty.png").write_bytes(b"")
    return {"truncated.png": "damaged or truncated", "readme.jpg": "not an image", "empty.png": "not an image"}


def test_bad_inputs_are_skipped_by_name_and_listed(tmp_path, capsys):
    bad = _write_awkward_inputs(tmp_path / "in")
    out = tmp_path / "set"
    assert synth("--input", str(tmp_path / "in"), "--output", str(out), "--num", "12", "--format", "folder") == 0
    err = capsys.readouterr().err
    for name, why in bad.items():
        assert f"skipping {tmp_path / 'in' / name}: {why}" in err
    skipped = (out / "skipped.txt").read_text().splitlines()
    assert len(skipped) == 3 and all(any(name in line for line in skipped) for name in bad)
    assert len(json.loads((out / "rnr-synth.json").read_text())["skipped"]) == 3
    records = [json.loads(line) for line in (out / "records.jsonl").read_text().splitlines()]
    by_stem = {r["stem"]: r for r in records}
    assert set(by_stem) == {"good", "grey", "alpha", "deep16", "rotated", "small"}
    assert by_stem["small"]["upscaled"] is True and by_stem["good"]["upscaled"] is False
    assert by_stem["rotated"]["source_size"] == [80, 96]  # EXIF orientation 6 turned 96x80 upright
    grey = read_image(out / by_stem["grey"]["files"]["clean"])
    np.testing.assert_array_equal(grey[..., 0], grey[..., 1])


def test_strict_makes_bad_inputs_fatal_before_anything_is_written(tmp_path, capsys):
    _write_awkward_inputs(tmp_path / "in")
    out = tmp_path / "set"
    assert synth("--input", str(tmp_path / "in"), "--output", str(out), "--num", "4", "--strict") == 2
    assert "3 unreadable input(s) and --strict is set" in capsys.readouterr().err
    assert not out.exists()


def test_globs_captions_preview_and_overrides(tmp_path, photo_dir):
    captions = tmp_path / "captions.jsonl"
    captions.write_text(
        json.dumps({"stem": "plasma-kite", "text": "A kite in a blue sky"}) + "\n" + json.dumps({"mate-aqua": "Water"}) + "\n"
    )
    out, preview = tmp_path / "set", tmp_path / "sheet.png"
    code = synth(
        "--input", str(photo_dir / "plasma-*.png"), str(photo_dir / "mate-aqua.png"), "--output", str(out),
        "--num", "4", "--captions", str(captions), "--preview", str(preview), "p_fog=1", "clean_share=0",
    )
    assert code == 0
    dataset = load_from_disk(str(out))
    scenes = {json.loads(r)["stem"]: s for r, s in zip(dataset["record"], dataset["scene"])}
    assert scenes == {"plasma-kite": "A kite in a blue sky", "mate-aqua": "Water"}
    assert all(d.endswith(f"Clean scene: {s}") for d, s in zip(dataset["diagnosis"], dataset["scene"]))
    assert all(dataset["fog_present"])
    sheet = read_image(preview)
    assert sheet.shape == (4 * (160 + 18) + 3 * 4, 5 * 160 + 4 * 4, 3)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--num", "0"], "--num must be at least 1"),
        (["--num", "2", "p_fgo=1"], "unknown config key(s) p_fgo"),
        (["--num", "2", "--shard", "3/2"], "--shard 3/2: write I/N"),
        (["--num", "2", "--shard", "x"], "--shard x: write I/N"),
    ],
)
def test_bad_options_get_one_clear_line(tmp_path, photo_dir, capsys, args, message):
    assert synth("--input", str(photo_dir), "--output", str(tmp_path / "o"), *args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0] and err[0].startswith("rnr-synth: error:")


def test_missing_inputs_are_named(tmp_path, capsys):
    assert synth("--input", str(tmp_path / "nowhere" / "*.png"), "--output", str(tmp_path / "o"), "--num", "1") == 2
    assert "no such file or folder, and no file matches it as a glob" in capsys.readouterr().err


def test_a_datasets_folder_is_an_input_and_its_depth_column_is_used(tmp_path, photo_dir):
    from datasets import Dataset, Features, Value

    buffer = io.BytesIO()
    Image.open(photo_dir / "plasma-kite.png").save(buffer, format="PNG")
    ramp = (np.tile(np.linspace(0, 65535, 160), (96, 1))).astype(np.uint16)
    ok, depth_png = cv2.imencode(".png", ramp)
    features = Features({"image": ImageFeature(), "depth": ImageFeature(), "stem": Value("string")})
    Dataset.from_list(
        [{"image": {"bytes": buffer.getvalue(), "path": None}, "depth": {"bytes": depth_png.tobytes(), "path": None}, "stem": "kite"}],
        features=features,
    ).save_to_disk(str(tmp_path / "ds"))
    out = tmp_path / "set"
    assert synth("--input", str(tmp_path / "ds"), "--output", str(out), "--num", "2", "p_fog=1", "clean_share=0") == 0
    dataset = load_from_disk(str(out))
    assert dataset["depth_source"] == ["column:depth"] * 2
    assert [json.loads(r)["stem"] for r in dataset["record"]] == ["kite", "kite"]


def test_console_scripts_are_installed():
    bindir = Path(sys.executable).parent
    result = subprocess.run([bindir / "rnr-synth", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "--depth-model" in result.stdout
    result = subprocess.run([bindir / "rnr-eval"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "--data" in result.stderr  # a usage error names the missing option
    result = subprocess.run([bindir / "rnr-restore", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "--explain" in result.stdout
    result = subprocess.run([bindir / "rnr-train", "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "--stage" in result.stdout


def test_the_decoded_photo_cache_stays_within_its_byte_budget(photo_dir):
    from rnr.synth_inputs import DecodedCache, collect_inputs

    refs = collect_inputs([str(photo_dir)])
    one = 96 * 160 * 3 * 4  # bytes of one decoded float32 photo
    cache = DecodedCache(budget_bytes=2 * one)
    first = cache.get(refs[0])
    assert cache.get(refs[0]) is first  # a hit returns the same array
    with pytest.raises(ValueError):
        first[0, 0, 0] = 1.0  # shared between crops, so read-only
    for ref in refs:
        cache.get(ref)
    assert len(cache._images) == 2 and cache._bytes == 2 * one
    assert refs[0] not in cache._images  # the least recently used went first


def test_soft_share_softens_the_clean_crop_and_leaves_other_draws_alone(tmp_path, photo_dir):
    plain, soft = tmp_path / "plain", tmp_path / "soft"
    assert synth("--input", str(photo_dir), "--output", str(plain), "--num", "6", "--format", "folder") == 0
    assert synth("--input", str(photo_dir), "--output", str(soft), "--num", "6", "--format", "folder", "soft_share=1", "soft_sigma=[1.5,2]") == 0
    plain_records = [json.loads(line) for line in (plain / "records.jsonl").read_text().splitlines()]
    soft_records = [json.loads(line) for line in (soft / "records.jsonl").read_text().splitlines()]
    for before, after in zip(plain_records, soft_records):
        assert before["soft_sigma"] == 0.0 and 1.5 <= after["soft_sigma"] <= 2.0
        assert before["crop"] == after["crop"]  # the same photo, window and degradations: only softness changed
        assert [before[n]["present"] for n in ("fog", "shake", "rain", "noise")] == [after[n]["present"] for n in ("fog", "shake", "rain", "noise")]
        sharp, softened = (read_image(folder / r["files"]["clean"]) for folder, r in ((plain, before), (soft, after)))
        expected = cv2.GaussianBlur(sharp, (0, 0), after["soft_sigma"])
        assert np.abs(softened - expected).max() <= 1 / 255 + 1e-6  # the ground truth is the softened crop
        assert np.abs(np.diff(softened, axis=1)).mean() < np.abs(np.diff(sharp, axis=1)).mean()
        # and the degraded image is made from it
        np.testing.assert_array_equal(to_uint8(replay(softened, after).degraded), to_uint8(read_image(soft / after["files"]["degraded"])))


def test_look_share_gives_clean_crops_another_cameras_look_and_keeps_grey_grey(tmp_path, photo_dir):
    from rnr.synth_sample import apply_look

    plain, looked = tmp_path / "plain", tmp_path / "looked"
    assert synth("--input", str(photo_dir), "--output", str(plain), "--num", "6", "--format", "folder") == 0
    assert synth("--input", str(photo_dir), "--output", str(looked), "--num", "6", "--format", "folder", "look_share=1") == 0
    plain_records = [json.loads(line) for line in (plain / "records.jsonl").read_text().splitlines()]
    looked_records = [json.loads(line) for line in (looked / "records.jsonl").read_text().splitlines()]
    for before, after in zip(plain_records, looked_records):
        camera = after["look"]
        assert "look" not in before and before["crop"] == after["crop"]  # the same draws otherwise
        assert 0.6 <= camera["gain"] <= 1.4 and abs(np.mean(camera["white_balance"]) - 1) < 2e-3
        assert camera["jpeg"] == 0 or 40 <= camera["jpeg"] <= 95
        original, changed = (read_image(folder / r["files"]["clean"]) for folder, r in ((plain, before), (looked, after)))
        np.testing.assert_allclose(changed, apply_look(original, camera), atol=1 / 255 + 1e-6)  # the ground truth is the looked crop
        np.testing.assert_array_equal(to_uint8(replay(changed, after).degraded), to_uint8(read_image(looked / after["files"]["degraded"])))
    grey = np.repeat(np.linspace(0, 1, 64, dtype=np.float32)[None, :, None], 64, axis=0).repeat(3, axis=2)
    assert float(np.ptp(apply_look(grey, {"gain": 1.2, "white_balance": [1.0, 1.0, 1.0], "jpeg": 60}), axis=2).max()) <= 2 / 255
