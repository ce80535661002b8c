"""The Photos tab: thumbnails of the job's pictures, attaching more (Attach… or dropping
files on the tab), and a full view whose picture is read off the GUI thread.

Photos live in the database, so every workstation sees a new one through the change
feed; the grid only ever holds thumbnails.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QIcon,
    QImage,
    QPainter,
    QPixmap,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from dispatch_app.domain.tables import RecordPart
from dispatch_app.domain.work_order_record import size_text
from dispatch_app.errors import ConflictError
from dispatch_app.services.work_order.photos import attach_photo_file, load_photo, remove_photo
from dispatch_app.services.work_order.rows import PhotoFile, PhotoThumb, WorkOrderRecord
from dispatch_app.ui.forms import confirm
from dispatch_app.ui.workorder.common import (
    MUTED_STYLE,
    RecordHost,
    error_label,
    muted,
    show_error,
)

TILE = 180
PhotoRole = Qt.ItemDataRole.UserRole  # the PhotoThumb of a tile
IMAGE_FILTER = "Photos (*.jpg *.jpeg *.png *.webp *.gif);;All files (*)"


def _tile(thumbnail: bytes) -> QPixmap:
    """The thumbnail centred on a square tile, so the grid lines up whatever the shape."""
    tile = QPixmap(TILE, TILE)
    tile.fill(QColor("#eef1f4"))
    image = QImage.fromData(thumbnail)
    if not image.isNull():
        scaled = image.scaled(
            TILE,
            TILE,
            Qt.AspectRatioMode.KeepAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
        painter = QPainter(tile)
        painter.drawImage((TILE - scaled.width()) // 2, (TILE - scaled.height()) // 2, scaled)
        painter.end()
    return tile


class PhotoViewer(QDialog):
    """One photo at full size (scaled to fit); the bytes arrive after it opens."""

    loaded = Signal()

    def __init__(self, host: RecordHost, photo: PhotoThumb, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("photoViewer")
        self.host = host
        self.photo = photo
        self.file: PhotoFile | None = None
        self._pixmap = QPixmap()
        self.setWindowTitle(photo.filename)
        self.resize(1100, 780)
        self.picture = QLabel(self.tr("Loading {0}…").format(photo.filename))
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setMinimumSize(200, 200)
        self.picture.setStyleSheet("background: #1f2933; color: #e4e7eb;")
        facts = muted(
            f"{photo.filename} · {photo.width} × {photo.height} · {size_text(photo.byte_size)} · "
            + self.tr("attached by {0}, {1}").format(
                photo.uploaded_by, photo.uploaded_at.strftime("%d %b %Y %H:%M")
            )
        )
        if photo.caption:
            facts.setText(f"{photo.caption}\n{facts.text()}")
        close = QPushButton(self.tr("Close"))
        close.clicked.connect(self.close)
        bottom = QHBoxLayout()
        bottom.addWidget(facts, 1)
        bottom.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.picture, 1)
        layout.addLayout(bottom)
        host.spawn(self._load())

    async def _load(self) -> None:
        try:
            self.file = await self.host.workspace.read(load_photo, photo_id=self.photo.id)
        except ConflictError as gone:
            self.picture.setText(str(gone))
            return
        except Exception:
            self.picture.setText(self.tr("Could not load the photo: the database did not answer."))
            return
        image = QImage.fromData(self.file.data)
        self._pixmap = QPixmap.fromImage(image)
        self._fit()
        self.loaded.emit()

    def _fit(self) -> None:
        if not self._pixmap.isNull():
            self.picture.setPixmap(
                self._pixmap.scaled(
                    self.picture.size(),
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
            )

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()


class PhotosTab(QWidget):
    def __init__(self, host: RecordHost, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.confirmation: QMessageBox | None = None  # the open 'Remove …?' question
        self.host = host
        self.setAcceptDrops(True)
        self._shown: tuple[PhotoThumb, ...] | None = None
        self.viewers: list[PhotoViewer] = []
        self.attaching: set[str] = set()
        self._problems: list[str] = []

        self.grid = QListWidget()
        self.grid.setObjectName("photoGrid")
        self.grid.setViewMode(QListView.ViewMode.IconMode)
        self.grid.setIconSize(QSize(TILE, TILE))
        self.grid.setGridSize(QSize(TILE + 36, TILE + 58))
        self.grid.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        self.grid.setResizeMode(QListView.ResizeMode.Adjust)
        self.grid.setMovement(QListView.Movement.Static)
        self.grid.setWordWrap(True)
        self.grid.setSpacing(6)
        self.grid.setAcceptDrops(False)  # drops go to the tab
        self.attach_button = QPushButton(self.tr("Attach photos…"))
        self.attach_button.setObjectName("attachPhotos")
        self.remove_button = QPushButton(self.tr("Remove"))
        self.remove_button.setObjectName("removePhoto")
        hint = QLabel(
            self.tr("Drop photos anywhere here. JPEG, PNG, WebP or GIF, up to 15 MB each.")
        )
        hint.setStyleSheet(MUTED_STYLE)
        self.status = muted()
        self.status.setObjectName("photoStatus")
        self.error = error_label("photoError")
        self.empty = QLabel(self.tr("No photos yet — drag pictures from a folder onto this tab."))
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setStyleSheet(
            "border: 2px dashed #c3cbd4; border-radius: 8px; color: #66727f; padding: 40px;"
        )
        top = QHBoxLayout()
        top.addWidget(self.attach_button)
        top.addWidget(self.remove_button)
        top.addSpacing(12)
        top.addWidget(hint, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.addLayout(top)
        layout.addWidget(self.error)
        layout.addWidget(self.status)
        layout.addWidget(self.empty, 1)
        layout.addWidget(self.grid, 1)

        self.attach_button.clicked.connect(self.choose_files)
        self.remove_button.clicked.connect(self.remove_selected)
        self.grid.itemDoubleClicked.connect(self.open_full)
        self.grid.itemSelectionChanged.connect(
            lambda: self.remove_button.setEnabled(bool(self.grid.selectedItems()))
        )
        self.remove_button.setEnabled(False)
        self._update_empty()

    def _update_empty(self) -> None:
        none = self.grid.count() == 0
        self.empty.setVisible(none)
        self.grid.setVisible(not none)

    # -- showing -----------------------------------------------------------------------------
    def show_record(self, record: WorkOrderRecord) -> None:
        if record.photos == self._shown:
            return
        self._shown = record.photos
        selected = {p.id for p in self.selected_photos()}
        self.grid.clear()
        for photo in record.photos:
            label = photo.caption or photo.filename
            item = QListWidgetItem(
                QIcon(_tile(photo.thumbnail)), f"{label}\n{size_text(photo.byte_size)}"
            )
            item.setData(PhotoRole, photo)
            item.setToolTip(
                f"{photo.filename}\n{photo.width} × {photo.height}\n"
                + self.tr("Attached by {0}, {1}").format(
                    photo.uploaded_by, photo.uploaded_at.strftime("%d %b %H:%M")
                )
            )
            self.grid.addItem(item)
            item.setSelected(photo.id in selected)
        self._update_empty()

    def typed_input(self) -> list[str]:
        """Photos still on their way into the database (closing would cut them off)."""
        if not self.attaching:
            return []
        names = ", ".join(sorted(Path(p).name for p in self.attaching))
        return [self.tr("photos still being attached ({0})").format(names)]

    def photos(self) -> list[PhotoThumb]:
        return [self.grid.item(i).data(PhotoRole) for i in range(self.grid.count())]

    def selected_photos(self) -> list[PhotoThumb]:
        return [item.data(PhotoRole) for item in self.grid.selectedItems()]

    # -- attaching ---------------------------------------------------------------------------
    def choose_files(self) -> None:
        dialog = QFileDialog(self, self.tr("Attach photos"))
        dialog.setObjectName("attachDialog")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dialog.setNameFilter(self.tr(IMAGE_FILTER))
        dialog.filesSelected.connect(self.attach_files)
        dialog.open()  # not exec(): the event loop (and the database work) keeps running

    def attach_files(self, paths: list[str]) -> None:
        show_error(self.error, None)
        self._problems = []
        for path in paths:
            self.host.spawn(self._attach(Path(path)))

    async def _attach(self, path: Path) -> None:
        self.attaching.add(str(path))
        self._say_progress()

        def refused(errors: dict[str, str]) -> None:
            self._problems.append(" ".join(errors.values()))
            show_error(self.error, "\n".join(self._problems))

        try:
            await self.host.attempt(
                self.host.workspace.run(
                    attach_photo_file, work_order_id=self.host.work_order_id, path=path
                ),
                show_errors=refused,
                parts=(RecordPart.PHOTOS,),
            )
        finally:
            self.attaching.discard(str(path))
            self._say_progress()

    def _say_progress(self) -> None:
        names = sorted(Path(p).name for p in self.attaching)
        self.status.setText(self.tr("Attaching {0}…").format(", ".join(names)) if names else "")
        self.status.setVisible(bool(names))

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if not paths:
            event.ignore()
            return
        event.acceptProposedAction()
        self.attach_files(paths)

    # -- viewing and removing ----------------------------------------------------------------
    def open_full(self, item: QListWidgetItem) -> PhotoViewer:
        viewer = PhotoViewer(self.host, item.data(PhotoRole), self)
        self.viewers.append(viewer)
        viewer.finished.connect(lambda _r: self.viewers.remove(viewer))
        viewer.show()
        return viewer

    def remove_selected(self) -> None:
        photos = self.selected_photos()
        if not photos:
            return
        text = (
            self.tr("Remove {0}? Every workstation stops showing it.").format(photos[0].filename)
            if len(photos) == 1
            else self.tr("Remove these {0} photos? Every workstation stops showing them.").format(
                len(photos)
            )
        )

        def remove() -> None:
            for photo in photos:
                self.host.spawn(self._remove(photo.id))

        self.confirmation = confirm(self, text, self.tr("Remove"), remove)

    async def _remove(self, photo_id: int) -> None:
        await self.host.attempt(
            self.host.workspace.run(remove_photo, photo_id=photo_id),
            show_errors=lambda errors: show_error(self.error, " ".join(errors.values())),
            parts=(RecordPart.PHOTOS,),
        )
