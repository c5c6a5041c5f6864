"""The benchmark suite behind ``dicom-viewer bench`` (GitHub issue 3).

Every speed target of the project is measured here, on data this package generates (seeded,
cached under the user cache folder), side by side with the references (python-gdcm's Scanner,
SimpleITK's ImageSeriesReader) in the same run on the same files. Each measurement is a small
function in its own module that returns nothing when the feature it measures does not exist
yet, so its key is absent from the report rather than faked.

Modules: :mod:`sizes` (what to generate and how often to repeat), :mod:`phantom` (pixels),
:mod:`dicom_files` and :mod:`encodings` (writing DICOM), :mod:`data` (the cache), :mod:`stats`
(median/min/max), one module per measurement, :mod:`suite` (runs them) and :mod:`report`.
Nothing here imports Qt: GUI measurements run in child processes (the ``*_probe`` modules).
"""
