"""Hostile inputs (issue 20): each gets one line naming the file or option and the fix, a
non-zero exit where something was not done, the rest of the batch, and nothing partial left."""

import os
import signal
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from rnr.cli.restore import main as restore_main

REPO = Path(__file__).resolve().parent.parent


def bomb_png(path: Path, width: int = 20000, height: int = 20000) -> Path:
    """A valid 1-bit PNG of huge dimensions in a small file, compressed row by row (never whole in memory)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    compressor = zlib.compressobj(9)
    row = b"\0" * (1 + (width + 7) // 8)
    body = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b""))
    return path


def small_photo(path: Path, seed: int = 0, size=(40, 48)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pixels = (np.random.default_rng(seed).random((*size, 3)) * 255).astype(np.uint8)
    Image.fromarray(pixels).save(path, **({"quality": 95} if path.suffix == ".jpg" else {}))
    return path


def said(err: str, prog: str = "rnr-restore") -> list[str]:
    """The lines a user reads on stderr: progress-bar redraws (carriage returns) left out."""
    lines = [part.strip() for line in err.splitlines() for part in line.split("\r")]
    return [line for line in lines if line.startswith(f"{prog}: ") and "|" not in line]


def leftovers(folder: Path) -> list[str]:
    """Temporary or hidden files anywhere under `folder`."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.name.startswith(".") or p.name.endswith(".tmp"))


# --- rnr-restore -------------------------------------------------------------------------
def test_restore_refuses_a_decompression_bomb_by_name_and_goes_on(tmp_path, capsys):
    from rnr.cli.restore import MAX_PIXELS_DEFAULT
    from rnr.imageio import MAX_PIXELS

    assert MAX_PIXELS_DEFAULT == MAX_PIXELS == 100_000_000
    bomb = bomb_png(tmp_path / "in" / "bomb.png")
    assert bomb.stat().st_size < 100_000
    small_photo(tmp_path / "in" / "ok.png")
    out = tmp_path / "out"
    assert restore_main([str(tmp_path / "in"), "-o", str(out)]) == 1
    assert said(capsys.readouterr().err)[:1] == [
        (
            f"rnr-restore: skipping {bomb}: 20000x20000 is 400,000,000 pixels, above the limit of 100,000,000; "
            "to restore it anyway pass --max-pixels 400000000"
        )
    ]
    assert sorted(p.name for p in out.iterdir()) == ["ok.restored.png"]


def test_restore_max_pixels_is_the_limit(tmp_path, capsys):
    photo = small_photo(tmp_path / "p.png")  # 48x40 = 1920 pixels
    assert restore_main([str(photo), "--max-pixels", "1919", "-o", str(tmp_path / "a")]) == 1
    assert said(capsys.readouterr().err) == [
        f"rnr-restore: skipping {photo}: 48x40 is 1,920 pixels, above the limit of 1,919; to restore it anyway pass --max-pixels 1920"
    ]
    assert not (tmp_path / "a" / "p.restored.png").exists()
    assert restore_main([str(photo), "--max-pixels", "1920", "-o", str(tmp_path / "b")]) == 0
    assert (tmp_path / "b" / "p.restored.png").is_file()
    assert restore_main([str(photo), "--max-pixels", "0"]) == 2
    assert said(capsys.readouterr().err) == ["rnr-restore: --max-pixels 0: must be a positive number of pixels (default 100,000,000)"]


def test_the_library_refuses_a_bomb_from_its_header(tmp_path, monkeypatch):
    from rnr.imageio import ImageTooLargeError, pil_pixel_limit_lifted, read_image

    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 89_478_485)  # PIL's default, whatever ran before
    bomb = bomb_png(tmp_path / "bomb.png")
    with pytest.raises(ImageTooLargeError, match=r"bomb.png: more than 178,956,970 pixels, PIL's decompression-bomb limit"):
        read_image(bomb)  # PIL's own check comes first, and the message still names the file
    too_large = r"bomb.png: 20000x20000 is 400,000,000 pixels, above the limit of 100,000,000"
    with pil_pixel_limit_lifted(), pytest.raises(ImageTooLargeError, match=too_large):
        read_image(bomb)
    assert Image.MAX_IMAGE_PIXELS == 89_478_485


def test_restore_gives_same_stem_inputs_distinct_names(tmp_path, capsys):
    folder = tmp_path / "in"
    small_photo(folder / "a.png", 1)
    small_photo(folder / "a.jpg", 2)
    small_photo(folder / "b.png", 3)
    assert restore_main([str(folder)]) == 0
    lines = said(capsys.readouterr().err)
    assert len(lines) == 1 and lines[0].startswith("rnr-restore: restored 3 of 3 photos in ")
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["a.jpg", "a.jpg.restored.png", "a.png", "a.png.restored.png", "b.png", "b.restored.png"]
    assert (folder / "a.jpg.restored.png").read_bytes() != (folder / "a.png.restored.png").read_bytes()


def test_restore_refuses_a_result_that_would_overwrite_another(tmp_path, capsys):
    first, second = small_photo(tmp_path / "p" / "img.png", 1), small_photo(tmp_path / "q" / "img.png", 2)
    out = tmp_path / "out"
    assert restore_main([str(first), str(second), "-o", str(out)]) == 1
    lines = said(capsys.readouterr().err)
    assert lines[0] == (
        f"rnr-restore: {second}: its result {out / 'img.restored.png'} would overwrite that of {first}; restore it into another -o folder"
    )
    assert lines[1].startswith("rnr-restore: restored 1 of 2 photos in ")  # the count is what was written
    assert sorted(p.name for p in out.iterdir()) == ["img.restored.png"]


@pytest.mark.parametrize("flag", ["-o", "--json"])
def test_restore_refuses_an_unwritable_output_before_any_work(tmp_path, capsys, flag):
    photo = small_photo(tmp_path / "p.png")
    a_file = tmp_path / "taken.txt"
    a_file.write_text("mine")
    under_a_file = a_file / "sub"
    expected = {
        "-o": [(a_file, f"-o {a_file}: is a file, not a folder; name a folder (it is created if missing)")],
        "--json": [(tmp_path, f"--json {tmp_path}: is a folder; name a file, e.g. {tmp_path / 'diagnoses.json'}")],
    }[flag] + [(under_a_file, f"{flag} {under_a_file}: {a_file} is a file, so nothing can be written under it; choose another path")]
    for target, message in expected:
        assert restore_main([str(photo), flag, str(target)]) == 2
        assert said(capsys.readouterr().err) == [f"rnr-restore: {message}"]
    assert a_file.read_text() == "mine" and not (tmp_path / "p.restored.png").exists()


def test_restore_names_a_folder_it_may_not_write_in(tmp_path, capsys, monkeypatch):
    import tempfile

    from rnr.cli import restore

    photo = small_photo(tmp_path / "p.png")
    locked = tmp_path / "locked"
    locked.mkdir()
    real = tempfile.TemporaryFile

    def denied(*args, dir=None, **kwargs):  # what a read-only mount or a folder of another user answers
        if Path(dir) == locked:
            raise PermissionError(13, "Permission denied")
        return real(*args, dir=dir, **kwargs)

    monkeypatch.setattr(restore.tempfile, "TemporaryFile", denied)
    for flag, target in (("-o", locked / "out"), ("--json", locked / "d.json")):
        assert restore_main([str(photo), flag, str(target)]) == 2
        assert said(capsys.readouterr().err) == [
            f"rnr-restore: {flag} {target}: cannot write in {locked} (Permission denied); choose a folder you can write to"
        ]
    assert list(locked.iterdir()) == [] and not (tmp_path / "p.restored.png").exists()


def test_restore_reports_a_result_the_disk_refuses_and_goes_on(tmp_path, capsys):
    first, second = small_photo(tmp_path / "in" / "a.png", 1), small_photo(tmp_path / "in" / "b.png", 2)
    out = tmp_path / "out"
    (out / "a.restored.png").mkdir(parents=True)  # a folder where the result should go
    assert restore_main([str(first), str(second), "-o", str(out)]) == 1
    lines = said(capsys.readouterr().err)
    assert lines[0] == f"rnr-restore: {first}: cannot write {out / 'a.restored.png'} (Is a directory); free space or choose another -o folder"
    assert lines[1].startswith("rnr-restore: restored 1 of 2 photos")
    assert (out / "b.restored.png").is_file() and leftovers(out) == []


def _signal_on_second_write(monkeypatch, signum):
    """Send `signum` to this process halfway through writing the second result file."""
    import rnr.imageio

    real = os.fdopen
    count = {"n": 0}

    class Interrupting:
        def __init__(self, handle):
            self.handle = handle

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return self.handle.__exit__(*exc)

        def write(self, data):
            count["n"] += 1
            self.handle.write(data[: len(data) // 2])
            if count["n"] == 2:
                os.kill(os.getpid(), signum)  # delivered here, mid-file, like a real kill
            return self.handle.write(data[len(data) // 2 :])

    monkeypatch.setattr(rnr.imageio.os, "fdopen", lambda fd, mode: Interrupting(real(fd, mode)))


@pytest.mark.parametrize("signum, code, word", [(signal.SIGTERM, 143, "terminated"), (signal.SIGINT, 130, "interrupted")])
def test_restore_stopped_mid_write_leaves_no_partial_file(tmp_path, capsys, monkeypatch, signum, code, word):
    inputs = [small_photo(tmp_path / "in" / f"{name}.png", seed) for seed, name in enumerate("abc")]
    out = tmp_path / "out"
    before = signal.getsignal(signal.SIGTERM)
    _signal_on_second_write(monkeypatch, signum)
    assert restore_main([*map(str, inputs), "-o", str(out), "--json", str(tmp_path / "d.json")]) == code
    assert said(capsys.readouterr().err) == [f"rnr-restore: {word}; 1 of 3 written"]
    assert sorted(p.name for p in out.iterdir()) == ["a.restored.png"]  # whole results only, no .tmp
    assert not (tmp_path / "d.json").exists()
    assert signal.getsignal(signal.SIGTERM) is before  # the handler is put back


def test_restore_killed_by_sigterm_from_outside_cleans_up(tmp_path):
    """A real SIGTERM from another process while a result is being written (the write made slow)."""
    photo = small_photo(tmp_path / "p.png")
    out = tmp_path / "out"
    script = (
        "import os, sys, time, rnr.imageio as io\n"
        "real = os.fdopen\n"
        "class Slow:\n"
        "    def __init__(s, h): s.h = h\n"
        "    def __enter__(s): return s\n"
        "    def __exit__(s, *e): return s.h.__exit__(*e)\n"
        "    def write(s, d): s.h.write(d[:10]); s.h.flush(); time.sleep(60)\n"
        "io.os.fdopen = lambda fd, mode: Slow(real(fd, mode))\n"
        "from rnr.cli.restore import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    child = subprocess.Popen([sys.executable, "-c", script, str(photo), "-o", str(out)], cwd=REPO, env=env, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(600):
            if out.is_dir() and any(p.name.endswith(".tmp") for p in out.iterdir()):
                break
            assert child.poll() is None, child.stderr.read()
            time.sleep(0.05)
        else:
            pytest.fail("no temporary file appeared")
        child.send_signal(signal.SIGTERM)
        err = child.communicate(timeout=30)[1]
    finally:
        child.kill()
    assert child.returncode == 143
    assert said(err) == ["rnr-restore: terminated; 0 of 1 written"] and "Traceback" not in err
    assert list(out.iterdir()) == []


# --- rnr-synth -----------------------------------------------------------------------------
def synth(*args: str) -> int:
    from rnr.cli.synth import main

    return main(["--quiet", "--workers", "1", "--size", "64", *args])


def test_synth_skips_a_decompression_bomb_by_name(tmp_path, photo_dir, capsys):
    from rnr.cli.synth import build_parser
    from rnr.imageio import MAX_PIXELS

    assert build_parser().get_default("max_pixels") == MAX_PIXELS
    bomb = bomb_png(photo_dir / "bomb.png")
    out = tmp_path / "set"
    assert synth("--input", str(photo_dir), "--output", str(out), "--num", "3") == 0
    line = (
        f"{bomb}: 20000x20000 is 400,000,000 pixels, above the limit of 100,000,000; to use it anyway pass --max-pixels 400000000"
    )
    assert said(capsys.readouterr().err, "rnr-synth") == [f"rnr-synth: skipping {line}"]
    assert (out / "skipped.txt").read_text() == line + "\n"
    assert synth("--input", str(photo_dir), "--output", str(tmp_path / "none"), "--num", "3", "--max-pixels", "15359") == 2
    lines = said(capsys.readouterr().err, "rnr-synth")  # the photos are 160x96 = 15,360 pixels
    assert lines[-1] == "rnr-synth: error: none of the inputs is a readable image" and len(lines) == 5
    assert lines[1] == (
        f"rnr-synth: skipping {photo_dir / 'mate-aqua.png'}: 160x96 is 15,360 pixels, above the limit of 15,359; "
        "to use it anyway pass --max-pixels 15360"
    )
    assert not (tmp_path / "none").exists()


@pytest.mark.parametrize(
    "options, message",
    [
        (["noise.k=[0,.inf]"], "noise.k: [0.0, inf] is not finite; give two finite numbers [low, high]"),
        (["--seed", "-1"], "--seed must be 0 or more (numpy's generators take no negative seeds), got -1"),
        (["p_fog="], "p_fog: no value given; write e.g. p_fog=0.5"),
        (["fog.beta=5"], "fog.beta is a [low, high] range, got the single number 5; write fog.beta=[5, 5] for a fixed value"),
        (["fog.beta=[1, true]"], "fog.beta: true is not a number; write e.g. fog.beta=[0.5, 1.0]"),
        (["p_fog=true"], "p_fog: true is not a number; write e.g. p_fog=0.5"),
        (["--workers", "0"], "--workers must be at least 1, got 0"),
        (["--workers", "-3"], "--workers must be at least 1, got -3"),
    ],
)
def test_synth_bad_settings_get_one_line_and_create_nothing(tmp_path, photo_dir, capsys, options, message):
    out = tmp_path / "set"
    flags = [o for o in options if "=" not in o]
    overrides = [o for o in options if "=" in o]
    assert synth("--input", str(photo_dir), "--output", str(out), "--num", "3", *flags, *overrides) == 2
    assert said(capsys.readouterr().err, "rnr-synth") == [f"rnr-synth: error: {message}"]
    assert not out.exists()


def _replace_keeping_size(path: Path, seed: int) -> None:
    """Another picture under the same name and byte size (BMP: the size is fixed by the dimensions)."""
    size = path.stat().st_size
    with Image.open(path) as old:
        shape = (old.height, old.width, 3)
    Image.fromarray((np.random.default_rng(seed).random(shape) * 255).astype(np.uint8)).save(path)
    assert path.stat().st_size == size


def test_synth_refuses_to_resume_over_a_replaced_photo(tmp_path, photo_dir, monkeypatch, capsys):
    import rnr.synth_writing

    photos = tmp_path / "bmp"
    photos.mkdir()
    for png in sorted(photo_dir.glob("*.png")):
        Image.open(png).save(photos / (png.stem + ".bmp"))
    common = ["--input", str(photos), "--num", "9", "--seed", "4", "--output", str(tmp_path / "set")]
    real = rnr.synth_writing.write_chunk
    calls = {"n": 0}

    def dies_on_the_third_chunk(job, chunk):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real(job, chunk)

    monkeypatch.setattr(rnr.synth_writing, "write_chunk", dies_on_the_third_chunk)
    assert synth(*common) == 130
    monkeypatch.setattr(rnr.synth_writing, "write_chunk", real)
    out = tmp_path / "set"
    before = {str(p): p.read_bytes() for p in out.rglob("*") if p.is_file()}
    kite = photos / "plasma-kite.bmp"
    original = kite.read_bytes()
    _replace_keeping_size(kite, 7)
    capsys.readouterr()
    assert synth(*common) == 2
    assert said(capsys.readouterr().err, "rnr-synth") == [
        (
            f"rnr-synth: error: --output {out}: {kite} changed since this dataset was started (same name, other content); "
            "put the original back to resume, or remove the folder to start again"
        )
    ]
    assert {str(p): p.read_bytes() for p in out.rglob("*") if p.is_file()} == before  # left as it was
    kite.write_bytes(original)
    assert synth(*common) == 0
    assert "resuming: 2 of 9 samples already written" in capsys.readouterr().err


def _children(pid: int) -> list[int]:
    return [int(p.parent.name) for p in Path("/proc").glob("[0-9]*/stat") if _parent_of(p) == pid]


def _parent_of(stat: Path) -> int | None:
    try:
        return int(stat.read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")  # a zombie has stopped; only its exit status waits to be read


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table from /proc")
def test_synth_workers_die_with_a_killed_parent(tmp_path, photo_dir):
    """SIGKILL the parent while the workers are inside their chunks (64 samples at 256 px: a second or more each)."""
    out = tmp_path / "set"
    command = [sys.executable, "-m", "rnr.cli.synth", "--quiet", "--workers", "2", "--size", "256", "--no-stages",
               "--input", str(photo_dir), "--num", "4096", "--output", str(out)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    parent = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not list((out / ".parts").glob("chunk-*")):  # one worker has just begun its next chunk
            assert parent.poll() is None and time.monotonic() < deadline, parent.stderr.read()
            time.sleep(0.02)
        workers = _children(parent.pid)
        assert len(workers) >= 2
        parent.kill()
        parent.wait()
        killed = time.monotonic()
        while any(_alive(pid) for pid in workers) and time.monotonic() < killed + 5:
            time.sleep(0.01)
        survived = time.monotonic() - killed
        chunks = len(list((out / ".parts").glob("chunk-*")))
        time.sleep(0.3)
        assert survived < 0.5, f"workers outlived their parent by {survived:.2f} s"
        assert len(list((out / ".parts").glob("chunk-*"))) == chunks  # and wrote nothing after it
    finally:
        parent.kill()
        parent.stderr.close()


def test_synth_resume_removes_what_a_killed_worker_left_half_written(tmp_path, photo_dir, monkeypatch):
    import rnr.synth_writing

    out = tmp_path / "set"
    common = ["--input", str(photo_dir), "--num", "4", "--format", "folder", "--output", str(out)]
    real = rnr.synth_writing.write_chunk

    def killed_mid_chunk(job, chunk):
        (out / "images").mkdir(exist_ok=True)
        (out / "images" / ".0000001_clean.png.k2j4.tmp").write_bytes(b"half a png")  # atomic writes' temporaries
        (out / ".rnr-synth.json.x9.tmp").write_text("{")
        raise KeyboardInterrupt

    monkeypatch.setattr(rnr.synth_writing, "write_chunk", killed_mid_chunk)
    assert synth(*common) == 130
    assert len(leftovers(out)) == 3  # .parts, and the two temporaries
    monkeypatch.setattr(rnr.synth_writing, "write_chunk", real)
    assert synth(*common) == 0
    assert leftovers(out) == []


# --- rnr-train / rnr-eval ------------------------------------------------------------------
@pytest.fixture(scope="module")
def bad_sets(tiny_synth_set, tmp_path_factory) -> dict[str, Path]:
    """A set saved with no rows (datasets writes no data file then), one with an empty data file, one with other columns."""
    from datasets import load_from_disk

    root = tmp_path_factory.mktemp("bad-sets")
    full = load_from_disk(str(tiny_synth_set))
    full.select([]).save_to_disk(str(root / "no-shards"))
    full.filter(lambda row: False).save_to_disk(str(root / "no-rows"))
    full.select_columns(["index", "seed"]).save_to_disk(str(root / "other-columns"))
    assert [p.name for p in (root / "no-shards").iterdir() if p.suffix == ".arrow"] == []
    assert len(load_from_disk(str(root / "no-rows"))) == 0
    return {path.name: path for path in root.iterdir()}


TRAIN_STAGES = {  # each stage with what it needs besides --data; none of the models is loaded (or exists)
    "reasoner": ["--stage", "reasoner", "--model", "no/such-model"],
    "restorer": ["--stage", "restorer", "--model", "no/such-model"],
    "grpo": ["--stage", "grpo", "--restorer", "no/restorer", "--reasoner", "no/reasoner"],
    "lite reasoner": ["--stage", "reasoner", "--backend", "lite"],
    "lite restorer": ["--stage", "restorer", "--backend", "lite"],
    "lite grpo": ["--stage", "grpo", "--backend", "lite", "--restorer", "no.safetensors", "--reasoner", "no.safetensors"],
}
COLUMNS = {"reasoner": "images, prompt, completion", "grpo": "clean, degraded", "lite grpo": "clean, degraded"}


@pytest.mark.parametrize("stage", TRAIN_STAGES)
@pytest.mark.parametrize("kind", ["no-shards", "no-rows", "other-columns"])
def test_train_refuses_an_unusable_set_in_one_line_before_loading_models(bad_sets, tmp_path, capsys, stage, kind):
    from rnr.cli.train import main as train_main

    data, out = bad_sets[kind], tmp_path / "out"
    assert train_main([*TRAIN_STAGES[stage], "--data", str(data), "--output", str(out)]) == 2
    expected = {
        "no-shards": f"--data {data}: holds no samples (no data files); make it again with rnr-synth --num N",
        "no-rows": f"--data {data}: holds no samples (0 rows); make it again with rnr-synth --num N",
        "other-columns": f"--data {data}: lacks the column(s) {COLUMNS.get(stage, 'clean, degraded, record')}; "
        "make it with rnr-synth --format hf",
    }[kind]
    assert capsys.readouterr().err.splitlines() == [f"rnr-train: error: {expected}"]
    assert not out.exists()  # GRPO used to leave rnr-train.yaml behind


def test_train_refuses_a_limit_below_one(tiny_synth_set, tmp_path, capsys):
    from rnr.cli.train import main as train_main

    out = tmp_path / "out"
    assert train_main([*TRAIN_STAGES["grpo"], "--data", str(tiny_synth_set), "--output", str(out), "limit=0"]) == 2
    assert capsys.readouterr().err.splitlines() == ["rnr-train: error: limit must be at least 1 (or left out: the whole set), got 0"]
    assert not out.exists()


def test_the_grpo_library_checks_the_set_before_writing_anything(bad_sets, tmp_path):
    from rl.grpo import GRPOConfig, train
    from rnr.config import ConfigError

    config = GRPOConfig(data=str(bad_sets["no-rows"]), output=str(tmp_path / "out"), restorer="r", reasoner="q")
    with pytest.raises(ConfigError, match="holds no samples"):
        train(config)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", [[], ["reasoner", "--reasoner", "lite"]], ids=["tables", "reasoner"])
def test_eval_refuses_an_empty_set_or_limit_in_one_line(bad_sets, tiny_synth_set, tmp_path, capsys, command):
    from rnr.cli.eval import main as eval_main

    out = tmp_path / "out"
    cases = [
        ([str(bad_sets["no-shards"])], f"--data {bad_sets['no-shards']}: holds no samples (no data files); make a test set with rnr-synth --num N"),
        ([str(bad_sets["no-rows"])], f"--data {bad_sets['no-rows']}: holds no samples; make a test set with rnr-synth --num N"),
        ([str(tiny_synth_set), "--limit", "0"], "--limit must be at least 1 (or left out: the whole set), got 0"),
        ([str(tiny_synth_set), "--limit", "-1"], "--limit must be at least 1 (or left out: the whole set), got -1"),
    ]
    for (data, *more), message in cases:
        assert eval_main([*command, "--data", data, *more, "--output", str(out)]) == 2
        assert capsys.readouterr().err.splitlines() == [f"rnr-eval: error: {message}"]
    assert not out.exists()


def test_synth_sets_made_before_content_hashes_stay_complete(tmp_path, photo_dir, capsys):
    import json

    out = tmp_path / "set"
    common = ["--input", str(photo_dir), "--num", "3", "--output", str(out)]
    assert synth(*common) == 0
    manifest = json.loads((out / "rnr-synth.json").read_text())
    assert all(len(entry) == 3 and len(entry[2]) == 16 for entry in manifest["job"]["inputs"])  # name, size, hash
    manifest["job"]["inputs"] = [entry[:2] for entry in manifest["job"]["inputs"]]  # as earlier versions wrote it
    (out / "rnr-synth.json").write_text(json.dumps(manifest))
    capsys.readouterr()
    assert synth(*common) == 0
    assert capsys.readouterr().out == f"rnr-synth: {out} already holds this dataset, complete; nothing to do\n"
