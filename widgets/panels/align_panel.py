"""Generate a mouth track (SPEC §13) for the whole session or the selected time range: the spoken
text (remembered per session, or the session's `text` key), the language, and a progress bar.
The result is one undoable edit; the sync lane and the QA panel update at once."""
from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QComboBox, QHBoxLayout, QLabel, QPlainTextEdit, QProgressBar, QPushButton,
                               QVBoxLayout, QWidget)


class AlignPanel(QWidget):
    generate = Signal(str, str, bool)     # text, lang, only the selected range
    cancel = Signal()
    text_edited = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        intro = QLabel("What was said (optional; far more accurate when given):")
        intro.setWordWrap(True)
        lay.addWidget(intro)
        self.text = QPlainTextEdit()
        self.text.setPlaceholderText("e.g. 今日は良い天気ですね。 / Good morning, everyone.")
        self.text.setToolTip("The spoken text: Japanese in kana or kanji and kana, English in words. Left empty, "
                             "the mouth track comes from the audio alone.")
        self.text.textChanged.connect(lambda: self.text_edited.emit(self.text.toPlainText()))
        lay.addWidget(self.text, 1)
        row = QHBoxLayout()
        row.addWidget(QLabel("Language:"))
        self.lang = QComboBox()
        self.lang.addItem("Japanese", "ja")
        self.lang.addItem("English", "en")
        row.addWidget(self.lang)
        row.addStretch(1)
        lay.addLayout(row)
        buttons = QVBoxLayout()
        self.whole = QPushButton("Generate for the session")
        self.whole.setToolTip("Replace the whole mouth track with one aligned to the audio (one undoable edit)")
        self.part = QPushButton("Generate for the range")
        self.part.setToolTip("Replace the mouth track only inside the time range selected on the ruler. The text is "
                             "the whole session's: the whole audio is aligned to it, and only the shapes and words "
                             "inside the range change")
        self.part.setEnabled(False)
        self.whole.clicked.connect(lambda: self.generate.emit(self.text.toPlainText(), self.lang.currentData(), False))
        self.part.clicked.connect(lambda: self.generate.emit(self.text.toPlainText(), self.lang.currentData(), True))
        buttons.addWidget(self.whole)
        buttons.addWidget(self.part)
        lay.addLayout(buttons)
        busy = QHBoxLayout()
        self.bar = QProgressBar()
        self.bar.setVisible(False)
        busy.addWidget(self.bar, 1)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop generating; the mouth track stays as it is")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.cancel)
        busy.addWidget(self.cancel_button)
        lay.addLayout(busy)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        lay.addWidget(self.status)
        self._range, self._busy = None, False

    def set_text(self, text: str, lang: str) -> None:
        self.text.blockSignals(True)
        self.text.setPlainText(text)
        self.text.blockSignals(False)
        self.lang.setCurrentIndex(max(0, self.lang.findData(lang)))

    def set_range(self, rng) -> None:
        self._range = rng
        self.part.setEnabled(rng is not None and not self._busy)
        self.part.setText("Generate for the range" if rng is None else f"Generate for {rng[0]:.2f}–{rng[1]:.2f} s")

    def set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.whole.setEnabled(not busy)
        self.part.setEnabled(not busy and self._range is not None)
        self.bar.setVisible(busy)
        self.cancel_button.setVisible(busy)
        if busy:
            self.bar.setRange(0, 0)
            self.status.setText("aligning…")

    def set_progress(self, done: int, total: int) -> None:
        """The audio's features are counted; after them the decoding has no count: the bar then says
        only that it is busy (a full bar beside "aligning…" looked stuck)."""
        if done >= total:
            self.bar.setRange(0, 0)
            self.status.setText("placing the mouth shapes…")
            return
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(done)
