"""SimpleITK's equivalent of ``dicom-viewer volume FOLDER OUT.npz``, run as its own process.

The whole-process reference of :mod:`viewer.bench.loading` (``load_whole_process_ratio``):
series discovery (``GetGDCMSeriesFileNames``), ``ImageSeriesReader.Execute``, the voxels as a
numpy view (no copy) and the index->LPS affine from origin, spacing and direction, written with
``np.savez`` as a researcher's script would. Run as a file (``python sitk_volume.py``), so it
imports nothing of the viewer.
"""

import sys

import numpy as np
import SimpleITK as sitk


def main(folder: str, out: str) -> None:
    reader = sitk.ImageSeriesReader()
    reader.SetFileNames(reader.GetGDCMSeriesFileNames(folder))
    image = reader.Execute()
    voxels = sitk.GetArrayViewFromImage(image)
    direction = np.array(image.GetDirection()).reshape(3, 3)
    affine = np.eye(4)
    affine[:3, :3] = direction * np.array(image.GetSpacing())
    affine[:3, 3] = image.GetOrigin()
    with open(out, "wb") as handle:
        np.savez(handle, voxels=voxels, affine=affine)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
