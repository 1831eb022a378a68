"""What a person reads: rnr-restore's lines on stdout and stderr, its help, the explanation's words, the side-by-side."""

import io
import json
import re
import sys

import numpy as np
import pytest
from PIL import Image

from reasoner.lite import LiteReasoner
from rnr import Diagnosis
from rnr.imageio import read_image
from rnr.cli import restore as restore_cli
from rnr.cli.restore import main as restore_main
from rnr.pipeline import explain, side_by_side

DEMO = "rnr/assets/demo"
CANONICAL = """Fog degradation: Yes (56.1/100)
Motion blur: Yes (35.9/100)
Rain streaks: No (0.0/100)
Gaussian noise: Yes (100.0/100)
Parameters:
- Fog: atmospheric light [0.813, 0.844, 0.778], beta 1.860, mean transmission 0.471
- Motion blur: direction 143.2 deg, length 2.72 px, energy 0.2289, kernel size 17 px
- Gaussian noise: k 0.1715, b -6.93, mean sigma 0.0970
Clean scene: A sand dune edge against a blue sky"""


@pytest.fixture
def photos(tmp_path):
    """Two small crops of the demo photos. The foggy coffee crop is 256 x 192: the lite reasoner's head (stage 1f)
    was fitted on views of 256 px and more, and on a 96 x 64 crop its fog probability (0.68) is under the cut-off."""
    folder = tmp_path / "in"
    folder.mkdir()
    Image.open(f"{DEMO}/coffee-fog-shake.png").crop((0, 0, 256, 192)).save(folder / "coffee.png")
    Image.open(f"{DEMO}/motorcycle-fog-rain-noise.png").crop((0, 0, 80, 80)).save(folder / "motorcycle.png")
    return folder


def test_explain_lists_all_four_in_plain_words_with_units():
    diagnosis = Diagnosis.parse(CANONICAL).diagnosis
    assert explain(diagnosis).splitlines() == [
        "  Fog: severity 56/100 — the scene keeps about 47% of its light on average; haze colour (r, g, b) 0.81, 0.84, 0.78 of white; "
        "haze density 1.86 (the farthest point keeps 16% of its light)",
        "  Camera shake: severity 36/100 — smeared along 143° from horizontal by about 2.7 px (within a 17 px kernel)",
        "  Rain streaks: none found",
        "  Sensor noise: severity 100/100 — typical deviation 24.7 of 255 levels; noise grows with brightness, from 0.0 levels in black to 36.8 in white",
        "  Scene: A sand dune edge against a blue sky",
    ]
    rain = Diagnosis.from_dict({"rain": {"present": True, "severity": 9.0, "params": {
        "density": 0.0036, "slant_deg": -5.0, "length_px": 26.0, "width_px": 1.8, "opacity": 0.75}}})
    assert explain(rain).splitlines()[2] == (
        "  Rain streaks: severity 9/100 — 36 streaks per 10,000 px; leaning 5° left of vertical; 26 px long, 1.8 px wide; 75% opaque"
    )
    assert explain(Diagnosis()) == "  Fog: none found\n  Camera shake: none found\n  Rain streaks: none found\n  Sensor noise: none found"


def test_a_plain_run_says_where_each_result_went(photos, tmp_path, capsys):
    out = tmp_path / "out"
    assert restore_main([str(photos), "-o", str(out), "--restorer", "classical", "--side-by-side"]) == 0
    captured = capsys.readouterr()
    assert captured.out == (
        f"{photos / 'coffee.png'} -> {out / 'coffee.restored.png'}, {out / 'coffee.side-by-side.png'}\n"
        f"{photos / 'motorcycle.png'} -> {out / 'motorcycle.restored.png'}, {out / 'motorcycle.side-by-side.png'}\n"
    )
    assert restore_cli_lines(captured.err)[0].startswith("rnr-restore: restored 2 of 2 photos in ")
    assert restore_main([str(photos / "coffee.png"), "-o", str(tmp_path / "one")]) == 0
    captured = capsys.readouterr()
    assert captured.out == f"{photos / 'coffee.png'} -> {tmp_path / 'one' / 'coffee.restored.png'}\n" and captured.err == ""


def restore_cli_lines(err: str) -> list[str]:
    """stderr's text lines, progress-bar redraws (carriage returns, bars) left out."""
    parts = [part.strip() for line in err.splitlines() for part in line.split("\r")]
    return [part for part in parts if part and "|" not in part]


def on_screen(text: str) -> list[str]:
    """The lines a terminal shows for `text`: a carriage return goes back to the line's start and overwrites it."""
    rows = []
    for line in text.split("\n"):
        screen = ""
        for part in line.split("\r"):
            screen = part + screen[len(part):]
        rows.append(screen.rstrip())
    return [row for row in rows if row]


def test_explain_text_and_the_bar_share_a_terminal_cleanly(photos, tmp_path, monkeypatch):
    terminal = io.StringIO()  # stdout and stderr on one screen, as in a terminal
    monkeypatch.setattr(sys, "stdout", terminal)
    monkeypatch.setattr(sys, "stderr", terminal)
    out = tmp_path / "out"
    assert restore_main([str(photos), "-o", str(out), "--explain", "--restorer", "classical"]) == 0
    lines = on_screen(terminal.getvalue())
    assert lines[0] == f"{photos / 'coffee.png'} -> {out / 'coffee.restored.png'}"
    assert [line.split(":")[0] for line in lines[1:5]] == ["  Fog", "  Camera shake", "  Rain streaks", "  Sensor noise"]
    assert lines[5] == f"{photos / 'motorcycle.png'} -> {out / 'motorcycle.restored.png'}"
    assert [line.split(":")[0] for line in lines[6:10]] == ["  Fog", "  Camera shake", "  Rain streaks", "  Sensor noise"]
    assert re.fullmatch(r"rnr-restore: restored 2 of 2 photos in \d+\.\d s", lines[10]) and len(lines) == 11  # no bar left over


def test_json_dash_prints_the_json_alone_on_stdout(photos, tmp_path, capsys):
    out = tmp_path / "out"
    assert restore_main([str(photos), "-o", str(out), "--json", "-", "--explain", "--restorer", "classical"]) == 0
    captured = capsys.readouterr()
    diagnoses = json.loads(captured.out)  # nothing else on stdout, or this fails
    assert set(diagnoses) == {str(photos / "coffee.png"), str(photos / "motorcycle.png")}
    assert Diagnosis.from_dict(diagnoses[str(photos / "coffee.png")]).fog.present
    err = restore_cli_lines(captured.err)
    assert err[0] == f"{photos / 'coffee.png'} -> {out / 'coffee.restored.png'}" and "Rain streaks: none found" in err  # coffee: fog and shake only
    assert not (tmp_path / "-").exists() and not (photos.parent / "-").exists()


def test_help_names_every_restorer_and_how_a_cpu_user_trains(capsys):
    from rnr.cli.train import build_parser as train_parser

    restore_help = " ".join(restore_cli.build_parser().format_help().split())
    assert "--restorer lite|classical|ID|PATH" in restore_help
    assert "classical: the conventional inverse of each diagnosed degradation, no weights" in restore_help
    assert "'-' prints it on standard output (and nothing else there)" in restore_help
    train_help = " ".join(train_parser().format_help().split())
    assert "reasoner: learn to diagnose photos (stage 1)" in train_help and "grpo: refine a trained restorer" in train_help
    assert "On a CPU, use --backend lite" in train_help


@pytest.mark.parametrize("shape", [(100, 100), (512, 512), (513, 300), (1000, 700), (2250, 3000)])
def test_tile_count_is_the_number_of_tiles_the_lite_restorer_runs(shape):
    from restorer.lite import tiled

    calls = []
    image = np.zeros((*shape, 3), np.float32)
    tiled(lambda x: calls.append(1) or x, image, tile=512, overlap=32)
    assert restore_cli.tile_count(*shape, 512, 32) == len(calls)


def test_a_long_photo_shows_progress_over_its_tiles(tmp_path, capsys, monkeypatch):
    from restorer.lite import LiteRestorer

    monkeypatch.setattr(restore_cli, "PROGRESS_DELAY_S", 0.0)
    photo = tmp_path / "wide.png"
    Image.open(f"{DEMO}/coffee-fog-shake.png").crop((0, 0, 300, 200)).save(photo)
    assert restore_main([str(photo), "-o", str(tmp_path / "out"), "--tile", "128"]) == 0
    captured = capsys.readouterr()
    bars = [part for part in captured.err.split("\r") if part.startswith("rnr-restore: wide.png:")]
    # 200 x 300 in 128 px tiles overlapping by 32: 3 x 4; twice where the restoration blends a hedge (rnr.hedge)
    (_, hedge), = LiteReasoner.load().diagnose_hedged([read_image(photo)])
    assert hedge is not None and hedge.blends  # the crop's shake is in doubt: the bar grows to a second restoration's tiles
    assert bars and all(re.search(r"\| +\d+/(12|24) \[", bar) for bar in bars) and any("/24 [" in bar for bar in bars)
    assert captured.out == f"{photo} -> {tmp_path / 'out' / 'wide.restored.png'}\n"
    assert "forward" not in vars(LiteRestorer.load())  # nothing is left wrapped


def test_the_progress_rate_counts_tiles_not_the_whole_photo_work_before_them(tmp_path, capsys, monkeypatch):
    import time

    import restorer.lite as lite

    monkeypatch.setattr(restore_cli, "PROGRESS_DELAY_S", 0.0)
    photo_kernel = lite.photo_kernel
    monkeypatch.setattr(lite, "photo_kernel", lambda *a, **k: time.sleep(3.0) or photo_kernel(*a, **k))  # slow priors
    photo = tmp_path / "wide.png"
    Image.open(f"{DEMO}/coffee-fog-shake.png").crop((0, 0, 300, 200)).save(photo)
    assert restore_main([str(photo), "-o", str(tmp_path / "out"), "--tile", "128"]) == 0
    bars = [part for part in capsys.readouterr().err.split("\r") if part.startswith("rnr-restore: wide.png:")]
    later = [bar for bar in bars if not re.search(r"\| +0/12 ", bar)]
    # the 3 s before the first tile are no tile's: the elapsed time and the rate count from the first tile
    assert later and all(re.search(r"\[00:0[01]<", bar) for bar in later), later


def test_the_side_by_side_is_labelled_and_its_caption_breaks_between_phrases():
    from rnr.imageio import to_uint8
    from rnr.pipeline import caption, wrap_text

    image = np.full((200, 300, 3), 0.5, np.float32)
    text = caption(Diagnosis.parse(CANONICAL).diagnosis, "lite", "classical")
    assert text.splitlines()[-1] == "Diagnosed by lite, restored by classical."
    sheet = side_by_side(image, image, text)
    assert sheet.shape[1] == 608 and sheet.dtype == np.uint8
    header = sheet[: np.argmax((sheet[:, 50] == to_uint8(image)[0, 0]).all(axis=1))]  # white band above the panels
    inked = np.where((header < 128).any(axis=(0, 2)))[0]
    assert inked.min() < 40 and ((inked > 316) & (inked < 380)).any()  # "input" over the left, "restored" over the right
    lines = wrap_text(text, 592, 0.4)
    for line, following in zip(lines, lines[1:]):
        if following.startswith("    "):  # a wrapped line ends where a phrase does
            assert line.endswith((";", "—")), line
