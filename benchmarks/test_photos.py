"""Write the held-out test photos (skimage.data, never in the training pool) as PNGs.

    python benchmarks/test_photos.py data/test-photos
"""

import sys
from pathlib import Path

from PIL import Image
from skimage import data

PHOTOS = {
    "astronaut": data.astronaut,
    "chelsea": data.chelsea,
    "coffee": data.coffee,
    "rocket": data.rocket,
    "motorcycle": lambda: data.stereo_motorcycle()[0],
}


def main(folder: str) -> None:
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    for name, load in PHOTOS.items():
        Image.fromarray(load()).save(out / f"{name}.png")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "data/test-photos")
