"""Reading DICOM from storage: finding files (folders, zips, DICOMDIR), walking headers and
indexing them into a catalog."""
