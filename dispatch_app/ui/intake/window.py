"""The call intake window (F2 from anywhere): caller, job, questions, arrival window, Enter.

The keyboard path for a returning customer: type the phone number (or a name or a
street) — matches appear as you type — Enter takes the highlighted one and shows their
history; type a few letters of the job, Enter; describe the problem; Tab through the
job type's questions; Alt+1…9 books an offered arrival window (Alt+L looks from a later
date, Alt+0 leaves the call for dispatch); Enter saves. A new caller is typed inline (Ctrl+N).

Nothing typed is lost: a refused save shows each problem beside its field and keeps the
form; a database that does not answer leaves everything in place for another Enter;
closing with something typed asks first.

A lead from the Leads inbox opens the form filled in (``take_lead``): its caller, its
request as the problem; the booking marks the lead booked in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import uuid
from collections.abc import Coroutine
from html import escape
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QDoubleValidator, QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from dispatch_app.domain.availability import ArrivalWindow, WindowSearch
from dispatch_app.domain.clock import SYSTEM_CLOCK, Clock
from dispatch_app.domain.phones import display_phone
from dispatch_app.domain.vocabulary import Priority, QuestionKind, WorkOrderSource
from dispatch_app.domain.work_order_status import LABELS
from dispatch_app.errors import DatabaseUnreachable, UserFacingError, ValidationError
from dispatch_app.services.customer_history import CustomerHistory
from dispatch_app.services.intake import (
    Appointment,
    BookedCall,
    CallBooking,
    IntakeQuestion,
    JobTypeChoice,
    NewCaller,
    NewSite,
    book_call,
    intake_catalogue,
    technician_names,
)
from dispatch_app.services.leads.inbox import LeadRow
from dispatch_app.services.workspace import Workspace
from dispatch_app.ui import theme
from dispatch_app.ui.forms import BANNER_STYLE, DONE_STYLE, error_label, section_title
from dispatch_app.ui.intake.caller_panel import CALLER_FIELDS, CallerPanel
from dispatch_app.ui.intake.job_types import JobTypePicker
from dispatch_app.ui.intake.windows_panel import MAX_WINDOWS_OFFERED, ArrivalWindowsPanel
from dispatch_app.ui.tasks import WindowTasks

log = logging.getLogger(__name__)


class QuestionField:
    """The input for one of the job type's questions, with its error label."""

    def __init__(self, question: IntakeQuestion, parent: QWidget) -> None:
        self.question = question
        self.error = error_label(f"answer:{question.prompt}")
        offered = question.offered()
        self.widget: QComboBox | QLineEdit
        if offered:
            combo = QComboBox(parent)
            combo.addItem("—", "")
            for answer in offered:
                combo.addItem(answer, answer)
            self.widget = combo
        else:
            line = QLineEdit(parent)
            if question.kind is QuestionKind.NUMBER:
                line.setValidator(QDoubleValidator(0, 1e9, 2, line))
            line.setMaxLength(2_000)
            self.widget = line
        self.widget.setObjectName(f"question{question.prompt}")

    def answer(self) -> str:
        if isinstance(self.widget, QComboBox):
            return str(self.widget.currentData() or "")
        return self.widget.text()

    def set_answer(self, answer: str) -> None:
        if isinstance(self.widget, QComboBox):
            self.widget.setCurrentIndex(max(0, self.widget.findData(answer)))
        else:
            self.widget.setText(answer)


class CallIntake(QDialog):
    """One call at a time; after a booking it is ready for the next one."""

    booked = Signal(object)  # BookedCall: a work order was written
    workOrderRequested = Signal(int)  # work order id: open the one just booked (Ctrl+O)
    busyChanged = Signal(bool)  # a save is running

    def __init__(
        self,
        workspace: Workspace,
        parent: QWidget | None = None,
        *,
        clock: Clock = SYSTEM_CLOCK,
        first_day: dt.date | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("callIntake")
        self.setWindowTitle(self.tr("New call"))
        self.setWindowFlag(Qt.WindowType.WindowMaximizeButtonHint, True)
        self.resize(1320, 860)
        self.workspace = workspace
        self.clock = clock
        self._first_day = first_day  # a board opened on another day offers from that day
        self.tasks = WindowTasks("call intake")
        self._closing_anyway = False
        self._saving = False
        self.catalogue: list[JobTypeChoice] = []
        self.technician_names: dict[int, str] = {}
        self.questions: list[QuestionField] = []
        self.errors: dict[str, QLabel] = {}
        self.lead: LeadRow | None = None  # the lead this call books, from the Leads inbox

        self._build()
        self._connect()
        self.reset()

    # -- building the form -------------------------------------------------------------------
    def _build(self) -> None:
        self.banner = QLabel()
        self.banner.setObjectName("banner")
        self.banner.setWordWrap(True)
        self.banner.hide()
        self.last_booked: BookedCall | None = None
        self.lead_note = QLabel()
        self.lead_note.setObjectName("leadNote")
        self.lead_note.setWordWrap(True)
        self.lead_note.setStyleSheet(
            f"background: {theme.SELECTION.lighter(185).name()}; border-radius: 3px;"
            "padding: 6px 10px;"
        )
        self.lead_note.hide()

        # The caller: a panel of its own (lookup, matches, card, sites, new caller).
        self.caller_panel = CallerPanel(self.workspace, self._spawn, clock=self.clock)
        caller = self.caller_panel
        self.errors.update(caller.errors)
        self.lookup = caller.lookup
        self.matches = caller.matches
        self.history = caller.history
        self.site = caller.site
        self.site_row = caller.site_row
        self.site_box = caller.site_box
        self.site_inputs = caller.site_inputs
        self.caller_box = caller.caller_box
        self.caller_inputs = caller.caller_inputs

        # The job.
        self.job_type = JobTypePicker()
        self.errors["job_type"] = error_label("job_type")
        self.description = QPlainTextEdit()
        self.description.setObjectName("description")
        self.description.setTabChangesFocus(True)
        self.description.setPlaceholderText(
            self.tr("What is wrong, in the caller's words: symptoms, since when, what was tried")
        )
        self.description.setMinimumHeight(72)
        self.description.setMaximumHeight(150)
        self.errors["description"] = error_label("description")
        self.questions_box = QWidget()
        self.questions_form = QFormLayout(self.questions_box)
        self.questions_form.setContentsMargins(0, 0, 0, 0)
        self.equipment = QComboBox()
        self.equipment.setObjectName("equipment")
        self.errors["equipment"] = error_label("equipment")
        self.priority = QComboBox()
        self.priority.setObjectName("priority")
        for value in Priority:
            self.priority.addItem(self.tr(theme.PRIORITY_LABEL[value]), value.value)
        self.errors["priority"] = error_label("priority")
        self.source = QComboBox()
        self.source.setObjectName("source")
        for source, label in theme.SOURCE_LABEL.items():
            self.source.addItem(self.tr(label), source.value)
        self.errors["source"] = error_label("source")
        # The arrival windows: a panel of its own, which looks for them itself.
        self.windows_panel = ArrivalWindowsPanel(
            self.workspace, self.tasks, clock=self.clock, first_day=self._first_day
        )
        self.window_list = self.windows_panel.list
        self.windows_note = self.windows_panel.note
        self.later_date = self.windows_panel.later_date
        self.later_row = self.windows_panel.later_row
        self.errors["appointment"] = self.windows_panel.error

        job = QWidget()
        job_layout = QVBoxLayout(job)
        job_layout.setContentsMargins(8, 0, 0, 0)
        job_layout.addWidget(section_title(self.tr("Job")))
        job_layout.addWidget(self.job_type)
        job_layout.addWidget(self.errors["job_type"])
        self.duplicate = QLabel()
        self.duplicate.setObjectName("duplicate")
        self.duplicate.setWordWrap(True)
        self.duplicate.setStyleSheet(BANNER_STYLE)
        self.duplicate.hide()
        job_layout.addWidget(self.duplicate)
        job_layout.addWidget(QLabel(self.tr("Problem")))
        job_layout.addWidget(self.description)
        job_layout.addWidget(self.errors["description"])
        job_layout.addWidget(self.questions_box)
        details = QFormLayout()
        details.addRow(self.tr("Equipment"), self.equipment)
        details.addRow("", self.errors["equipment"])
        choices = QHBoxLayout()
        choices.addWidget(QLabel(self.tr("Priority")))
        choices.addWidget(self.priority, 1)
        choices.addSpacing(12)
        choices.addWidget(QLabel(self.tr("Source")))
        choices.addWidget(self.source, 1)
        details.addRow(choices)
        details.addRow("", self.errors["priority"])
        details.addRow("", self.errors["source"])
        job_layout.addLayout(details)
        job_layout.addWidget(self.windows_panel, 1)

        splitter = QSplitter()
        splitter.addWidget(caller)
        splitter.addWidget(job)
        splitter.setStretchFactor(0, 5)
        splitter.setStretchFactor(1, 6)
        splitter.setChildrenCollapsible(False)
        splitter.setSizes([540, 780])

        self.save_button = QPushButton(self.tr("Book  (Enter)"))
        self.save_button.setObjectName("save")
        self.save_button.setAutoDefault(False)
        self.close_button = QPushButton(self.tr("Close"))
        self.close_button.setAutoDefault(False)
        self.close_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.save_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        hint = QLabel(
            self.tr(
                "Ctrl+N new caller · Alt+1…9 book a window · Alt+L later date · "
                "Alt+0 leave for dispatch · Ctrl+Enter book from anywhere"
            )
        )
        hint.setStyleSheet(f"color: {theme.MUTED_TEXT.name()};")
        buttons = QHBoxLayout()
        buttons.addWidget(hint)
        buttons.addStretch()
        buttons.addWidget(self.close_button)
        buttons.addWidget(self.save_button)

        layout = QVBoxLayout(self)
        layout.addWidget(self.banner)
        layout.addWidget(self.lead_note)
        layout.addWidget(splitter, 1)
        layout.addLayout(buttons)

    def _connect(self) -> None:
        caller = self.caller_panel
        caller.customerChosen.connect(self._customer_chosen)
        caller.customerShown.connect(self._customer_shown)
        caller.customerForgotten.connect(self._customer_forgotten)
        caller.newCallerOpened.connect(lambda: self.source.setCurrentIndex(0))
        caller.placeChanged.connect(self._place_changed)
        caller.problem.connect(self._show_banner)
        self.job_type.chosen.connect(self._job_type_chosen)
        self.windows_panel.bookRequested.connect(self.save)
        self.save_button.clicked.connect(self.save)
        self.close_button.clicked.connect(self.close)
        # Tab goes the way an address is said, whatever the grid's columns.
        order = [self.caller_inputs[name] for name in ("name", "phone", "street", "zip")]
        order += [self.caller_inputs["city"], self.caller_inputs["state"], self.job_type.search]
        for before, after in itertools.pairwise(order):
            QWidget.setTabOrder(before, after)
        QShortcut(QKeySequence("Ctrl+N"), self).activated.connect(self.new_caller)
        QShortcut(QKeySequence("Ctrl+O"), self).activated.connect(self.open_last_booked)
        self.banner.linkActivated.connect(lambda _link: self.open_last_booked())
        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self).activated.connect(self.save)
        for number in range(MAX_WINDOWS_OFFERED + 1):
            shortcut = QShortcut(QKeySequence(f"Alt+{number}"), self)
            shortcut.activated.connect(lambda n=number: self.choose_window(n))
        QShortcut(QKeySequence("Alt+L"), self).activated.connect(self.choose_later_date)

    # -- the call's lifecycle --------------------------------------------------------------
    def reset(self) -> None:
        """A blank form, focus in the lookup: ready for the next call."""
        # One id per call, kept across retries: a booking whose answer was lost is found
        # again instead of written twice.
        self.call_id = uuid.uuid4()
        self.lead = None
        self.lead_note.hide()
        self.duplicate.hide()
        self.caller_panel.reset()
        self.job_type.clear()
        self.description.clear()
        self._set_questions(())
        self.equipment.clear()
        self.equipment.addItem(self.tr("— not about a unit —"), None)
        self.priority.setCurrentIndex(0)
        self.source.setCurrentIndex(0)
        self.windows_panel.reset()
        self._clear_errors()
        self._closing_anyway = False
        self.lookup.setFocus()

    def start(self) -> None:
        """Load the job types (the window may open before the database answers)."""
        self._spawn(self._load_catalogue())

    async def _load_catalogue(self) -> None:
        try:
            catalogue = await self.workspace.read(intake_catalogue)
            self.technician_names = await self.workspace.read(technician_names)
            self.windows_panel.technician_names = self.technician_names
        except UserFacingError as error:
            log.warning("loading job types failed: %s", error)
            self._show_banner(self.tr("Could not read the job types: the database did not answer."))
            return
        self.catalogue = catalogue
        self.job_type.set_catalogue(catalogue)

    def take_lead(self, lead: LeadRow, zone: dt.tzinfo) -> None:
        """A lead from the inbox to book: a fresh form with its caller (the customer the
        number matched, else a new caller with the name and number) and its request as
        the problem. The booking marks the lead booked, in the same transaction."""
        self.reset()
        self.lead = lead
        received = lead.received_at.astimezone(zone)
        self.lead_note.setText(
            self.tr("Booking the lead: {0} from {1}, {2:%b} {2.day}, {3}").format(
                self.tr(lead.source.label),
                lead.caller,
                received,
                received.strftime("%I:%M %p").lstrip("0"),
            )
        )
        self.lead_note.show()
        self.description.setPlainText(lead.request)
        if lead.customer_id is not None:
            self.choose_customer(lead.customer_id)
            return
        self.caller_inputs["name"].setText(lead.name)
        self.caller_inputs["phone"].setText(display_phone(lead.phone) if lead.phone else "")
        self.new_caller()

    def has_typing(self) -> bool:
        """Whether closing would throw away something the CSR typed."""
        return bool(
            self.caller_panel.has_typing()
            or self.description.toPlainText().strip()
            or self.job_type.current is not None
        )

    def unsaved_work(self) -> list[str]:
        """What quitting would throw away, as one readable line (empty when nothing is)."""
        if not self.has_typing():
            return []
        caller = self.caller_panel.caller_name()
        if caller:
            return [self.tr("New call: a call from {0}, not booked yet").format(caller)]
        return [self.tr("New call: a call not booked yet")]

    # -- the caller ----------------------------------------------------------------------------
    @property
    def customer(self) -> CustomerHistory | None:
        """The returning caller whose card is shown, if any."""
        return self.caller_panel.customer

    def take_highlighted_match(self) -> None:
        self.caller_panel.take_highlighted_match()

    def choose_customer(self, customer_id: int) -> None:
        self.caller_panel.choose_customer(customer_id)

    def new_caller(self) -> None:
        """The inline form for a caller the company does not know yet."""
        self.caller_panel.new_caller()

    def chosen_site_id(self) -> int | None:
        return self.caller_panel.chosen_site_id()

    def _customer_chosen(self, _customer_id: int) -> None:
        self.source.setCurrentIndex(self.source.findData(WorkOrderSource.REPEAT.value))
        self.job_type.setFocus()

    def _customer_shown(self) -> None:
        self._place_changed()
        self._warn_of_duplicate()

    def _customer_forgotten(self) -> None:
        self.duplicate.hide()
        self.source.setCurrentIndex(0)
        self._place_changed()

    def _place_changed(self) -> None:
        self._fill_equipment()
        self._refresh_windows()

    def _fill_equipment(self) -> None:
        self.equipment.clear()
        self.equipment.addItem(self.tr("— not about a unit —"), None)
        site_id = self.chosen_site_id()
        if self.customer is None or site_id is None:
            return
        for site in self.customer.sites:
            if site.id == site_id:
                for unit in site.equipment:
                    self.equipment.addItem(unit.label(), unit.id)

    # -- the job -------------------------------------------------------------------------------
    def _job_type_chosen(self, choice: JobTypeChoice | None) -> None:
        self.errors["job_type"].hide()
        self._set_questions(choice.questions if choice is not None else ())
        self._refresh_windows()
        self._warn_of_duplicate()
        if choice is not None:
            self.description.setFocus()

    def _warn_of_duplicate(self) -> None:
        """The same job already open for this caller is most likely the same problem."""
        self.duplicate.hide()
        choice = self.job_type.current
        if self.customer is None or choice is None:
            return
        same = [job for job in self.customer.open_jobs if job.job_type == choice.name]
        if not same:
            return
        job = same[0]
        when = f" — {job.when:%a %d %b %H:%M}" if job.when is not None else ""
        self.duplicate.setText(
            self.tr(
                "⚠ {0} already has {1} “{2}” open ({3}{4}). Is this the same problem? "
                "Add a note there instead of booking twice."
            ).format(
                self.customer.name,
                job.number,
                job.job_type,
                LABELS.get(job.status, job.status),
                when,
            )
        )
        self.duplicate.show()

    def _set_questions(self, questions: tuple[IntakeQuestion, ...]) -> None:
        kept = {field.question.prompt: field.answer() for field in self.questions}
        while self.questions_form.rowCount():
            self.questions_form.removeRow(0)
        for name in [n for n in self.errors if n.startswith("answer:")]:
            del self.errors[name]
        self.questions = []
        previous: QWidget = self.description
        for question in questions:
            field = QuestionField(question, self.questions_box)
            field.set_answer(kept.get(question.prompt, ""))
            prompt = question.prompt + (" *" if question.required else "")
            column = QVBoxLayout()
            column.setSpacing(0)
            column.addWidget(field.widget)
            column.addWidget(field.error)
            self.questions_form.addRow(prompt, column)
            self.errors[f"answer:{question.prompt}"] = field.error
            self.questions.append(field)
            QWidget.setTabOrder(previous, field.widget)
            previous = field.widget
        QWidget.setTabOrder(previous, self.equipment)

    # -- arrival windows -------------------------------------------------------------------
    def _refresh_windows(self) -> None:
        choice = self.job_type.current
        site_id, place = self.caller_panel.place()
        self.windows_panel.want(choice.id if choice else None, site_id, place)

    @property
    def windows(self) -> list[ArrivalWindow]:
        """The windows offered now, Alt+1 first."""
        return self.windows_panel.windows

    @property
    def window_search(self) -> WindowSearch | None:
        return self.windows_panel.search

    def choose_later_date(self) -> None:
        self.windows_panel.choose_later_date()

    def look_from(self, day: dt.date) -> None:
        self.windows_panel.look_from(day)

    def chosen_window(self) -> ArrivalWindow | None:
        return self.windows_panel.chosen()

    def choose_window(self, number: int) -> None:
        """Alt+N: the Nth window offered (0: leave it for dispatch)."""
        self.windows_panel.choose(number)

    # -- saving ------------------------------------------------------------------------------
    def booking(self) -> CallBooking:
        """The call as typed (checked by ``book_call``, not here)."""
        choice = self.job_type.current
        window = self.chosen_window()
        appointment = None
        if window is not None and choice is not None:
            starts = window.earliest
            appointment = Appointment(
                starts=starts,
                ends=starts + dt.timedelta(minutes=choice.minutes),
                arrive_from=window.span.start,
                arrive_until=window.span.end,
                technician_id=window.technician_ids[0],
            )
        new_site = None
        if self.caller_panel.adding_site():
            new_site = NewSite(**{name: line.text() for name, line in self.site_inputs.items()})
        caller = None
        if self.customer is None and self.caller_box.isVisible():
            caller = NewCaller(**{name: self.caller_inputs[name].text() for name in CALLER_FIELDS})
        return CallBooking(
            job_type_id=choice.id if choice is not None else 0,
            description=self.description.toPlainText(),
            customer_id=self.customer.id if self.customer is not None else None,
            site_id=self.chosen_site_id() if self.customer is not None else None,
            new_site=new_site,
            caller=caller,
            priority=str(self.priority.currentData()),
            source=str(self.source.currentData()),
            answers={
                field.question.prompt: field.answer()
                for field in self.questions
                if field.answer().strip()
            },
            appointment=appointment,
            equipment_id=self.equipment.currentData(),
            call_id=self.call_id,
            message_consent=self.caller_panel.consent(),
            lead_id=self.lead.id if self.lead is not None else None,
        )

    def save(self) -> None:
        if self._saving:
            return
        self._spawn(self._save())

    async def _save(self) -> None:
        self._clear_errors()
        if self.job_type.current is None:
            self._show_errors({"job_type": self.tr("Choose the job type from the list.")})
            self.job_type.setFocus()
            return
        booking = self.booking()
        self._saving = True
        self.save_button.setEnabled(False)
        self.busyChanged.emit(True)
        try:
            done = await self.workspace.run(book_call, booking, clock=self.clock)
        except ValidationError as invalid:
            self._show_errors(invalid.fields)
        except DatabaseUnreachable as error:
            log.warning("booking the call failed: %s", error)
            self._show_banner(
                self.tr(
                    "Could not book: the database did not answer. Everything you typed is "
                    "kept; press Enter to try again."
                )
            )
        except UserFacingError as error:
            self._show_banner(str(error))
        else:
            self._booked(done)
        finally:
            self._saving = False
            self.save_button.setEnabled(True)
            self.busyChanged.emit(False)

    def _booked(self, done: BookedCall) -> None:
        window = self.chosen_window()
        if window is not None and done.assigned:
            text = self.tr("{0} booked for {1:%a %d %b}, {1:%H:%M}–{2:%H:%M}.").format(
                done.number, window.span.start, window.span.end
            )
        else:
            text = done.note or self.tr("{0} is in the queue for dispatch.").format(done.number)
        self.reset()
        self.last_booked = done
        self.banner.setText(
            f"{escape(text)}  <a href='open'>{self.tr('Open {0} (Ctrl+O)').format(done.number)}</a>"
        )
        self.banner.setStyleSheet(DONE_STYLE)
        self.banner.show()
        self.booked.emit(done)

    def open_last_booked(self) -> None:
        """Ctrl+O: the work order just booked, in the editor (photos, notes, line items)."""
        if self.last_booked is not None:
            self.workOrderRequested.emit(self.last_booked.work_order_id)

    def _clear_errors(self) -> None:
        for label in self.errors.values():
            label.hide()
        self.banner.hide()

    def _show_errors(self, fields: dict[str, str]) -> None:
        unplaced = []
        first: QWidget | None = None
        for name, sentence in fields.items():
            label = self.errors.get(name)
            if label is None:
                unplaced.append(sentence)
                continue
            label.setText(sentence)
            label.show()
            first = first or self._input_of(name)
        if unplaced:
            self._show_banner(" ".join(unplaced))
        if first is not None:
            first.setFocus()

    def _input_of(self, name: str) -> QWidget | None:
        if name in self.caller_inputs:
            return self.caller_inputs[name]
        if name.startswith("site_") and name[5:] in self.site_inputs:
            return self.site_inputs[name[5:]]
        for field in self.questions:
            if name == f"answer:{field.question.prompt}":
                return field.widget
        return {
            "description": self.description,
            "job_type": self.job_type,
            "customer": self.lookup,
            "appointment": self.window_list,
            "equipment": self.equipment,
        }.get(name)

    def show_problem(self, text: str) -> None:
        """A sentence in the banner over the form (for whoever opened the intake)."""
        self._show_banner(text)

    def _show_banner(self, text: str) -> None:
        self.banner.setText(text)
        self.banner.setStyleSheet(BANNER_STYLE)
        self.banner.show()

    # -- async plumbing ------------------------------------------------------------------------
    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        self.tasks.spawn(work)

    def idle(self) -> bool:
        """Nothing is loading or saving (tests wait for this)."""
        return self.tasks.idle()

    async def aclose(self) -> None:
        await self.tasks.aclose()

    # -- keys and closing --------------------------------------------------------------------
    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.close()  # past the unsaved-call check, never straight to reject()
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.save()  # Enter on a choice (priority, source, equipment) books too
            return
        super().keyPressEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.has_typing() and not self._closing_anyway:
            event.ignore()
            self._show_banner(
                self.tr(
                    "This call is not booked yet. Press Enter to book it, or close again to "
                    "discard what you typed."
                )
            )
            self._closing_anyway = True
            return
        self._closing_anyway = False
        super().closeEvent(event)
