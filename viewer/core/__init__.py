"""What every layer shares, with no Qt and no DICOM: user folders, logging, scratch space,
errors, start-up timing, the application's icons."""
