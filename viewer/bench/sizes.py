"""What the suite generates and how often it repeats each measurement (full and --quick)."""

from __future__ import annotations

from dataclasses import dataclass

#: Bump when generated content changes: it names the cache folders (``bench-v1``).
DATA_VERSION = 1


@dataclass(frozen=True)
class BenchSizes:
    """Data sizes and repetition counts of one flavour of the suite."""

    name: str
    ct_slices: int
    ct_matrix: int
    index_files: int
    index_matrix: int
    radiograph_matrix: int
    cine_frames: int
    cine_rows: int
    cine_columns: int
    cine_seconds: float
    volume_slices: int
    volume_matrix: int
    runs: int
    warmups: int
    gui_steps: int
    startup_runs: int
    #: The generated query database (db_query_ms): studies and instance rows. Not data_fields:
    #: it has its own marker, so changing it does not write the files again.
    db_studies: int = 10_000
    db_instances: int = 1_000_000

    @property
    def folder_name(self) -> str:
        return f"{self.name}-v{DATA_VERSION}"

    def pixel_bytes(self, encodings: int = 5) -> int:
        """The generated set's pixel data if no encoding compressed at all (an upper bound of
        its size, headers aside): the CT once per encoding, the indexing files, the 16-bit
        radiograph, the RGB cine and the 16-bit MPR volume."""
        return (
            encodings * self.ct_slices * self.ct_matrix**2 * 2
            + self.index_files * self.index_matrix**2 * 2
            + self.radiograph_matrix**2 * 2
            + self.cine_frames * self.cine_rows * self.cine_columns * 3
            + self.volume_slices * self.volume_matrix**2 * 2
        )

    def data_fields(self) -> dict[str, int]:
        """The sizes that shape the generated data (a change means generating again)."""
        return {
            name: getattr(self, name)
            for name in (
                "ct_slices", "ct_matrix", "index_files", "index_matrix", "radiograph_matrix",
                "cine_frames", "cine_rows", "cine_columns", "volume_slices", "volume_matrix",
            )
        }  # fmt: skip


FULL = BenchSizes(
    name="bench",
    ct_slices=300,
    ct_matrix=512,
    index_files=10_000,
    index_matrix=128,  # indexing reads headers: 512 x 512 made the set 5.2 GB (issue 13)
    radiograph_matrix=3000,
    cine_frames=90,
    cine_rows=480,
    cine_columns=640,
    cine_seconds=10.0,
    volume_slices=600,
    volume_matrix=512,
    runs=3,
    warmups=1,
    gui_steps=40,
    startup_runs=3,
)

QUICK = BenchSizes(
    name="bench-quick",
    ct_slices=20,
    ct_matrix=128,
    index_files=300,
    index_matrix=128,
    radiograph_matrix=512,
    cine_frames=15,
    cine_rows=480,
    cine_columns=640,
    cine_seconds=0.5,
    volume_slices=64,
    volume_matrix=128,
    runs=1,
    warmups=1,
    gui_steps=8,
    startup_runs=1,
    db_studies=200,
    db_instances=4_000,
)
