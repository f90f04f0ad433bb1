"""Mesa agents: patients, clinicians and supervising clinicians, as views of the model's arrays.

The compiled task life cycle (lifecycle.py) reads and writes the state as arrays (state.py); each
agent's changing attributes are properties that read and write its row, so a user, the dashboard
or a per-day mechanism sees and changes the same numbers the kernels do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import mesa
from mesa.discrete_space import FixedAgent

from handover_abm.catalogue import Role
from handover_abm.handover import backlog_days

if TYPE_CHECKING:
    from handover_abm.model import HandoverModel


def _view(arrays: str, row: str, name: str, cast: type, doc: str) -> Any:
    """A property reading and writing the agent's entry (at its attribute `row`) of the array
    `model.<arrays>.<name>`."""

    def get(self: mesa.Agent) -> Any:
        return cast(getattr(getattr(self.model, arrays), name)[getattr(self, row)])

    def put(self: mesa.Agent, value: Any) -> None:
        getattr(getattr(self.model, arrays), name)[getattr(self, row)] = value

    return property(get, put, doc=doc)


def _post_view(name: str, cast: type, doc: str) -> Any:
    """A view of the post's entry of `model.posts.<name>`."""
    return _view("posts", "post", name, cast, doc)


def _patient_view(name: str, cast: type, doc: str) -> Any:
    """A view of the patient's entry of `model.pats.<name>` (a column of the patients' rows)."""
    return _view("pats", "index", name, cast, doc)


class Patient(mesa.Agent):
    """A registered patient: attributes that drive demand, a usual clinician and a contact history."""

    prefers = _patient_view("pt_prefers", bool, "Prefers to see the named clinician (preferences.py).")
    top_count = _patient_view("pt_top", int, "Contacts with the clinician seen most (the numerator of UPC).")
    open_episodes = _patient_view("pt_open", int, "Episodes of care not yet closed.")

    def __init__(
        self,
        model: HandoverModel,
        index: int,
        age_band: int,
        n_ltc: int,
        social_need: bool,
        practice: int,
        usual_post: int,
    ) -> None:
        super().__init__(model)
        self.index = index
        self.age_band = age_band
        self.n_ltc = n_ltc
        self.social_need = social_need
        self.practice = practice
        self.usual_post = usual_post  # named clinician (post) or -1

    @property
    def history(self) -> list[int]:
        """Person ids of the clinicians seen, in order (contacts only)."""
        return self.model.history_of(self.index)

    @property
    def gp_history(self) -> list[int]:
        """The same, GP contacts only (Barker et al.'s continuity)."""
        return self.model.history_of(self.index, gp=True)


class Clinician(FixedAgent):
    """A post in the team: role, organisation, working pattern, work without a slot and today's state.

    Appointments live in the model's appointment book (book.py); what the post holds itself is the
    queue of work without a slot (results, prescriptions, letters) and the minutes it owes to it.
    """

    person = _post_view("p_person", int, "The person now in the post (a new one after turnover).")
    supervisor = _post_view("p_supervisor", int, "The post that supervises this one, or -1.")
    unbooked_minutes = _post_view("p_unbooked_minutes", float, "Minutes of work without a slot waiting.")
    debt = _post_view(
        "p_debt", float, "Minutes overrun (a task started late, supervision overflow), owed next day."
    )
    unbooked_per_day = _post_view(
        "p_unbooked_per_day", float, "Mean minutes per working day kept for work without a slot."
    )
    working_today = _post_view("p_working", bool, "Works today.")
    debrief_minutes_pending = _post_view("p_debrief", float, "Debrief minutes owed at the next working day.")
    interruptions_today = _post_view("p_interruptions", int, "Queries taken today (supervisors).")
    minutes_worked = _post_view("p_worked", float, "Minutes of tasks done in the run.")
    minutes_available = _post_view("p_available", float, "Working minutes in the run.")
    tasks_done = _post_view("p_tasks_done", int, "Tasks done in the run.")

    def __init__(
        self,
        model: HandoverModel,
        post: int,
        role_name: str,
        role: Role,
        scope: dict[str, tuple[float, float]],
        fte: float,
        organisation: str,
        practice: int,
        site: int,
        record: str,
        base_capacity: float,
        person: int,
    ) -> None:
        super().__init__(model)
        self.post = post
        self.role_name = role_name
        self.role = role
        self.is_gp = role.staff_group == "GP"
        self.contact_key = f"contacts_{role.contact_group}"  # the counter of this post's contacts
        self.scope = scope  # task type -> (time multiplier, edge of scope)
        self.fte = fte
        self.organisation = organisation
        self.practice = practice
        self.pcn = 0  # the primary care network whose practices this post serves
        self.site = site
        self.record = record
        self.base_capacity = base_capacity
        self.person = person
        self.supervisor = -1
        self.sessions = [0] * 5  # sessions worked Monday..Friday

    @property
    def org_key(self) -> str:
        """Identity of the employing organisation (each practice is its own organisation)."""
        if self.organisation == "practice":
            return f"practice{self.practice}"
        return self.organisation

    @property
    def task_types_done(self) -> set[str]:
        """The task types this post has done in the run."""
        names = self.model.task_type_names
        return {names[k] for k in self.model.posts.p_types_done[self.post].nonzero()[0].tolist()}

    @property
    def unbooked(self) -> list[int]:
        """The queue of work without a slot, as task rows of the state, first first."""
        return self.model.queue_of(self.post)

    def unbooked_days(self) -> float:
        """Work without a slot waiting (and minutes owed), in days of this post's time for it."""
        p = self.model.posts
        return float(backlog_days(p.p_unbooked_per_day, p.p_unbooked_minutes, p.p_debt, p.p_qlen, self.post))


class Supervisor(Clinician):
    """A senior clinician who also supervises; carries a cognitive-load state."""

    supervision_minutes_today = _post_view("p_sup_today", float, "Supervision minutes taken today.")
    open_cases = _post_view(
        "p_open_cases", int, "Episodes of supervisees this supervisor is accountable for."
    )
    # the record of the days worked, kept by supervision.py
    load_index_sum = _view("supervision", "post", "load_sum", float, "Sum of the daily load index.")
    overload_days = _view("supervision", "post", "overload_days", int, "Days with load index above 1.")
    interruptions_total = _view("supervision", "post", "interruptions_total", int, "Queries taken.")
    days_observed = _view("supervision", "post", "days_observed", int, "Days worked (load recorded).")

    def __init__(self, *args: object, protected_minutes: float, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.supervisees: list[int] = []
        self.protected_minutes = protected_minutes
        self.model.posts.p_protected[self.post] = protected_minutes

    @property
    def active(self) -> bool:
        """Supervises at least one post."""
        return bool(self.supervisees)

    def load_index(self) -> float:
        """Supervision minutes today against protected supervision time."""
        return self.supervision_minutes_today / self.protected_minutes
