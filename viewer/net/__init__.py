"""Network clients (no Qt): query, retrieve and send against a PACS (issue 16).

- :mod:`viewer.net.nodes`: remote nodes and the viewer's own AE (``nodes.json``), and how a
  NODE argument is read (a configured name, ``AET@host:port``, an http(s) base URL).
- :mod:`viewer.net.query`: query filters and results, shared by both protocols.
- :mod:`viewer.net.landing`: where retrieved instances go (the study database's managed
  store, or a folder), one at a time as they arrive, with counts per series.
- :mod:`viewer.net.dimse`: DIMSE through pynetdicom: C-ECHO, C-FIND, C-GET, C-MOVE into our
  own C-STORE SCP, C-STORE (PS3.4 Annexes A, B, C; PS3.7).
- :mod:`viewer.net.dicomweb`: DICOMweb through dicomweb-client: QIDO-RS, WADO-RS, STOW-RS
  (PS3.18 10.4-10.6).
- :mod:`viewer.net.client`: one interface over both (:func:`~viewer.net.client.connect`).

Every failure is a :class:`~viewer.net.errors.NetError` whose message is one line that says
what failed (connection refused, timed out, association rejected and why, HTTP status), with
no patient data in it.
"""
