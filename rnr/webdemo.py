"""The local web demo behind `rnr-demo`: drop a photo, read its diagnosis, compare before and after.

The page is a gradio `Blocks`; the work is `restore_upload`, a plain function of the
uploaded file's path and the chosen model names (testable without a browser). It reuses
the command line's pieces: `rnr.pipeline` loads, diagnoses, restores, explains and draws
the side-by-side, and `rnr.cli.restore` names the results and writes the JSON.
"""

from __future__ import annotations

import html
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr

from rnr.diagnosis import Diagnosis

DEMO_PHOTOS = Path(__file__).parent / "assets" / "demo"
TITLE = "rnr — Reason and Restore"
INTRO = (
    "Drop a photo (or pick a demo photo below): the reasoner says which of fog, camera shake, rain streaks "
    "and sensor noise it finds, how severe and with which parameters; the restorer then restores the photo "
    "guided by that diagnosis. Everything runs on this computer."
)
CSS = """
.rnr-row {display: grid; grid-template-columns: 9em 1fr 6.5em; gap: .2em .8em; align-items: center; margin: .35em 0}
.rnr-bar {background: #e5e7eb; border-radius: 4px; height: .9em; overflow: hidden}
.rnr-bar > div {background: #ea580c; height: 100%}
.rnr-words {grid-column: 2 / 4; font-size: .92em; color: #374151}
.rnr-absent {color: #6b7280}
"""


@dataclass
class Models:
    """The reasoners and restorers offered, by name; each loaded on first use and kept."""

    reasoners: list[str]
    restorers: list[str]
    device: str = "auto"
    loaded: dict[tuple[str, str], Any] = field(default_factory=dict)

    def get(self, role: str, name: str):
        from rnr.pipeline import load_reasoner, load_restorer

        offered = self.reasoners if role == "reasoner" else self.restorers
        if name not in offered:
            raise ValueError(f"{role} {name!r} is not offered here; choose one of {', '.join(offered)}")
        if (role, name) not in self.loaded:
            load = load_reasoner if role == "reasoner" else load_restorer
            self.loaded[role, name] = load(name, device=self.device)
        return self.loaded[role, name]


@dataclass(frozen=True)
class Result:
    """What the page shows for one photo."""

    diagnosis_html: str
    before_after: tuple[str, str]  # the input's and the restored image's paths
    downloads: list[str]  # restored PNG, side-by-side PNG, diagnosis JSON


class PhotoUpload(gr.Image):
    """gr.Image that hands the uploaded file's path over unopened.

    gr.Image opens every upload with PIL first, so a file that is not an image fails
    there with a message naming gradio's internals; here `restore_upload` reads it, under
    --max-pixels, and says what is wrong with the photo in one line.
    """

    is_template = True  # drawn by gr.Image's own front end

    def preprocess(self, payload):
        if payload is None or payload.path is None:
            return super().preprocess(payload)  # nothing, or pasted data (a data: URL): gradio's own decoding
        return str(payload.path)


class UploadError(ValueError):
    """An upload the demo cannot use; str() is one line for the person who uploaded it."""


def restore_upload(path: str | None, reasoner: str, restorer: str, models: Models, max_pixels: int, workdir: Path) -> Result:
    """Diagnose and restore the uploaded photo; the results are written in a fresh folder under `workdir`."""
    from rnr.cli.restore import output_path, write_json
    from rnr.imageio import ImageTooLargeError, ImageReadError, decode_image, write_image
    from rnr.pipeline import caption, reason_and_restore, side_by_side

    if not path:
        raise UploadError("No photo yet: drop one on the photo box, or click a demo photo under it.")
    name = Path(path).name
    try:
        image = decode_image(Path(path).read_bytes(), name=name, max_pixels=max_pixels)
    except ImageTooLargeError as error:
        raise UploadError(f"{error} this demo takes; scale it down, or start rnr-demo with a larger --max-pixels") from None
    except ImageReadError as error:
        raise UploadError(f"{error}; upload a PNG, JPEG, WebP, TIFF or BMP photo") from None
    started = time.perf_counter()
    try:
        diagnosis, restored, hedge = reason_and_restore(image, models.get("reasoner", reasoner), models.get("restorer", restorer), name=name)
    except MemoryError:
        raise UploadError(f"{name}: out of memory while restoring it; try a smaller photo") from None
    seconds = time.perf_counter() - started
    folder = workdir / uuid.uuid4().hex
    folder.mkdir(parents=True)
    restored_path, sheet_path = output_path(Path(name), str(folder)), output_path(Path(name), str(folder), ".side-by-side.png")
    write_image(restored_path, restored)
    write_image(sheet_path, side_by_side(image, restored, caption(diagnosis, reasoner, restorer, hedge)))
    json_path = folder / (Path(name).stem + ".diagnosis.json")
    if problem := write_json(json_path, {name: diagnosis}):
        raise UploadError(problem)
    shown = folder / ("input-" + Path(name).stem + ".png")  # the photo as it was read (EXIF-rotated, alpha over white)
    write_image(shown, image)
    footer = f"Diagnosed by {reasoner}, restored by {restorer}, in {seconds:.1f} s on this computer."
    if hedge is not None and hedge.blends:
        footer += f" The reasoner is {hedge.probability:.0%} sure of some {hedge.kind}: it was corrected at {hedge.weight:.0%} strength."
    return Result(diagnosis_html(diagnosis, footer), (str(shown), str(restored_path)), [str(restored_path), str(sheet_path), str(json_path)])


def diagnosis_html(diagnosis: Diagnosis, footer: str = "") -> str:
    """Each degradation as a row: its name, its severity as a bar, its parameters in words ("none found" when absent)."""
    from rnr.pipeline import NONE_FOUND, in_words

    rows = []
    for label, severity, words in in_words(diagnosis):
        if severity is None:
            rows.append(f'<div class="rnr-row rnr-absent"><b>{html.escape(label)}</b><div class="rnr-bar"><div style="width:0%"></div></div>'
                        f'<span>{NONE_FOUND}</span></div>')
            continue
        detail = f'<div class="rnr-words">{html.escape("; ".join(words))}</div>' if words else ""
        rows.append(f'<div class="rnr-row"><b>{html.escape(label)}</b><div class="rnr-bar" title="severity {severity:.0f} of 100">'
                    f'<div style="width:{severity:.0f}%"></div></div><span>{severity:.0f}/100</span>{detail}</div>')
    scene = f"<p>Scene: {html.escape(diagnosis.scene)}</p>" if diagnosis.scene else ""
    return '<div class="rnr-diagnosis"><h3>Diagnosis</h3>' + "".join(rows) + scene + (f"<p><i>{html.escape(footer)}</i></p>" if footer else "") + "</div>"


def build_app(models: Models, max_pixels: int, workdir: Path):
    """The page: photo, model choices and demo photos on the left; diagnosis, before/after slider and downloads on the right."""
    def run(path, reasoner, restorer):
        try:
            result = restore_upload(path, reasoner, restorer, models, max_pixels, workdir)
        except (UploadError, ValueError, FileNotFoundError) as error:
            raise gr.Error(str(error).splitlines()[0], print_exception=False) from None
        return result.diagnosis_html, result.before_after, result.downloads

    with gr.Blocks(title=TITLE, analytics_enabled=False) as app:
        gr.Markdown(f"# {TITLE}\n{INTRO}")
        with gr.Row():
            with gr.Column(scale=1):
                photo = PhotoUpload(type="filepath", image_mode=None, label="photo", sources=["upload", "clipboard"], elem_id="rnr-photo")
                reasoner = gr.Dropdown(models.reasoners, value=models.reasoners[0], label="reasoner (who diagnoses)")
                restorer = gr.Dropdown(models.restorers, value=models.restorers[0], label="restorer (who restores)")
                button = gr.Button("Diagnose and restore", variant="primary", elem_id="rnr-go")
                gr.Examples([[str(p)] for p in sorted(DEMO_PHOTOS.glob("*.png"))], inputs=[photo], label="demo photos")
            with gr.Column(scale=2):
                diagnosis = gr.HTML('<div class="rnr-diagnosis"><p>The diagnosis appears here.</p></div>', elem_id="rnr-diagnosis")
                slider = gr.ImageSlider(label="input (left) / restored (right): drag the handle", type="filepath", format="png", elem_id="rnr-slider")
                files = gr.File(label="downloads: restored PNG, side-by-side PNG, diagnosis JSON", file_count="multiple",
                                interactive=False, elem_id="rnr-downloads")
        button.click(run, inputs=[photo, reasoner, restorer], outputs=[diagnosis, slider, files], concurrency_limit=1)
    return app
