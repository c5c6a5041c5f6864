"""Stored values to display: decoding frames (in worker processes), the PS3.3 C.11 pipeline,
LUTs, volumes and the frame cache."""
