"""Writing DICOM: the dataset builders that the demo, the benchmark and the tests share."""
