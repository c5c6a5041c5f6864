"""The one decoder policy table: per transfer syntax, which plugins decode it, in which order,
and whether its decoder can abort the process; plus the registry of our own plugins.

pydicom decodes through plugins (``pydicom.pixels.decoders``); this table says which ones we try
first. Adding a codec is one module plus one registration:

1. ``viewer/dicom/codecs/NAME.py`` following pydicom's plugin protocol: ``DECODER_DEPENDENCIES``
   (transfer syntax -> required packages), ``is_available(uid)`` and ``decode_frame(src,
   runner)``;
2. a line in :data:`CODECS` (label -> module) and the label in the :data:`POLICY` entries of
   the syntaxes it should decode first (tests/dicom/test_codec_registration.py does both at
   run time with :func:`register`).

Imports no pydicom: the table is plain strings, read by :mod:`viewer.dicom.pixels.decode` (which
registers :data:`CODECS` with pydicom) and :mod:`viewer.dicom.pixels.decode_pool`.

Measured with pydicom 3.0.2 on a 2-core machine, 512x512 CT (14-bit signed, with noise) and
8-bit derivatives, one frame per call, wall time (CPU time in brackets where the decoder is
multi-threaded):

* JPEG 2000 lossless (.90): gdcm 35-43 ms (55-68 ms CPU: GDCM's OpenJPEG decodes on both
  cores) vs pylibjpeg-openjpeg 52-55 ms, Pillow 52-60 ms: 28.5 vs 19.1 slices/s on a real
  512x512 CT. GDCM first. In a volume's worker pool every core is busy, so CPU time counts:
  pylibjpeg-openjpeg uses less (47 vs 54 ms), so it goes first there (``volume_plugins``).
* JPEG 2000 (.91), usually irreversible: pylibjpeg-openjpeg 4-19 ms vs gdcm 13-28 ms at
  compression 10:1 to 40:1 (1.4-3x faster; GDCM only wins near 5:1). OpenJPEG first.
* HTJ2K: pylibjpeg-openjpeg is the only decoder.
* JPEG baseline: Pillow 3.0 ms (mono) / 17 ms (YBR colour) vs gdcm 7.7 / 30 ms; on a
  128 x 128 grey frame Pillow 0.41 ms, libjpeg-turbo 0.51 ms, gdcm 0.98 ms. Pillow first.
* JPEG extended (12-bit grey): libjpeg-turbo 1.2 ms vs GDCM 2.6 ms (pydicom's gdcm plugin
  refuses 12 bits although GDCM decodes them: our "gdcm-extended" plugin is the fallback,
  and Pillow's libjpeg is 8-bit only). Same values to the last bit on pydicom's files.
* JPEG lossless (.57/.70), grey: libjpeg-turbo 2.8 ms vs gdcm 8.2 ms per 512 x 512 14-bit
  CT frame through pydicom (CPU). Colour: gdcm (libjpeg-turbo's plugin is grey only).
* JPEG-LS: pyjpegls 12.7 ms vs gdcm 18.7 ms.
* RLE: pylibjpeg-rle 2.4 ms vs pydicom's pure-Python decoder 18 ms.
* Native and deflated: numpy, 1.2 ms; no plugin.

Abort-prone: JPEG baseline, extended, lossless and lossless SV1: GDCM decodes them (first, or
after Pillow) with its libjpeg codec, which on corrupt data throws a C++ exception through its
Python binding: std::terminate aborts the whole process (found by the fuzz test). JPEG 2000
(lossless, lossy, and the Part 2 multi-component ones) likewise when GDCM's OpenJPEG codec gets
a scrambled code-stream after pylibjpeg gave up (5 in 12 scrambled CT slices). Their frames are
decoded in a worker process when asked for in the main process.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

TURBO = "libjpeg-turbo"
GDCM_EXTENDED = "gdcm-extended"


@dataclass(frozen=True)
class SyntaxPolicy:
    """How one transfer syntax is decoded.

    ``plugins``: tried first, in order, those installed; pydicom's own order follows.
    ``volume_plugins``: the order in a worker filling a volume, where it differs.
    ``abort_prone``: a decoder can abort the process on corrupt data (decode it in a worker).
    """

    plugins: tuple[str, ...] = ()
    volume_plugins: tuple[str, ...] | None = None
    abort_prone: bool = False


_JPEG_LOSSLESS = SyntaxPolicy((TURBO, "gdcm"), abort_prone=True)
#: Transfer Syntax UID -> policy (PS3.5 Annex A, PS3.6 Annex A). Absent: pydicom's order.
POLICY: dict[str, SyntaxPolicy] = {
    "1.2.840.10008.1.2.4.50": SyntaxPolicy(("pillow",), abort_prone=True),  # JPEG baseline
    "1.2.840.10008.1.2.4.51": SyntaxPolicy((TURBO, GDCM_EXTENDED), abort_prone=True),
    "1.2.840.10008.1.2.4.57": _JPEG_LOSSLESS,
    "1.2.840.10008.1.2.4.70": _JPEG_LOSSLESS,  # JPEG lossless SV1
    "1.2.840.10008.1.2.4.80": SyntaxPolicy(("pyjpegls",)),  # JPEG-LS lossless
    "1.2.840.10008.1.2.4.81": SyntaxPolicy(("pyjpegls",)),  # JPEG-LS near-lossless
    "1.2.840.10008.1.2.4.90": SyntaxPolicy(("gdcm",), ("pylibjpeg",), abort_prone=True),
    "1.2.840.10008.1.2.4.91": SyntaxPolicy(("pylibjpeg",), abort_prone=True),  # JPEG 2000
    "1.2.840.10008.1.2.4.92": SyntaxPolicy(abort_prone=True),  # JPEG 2000 Part 2 lossless
    "1.2.840.10008.1.2.4.93": SyntaxPolicy(abort_prone=True),  # JPEG 2000 Part 2
    "1.2.840.10008.1.2.4.201": SyntaxPolicy(("pylibjpeg",)),  # HTJ2K lossless
    "1.2.840.10008.1.2.4.202": SyntaxPolicy(("pylibjpeg",)),  # HTJ2K lossless RPCL
    "1.2.840.10008.1.2.4.203": SyntaxPolicy(("pylibjpeg",)),  # HTJ2K
    "1.2.840.10008.1.2.5": SyntaxPolicy(("pylibjpeg",)),  # RLE lossless
}
#: Our own pydicom plugins: label -> module (pydicom's plugin protocol, ``decode_frame``).
CODECS: dict[str, str] = {
    TURBO: "viewer.dicom.codecs.jpeg_turbo",
    GDCM_EXTENDED: "viewer.dicom.codecs.gdcm_extended",
}
#: Plugins that report corrupt data with an exception, never by aborting the process: the
#: only ones tried in the main process for an abort-prone syntax.
NEVER_ABORTING_PLUGINS = frozenset(["pylibjpeg"])


def policy(syntax: str) -> SyntaxPolicy:
    return POLICY.get(syntax, SyntaxPolicy())


def chosen_plugins(syntax: str, available: Sequence[str], volume: bool = False) -> list[str]:
    """The policy's plugins for ``syntax`` that are installed, best first (``volume``: the
    order for a volume's worker, where one is given)."""
    entry = policy(syntax)
    if volume and entry.volume_plugins is not None:
        chosen = [name for name in entry.volume_plugins if name in available]
        if chosen:
            return chosen
    return [name for name in entry.plugins if name in available]


def preferred_plugin(syntax: str) -> str:
    """The plugin tried first for ``syntax`` ("" when pydicom's order decides)."""
    plugins = policy(syntax).plugins
    return plugins[0] if plugins else ""


def abort_prone(syntax: str) -> bool:
    """True when decoding ``syntax`` here could abort the application's main process."""
    return policy(syntax).abort_prone and multiprocessing.parent_process() is None


def register(label: str, module: str, first_for: Sequence[str] = ()) -> None:
    """Add the plugin ``module`` under ``label`` and try it first for the ``first_for``
    syntaxes (the one registration a new codec needs; :mod:`viewer.dicom.pixels.decode`
    hands :data:`CODECS` to pydicom when it loads, or at once if it has loaded)."""
    CODECS[label] = module
    for syntax in first_for:
        entry = policy(syntax)
        POLICY[syntax] = replace(entry, plugins=(label, *entry.plugins))
    for listener in _listeners:
        listener(label, module)


#: Called with (label, module) for each codec :func:`register` adds.
Listener = Callable[[str, str], None]
_listeners: list[Listener] = []


def on_register(listener: Listener) -> None:
    """Call ``listener(label, module)`` for each codec registered from now on."""
    _listeners.append(listener)
