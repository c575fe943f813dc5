"""The model: the active one, and one list to choose the next from: models fine-tuned earlier (newest first),
Meta's official ones (downloaded when first used) and checkpoint files (``Checkpoint file...`` adds one)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from qgis.PyQt.QtCore import Qt
from qgis.PyQt.QtWidgets import QComboBox, QFileDialog, QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from .. import job_defaults
from ..i18n import tr
from .section import Section

ModelKind = Literal["tuned", "official", "file", "browse"]
KIND_ROLE = int(Qt.ItemDataRole.UserRole) + 1  # the item's kind; its value (a path or a name) is its data


def short_name(name: str, most: int = 24) -> str:
    """A file name of at most ``most`` characters, shortened in the middle (its end says .pt or .torch)."""
    if len(name) <= most:
        return name
    keep = most - 1
    return f"{name[: keep - keep // 2]}\u2026{name[-(keep // 2) :]}"


@dataclass(frozen=True)
class ModelChoice:
    """What the list offers: a fine-tuned checkpoint or a file (``value`` its path), an official model (``value``
    its engine name, e.g. sam2.1_hiera_l), or ``browse`` (choose a file)."""

    kind: ModelKind
    value: str
    title: str


class ModelSection(Section):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(tr("Model"), parent)
        layout = QVBoxLayout(self)
        self.model_label = QLabel(tr("Active model: none"), self)
        self.model_label.setObjectName("Sam2ModelLabel")
        self.model_label.setWordWrap(True)
        self.choice_combo = QComboBox(self)
        self.choice_combo.setObjectName("Sam2ModelChoice")
        self.choice_combo.setToolTip(
            tr(
                "Models fine-tuned in earlier runs (newest first, with their validation IoU), Meta's official SAM 2 "
                "models (tiny is fastest, large most accurate) and checkpoint files on disk"
            )
        )
        self.use_button = QToolButton(self)  # narrower than a push button: the list keeps the width
        self.use_button.setText(tr("Use"))
        self.use_button.setToolTip(
            tr("Make the chosen model active: an official one is downloaded first (once; resumable, verified)")
        )
        layout.addWidget(self.model_label)
        row = QHBoxLayout()
        row.addWidget(self.choice_combo, 1)
        row.addWidget(self.use_button)
        layout.addLayout(row)
        labels = job_defaults.choice_labels("model", "engine")
        names = job_defaults.choices("model", "engine")  # the engine's models, in its order
        self.official = [ModelChoice("official", name, labels[name]) for name in names]
        self.tuned: list[ModelChoice] = []
        self.files: list[ModelChoice] = []
        self.show_choices(None)
        self.choice_combo.activated.connect(self.chosen_item)

    # -- the list ------------------------------------------------------------------------------------------

    def show_choices(self, current: ModelChoice | None) -> None:
        """Fill the list: fine-tuned, official, files, then ``Checkpoint file...``; choose ``current`` (None: the
        newest fine-tuned model, else the first official one)."""
        combo = self.choice_combo
        combo.blockSignals(True)
        combo.clear()
        groups = [self.tuned, self.official, [*self.files, ModelChoice("browse", "", tr("Checkpoint file..."))]]
        for group in (g for g in groups if g):
            if combo.count():
                combo.insertSeparator(combo.count())
            for choice in group:
                combo.addItem(choice.title, choice.value)
                combo.setItemData(combo.count() - 1, choice.kind, KIND_ROLE)
                combo.setItemData(combo.count() - 1, self.tip(choice), Qt.ItemDataRole.ToolTipRole)
        wanted = current or (self.tuned or self.official)[0]
        for index in range(combo.count()):
            if combo.itemData(index) == wanted.value and combo.itemData(index, KIND_ROLE) == wanted.kind:
                combo.setCurrentIndex(index)
        combo.blockSignals(False)

    @staticmethod
    def tip(choice: ModelChoice) -> str:
        if choice.kind == "official":
            return tr("{name}: Meta's official checkpoint, downloaded when first used").format(name=choice.value)
        if choice.kind == "browse":
            return tr("Choose a checkpoint file on disk: an official one, or a fine-tuned run's best.pt")
        return choice.value  # a file's whole path: the list shows its name only

    def choice(self) -> ModelChoice:
        """The model chosen in the list."""
        combo = self.choice_combo
        index = combo.currentIndex()
        return ModelChoice(combo.itemData(index, KIND_ROLE), str(combo.itemData(index) or ""), combo.currentText())

    def offer_tuned(self, checkpoint: Path, title: str) -> None:
        """List a fine-tuned checkpoint first, with ``title`` (again, if listed), and choose it."""
        chosen = ModelChoice("tuned", str(checkpoint), title)
        self.tuned = [chosen, *(c for c in self.tuned if c.value != chosen.value)]
        self.show_choices(chosen)

    def offer_file(self, path: str) -> None:
        """List a checkpoint file (by its name; the whole path in its tooltip) and choose it."""
        chosen = ModelChoice("file", path, short_name(Path(path).name))
        self.files = [chosen, *(c for c in self.files if c.value != path)]
        self.show_choices(chosen)

    def chosen_item(self, index: int) -> None:
        """``Checkpoint file...`` asks for a file and lists it; cancelled, the active choice comes back."""
        if self.choice_combo.itemData(index, KIND_ROLE) != "browse":
            return
        start = self.files[0].value if self.files else ""
        path, _ = QFileDialog.getOpenFileName(
            self, tr("SAM 2 checkpoint"), start, tr("Checkpoints (*.pt *.pth *.torch)")
        )
        if path:
            self.offer_file(path)
        else:
            self.show_choices(None)

    def official_model(self) -> str:
        """The official model chosen (e.g. sam2.1_hiera_l), or '' when the choice is another kind."""
        chosen = self.choice()
        return chosen.value if chosen.kind == "official" else ""

    def chosen_tuned(self) -> str:
        """The fine-tuned checkpoint chosen ('' when the choice is another kind)."""
        chosen = self.choice()
        return chosen.value if chosen.kind == "tuned" else ""

    def show_active(self, label: str, path: str, size: int, device: str) -> None:
        """The active model in one short line (its file's whole path in the tooltip)."""
        file = Path(path)
        name = f"{file.parent.name}/{file.name}" if file.name in ("best.pt", "last.pt") else short_name(file.name)
        self.model_label.setText(
            tr("Active model: {label} ({name}, {size} px, {device})").format(
                label=label, name=name, size=size, device=device
            )
        )
        self.model_label.setToolTip(path)
