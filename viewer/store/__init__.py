"""The study database (no Qt): everything opened is remembered, searchable, and reopens
without reading headers (issue 15).

- :mod:`viewer.store.schema`: the SQLite file, its versioned schema and migrations, WAL.
- :mod:`viewer.store.database`: :class:`~viewer.store.database.StudyDatabase`, the one way
  in: batches of indexed files, study listings, a study's records, removal, and the
  viewer's own objects (measurements, issue 17).
- :mod:`viewer.store.importer`: index paths and record them, by reference or copied.
- :mod:`viewer.store.managed`: the managed store of copied and retrieved files.
- :mod:`viewer.store.query`: search terms (folded names, wildcards, date ranges) as SQL.

Landing retrieved instances (issue 16)::

    from viewer.dicom.io.scan import read_instance
    from viewer.store.database import StudyDatabase
    from viewer.store.managed import instance_path

    database = StudyDatabase(path_or_None)          # None: the user's database
    target = instance_path(study_uid, series_uid, sop_instance_uid)
    target.parent.mkdir(parents=True, exist_ok=True)
    ...write the received dataset to target...
    item = read_instance(str(target))               # ScannedFile, or Skipped with a reason
    database.add_instance(target, item, stored="pacs")   # or add_scanned(batch, "pacs", uris)

or, for files already on disk: ``import_paths(database, paths, copy=True, stored="pacs")``.
"""
