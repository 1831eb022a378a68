"""Write the lite models' extra training photos (never the test five) as PNGs.

    python scripts/extra_photos.py data/extra-photos

Photos that ship with installed packages, so no download: scikit-image's sample data
(public domain / CC0, see skimage.data's docs) and matplotlib's Grace Hopper portrait
(public domain, US Navy). Greyscale ones are written as RGB. The test photos of
benchmarks/test_photos.py (astronaut, chelsea, coffee, rocket, motorcycle) are excluded.
"""

import sys
from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data

PHOTOS = {
    "camera": data.camera,
    "clock": data.clock,
    "coins": data.coins,
    "brick": data.brick,
    "grass": data.grass,
    "gravel": data.gravel,
    "moon": data.moon,
    "hubble": data.hubble_deep_field,
    "immunohistochemistry": data.immunohistochemistry,
}


def grace_hopper() -> np.ndarray:
    import matplotlib.cbook

    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as handle:
        return np.asarray(Image.open(handle).convert("RGB"))


def main(folder: str) -> None:
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    for name, load in {**PHOTOS, "grace_hopper": grace_hopper}.items():
        image = np.asarray(load())
        if image.ndim == 2:
            image = np.stack([image] * 3, axis=-1)
        Image.fromarray(image[..., :3].astype(np.uint8)).save(out / f"{name}.png")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "data/extra-photos")
