#!/usr/bin/env bash
# Regenerate the DCMTK reference renderings that tests/dicom/test_render.py compares
# `viewer.dicom.pixels.display.render_frame` against. Needs DCMTK (apt-get install dcmtk; these were
# made with dcmj2pnm/dcml2pnm 3.6.7) and the project's .venv with its test extra (to locate
# pydicom's bundled test files and pydicom-data's, and to transcode what DCMTK cannot read:
# JPEG 2000 and segmented palettes). The tests themselves never run DCMTK.
#
# Not covered, because DCMTK 3.6.7 cannot decode it and no test file exists: HTJ2K (neither
# pydicom nor pydicom-data 1.0 bundles one, and OpenJPEG cannot encode it).
#
# Every command renders one frame at 1:1 as an 8-bit PNG (+on), without overlays (-O), with
# the same VOI the test asks of render_frame:
#   +Ww C W  an explicit window        -> render_frame(..., window=(C, W))
#   +Wi 1    the file's first window   -> render_frame(...)   (the viewer's default)
#   +Wm      min-max of the frame      -> render_frame(...)   (file without a window)
#   (none)   colour and palette colour -> render_frame(...)
# dcmj2pnm's +F counts frames from 1; render_frame from 0. +C LEFT TOP WIDTH HEIGHT keeps a
# region of a large frame (after VOI, so min-max is still the whole frame's); the test crops
# render_frame's output the same way (CLIPS in test_render.py).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
py="$root/.venv/bin/python"
data="$("$py" -c 'import os, pydicom.data as d; print(os.path.dirname(d.get_testdata_file("CT_small.dcm")))')"
# pydicom-data's larger files (the test extra installs it; get_testdata_file finds them there).
store="$("$py" -c 'import os, pydicom.data as d; print(os.path.dirname(d.get_testdata_file("JPEG-LL.dcm", download=False)))')"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

j2pnm() { dcmj2pnm -q -O +on -mf "$@"; }  # -mf: no time stamp, reproducible files

# Monochrome, native.
j2pnm +Ww 40 400 "$data/CT_small.dcm" "$here/ct_small_w40_400.png"          # 16-bit signed, rescale
j2pnm +Wm "$data/CT_small.dcm" "$here/ct_small_minmax.png"                   # no window in file
j2pnm +Wi 1 "$data/MR_small.dcm" "$here/mr_small.png"                        # file window
j2pnm +Wi 1 "$data/dicomdirtests/77654033/CR1/6154" "$here/cr_monochrome1.png"  # MONOCHROME1, slope 0.684
j2pnm +Wi 1 "$data/examples_overlay.dcm" "$here/mr_12bit_overlay_off.png"    # 12-bit, overlays not drawn
j2pnm +Wm +F 8 "$data/rtdose.dcm" "$here/rtdose_frame7.png"                  # 32-bit multi-frame, frame 7
j2pnm +Wm "$data/image_dfl.dcm" "$here/deflated_8bit.png"                    # deflated explicit VR

# Monochrome, compressed.
j2pnm +Wm +F 8 "$data/rtdose_rle.dcm" "$here/rtdose_rle_frame7.png"          # RLE, 32-bit, frame 7
j2pnm +Wm "$data/JPGExtended.dcm" "$here/jpeg_extended_12bit.png"            # JPEG 12-bit (GDCM here)
dcml2pnm -q -O +on -mf +Wi 1 "$data/MR_small_jpeg_ls_lossless.dcm" "$here/jpegls_mr.png"  # JPEG-LS
j2pnm +Wm +C 0 128 256 256 "$store/JPEG-LL.dcm" "$here/jpeg_lossless_16bit_signed.png"  # SV1

# Enhanced multi-frame (PS3.3 C.7.6.16). DCMTK applies the shared Pixel Value Transformation
# but not the Frame VOI LUT functional group, so it is given that window (49/102) explicitly;
# render_frame must find it in the functional groups itself (the test passes no window).
j2pnm +Ww 49 102 +F 2 +C 128 128 256 256 "$store/eCT_Supplemental.dcm" "$here/enhanced_ct_frame1.png"
j2pnm +Wm +F 4 "$store/emri_small.dcm" "$here/enhanced_mr_frame3.png"       # Enhanced MR, frame 3

# JPEG 2000: DCMTK has no J2K decoder, so the frame is first transcoded to explicit VR little
# endian with the decoder the viewer does NOT use for that syntax (GDCM for .91, OpenJPEG for
# .90), then rendered by DCMTK: the test checks decoding and display against independent code.
# Colour JPEG 2000 (YBR_RCT, YBR_ICT) comes out of both decoders as RGB (the codestream's
# component transform undone) and is written as RGB.
# DCMTK ignores segmented palettes ("not yet supported"), so GDCM applies the segmented
# Palette Color LUT (the viewer uses pydicom's expansion) and DCMTK renders the 16-bit RGB.
"$py" - "$data" "$store" "$tmp" <<'EOF'
import sys

import gdcm
import numpy as np
import pydicom
from pydicom.pixels import pixel_array
from pydicom.uid import ExplicitVRLittleEndian

data, store, tmp = sys.argv[1:]


def save_native(ds, pixels, name, photometric=None):
    ds.PixelData = pixels.astype(pixels.dtype.newbyteorder("<")).tobytes()
    ds["PixelData"].VR = "OW" if pixels.dtype.itemsize > 1 else "OB"
    if photometric is not None:
        ds.PhotometricInterpretation = photometric
    if ds.get("SamplesPerPixel", 1) == 3:
        ds.PlanarConfiguration = 0
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.save_as(f"{tmp}/{name}", enforce_file_format=True)


for folder, name, plugin in (
    (data, "693_J2KI.dcm", "gdcm"),
    (data, "MR_small_jp2klossless.dcm", "pylibjpeg"),
    (data, "GDCMJ2K_TextGBR.dcm", "pylibjpeg"),  # .90 YBR_RCT
    (store, "US1_J2KI.dcm", "gdcm"),  # .91 YBR_ICT
):
    ds = pydicom.dcmread(f"{folder}/{name}")
    colour = ds.SamplesPerPixel == 3
    save_native(ds, pixel_array(ds, decoding_plugin=plugin), name, "RGB" if colour else None)

name = "gdcm-US-ALOKA-16.dcm"
reader = gdcm.ImageReader()
reader.SetFileName(f"{store}/{name}")
assert reader.Read(), name
lookup = gdcm.ImageApplyLookupTable()
lookup.SetInput(reader.GetImage())
assert lookup.Apply(), name
image = lookup.GetOutput()
bits = image.GetPixelFormat().GetBitsAllocated()
columns, rows = image.GetDimensions()[:2]
buffer = image.GetBuffer().encode("utf-8", "surrogateescape")  # SWIG hands bytes as str
rgb = np.frombuffer(buffer, dtype=f"<u{bits // 8}").reshape(rows, columns, 3)
ds = pydicom.dcmread(f"{store}/{name}")
for keyword in [keyword for keyword in ds.dir() if "PaletteColor" in keyword]:
    delattr(ds, keyword)
ds.SamplesPerPixel = 3
ds.BitsAllocated = ds.BitsStored = bits
ds.HighBit = bits - 1
save_native(ds, rgb, name, "RGB")
EOF
j2pnm +Wi 1 "$tmp/693_J2KI.dcm" "$here/j2k_lossy_ct.png"                     # .91, CT 40/100
j2pnm +Wi 1 "$tmp/MR_small_jp2klossless.dcm" "$here/j2k_lossless_mr.png"     # .90
j2pnm "$tmp/GDCMJ2K_TextGBR.dcm" "$here/j2k_ybr_rct.png"                     # .90 colour
j2pnm +C 120 150 192 128 "$tmp/US1_J2KI.dcm" "$here/j2k_ybr_ict.png"         # .91 colour
j2pnm +C 0 0 192 160 "$tmp/gdcm-US-ALOKA-16.dcm" "$here/palette_segmented.png"  # 16-bit

# Colour.
j2pnm "$data/ExplVR_BigEnd.dcm" "$here/rgb_planar_big_endian.png"            # RGB, planar 1
j2pnm "$data/SC_rgb_rle_16bit.dcm" "$here/rgb_16bit_rle.png"                 # RGB 16-bit -> 8
j2pnm +F 2 "$data/SC_rgb_rle_2frame.dcm" "$here/rgb_rle_frame1.png"          # RLE colour, frame 1
j2pnm "$data/SC_ybr_full_422_uncompressed.dcm" "$here/ybr_full_422_native.png"
j2pnm "$data/SC_rgb_jpeg_dcmtk.dcm" "$here/ybr_full_jpeg.png"                # JPEG baseline YBR_FULL
j2pnm "$data/SC_rgb_jpeg_gdcm.dcm" "$here/rgb_jpeg_lossless.png"             # JPEG lossless RGB
j2pnm +F 11 "$data/examples_ybr_color.dcm" "$here/ybr_422_jpeg_frame10.png"  # JPEG YBR_FULL_422
j2pnm "$data/examples_palette.dcm" "$here/palette.png"                       # PALETTE COLOR, 16-bit LUT
