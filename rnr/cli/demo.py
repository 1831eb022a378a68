"""rnr-demo: a local web page to diagnose and restore photos (needs the demo extra: pip install "rnr[demo]").

    rnr-demo [--port 7860] [--host 127.0.0.1] [--reasoner ID|PATH]... [--restorer ID|PATH]...
             [--max-pixels N] [--max-upload-mb MB] [--device auto|cuda|cpu]

The page offers the lite reasoner, the lite and classical restorers, and every model
named with --reasoner/--restorer (each loaded at start, so a wrong name fails at once).
It listens on 127.0.0.1 (this computer only) unless --host says otherwise. Uploads over
--max-upload-mb are refused by the page, photos over --max-pixels with a message saying
so; a bad upload gets its one-line message and the page stays up. Ctrl-C stops it.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

PROG = "rnr-demo"
MAX_PIXELS_DEFAULT = 16_000_000  # lite restores about 6 MP in 40 s on two CPU cores: bigger photos keep a page waiting
MAX_UPLOAD_MB_DEFAULT = 25.0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="A local web page: drop a photo, see what is wrong with it, and the restored result.")
    parser.add_argument("--port", type=int, default=7860, help="port to listen on (default 7860)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this computer only; 0.0.0.0: your whole network)")
    parser.add_argument("--reasoner", action="append", default=[], metavar="ID|PATH", help="also offer this reasoner (repeatable; lite is always offered)")
    parser.add_argument("--restorer", action="append", default=[], metavar="ID|PATH", help="also offer this restorer (repeatable; lite and classical are always offered)")
    parser.add_argument("--max-pixels", type=int, default=MAX_PIXELS_DEFAULT, metavar="N", help=f"refuse photos above N pixels (default {MAX_PIXELS_DEFAULT:,})")
    parser.add_argument("--max-upload-mb", type=float, default=MAX_UPLOAD_MB_DEFAULT, metavar="MB", help=f"refuse uploads above MB megabytes (default {MAX_UPLOAD_MB_DEFAULT:g})")
    parser.add_argument("--device", default="auto", help="Qwen models: cuda, cpu or auto")
    return parser


def _say(message: str) -> None:
    print(f"{PROG}: {message}", file=sys.stderr, flush=True)


def offered(args: argparse.Namespace):
    """The `Models` the page offers: the built-in ones first, then those named on the command line, each once."""
    from rnr.pipeline import CLASSICAL, LITE
    from rnr.webdemo import Models

    reasoners = list(dict.fromkeys([LITE, *args.reasoner]))
    restorers = list(dict.fromkeys([LITE, CLASSICAL, *args.restorer]))
    return Models(reasoners=reasoners, restorers=restorers, device=args.device)


def preflight(args: argparse.Namespace) -> str | None:
    if not 0 < args.port < 65536:
        return f"--port {args.port}: not a port; use 1-65535 (default 7860)"
    if args.max_pixels < 1:
        return f"--max-pixels {args.max_pixels}: must be a positive number of pixels (default {MAX_PIXELS_DEFAULT:,})"
    if args.max_upload_mb <= 0:
        return f"--max-upload-mb {args.max_upload_mb:g}: must be positive (default {MAX_UPLOAD_MB_DEFAULT:g})"
    try:
        import gradio  # noqa: F401
    except ImportError:
        return 'the web demo needs gradio: pip install "rnr[demo]" (in a checkout: pip install -e ".[demo]")'
    return None


def main(argv: list[str] | None = None) -> int:
    from rnr.imageio import lift_pil_pixel_limit

    args = build_parser().parse_args(argv)
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # no calls home from a local demo
    if problem := preflight(args):
        _say(problem)
        return 2
    models = offered(args)
    try:
        for role, names in (("reasoner", models.reasoners), ("restorer", models.restorers)):
            for name in names:
                models.get(role, name)
    except (FileNotFoundError, ValueError) as error:
        _say(f"error: {str(error).splitlines()[0]}")
        return 2
    lift_pil_pixel_limit()  # this process's own: --max-pixels decides, in a message naming the photo
    with tempfile.TemporaryDirectory(prefix="rnr-demo-") as workdir:
        return serve(args, models, Path(workdir))


def serve(args: argparse.Namespace, models, workdir: Path) -> int:
    from rnr.webdemo import CSS, DEMO_PHOTOS, build_app

    app = build_app(models, args.max_pixels, workdir)
    _say(f"open http://{args.host}:{args.port} in a browser; Ctrl-C stops the demo")
    try:
        app.launch(server_name=args.host, server_port=args.port, share=False, inbrowser=False, show_error=True,
                   max_file_size=f"{args.max_upload_mb:g}mb", allowed_paths=[str(DEMO_PHOTOS)], ssr_mode=False,
                   footer_links=[], css=CSS, quiet=True)
    except OSError as error:
        _say(f"--host {args.host} --port {args.port}: cannot listen there ({error}); choose another --port")
        return 2
    except KeyboardInterrupt:
        _say("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
