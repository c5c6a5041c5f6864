#!/usr/bin/env bash
# Regenerate the DCMTK reference renderings that tests/dicom/test_render.py compares
# `viewer.dicom.display.render_frame` against. Needs DCMTK (apt-get install dcmtk; these were
# made with dcmj2pnm/dcml2pnm 3.6.7) and the project's .venv (only to locate pydicom's bundled
# test files and to transcode JPEG 2000, which DCMTK cannot read). The tests themselves never
# run DCMTK.
#
# Every command renders one frame at 1:1 as an 8-bit PNG (+on), without overlays (-O), with
# the same VOI the test asks of render_frame:
#   +Ww C W  an explicit window        -> render_frame(..., window=(C, W))
#   +Wi 1    the file's first window   -> render_frame(...)   (the viewer's default)
#   +Wm      min-max of the frame      -> render_frame(...)   (file without a window)
#   (none)   colour and palette colour -> render_frame(...)
# dcmj2pnm's +F counts frames from 1; render_frame from 0.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
py="$root/.venv/bin/python"
data="$("$py" -c 'import os, pydicom.data as d; print(os.path.dirname(d.get_testdata_file("CT_small.dcm")))')"
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

# JPEG 2000: DCMTK has no J2K decoder, so the frame is first transcoded to explicit VR little
# endian with the decoder the viewer does NOT use for that syntax (GDCM for .91, OpenJPEG for
# .90), then rendered by DCMTK: the test checks decoding and display against independent code.
"$py" - "$data" "$tmp" <<'EOF'
import sys
import pydicom
from pydicom.pixels import pixel_array
from pydicom.uid import ExplicitVRLittleEndian
data, tmp = sys.argv[1:]
for name, plugin in (("693_J2KI.dcm", "gdcm"), ("MR_small_jp2klossless.dcm", "pylibjpeg")):
    ds = pydicom.dcmread(f"{data}/{name}")
    arr = pixel_array(ds, decoding_plugin=plugin)
    ds.PixelData = arr.astype(arr.dtype.newbyteorder("<")).tobytes()
    ds["PixelData"].VR = "OW"
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.save_as(f"{tmp}/{name}", enforce_file_format=True)
EOF
j2pnm +Wi 1 "$tmp/693_J2KI.dcm" "$here/j2k_lossy_ct.png"                     # .91, CT 40/100
j2pnm +Wi 1 "$tmp/MR_small_jp2klossless.dcm" "$here/j2k_lossless_mr.png"     # .90

# Colour.
j2pnm "$data/ExplVR_BigEnd.dcm" "$here/rgb_planar_big_endian.png"            # RGB, planar 1
j2pnm "$data/SC_rgb_rle_16bit.dcm" "$here/rgb_16bit_rle.png"                 # RGB 16-bit -> 8
j2pnm +F 2 "$data/SC_rgb_rle_2frame.dcm" "$here/rgb_rle_frame1.png"          # RLE colour, frame 1
j2pnm "$data/SC_ybr_full_422_uncompressed.dcm" "$here/ybr_full_422_native.png"
j2pnm "$data/SC_rgb_jpeg_dcmtk.dcm" "$here/ybr_full_jpeg.png"                # JPEG baseline YBR_FULL
j2pnm +F 11 "$data/examples_ybr_color.dcm" "$here/ybr_422_jpeg_frame10.png"  # JPEG YBR_FULL_422
j2pnm "$data/examples_palette.dcm" "$here/palette.png"                       # PALETTE COLOR, 16-bit LUT
