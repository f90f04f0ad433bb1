"""Mesa agents: patients, clinicians and supervising clinicians. State plus small behaviours."""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING

import mesa
from mesa.discrete_space import FixedAgent

from handover_abm.catalogue import Role
from handover_abm.episodes import Task

if TYPE_CHECKING:
    from handover_abm.model import HandoverModel


class Patient(mesa.Agent):
    """A registered patient: attributes that drive demand, a usual clinician and a contact history."""

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
        self.prefers = False  # prefers to see the named clinician (preferences.py)
        self.history: list[int] = []  # person ids of clinicians seen, in order (contacts only)
        self.gp_history: list[int] = []  # the same, GP contacts only (Barker et al.'s continuity)
        self.top_count = 0  # contacts with the clinician seen most (the numerator of UPC)
        self.open_episodes = 0


class Clinician(FixedAgent):
    """A post in the team: role, organisation, working pattern, work without a slot and today's state.

    Appointments live in the model's appointment book (book.py); what the post holds itself is the
    queue of work without a slot (results, prescriptions, letters) and the minutes it owes to it.
    """

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
        self.supervisor: int = -1
        self.unbooked: deque[Task] = deque()
        self.unbooked_minutes = 0.0  # minutes of work waiting in `unbooked`
        self.debt = 0.0  # minutes overrun (a task started late, supervision overflow), owed next day
        self.unbooked_per_day = 0.0  # mean minutes per working day kept for work without a slot
        self.sessions = [0] * 5  # sessions worked Monday..Friday
        # today's state
        self.working_today = False
        self.debrief_minutes_pending = 0.0
        self.interruptions_today = 0
        # totals for the run
        self.minutes_worked = 0.0
        self.minutes_available = 0.0
        self.tasks_done = 0
        self.task_types_done: set[str] = set()

    @property
    def org_key(self) -> str:
        """Identity of the employing organisation (each practice is its own organisation)."""
        if self.organisation == "practice":
            return f"practice{self.practice}"
        return self.organisation

    def unbooked_days(self) -> float:
        """Work without a slot waiting (and minutes owed), in days of this post's time for it."""
        if self.unbooked_per_day <= 0:
            return 1e9 if self.unbooked else 0.0
        return (self.unbooked_minutes + self.debt) / self.unbooked_per_day

    def enqueue(self, task: Task, day: int) -> None:
        """Put a task without a slot in this clinician's queue."""
        task.post = self.post
        task.queued_day = day
        self.unbooked.append(task)
        self.unbooked_minutes += task.minutes


class Supervisor(Clinician):
    """A senior clinician who also supervises; carries a cognitive-load state."""

    def __init__(self, *args: object, protected_minutes: float, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.supervisees: list[int] = []
        self.protected_minutes = protected_minutes
        self.supervision_minutes_today = 0.0
        self.open_cases = 0
        self.load_index_sum = 0.0
        self.overload_days = 0
        self.interruptions_total = 0
        self.days_observed = 0

    @property
    def active(self) -> bool:
        """Supervises at least one post."""
        return bool(self.supervisees)

    def load_index(self) -> float:
        """Supervision minutes today against protected supervision time."""
        return self.supervision_minutes_today / self.protected_minutes
