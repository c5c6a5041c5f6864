"""Measurements and annotations in the model (no Qt): shapes in image pixel coordinates
(:mod:`.shapes`), what a pixel measures (:mod:`.calibration`), the numbers (:mod:`.measure`)
and the session's store with undo/redo (:mod:`.store`). The Qt layer only draws them
(viewer.qt.annotation_layer); DICOM objects are written from them (viewer.dicom.write.sr).
"""
