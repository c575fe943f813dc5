"""Engine settings, set once and kept out of the panel's way: the Python that runs the engine, the device it
uses (clicks and jobs), and the folder where image embeddings are cached. Kept in QgsSettings."""

from __future__ import annotations

from qgis.gui import QgsFileWidget
from qgis.PyQt.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from . import job_defaults
from .i18n import tr
from .settings import CACHE_DIR, DEVICE, ENCODER

DEVICES = job_defaults.choices("device", "engine")  # core.models.device.DEVICES
ENCODERS = job_defaults.choices("encoder", "engine")  # core.models.registry.ENCODER_PATHS
INT8_CHECKED = "tiny, small and large"  # the sizes core.models.registry.INT8_CHECKS finds within its tolerance


def encoder_path() -> str:
    """The chosen encoder path for CPUs (``exact`` unless the analyst chose ``int8`` in Settings)."""
    chosen = str(ENCODER.value())
    return chosen if chosen in ENCODERS else "exact"


class SettingsDialog(QDialog):
    """Widgets only; the plugin connects Check and reads the values (``python()``, ``device()``, ``cache_dir()``)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("SAM 2 settings"))
        self.setObjectName("Sam2Settings")
        layout = QVBoxLayout(self)
        form = QFormLayout()
        self.python_widget = QgsFileWidget(self)
        self.python_widget.setDialogTitle(tr("Python interpreter with torch and rf-sam-2"))
        self.python_widget.setToolTip(tr("A Python with torch and rf-sam-2 (not QGIS's own): the engine runs there"))
        self.check_button = QPushButton(tr("Check the engine"), self)
        self.check_button.setToolTip(tr("Start that Python and show what it has (torch, CUDA, sam2)"))
        self.device_combo = QComboBox(self)
        self.device_combo.addItems(DEVICES)
        self.device_combo.setToolTip(
            tr("Where SAM 2 runs, for clicks and jobs: auto takes a GPU (CUDA, Apple's MPS) when there is one")
        )
        self.encoder_combo = QComboBox(self)
        encoder_labels = {"exact": tr("exact"), "int8": tr("int8: faster, approximate")}
        for encoder in ENCODERS:
            self.encoder_combo.addItem(encoder_labels.get(encoder, encoder), encoder)
        self.encoder_combo.setToolTip(
            tr(
                "How the image encoder runs on a CPU, for clicks and predictions: exact gives the model's own "
                "results; int8 is about 2x faster on hiera-tiny and approximate: checked close to exact on "
                "{sizes}, the engine warns on other sizes. GPUs always run exact"
            ).format(sizes=INT8_CHECKED)
        )
        self.cache_widget = QgsFileWidget(self)
        self.cache_widget.setStorageMode(QgsFileWidget.StorageMode.GetDirectory)
        self.cache_widget.setToolTip(
            tr(
                "Where encoded image tiles are kept, so that a second click on a tile is instant (empty: the engine's "
                "default, ~/.cache/sam2-qgis/embeddings); takes effect when the engine restarts"
            )
        )
        self.engine_label = QLabel(tr("Engine: not checked yet"), self)
        self.engine_label.setObjectName("Sam2SettingsEngineLabel")
        self.engine_label.setWordWrap(True)
        self.engine_folder_widget = QgsFileWidget(self)
        self.engine_folder_widget.setStorageMode(QgsFileWidget.StorageMode.GetDirectory)
        self.engine_folder_widget.setToolTip(
            tr("Where Install engine makes the engine's environment (empty: a folder of your QGIS profile)")
        )
        self.wheels_widget = QgsFileWidget(self)
        self.wheels_widget.setStorageMode(QgsFileWidget.StorageMode.GetDirectory)
        self.wheels_widget.setToolTip(tr("Offline: a folder of wheels to install from instead of PyPI (empty: PyPI)"))
        self.install_button = QPushButton(tr("Install engine"), self)
        self.install_button.setToolTip(
            tr(
                "Make a Python environment with torch and SAM 2 (about 1 GB; a few GB with CUDA on an NVIDIA GPU) and "
                "use it; it runs in the background and, cancelled, continues where it stopped the next time"
            )
        )
        form.addRow(tr("Python"), self.python_widget)
        form.addRow(self.check_button)
        form.addRow(self.engine_label)
        form.addRow(tr("Device"), self.device_combo)
        form.addRow(tr("Encoder on a CPU"), self.encoder_combo)
        form.addRow(tr("Embedding cache"), self.cache_widget)
        form.addRow(tr("Engine folder"), self.engine_folder_widget)
        form.addRow(tr("Wheels (offline)"), self.wheels_widget)
        form.addRow(self.install_button)
        layout.addLayout(form)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.close)
        layout.addWidget(buttons)
        self.python_widget.fileChanged.connect(lambda _: self.fit())
        self.restore()

    def restore(self) -> None:
        """The kept values; each is kept again as it changes."""
        device = DEVICE.value()
        if self.device_combo.findText(str(device)) >= 0:
            self.device_combo.setCurrentText(str(device))
        self.encoder_combo.setCurrentIndex(max(0, self.encoder_combo.findData(encoder_path())))
        self.cache_widget.setFilePath(CACHE_DIR.value() or "")
        self.encoder_combo.currentIndexChanged.connect(lambda _: ENCODER.set_value(self.encoder_combo.currentData()))
        self.device_combo.currentTextChanged.connect(lambda text: DEVICE.set_value(text))
        self.cache_widget.fileChanged.connect(lambda path: CACHE_DIR.set_value(path))

    def show_engine(self, text: str) -> None:
        """What the engine has, or its state; the window grows to show all of it."""
        self.engine_label.setText(text)
        self.fit()

    def fit(self) -> None:
        """Wide enough for the Python's whole path (up to 800 px) and tall enough for every line: the engine's
        summary wraps, and a window sized before it changed would cut its last lines."""
        edit = self.python_widget.lineEdit()
        path_px = edit.fontMetrics().horizontalAdvance(self.python_widget.filePath()) + 40
        edit.setMinimumWidth(min(max(path_px, 240), 800))
        self.layout().activate()
        width = max(self.width(), self.sizeHint().width())
        height = self.heightForWidth(width) if self.hasHeightForWidth() else self.sizeHint().height()
        self.resize(width, max(height, self.sizeHint().height()))

    def cache_dir(self) -> str | None:
        return self.cache_widget.filePath() or None


__all__ = ["DEVICES", "ENCODERS", "SettingsDialog", "encoder_path"]
