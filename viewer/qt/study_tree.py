"""The study browser: a Qt tree model over the Catalog (patient > study > series), a filter.

Rows are keyed by what identifies them (patient key, Study and Series Instance UIDs), so a
DICOMDIR's preview (PS3.3 F.5 records: counts before any file is read) and the files indexed
later meet in the same rows; counts read "indexed/expected" until the files are all there.
Rows are added as index batches arrive (the catalog's ``Added`` results), so the tree fills
while indexing runs. Sorting and filtering happen in :class:`StudyFilterProxy`: patients by
name, studies newest first, series by number; the filter keeps rows whose text (names, IDs,
descriptions, of the row and its ancestors) holds every word typed.

Series rows carry their Series Instance UID in SERIES_UID_ROLE and a thumbnail as decoration;
a series with problems (files or frames that could not be used) shows a warning sign and their
count beside its image count.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from PySide6.QtCore import (
    QByteArray,
    QMimeData,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import (
    QBrush,
    QColor,
    QFont,
    QIcon,
    QImage,
    QPixmap,
    QStandardItem,
    QStandardItemModel,
)
from PySide6.QtWidgets import QApplication, QStyle

from viewer.dicom.catalog.catalog import Added, SeriesNode
from viewer.dicom.catalog.records import PatientInfo, SeriesInfo, StudyInfo
from viewer.dicom.catalog.sop_kinds import object_kind
from viewer.dicom.io.dicomdir import DirectoryPreview, PreviewSeries
from viewer.qt.dates import format_date, format_date_time

SERIES_UID_ROLE = Qt.ItemDataRole.UserRole + 1
SORT_ROLE = Qt.ItemDataRole.UserRole + 2
SEARCH_ROLE = Qt.ItemDataRole.UserRole + 3
#: A stack row's number in its series' stacks (0-based, as ``inspect`` lists them); series
#: rows have none.
STACK_ROLE = Qt.ItemDataRole.UserRole + 4
FRAMES_ROLE = Qt.ItemDataRole.UserRole + 5
#: A study row's Study Instance UID (what "Send to…" sends of it).
STUDY_UID_ROLE = Qt.ItemDataRole.UserRole + 6
#: What a series or stack row carries when dragged: "SERIES_UID\nSTACK_NUMBER" (UTF-8).
SERIES_MIME = "application/x-dicom-viewer-series"
#: The row of the series (and stack) a viewport shows: bold, in this colour.
SHOWN_COLOUR = "#3d8ee8"
#: Header labels, short so that every column fits the default dock (the description elides
#: in the middle before a date is cut); :data:`COLUMN_TIPS` says them in full.
COLUMNS = ("Patient / study / series", "Mod.", "Date", "#")
COLUMN_TIPS = ("Patient, study and series", "Modality", "Study date and time", "Images (frames)")
#: What the tree calls a key object selection series (its row reads "Key images").
KEY_IMAGES_KIND = "Key object selection"
#: What a click on a row of objects without images does (viewer.qt.documents,
#: viewer.qt.presentation_states), for its tooltip.
CLICK_HINTS = {
    "Structured report": "a click shows it in the Report panel",
    "Dose report": "a click shows it in the Report panel",
    KEY_IMAGES_KIND: "a click shows its images",
    "Encapsulated PDF": "a click opens it in the system's PDF viewer",
    "Presentation state": "a click shows its image with it applied",
}
ModelIndex = QModelIndex | QPersistentModelIndex


def patient_label(info: PatientInfo) -> str:
    """``Name  [ID, birth date, sex]`` (PS3.3 C.7.1.1)."""
    details = [part for part in (info.patient_id, format_date(info.birth_date), info.sex) if part]
    name = info.name or "(no name)"
    return f"{name}  [{', '.join(details)}]" if details else name


def study_label(info: StudyInfo) -> str:
    """Study Description, then the Accession Number (PS3.3 C.7.2.1)."""
    description = info.description or "(no description)"
    return f"{description}  · Acc {info.accession_number}" if info.accession_number else description


def study_date(info: StudyInfo) -> str:
    """The study's date and time in the one display format (viewer.qt.dates)."""
    return format_date_time(info.date, info.time)


def series_label(info: SeriesInfo, kind: str = "") -> str:
    """``#number description``; a second line with the body part and, for objects that are
    not images, what they are (PS3.3 C.7.3.1)."""
    number = f"#{info.number} " if info.number is not None else ""
    details = "  · ".join(part for part in (info.body_part, kind) if part)
    text = f"{number}{info.description or '(no description)'}"
    if kind == KEY_IMAGES_KIND:  # a click shows its images (viewer.qt.documents)
        text = f"{number}Key images" + (f": {info.description}" if info.description else "")
    return f"{text}\n{details}" if details else text


def count_text(instances: int, frames: int, expected: int) -> str:
    """Instances (and frames when they differ); ``indexed/expected`` while a DICOMDIR's files
    are still being read."""
    if expected and instances < expected:
        return f"{instances}/{expected}"
    if frames and frames != instances:
        return f"{instances} ({frames} fr)"
    return str(instances)


def _negated(stamp: str) -> str:
    """Sort key putting the newest date first under ascending sort; undated last."""
    return "0" + "".join(chr(0x2FFFF - ord(char)) for char in stamp) if stamp else "1"


@dataclass
class _SeriesState:
    """What a series row shows, from the catalog and from DICOMDIR previews."""

    info: SeriesInfo
    items: list[QStandardItem]
    instances: int = 0
    frames: int = 0
    expected: int = 0
    kind: str = ""
    ancestors_text: str = ""
    previews: set[str] = field(default_factory=set)
    problems: int = 0
    stack_items: list[list[QStandardItem]] = field(default_factory=list)


def series_payload(series_uid: str, stack: int) -> QMimeData:
    """The drag payload of a series (or one of its stacks)."""
    data = QMimeData()
    data.setData(SERIES_MIME, QByteArray(f"{series_uid}\n{stack}".encode()))
    return data


def read_payload(data: QMimeData | None) -> tuple[str, int] | None:
    """(Series Instance UID, stack number) of a dragged series row, None for anything else."""
    if data is None or not data.hasFormat(SERIES_MIME):
        return None
    text = bytes(data.data(SERIES_MIME).data()).decode("utf-8", "replace")
    uid, _, number = text.partition("\n")
    if not uid:
        return None
    return uid, int(number) if number.isdigit() else 0


class StudyTreeModel(QStandardItemModel):
    """Incrementally built tree; one row per patient, study and series."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setHorizontalHeaderLabels(list(COLUMNS))
        for column, tip in enumerate(COLUMN_TIPS):
            self.setHeaderData(column, Qt.Orientation.Horizontal, tip, Qt.ItemDataRole.ToolTipRole)
        self._patients: dict[str, list[QStandardItem]] = {}
        self._studies: dict[str, list[QStandardItem]] = {}
        self._study_modalities: dict[str, set[str]] = {}
        #: Studies shown from a DICOMDIR's records, by the patient the records gave (maybe
        #: none: nested Philips media have no PATIENT record); their files have the last word.
        self._previewed_under: dict[str, PatientInfo] = {}
        self._series: dict[str, _SeriesState] = {}
        self._shown: tuple[str, int | None] | None = None

    # --- drag ----------------------------------------------------------------------------
    def mimeTypes(self) -> list[str]:
        return [SERIES_MIME]

    def mimeData(self, indexes: Sequence[QModelIndex]) -> QMimeData | None:  # type: ignore[override]
        """A series row (or a stack row under it) dragged onto a viewport: its UID and stack."""
        for index in indexes:
            uid = index.siblingAtColumn(0).data(SERIES_UID_ROLE)
            if uid:
                stack = index.siblingAtColumn(0).data(STACK_ROLE)
                return series_payload(str(uid), int(stack) if stack is not None else 0)
        return None

    # --- catalog changes -----------------------------------------------------------------
    def apply(self, change: Added) -> bool:
        """Add or refresh the rows one catalog change touched."""
        return self.apply_batch([change])

    def apply_batch(self, changes: Iterable[Added]) -> bool:
        """Add or refresh the rows a batch of catalog changes touched (each row once).

        Returns whether rows were added (the view may want to expand them).
        """
        rows = len(self._series)
        touched: dict[int, tuple[Added, _SeriesState]] = {}
        for change in changes:
            previewed = self._previewed_under.pop(change.study.info.uid, None)
            if previewed is not None and previewed.key != change.patient.info.key:
                self._move_study(change.study.info.uid, previewed, change.patient.info)
            if change.moved_from is not None:
                self._move_study(change.study.info.uid, change.moved_from.info, change.patient.info)
            if id(change.series) not in touched:
                state = self._ensure_series(change.patient.info, change.study.info, change.series)
                touched[id(change.series)] = (change, state)
        for change, state in touched.values():
            self._count(state, change.series)
            self._add_modality(change.study.info.uid, change.series.info.modality)
            self._refresh_series(state)
        return len(self._series) > rows

    def _ensure_series(
        self, patient: PatientInfo, study: StudyInfo, series: SeriesNode
    ) -> _SeriesState:
        state = self._series.get(series.uid)
        if state is None:
            return self._new_series(patient, study, series.info)
        if not state.info.description and series.info.description:
            state.info = series.info  # the files know more than a DICOMDIR record
        return state

    def _count(self, state: _SeriesState, series: SeriesNode) -> None:
        frames = 0
        for record in series.instances:
            if record.has_pixels:
                frames += record.frames
        state.instances = len(series.instances)
        state.frames = frames
        if not frames and series.instances:
            state.kind = non_image_kind(series.instances[0].sop_class_uid)
        elif frames:
            state.kind = ""

    # --- DICOMDIR previews ---------------------------------------------------------------
    def apply_preview(self, preview: DirectoryPreview) -> None:
        """Show what a DICOMDIR promises, before its files are read."""
        for entry in preview.series:
            if not entry.study.uid or not entry.series.uid:
                continue
            state = self._series.get(entry.series.uid)
            if state is None:
                if entry.study.uid not in self._studies:
                    self._previewed_under[entry.study.uid] = entry.patient
                state = self._new_series(entry.patient, entry.study, entry.series)
            if preview.path not in state.previews:
                state.previews.add(preview.path)
                state.expected = max(state.expected, entry.instances)
            if not state.instances:
                state.kind = _preview_kind(entry)
            self._add_modality(entry.study.uid, entry.series.modality)
            self._refresh_series(state)

    def finish_previews(self) -> None:
        """After indexing: series a DICOMDIR promised but whose files never came say so."""
        for state in self._series.values():
            if state.expected and state.instances < state.expected:
                missing = state.expected - state.instances
                state.items[3].setText(f"{state.instances}/{state.expected}")
                state.items[3].setToolTip(f"{missing} file(s) listed in the DICOMDIR not found")
            state.expected = 0 if state.instances >= state.expected else state.expected

    # --- rows ----------------------------------------------------------------------------
    def _new_series(self, patient: PatientInfo, study: StudyInfo, info: SeriesInfo) -> _SeriesState:
        study_row = self._study_row(patient, study)
        items = self._append(study_row[0], [series_label(info), info.modality, "", ""])
        for item in items:
            item.setDragEnabled(True)
        items[0].setData(info.uid, SERIES_UID_ROLE)
        sort_number = f"{info.number:010d}" if info.number is not None else "z"
        items[0].setData(f"{sort_number}\x00{info.description.casefold()}", SORT_ROLE)
        state = _SeriesState(info, items, ancestors_text=str(study_row[0].data(SEARCH_ROLE)))
        self._series[info.uid] = state
        return state

    def _study_row(self, patient: PatientInfo, info: StudyInfo) -> list[QStandardItem]:
        row = self._studies.get(info.uid)
        if row is None:
            parent = self._patient_row(patient)
            row = self._append(parent[0], [study_label(info), "", study_date(info), ""])
            row[0].setData(_negated(info.date + info.time) + info.uid, SORT_ROLE)
            row[0].setData(info.uid, STUDY_UID_ROLE)
            search = " ".join([info.description, info.accession_number, info.study_id, info.date])
            row[0].setData(f"{search} {parent[0].data(SEARCH_ROLE)}".casefold(), SEARCH_ROLE)
            row[0].setToolTip(
                f"{study_label(info)}\n{study_date(info)}\nStudy Instance UID {info.uid}"
            )
            self._studies[info.uid] = row
        return row

    def _patient_row(self, info: PatientInfo) -> list[QStandardItem]:
        row = self._patients.get(info.key)
        if row is None:
            row = self._append(self.invisibleRootItem(), [patient_label(info)])
            row[0].setToolTip(patient_label(info))
            row[0].setData(f"{info.name.casefold()}\x00{info.patient_id}", SORT_ROLE)
            search = " ".join([info.name, info.patient_id, info.birth_date])
            row[0].setData(search.casefold(), SEARCH_ROLE)
            self._patients[info.key] = row
        return row

    def _move_study(self, study_uid: str, old: PatientInfo, new: PatientInfo) -> None:
        """Show a study under the patient most of its files name (the catalog's majority)."""
        row = self._studies.get(study_uid)
        old_row = self._patients.get(old.key)
        if row is None or old_row is None or row[0].parent() is not old_row[0]:
            return
        taken = old_row[0].takeRow(row[0].row())
        new_row = self._patient_row(new)
        new_row[0].appendRow(taken)
        self._studies[study_uid] = taken
        if not old_row[0].hasChildren():
            self.invisibleRootItem().removeRow(old_row[0].row())
            del self._patients[old.key]

    def _add_modality(self, study_uid: str, modality: str) -> None:
        known = self._study_modalities.setdefault(study_uid, set())
        if modality and modality not in known:
            known.add(modality)
            text = ", ".join(sorted(known))
            self._studies[study_uid][1].setText(text)
            self._studies[study_uid][1].setToolTip(text)  # the column may elide a long list

    def _refresh_series(self, state: _SeriesState) -> None:
        """Set what changed (each change is a dataChanged the proxy and the view act on)."""
        info = state.info
        items = state.items
        study_day = state.ancestors_text  # the study's date is in its search text
        search = " ".join(
            [info.description, info.modality, info.body_part, str(info.number or ""), state.kind]
        )
        _set_text(items[0], series_label(info, state.kind))
        _set_text(items[2], format_date(info.date) if info.date not in study_day else "")
        _set_text(items[3], count_text(state.instances, state.frames, state.expected))
        _set_data(items[0], f"{search.casefold()} {state.ancestors_text}", SEARCH_ROLE)
        _set_data(items[0], _series_tooltip(state), Qt.ItemDataRole.ToolTipRole)

    def _append(self, parent: QStandardItem, texts: list[str]) -> list[QStandardItem]:
        items = [QStandardItem(text) for text in texts]
        items += [QStandardItem("") for _ in range(len(COLUMNS) - len(items))]
        for item in items:
            item.setEditable(False)
            item.setDragEnabled(False)
        parent.appendRow(items)
        return items

    # --- stacks under their series ---------------------------------------------------------
    def set_stacks(self, series_uid: str, stacks: Sequence[tuple[str, int]]) -> bool:
        """One child row per stack under a series of several: (title, frames) each, in the
        series' stack order. Returns whether the rows changed."""
        state = self._series.get(series_uid)
        if state is None:
            return False
        wanted = list(stacks) if len(stacks) > 1 else []
        current = [
            (items[0].text(), int(items[0].data(FRAMES_ROLE))) for items in state.stack_items
        ]
        if current == wanted:
            return False
        parent = state.items[0]
        if parent.rowCount():
            parent.removeRows(0, parent.rowCount())
        state.stack_items = []
        for number, (title, frames) in enumerate(wanted):
            items = self._append(parent, [title or f"stack {number + 1}", "", "", f"{frames} fr"])
            for item in items:
                item.setDragEnabled(True)
            items[0].setData(series_uid, SERIES_UID_ROLE)
            items[0].setData(number, STACK_ROLE)
            items[0].setData(frames, FRAMES_ROLE)
            items[0].setData(f"{number:04d}", SORT_ROLE)
            items[0].setToolTip(f"{title}\n{frames} frame(s); drag onto a viewport to show it")
            state.stack_items.append(items)
        self._show_marks()
        return True

    def stack_item(self, series_uid: str, number: int) -> QStandardItem | None:
        state = self._series.get(series_uid)
        if state is None or not 0 <= number < len(state.stack_items):
            return None
        return state.stack_items[number][0]

    def mark_shown(self, series_uid: str, stack: int | None) -> None:
        """Mark the row of the series (and stack) the active viewport shows; unmark the last."""
        shown = (series_uid, stack) if series_uid else None
        if shown == self._shown:
            return
        self._set_marks(False)
        self._shown = shown
        self._show_marks()

    def shown(self) -> tuple[str, int | None] | None:
        return self._shown

    def _show_marks(self) -> None:
        self._set_marks(True)

    def _set_marks(self, on: bool) -> None:
        if self._shown is None:
            return
        uid, number = self._shown
        rows = [self._series[uid].items] if uid in self._series else []
        item = self.stack_item(uid, number) if number is not None else None
        if item is not None:
            rows.append([item])
        for row in rows:
            cell = row[0]
            if on:
                font = QFont(cell.font())
                font.setBold(True)
                cell.setFont(font)
                cell.setForeground(QBrush(QColor(SHOWN_COLOUR)))
            else:  # back to the view's own font and the theme's text colour
                cell.setData(None, Qt.ItemDataRole.FontRole)
                cell.setData(None, Qt.ItemDataRole.ForegroundRole)

    # --- queries ------------------------------------------------------------------------
    def set_thumbnail(self, key: str, image: QImage) -> None:
        """Show ``image`` beside the row of ``key``: a Series Instance UID (its middle image)
        or :func:`stack_key` (a stack's middle frame)."""
        uid, _, number = key.partition(STACK_KEY_SEPARATOR)
        state = self._series.get(uid)
        if state is None:
            return
        item = state.items[0] if not number else self.stack_item(uid, int(number))
        if item is not None:
            item.setData(QIcon(QPixmap.fromImage(image)), Qt.ItemDataRole.DecorationRole)

    def has_stack_thumbnail(self, series_uid: str, number: int) -> bool:
        item = self.stack_item(series_uid, number)
        return item is not None and item.data(Qt.ItemDataRole.DecorationRole) is not None

    def set_problem_count(self, series_uid: str, count: int) -> None:
        """Mark the series row: ``count`` files or frames of it could not be used."""
        state = self._series.get(series_uid)
        if state is None or state.problems == count:
            return
        state.problems = count
        item = state.items[3]
        item.setData(_warning_icon() if count else None, Qt.ItemDataRole.DecorationRole)
        item.setToolTip(_problems_text(count) + " (see Problems)" if count else "")
        self._refresh_series(state)

    def problem_count(self, series_uid: str) -> int:
        state = self._series.get(series_uid)
        return state.problems if state is not None else 0

    def has_thumbnail(self, series_uid: str) -> bool:
        state = self._series.get(series_uid)
        return state is not None and state.items[0].data(Qt.ItemDataRole.DecorationRole) is not None

    def series_item(self, series_uid: str) -> QStandardItem | None:
        state = self._series.get(series_uid)
        return state.items[0] if state is not None else None

    def series_count_text(self, series_uid: str) -> str:
        state = self._series.get(series_uid)
        return state.items[3].text() if state is not None else ""

    def first_series_uid(self) -> str | None:
        """The UID of the first series row in insertion order, if any."""
        return next(iter(self._series), None)


#: Between a Series Instance UID and a stack number in a stack's thumbnail key.
STACK_KEY_SEPARATOR = "#"


def stack_key(series_uid: str, number: int) -> str:
    """The thumbnail key of stack ``number`` of a series (UIDs hold no "#")."""
    return f"{series_uid}{STACK_KEY_SEPARATOR}{number}"


def non_image_kind(sop_class_uid: str) -> str:
    """What objects without pixel data are: "Structured report"...; an image class whose file
    holds no pixels says so."""
    kind = object_kind(sop_class_uid)
    return f"{kind}, no pixel data" if kind.endswith("Image") else kind


def _set_text(item: QStandardItem, text: str) -> None:
    if item.text() != text:
        item.setText(text)


def _set_data(item: QStandardItem, value: str, role: Qt.ItemDataRole | int) -> None:
    if item.data(role) != value:
        item.setData(value, role)


def _preview_kind(entry: PreviewSeries) -> str:
    """What a DICOMDIR series holds when none of its classes is an image class."""
    kinds = {object_kind(uid) for uid in entry.sop_classes}
    images = {kind for kind in kinds if kind.endswith("Image") or kind == "Secondary capture"}
    return "" if images or not kinds else ", ".join(sorted(kinds))


def _series_tooltip(state: _SeriesState) -> str:
    info = state.info
    lines = [
        f"Series {info.number if info.number is not None else '-'}: {info.description}",
        f"Modality {info.modality}" + (f", {info.body_part}" if info.body_part else ""),
        f"{state.instances} instance(s), {state.frames} frame(s)",
        f"Series Instance UID {info.uid}",
    ]
    if state.kind:
        lines.insert(1, f"{state.kind} ({CLICK_HINTS.get(state.kind, 'not displayable')})")
    if state.expected:
        lines.append(f"DICOMDIR lists {state.expected} instance(s)")
    if state.problems:
        lines.append(_problems_text(state.problems) + " (see Problems)")
    return "\n".join(lines)


def _problems_text(count: int) -> str:
    return f"{count} file(s) or frame(s) could not be used"


#: The warning sign's size in logical pixels (a pixmap: the tree's icon size is a thumbnail's).
WARNING_SIZE = 16


def _warning_icon() -> QPixmap:
    style = QApplication.style()
    if style is None:
        return QPixmap()
    return style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning).pixmap(WARNING_SIZE)


class StudyFilterProxy(QSortFilterProxyModel):
    """Sorts the tree (patients by name, studies newest first, series by number) and keeps
    rows whose search text holds every word of the filter (with their ancestors and
    descendants, so a matching patient shows its studies)."""

    def __init__(self, source: StudyTreeModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._words: list[str] = []
        self.setSourceModel(source)
        self.setSortRole(SORT_ROLE)
        self.setRecursiveFilteringEnabled(True)
        self.setAutoAcceptChildRows(True)
        self.setDynamicSortFilter(True)
        self.sort(0, Qt.SortOrder.AscendingOrder)

    def set_filter_text(self, text: str) -> None:
        """Keep rows matching every word of ``text`` (case-insensitive); "" shows all."""
        self.beginFilterChange()
        self._words = text.casefold().split()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: ModelIndex) -> bool:
        if not self._words:
            return True
        model = self.sourceModel()
        text = str(model.index(source_row, 0, source_parent).data(SEARCH_ROLE) or "")
        return all(word in text for word in self._words)
