"""Depth sources for fog: normalisation, files, the built-in heuristic, a transformers model."""

import json

import numpy as np
import pytest

from degradations import depth as depth_priors
from degradations import replay


def test_normalize_depth_and_disparity():
    raw = np.array([[2.0, 4.0], [6.0, 10.0]], np.float32)
    np.testing.assert_allclose(depth_priors.normalize(raw, "depth"), [[0, 0.25], [0.5, 1]])
    np.testing.assert_allclose(depth_priors.normalize(raw, "disparity"), [[1, 0.75], [0.5, 0]])
    assert depth_priors.normalize(np.full((3, 3), 5.0)).max() == 0.0
    holes = np.array([[1.0, np.inf], [np.nan, 3.0]], np.float32)
    np.testing.assert_allclose(depth_priors.normalize(holes, "disparity"), [[1, 1], [1, 0]])
    with pytest.raises(ValueError, match="'depth' or 'disparity'"):
        depth_priors.normalize(raw, "metres")


def test_depth_files_in_three_formats(tmp_path):
    import cv2

    values = np.array([[0, 1000], [30000, 65535]], np.uint16)
    cv2.imwrite(str(tmp_path / "a.png"), values)
    np.save(tmp_path / "b.npy", values.astype(np.float32))
    cv2.imwrite(str(tmp_path / "c.tif"), values.astype(np.float32))
    for stem in "abc":
        found = depth_priors.find_depth_file(tmp_path, stem)
        np.testing.assert_allclose(depth_priors.read_depth_file(found), values)
    assert depth_priors.find_depth_file(tmp_path, "zz") is None
    (tmp_path / "bad.png").write_text("nope")
    with pytest.raises(ValueError, match=r"bad\.png: cannot read as a depth map"):
        depth_priors.read_depth_file(tmp_path / "bad.png")


def _synth(tmp_path, *args):
    from rnr.cli.synth import main

    return main(["--quiet", "--workers", "1", *args])


def test_stereo_disparity_drives_the_fog(tmp_path):
    """skimage's motorcycle pair ships a real disparity map (with inf holes): near stays clear."""
    from PIL import Image
    from skimage import data

    left, _right, disparity = data.stereo_motorcycle()
    (tmp_path / "in").mkdir()
    (tmp_path / "depth").mkdir()
    Image.fromarray(left).save(tmp_path / "in" / "moto.png")
    np.save(tmp_path / "depth" / "moto.npy", disparity)
    out = tmp_path / "out"
    code = _synth(
        tmp_path, "--input", str(tmp_path / "in"), "--output", str(out), "--num", "2", "--size", "96",
        "--format", "folder", "--depth", str(tmp_path / "depth"), "--depth-kind", "disparity",
        "p_fog=1", "p_shake=0", "p_rain=0", "p_noise=0", "clean_share=0",
    )
    assert code == 0
    records = [json.loads(line) for line in (out / "records.jsonl").read_text().splitlines()]
    assert all(r["fog"]["depth_source"] == "file:moto.npy" for r in records)
    from rnr.imageio import read_image
    from rnr.synth_sample import Crop

    record = records[0]
    x, y, side = record["crop"]
    depth = Crop(x, y, side, 96).apply(depth_priors.normalize(disparity, "disparity"), 1)
    clean = read_image(out / record["files"]["clean"])
    degraded = read_image(out / record["files"]["degraded"])
    from rnr.imageio import to_uint8

    np.testing.assert_array_equal(to_uint8(replay(clean, record, depth=depth).degraded), to_uint8(degraded))
    with pytest.raises(ValueError, match="file:moto.npy"):
        replay(clean, record)


@pytest.fixture(scope="session")
def tiny_depth_model(tmp_path_factory):
    """A randomly initialised Depth Anything (Dinov2 backbone, width 16) saved like a hub folder."""
    import torch
    from transformers import DepthAnythingConfig, DepthAnythingForDepthEstimation, Dinov2Config, DPTImageProcessor

    backbone = Dinov2Config(
        hidden_size=16, num_hidden_layers=2, num_attention_heads=2, intermediate_size=32, patch_size=14,
        image_size=56, out_features=["stage1", "stage2"], reshape_hidden_states=False,
    )
    config = DepthAnythingConfig(
        backbone_config=backbone, reassemble_hidden_size=16, fusion_hidden_size=16, head_hidden_size=8,
        neck_hidden_sizes=[8, 16], reassemble_factors=[1, 0.5],
    )
    torch.manual_seed(0)
    model = DepthAnythingForDepthEstimation(config).eval()
    folder = tmp_path_factory.mktemp("tiny-depth")
    model.save_pretrained(folder)
    DPTImageProcessor(size={"height": 56, "width": 56}, keep_aspect_ratio=False, ensure_multiple_of=14).save_pretrained(folder)
    return folder


def test_depth_model_source(tmp_path, photo_dir, tiny_depth_model):
    model = depth_priors.ModelDepth(str(tiny_depth_model)).load()
    assert model.kind == "disparity"  # Depth Anything predicts relative inverse depth
    image = np.random.default_rng(0).random((40, 70, 3), dtype=np.float32)
    depth = model(image)
    assert depth.shape == (40, 70) and depth.min() >= 0 and depth.max() <= 1
    np.testing.assert_array_equal(depth, model(image))

    out = tmp_path / "out"
    code = _synth(
        tmp_path, "--input", str(photo_dir), "--output", str(out), "--num", "2", "--size", "64",
        "--depth-model", str(tiny_depth_model), "p_fog=1", "clean_share=0",
    )
    assert code == 0
    from datasets import load_from_disk

    from rnr.imageio import decode_image, to_uint8

    dataset = load_from_disk(str(out))
    assert dataset["depth_source"] == [f"model:{tiny_depth_model}"] * 2
    row = dataset.cast_column("clean", __import__("datasets").Image(decode=False))[0]
    clean = decode_image(row["clean"]["bytes"])
    record = json.loads(row["record"])
    rebuilt = replay(clean, record, depth=model)
    np.testing.assert_array_equal(np.asarray(dataset[0]["degraded"]), to_uint8(rebuilt.degraded))


def test_a_folder_that_is_not_a_depth_model_is_refused(tmp_path, photo_dir, capsys):
    (tmp_path / "empty-model").mkdir()
    code = _synth(tmp_path, "--input", str(photo_dir), "--output", str(tmp_path / "o"), "--num", "1",
                  "--depth-model", str(tmp_path / "empty-model"))
    assert code == 2
    err = capsys.readouterr().err
    assert "--depth-model" in err and "cannot load a transformers depth-estimation model" in err
