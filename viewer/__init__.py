"""dicom-viewer: a fast, correct desktop DICOM viewer."""

__version__ = "0.1.0"
