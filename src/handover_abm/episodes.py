"""Episodes of care and the tasks they are made of: plain records, no behaviour."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum


class TaskKind(IntEnum):
    """Why a task exists."""

    NORMAL = 0  # a step of the episode's sequence
    REWORK = 1  # repeat work after an information loss was noticed
    ESCALATION = 2  # a supervisor sees a case escalated by a supervisee


@dataclass(slots=True, eq=False)
class Episode:
    """One episode of care for one patient: the remaining task types and what happened so far.

    Compact on purpose (an ICB-sized run keeps hundreds of thousands open): the task types still to
    do are a list with the next one last, and the people seen a short list, not a deque and a set.
    """

    id: int
    patient: int
    kind: str
    remaining: list[str]  # task types still to do, the next one last
    arrival_day: int
    n_planned: int
    practice: int = 0
    first_contact_day: int = -1
    last_post: int = -1
    last_person: int = -1
    tasks_done: int = 0
    persons: list[int] = field(default_factory=list)  # distinct people who did its tasks
    handovers: int = 0
    losses: int = 0
    hidden_losses: int = 0
    rework: int = 0
    escalations: int = 0
    holistic: bool = False
    delay: int = 0
    accountable: int = -1
    dropped: bool = False
    closed: bool = False
    elsewhere: bool = False  # the patient went elsewhere (NHS 111, urgent treatment centre, A&E)


@dataclass(slots=True, eq=False)
class Task:
    """A task waiting in, or moving between, clinicians' queues."""

    episode: Episode
    type: str
    kind: TaskKind
    created_day: int
    post: int = -1
    minutes: float = 0.0
    queued_day: int = -1
    checked: bool = False  # the handover into this task has been counted
    urgent: bool = False  # same day or elsewhere
    requested_day: int = -1  # the day the patient asked (or the contact was booked) for it
    start_day: int = -1  # earliest day it may be done (a follow-up's due date)
    attempts: int = 0  # requests that found no slot
