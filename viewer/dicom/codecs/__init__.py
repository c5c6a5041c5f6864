"""Decoder plugins for pydicom: one module per backend."""
