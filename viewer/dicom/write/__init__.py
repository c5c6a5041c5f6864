"""Writing DICOM: the dataset builders that the demo, the benchmark and the tests share, the
File-set (DICOMDIR) writer, export and de-identification (PS3.15 Annex E)."""
