"""Adding a codec is one module plus one registration (viewer.dicom.codecs.policy).

The module is tests/dicom/counting_rle_codec.py (pydicom's plugin protocol); the registration is
``policy.register(label, module, first_for=[syntax])``. After it, read_frame decodes that
syntax with the new plugin first and names it as the decoder, with the same values.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from pydicom import dcmread
from pydicom.pixels import get_decoder
from pydicom.uid import RLELossless

from tests import factories
from tests.dicom import counting_rle_codec
from viewer.dicom.codecs import policy
from viewer.dicom.pixels.reading import read_frame


@pytest.fixture
def registered() -> Iterator[None]:
    saved_policy, saved_codecs = dict(policy.POLICY), dict(policy.CODECS)
    policy.register(counting_rle_codec.LABEL, counting_rle_codec.__name__, [RLELossless])
    yield
    policy.POLICY.clear()
    policy.POLICY.update(saved_policy)
    policy.CODECS.clear()
    policy.CODECS.update(saved_codecs)
    get_decoder(RLELossless).remove_plugin(counting_rle_codec.LABEL)


def _rle_file(folder: Path) -> Path:
    path = Path(factories.write_series(folder, slices=1).paths[0])
    ds = dcmread(path)
    ds.compress(RLELossless)
    ds.save_as(path)
    return path


def test_one_registration_makes_the_new_codec_decode_first(
    tmp_path: Path, registered: None
) -> None:
    path = _rle_file(tmp_path)
    assert policy.chosen_plugins(RLELossless, get_decoder(RLELossless).available_plugins)[0] == (
        counting_rle_codec.LABEL
    )
    before = counting_rle_codec.calls
    decoded = read_frame(path)
    assert decoded.decoder == counting_rle_codec.LABEL
    assert counting_rle_codec.calls == before + 1
    assert np.array_equal(decoded.stored, dcmread(path).pixel_array)


def test_without_it_the_policy_is_unchanged(tmp_path: Path) -> None:
    assert counting_rle_codec.LABEL not in policy.CODECS
    assert read_frame(_rle_file(tmp_path)).decoder == "pylibjpeg"


def test_every_policy_entry_is_a_syntax_policy() -> None:
    for syntax, entry in policy.POLICY.items():
        assert syntax.startswith("1.2.840.10008.1.2.") and entry == replace(entry)
    assert policy.abort_prone("1.2.840.10008.1.2.4.70") and not policy.abort_prone(
        "1.2.840.10008.1.2.5"
    )
