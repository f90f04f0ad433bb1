"""HandoverModel: patients, clinicians and supervisors on a team network, one step per working day.

Daily schedule (see docs/ODD.md):
 1. turnover: post-holders leave and are replaced; their ties fall back to the floor; ties decay;
 2. requests due today are booked: retries, follow-ups due, work deferred behind rework;
 3. new episodes arrive (urgent requests first) and their first task is booked;
 4. clinicians see the patients booked for today (the appointment book, book.py); finishing a task
    books the next one (booking.py), counts handovers and their losses (handover.py) and the
    supervision it asks for (supervision.py);
 5. the day's books close: time nobody booked joins the time kept for work without a slot
    (results, prescriptions, letters), which each clinician works in order;
 6. supervisor load and the day's counts are recorded.
Only episodes with open work are touched: there is no loop over patients.
"""

from __future__ import annotations

import gc
import math
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from operator import itemgetter
from pathlib import Path
from typing import Any

import mesa
import networkx as nx
import numpy as np
from mesa.datacollection import DataCollector
from mesa.discrete_space import Network
from mesa.time import Schedule

from handover_abm.admissions import AvoidableAdmissions
from handover_abm.agents import Clinician, Patient, Supervisor
from handover_abm.book import AppointmentBook
from handover_abm.booking import Request, make_rule
from handover_abm.config import Scenario, apply_override, load_scenario, scenario_from_dict
from handover_abm.dates import Calendar
from handover_abm.demand import DemandGenerator, build_population
from handover_abm.episodes import Episode, Task, TaskKind
from handover_abm.familiarity import Familiarity
from handover_abm.handover import Handovers
from handover_abm.network import TeamNetwork
from handover_abm.preferences import Willingness, named_clinicians, who_prefers
from handover_abm.referral import Referrals
from handover_abm.rota import capacity_table
from handover_abm.streams import RandomStreams
from handover_abm.supervision import SupervisionMechanism, assign_supervisors
from handover_abm.turnover import StaffTurnover

NORMAL, REWORK, ESCALATION = TaskKind.NORMAL, TaskKind.REWORK, TaskKind.ESCALATION
# Day counts whose run totals are added up at the end of each day rather than per event.
SUMMED_DAILY = (
    "tasks_created",
    "tasks_completed",
    "tasks_dropped",
    "requests_unmet",
    "contacts",
    "handovers",
    "miscommunications",
    "rework_tasks",
    "harm_risk_events",
    "escalations",
    "episodes_arrived",
    "staff_turnover",
)

DAILY_COLUMNS = (
    "episodes_arrived",
    "tasks_created",
    "tasks_completed",
    "tasks_waiting",
    "tasks_dropped",
    "contacts",
    "requests_unmet",
    "handovers",
    "miscommunications",
    "rework_tasks",
    "harm_risk_events",
    "escalations",
    "supervisor_load_index",
    "supervisor_interruptions",
    "supervisors_overloaded",
    "supervisor_open_cases",
    "mean_tie_strength",
    "utilisation",
    "staff_turnover",
)

CONTACT_COLUMNS = (
    "patient",
    "age_band",
    "n_ltc",
    "practice",
    "episode",
    "task_type",
    "urgency",
    "day_requested",
    "date_requested",
    "day_seen",
    "date_seen",
    "post",
    "person",
    "role",
    "staff_group",
    "preferred_post",
    "with_preferred",
)


def resolve_seed(rng: Any) -> int:
    """An integer seed from an int, a numpy Generator or None (fresh entropy)."""
    if rng is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    if isinstance(rng, (int, np.integer)):
        return int(rng)
    if isinstance(rng, np.random.Generator):
        return int(rng.integers(2**32))
    raise TypeError(f"rng must be an int, a numpy Generator or None, not {type(rng).__name__}")


def _as_scenario(config: Scenario | dict | str | Path | None, overrides: dict[str, Any]) -> Scenario:
    """Accept a Scenario, a mapping or a path, plus keyword overrides (a__b=v sets a.b)."""
    if config is None:
        config = Path("configs") / "default.yaml"  # the repository's demo config, from its root
    if isinstance(config, (str, Path)):
        scenario = load_scenario(config)
    elif isinstance(config, dict):
        scenario = scenario_from_dict(config)
    else:
        scenario = config
    if not overrides:
        return scenario
    data = scenario.model_dump(mode="json")
    for key, value in overrides.items():
        path: list[str | int] = [int(p) if p.isdigit() else p for p in key.split("__")]
        apply_override(data, path, value, "keyword overrides")
    return scenario_from_dict(data, "keyword overrides")


class HandoverModel(mesa.Model):
    """The primary-care team model. `rng` seeds every stochastic process (see streams.py).

    `config` is a Scenario, a mapping or a YAML path; keyword overrides set config keys
    (`routing__policy="continuity_first"` sets routing.policy).
    """

    def __init__(
        self,
        config: Scenario | dict | str | Path | None = None,
        rng: Any = None,
        log_events: bool = False,
        **overrides: Any,
    ) -> None:
        self.seed = resolve_seed(rng)
        super().__init__(rng=self.seed)
        self.config = _as_scenario(config, overrides)
        self.catalogue = self.config.catalogue()
        self.streams = RandomStreams(self.seed)
        self.log_events = log_events
        self.events: list[dict[str, Any]] = []
        self.contact_log: list[tuple[Any, ...]] = []
        cfg = self.config
        self.task_types = self.catalogue.task_types
        self._contact = {name: t.contact for name, t in self.task_types.items()}
        # task type -> (contact, lead days, reference minutes): one lookup on the hot path
        self._type_info = {name: (t.contact, t.lead_days, t.minutes) for name, t in self.task_types.items()}
        self._access_stream = self.streams["access"]
        self._prebooked_share = cfg.access.follow_up_prebooked_share
        self._same_session = cfg.routing.same_session_continuation
        self._rework_fraction = cfg.handover.rework_time_fraction
        self.escalation_type = self.catalogue.escalation_task

        self.population = build_population(cfg, self.streams["population"])
        self.demand = DemandGenerator(cfg, self.catalogue, self.population, self.streams["demand"])
        self.next_person = 0
        self.clinicians: list[Clinician] = []
        self._build_team()
        self.person_post = {c.person: c.post for c in self.clinicians}
        supervisor_of = assign_supervisors(self.clinicians)
        for c in self.clinicians:
            c.supervisor = supervisor_of[c.post]
            if c.supervisor >= 0:
                self.clinicians[c.supervisor].supervisees.append(c.post)
        self.supervisors = [c for c in self.clinicians if isinstance(c, Supervisor) and c.active]
        self.network = TeamNetwork(
            [c.site for c in self.clinicians], [c.record for c in self.clinicians], supervisor_of, cfg.network
        )
        self.space = Network(self._structure_graph(), layout=None, random=self.random)
        for c in self.clinicians:
            c.cell = self.space[c.post]
        self.eligible = self._eligibility()
        self.navigated = [  # only where navigation narrows the choice
            {t: posts for t, posts in nav.items() if len(posts) < len(full.get(t, ()))}
            for nav, full in zip(
                self._eligibility(cfg.routing.navigation_max_edge), self.eligible, strict=True
            )
        ]
        self.calendar = Calendar(cfg.calendar.start_date, cfg.days + cfg.access.horizon_days + 1)
        self.book = self._build_book()
        self.rule = make_rule(cfg.routing.policy, self.book, self.clinicians)
        self.patients = self._build_patients()
        self.willingness = Willingness(cfg, self.streams["preference"])
        self.handovers = Handovers(self)
        self.supervision = SupervisionMechanism(self)
        self.familiarity = Familiarity(cfg.continuity, len(self.patients))
        self.admissions = AvoidableAdmissions(self)
        self.referrals = Referrals(self)
        self.staff_turnover = StaffTurnover(self)

        self.due: dict[int, list[tuple[Task, int]]] = defaultdict(list)
        self.next_episode = 0
        self.totals: dict[str, float] = defaultdict(float)
        self.waits: Counter[int] = Counter()  # calendar days from request to contact -> contacts
        self.unmet_by_band: Counter[int] = Counter()
        self.today: dict[str, float] = dict.fromkeys(DAILY_COLUMNS, 0.0)
        self.waiting = 0
        self._available_today = 0.0
        self.datacollector = DataCollector(model_reporters={name: _reporter(name) for name in DAILY_COLUMNS})
        if any(c.role.supervision.debrief_minutes_per_week for c in self.clinicians if c.supervisor >= 0):
            interval = cfg.supervision.debrief_interval_days
            self.schedule_recurring(self.supervision.debriefs, Schedule(interval=interval, start=0.5))

    # ------------------------------------------------------------------ building

    def _build_team(self) -> None:
        cfg = self.config
        practices, per = cfg.population.practices, cfg.population.practices_per_pcn
        n_pcns = -(-practices // per)
        for entry in cfg.team:
            role = self.catalogue.roles[entry.role]
            allowed = set(entry.tasks) if entry.tasks is not None else set(role.scope)
            scope = {t: (s.time, s.edge) for t, s in role.scope.items() if t in allowed}
            if entry.acts_as_supervisor:  # seeing escalated cases is part of supervising
                esc = role.scope.get(self.escalation_type)
                scope[self.escalation_type] = (esc.time, esc.edge) if esc else (1.0, 0.0)
            for k in range(entry.count):
                post = len(self.clinicians)
                if entry.organisation == "practice":
                    practice = home = k % practices
                    pcn = practice // per  # the network it belongs to
                else:  # network and other staff: spread over the networks, then over their practices
                    practice, pcn = -1, k % n_pcns
                    home = pcn * per + (k // n_pcns) % (min(practices, (pcn + 1) * per) - pcn * per)
                colocated = entry.colocated or cfg.interventions.colocate_all
                site = home if colocated else -1 - post
                if cfg.interventions.shared_record:
                    record = "shared"
                elif entry.organisation in ("practice", "pcn"):
                    record = "gp_record"
                else:
                    record = str(entry.organisation)
                kwargs: dict[str, Any] = dict(
                    post=post,
                    role_name=entry.role,
                    role=role,
                    scope=scope,
                    fte=entry.fte,
                    organisation=str(entry.organisation),
                    practice=practice,
                    site=site,
                    record=record,
                    base_capacity=entry.fte * cfg.work.minutes_per_fte_day,
                    person=self._new_person(),
                )
                if entry.acts_as_supervisor:
                    c: Clinician = Supervisor(
                        self, protected_minutes=cfg.supervision.protected_minutes_per_day, **kwargs
                    )
                else:
                    c = Clinician(self, **kwargs)
                c.pcn = pcn
                self.clinicians.append(c)

    def _new_person(self) -> int:
        self.next_person += 1
        return self.next_person

    def _structure_graph(self) -> nx.Graph:
        """Posts as nodes; supervision links and same-site colleagues as edges (Mesa space)."""
        g = nx.Graph()
        g.add_nodes_from(c.post for c in self.clinicians)
        for c in self.clinicians:
            if c.supervisor >= 0:
                g.add_edge(c.post, c.supervisor, kind="supervision")
        by_site: dict[int, list[int]] = defaultdict(list)
        for c in self.clinicians:
            by_site[c.site].append(c.post)
        for posts in by_site.values():
            for i, a in enumerate(posts):
                for b in posts[i + 1 :]:
                    if not g.has_edge(a, b):
                        g.add_edge(a, b, kind="site")
        return g

    def _eligibility(self, max_edge: float = 1.0) -> list[dict[str, dict[int, float]]]:
        """For each practice and task type: posts in scope up to `max_edge` (with time multipliers)."""
        out: list[dict[str, dict[int, float]]] = []
        per = self.config.population.practices_per_pcn
        for p in range(self.config.population.practices):
            table: dict[str, dict[int, float]] = defaultdict(dict)
            for c in self.clinicians:
                if c.base_capacity <= 0 or (c.practice >= 0 and c.practice != p) or c.pcn != p // per:
                    continue
                for t, (mult, edge) in c.scope.items():
                    if t != self.escalation_type and edge <= max_edge:
                        table[t][c.post] = mult
            out.append(dict(table))
        return out

    def _build_book(self) -> AppointmentBook:
        """Working patterns and leave (rota.py) split into the book and time without a slot."""
        cfg = self.config
        minutes, patterns = capacity_table(
            [c.fte for c in self.clinicians],
            [c.role.contact_group for c in self.clinicians],
            cfg.work.minutes_per_fte_day,
            cfg.leave,
            self.calendar,
            self.streams["rota"].rng,
        )
        minutes[:, 0] = 0.0  # day 0 is before the run
        unbooked = minutes * cfg.work.non_appointment_share
        appointments = minutes - unbooked
        for c in self.clinicians:
            c.sessions = patterns[c.post].tolist()
            worked = minutes[c.post] > 0
            c.unbooked_per_day = float(unbooked[c.post][worked].mean()) if worked.any() else 0.0
            if isinstance(c, Supervisor) and c.active:
                appointments[c.post] = np.maximum(0.0, appointments[c.post] - c.protected_minutes * worked)
        self.day_minutes: list[list[float]] = minutes.tolist()
        self.unbooked_minutes: list[list[float]] = unbooked.tolist()
        self.appointment_minutes: list[list[float]] = appointments.tolist()
        return AppointmentBook(appointments, cfg.access.on_the_day_share, cfg.access.horizon_days)

    def _build_patients(self) -> list[Patient]:
        pop = self.population
        everyone = self.config.routing.policy == "personal_list"
        holders = [
            [
                (c.post, c.fte)
                for c in self.clinicians
                if c.role.usual_clinician and c.practice == p and c.fte > 0
            ]
            for p in range(self.config.population.practices)
        ]
        named = named_clinicians(self.config, pop, holders, everyone, self.streams["allocation"].rng)
        prefers = who_prefers(self.config, pop, named, everyone, self.streams["preference"].rng)
        with _no_cycle_collection():
            patients = [
                Patient(self, i, int(a), int(n), bool(s), int(pr), int(u))
                for i, (a, n, s, pr, u) in enumerate(
                    zip(
                        pop.age_band.tolist(),
                        pop.n_ltc.tolist(),
                        pop.social_need.tolist(),
                        pop.practice.tolist(),
                        named.tolist(),
                        strict=True,
                    )
                )
            ]
        for i in np.flatnonzero(prefers).tolist():
            patients[i].prefers = True
        return patients

    def team_graph(self) -> nx.Graph:
        """The team network now: posts with role and organisation; ties, handovers, supervision."""
        attrs = [
            {
                "role": c.role_name,
                "staff_group": c.role.staff_group,
                "organisation": c.org_key,
                "site": c.site,
                "fte": c.fte,
                "tasks_done": c.tasks_done,
            }
            for c in self.clinicians
        ]
        return self.network.graph(attrs)

    # ------------------------------------------------------------------ the day

    def step(self) -> None:
        """One working day."""
        day = self.steps
        self._start_day(day)
        self._book_due(day)
        self._arrivals(day)
        self._see_patients(day)
        self._work_without_slots(day)
        self._end_day(day)
        self.datacollector.collect(self)
        if day >= self.config.days:
            self.running = False

    def run(self) -> None:
        """Run the configured number of days (Mesa event loop: one step per day)."""
        self.run_for(self.config.days - self.steps)

    def run_for(self, duration: float | int) -> None:
        """Mesa's run_for, without cyclic garbage collection while it runs (see `_no_cycle_collection`)."""
        with _no_cycle_collection():
            super().run_for(duration)

    def _start_day(self, day: int) -> None:
        self.today = dict.fromkeys(DAILY_COLUMNS, 0.0)
        self._available_today = 0.0
        self.staff_turnover.start_day(day)  # turnover.py: overload memory, leavers replaced
        self.supervision.start_day(day)  # supervision.py: today's learning-curve multipliers
        self.network.decay()
        self.rule.set_tiebreak((self.streams["routing"].rng.random(len(self.clinicians)) * 1e-6).tolist())
        for c in self.clinicians:
            c.interruptions_today = 0
            c.working_today = self.day_minutes[c.post][day] > 0
            if isinstance(c, Supervisor):
                c.supervision_minutes_today = 0.0
                if c.working_today:
                    c.supervision_minutes_today = c.debrief_minutes_pending
                    c.debrief_minutes_pending = 0.0

    def _book_due(self, day: int) -> None:
        """Requests whose day has come: retries, follow-ups due, tasks deferred behind rework."""
        for task, pinned in self.due.pop(day, []):
            self._route(task, day, pinned)

    def _arrivals(self, day: int) -> None:
        """New episodes: urgent requests are booked first (on-the-day slots go to them)."""
        arrivals = self.demand.draw_day()
        arrivals.sort(key=itemgetter(3), reverse=True)  # urgent first; stable (reverse keeps ties' order)
        patients, is_planned, advance = self.patients, self.demand.is_planned, self._advance
        for patient_index, kind, tasks, urgent in arrivals:
            self.next_episode += 1
            patient = patients[patient_index]
            ep = Episode(
                self.next_episode, patient_index, kind, tasks[::-1], day, len(tasks), patient.practice
            )
            patient.open_episodes += 1
            self.admissions.at_arrival(ep)  # admissions.py: expected avoidable admissions
            advance(ep, day, True, urgent, is_planned(kind))
        self.today["episodes_arrived"] += len(arrivals)

    def _see_patients(self, day: int) -> None:
        """Every appointment booked for today, in booking order (same-day bookings join the end)."""
        clinicians, worked, complete = self.clinicians, 0.0, self._complete
        for post, task in self.book.appointments[day]:  # a for loop also sees items appended
            if task.episode.dropped:  # the patient went elsewhere: the slot's time is not used
                self.book.pre[post][day] += task.minutes
                self._drop(task, day)
                continue
            c = clinicians[post]
            c.minutes_worked += task.minutes
            worked += task.minutes
            complete(c, task, day)
        self.today["utilisation"] += worked
        self.book.appointments[day] = []

    def _work_without_slots(self, day: int) -> None:
        """Close today's books, then each clinician works results, prescriptions and letters.

        A task is started while any time is left; what it overruns is owed from the post's next
        working day, so no task blocks a queue.
        """
        cl = self.clinicians
        time = {}
        for c in cl:
            if c.working_today:
                time[c.post] = self.unbooked_minutes[c.post][day] + self.book.unused(c.post, day)
                available = self.unbooked_minutes[c.post][day] + self.appointment_minutes[c.post][day]
                c.minutes_available += available
                self._available_today += available
        abandon = self.config.work.abandon_after_days
        order = self.streams["routing"].rng.permutation(len(cl)).tolist()
        for k in order:
            c = cl[k]
            if not c.working_today:
                continue
            left = time[c.post] - c.debt - c.debrief_minutes_pending
            c.debt = c.debrief_minutes_pending = 0.0
            queue, worked = c.unbooked, 0.0
            while queue and left > 0:
                task = queue.popleft()
                c.unbooked_minutes -= task.minutes
                if task.episode.dropped or day - task.queued_day > abandon:
                    self._drop(task, day)
                    continue
                left -= task.minutes
                worked += task.minutes
                self._complete(c, task, day)
            c.debt = max(0.0, -left)
            c.minutes_worked += worked
            self.today["utilisation"] += worked

    # ------------------------------------------------------------------ tasks

    def create(self, task: Task, day: int, when: int, pinned: int = -1) -> None:
        """A new task exists: book or route it now, or when its day comes."""
        self.today["tasks_created"] += 1
        self.waiting += 1
        if when <= day:
            self._route(task, day, pinned)
        else:
            self.due[when].append((task, pinned))

    def defer(self, task: Task, day: int, when: int, pinned: int) -> None:
        """Book or route `task` on day `when` (now if `when` is today)."""
        if when <= day:
            self._route(task, day, pinned)
        else:
            self.due[when].append((task, pinned))

    def _advance(
        self, ep: Episode, day: int, first: bool = False, urgent: bool = False, planned: bool = False
    ) -> None:
        """Create the episode's next task, or close the episode when none is left.

        A planned review's first contact is booked ahead (`access.planned_lead_days`); a follow-up
        is booked at its lead time, now (pre-booked) or by the patient when it is due.
        """
        remaining = ep.remaining
        if not remaining:
            self._close(ep, day, completed=True)
            return
        ttype = remaining.pop()
        contact, lead_days, _ = self._type_info[ttype]
        lead = (self._planned_lead() if planned and contact else 0) if first else lead_days + ep.delay
        ep.delay = 0
        task = Task(ep, ttype, NORMAL, day, urgent=urgent, start_day=day + lead)
        pinned = -1
        if (
            lead == 0
            and not first
            and not contact
            and self._same_session
            and ep.last_post in self.eligible[ep.practice].get(ttype, ())
        ):
            pinned = ep.last_post  # done at the same consultation
        if contact and lead > 0 and self._access_stream.uniform() < self._prebooked_share:
            task.requested_day = day  # booked now for its due date
            self.create(task, day, day, pinned)
            return
        self.create(task, day, day + lead, pinned)

    def _planned_lead(self) -> int:
        mean = self.config.access.planned_lead_days
        return int(-mean * math.log1p(-self._access_stream.uniform())) if mean > 0 else 0

    def _route(self, task: Task, day: int, pinned: int) -> None:
        """Give a task a clinician (and a slot when it is a contact); a change of person is a handover."""
        ep = task.episode
        if ep.dropped:
            self._drop(task, day)
            return
        ttype = task.type
        contact, _, minutes = self._type_info[ttype]
        if task.requested_day < 0:
            task.requested_day = day
        eligible = self.eligible[ep.practice].get(ttype)
        if pinned < 0 and not eligible:
            self._drop(task, day)
            return
        rework = task.kind == REWORK
        if rework:
            minutes *= self._rework_fraction
        slot_day = day
        if contact:
            post, slot_day = self._find_slot(task, day, minutes, eligible or {}, pinned)
            if post < 0:
                self._no_slot(task, day, pinned)
                return
        else:
            post = pinned if pinned >= 0 else self.rule.choose_unbooked(ep, eligible or {})
        receiver = self.clinicians[post]
        task.minutes = minutes * receiver.scope[ttype][0]
        if not rework and not task.checked and ep.last_person >= 0 and receiver.person != ep.last_person:
            task.checked = True
            if self.handovers.transfer(ep, self.clinicians[ep.last_post], receiver, task, day):
                return  # deferred behind a rework task
        task.checked = True
        if contact:
            task.post = post
            self.book.book(post, slot_day, day, task.minutes, task.urgent, task)
        else:
            receiver.enqueue(task, day)

    def _find_slot(
        self, task: Task, day: int, minutes: float, eligible: dict[int, float], pinned: int
    ) -> tuple[int, int]:
        """(post, day) of the appointment for a contact, or (-1, -1) when there is none."""
        start = task.start_day if task.start_day > day else day
        if pinned >= 0:
            need = minutes * self.clinicians[pinned].scope[task.type][0]
            d = self.book.earliest(pinned, need, start, self.book.last_day(day), day)
            return (pinned, d) if d >= 0 else (-1, -1)
        patient = self.patients[task.episode.patient]
        willing = 0
        if not task.urgent and self.rule.prefers_named:
            willing = self.willingness.draw(patient.n_ltc)
        navigated = self.navigated[task.episode.practice].get(task.type)
        if navigated:  # care navigation first
            got = self.rule.choose(
                Request(task.episode, patient, navigated, minutes, day, start, task.urgent, willing)
            )
            if got[0] >= 0:
                return got
        request = Request(task.episode, patient, eligible, minutes, day, start, task.urgent, willing)
        return self.rule.choose(request)

    def _no_slot(self, task: Task, day: int, pinned: int) -> None:
        """No slot: the patient tries again later or goes elsewhere (unmet demand)."""
        access = self.config.access
        task.attempts += 1
        p = access.p_elsewhere_urgent if task.urgent else access.p_elsewhere_routine
        if task.attempts >= access.max_attempts or self._access_stream.uniform() < p:
            self._elsewhere(task, day)
            return
        self.due[day + (1 if task.urgent else access.retry_days_routine)].append((task, pinned))

    def _elsewhere(self, task: Task, day: int) -> None:
        """The patient goes to NHS 111, an urgent treatment centre or A&E: the episode ends here."""
        ep = task.episode
        self.today["requests_unmet"] += 1
        self.unmet_by_band[self.patients[ep.patient].age_band] += 1
        ep.elsewhere = True
        self._drop(task, day)

    def _drop(self, task: Task, day: int) -> None:
        self.waiting -= 1
        self.today["tasks_dropped"] += 1
        ep = task.episode
        if not ep.dropped and not ep.closed:
            ep.dropped = True
            self._close(ep, day, completed=False)

    def _complete(self, c: Clinician, task: Task, day: int) -> None:
        """A task is done: record the contact, supervision demand, then move the episode on."""
        self.waiting -= 1
        self.today["tasks_completed"] += 1
        c.tasks_done += 1
        ttype = task.type
        c.task_types_done.add(ttype)
        ep = task.episode
        patient = self.patients[ep.patient]
        if self._contact[ttype]:
            self._record_contact(c, task, patient, day)
        if ep.closed:  # late rework on a finished episode: the contact still happened
            return
        if ep.first_contact_day < 0:
            ep.first_contact_day = day
        ep.tasks_done += 1
        if c.person not in ep.persons:
            ep.persons.append(c.person)
        post = c.post
        ep.last_post, ep.last_person = post, c.person
        if ep.accountable != c.supervisor:
            self._set_accountable(ep, c.supervisor)
        if c.role.holistic or post == patient.usual_post:
            self.handovers.rebuild_holistic_view(ep, post, ttype, day)
        kind = task.kind
        if kind == REWORK:
            return
        if c.supervisor >= 0 and kind != ESCALATION and self.supervision.after_task(c, task, ep, day):
            return
        self.referrals.after_task(c, task, ep)  # referral.py: back to a GP from the edge of scope
        self._advance(ep, day)

    def _record_contact(self, c: Clinician, task: Task, patient: Patient, day: int) -> None:
        """Count a patient contact: its wait in calendar days, who was seen, and with whom."""
        person, history = c.person, patient.history
        history.append(person)
        seen = history.count(person)  # a C scan of a short list
        if seen > patient.top_count:
            patient.top_count = seen
        self.familiarity.contact(patient.index, person, day)  # familiarity.py
        if c.is_gp:
            patient.gp_history.append(person)
        ordinal = self.calendar.ordinal_list
        wait = ordinal[day] - ordinal[task.requested_day]
        self.waits[wait] += 1
        t = self.totals
        self.today["contacts"] += 1
        t[c.contact_key] += 1
        if task.episode.first_contact_day < 0 and task.kind == NORMAL:
            t["new_problem_contacts"] += 1
            t["new_problem_same_day"] += wait == 0
        with_preferred = c.post == patient.usual_post
        if patient.prefers:
            t["preferred_contacts"] += 1
            t["preferred_contacts_with"] += with_preferred
        if self.log_events:
            dates = self.calendar.dates
            self.contact_log.append(
                (
                    patient.index,
                    self.config.population.age_bands[patient.age_band].name,
                    patient.n_ltc,
                    patient.practice,
                    task.episode.id,
                    task.type,
                    "urgent" if task.urgent else "routine",
                    task.requested_day,
                    dates[task.requested_day].isoformat(),
                    day,
                    dates[day].isoformat(),
                    c.post,
                    c.person,
                    c.role_name,
                    c.role.contact_group,
                    patient.usual_post if patient.prefers else -1,
                    with_preferred and patient.prefers,
                )
            )

    def _set_accountable(self, ep: Episode, supervisor: int) -> None:
        if ep.accountable == supervisor:
            return
        if ep.accountable >= 0:
            self.clinicians[ep.accountable].open_cases -= 1
        if supervisor >= 0:
            self.clinicians[supervisor].open_cases += 1
        ep.accountable = supervisor

    def _close(self, ep: Episode, day: int, completed: bool) -> None:
        """Episode finished (or dropped): hidden losses may become harm-risk events."""
        ep.closed = True
        self.patients[ep.patient].open_episodes -= 1
        if ep.accountable >= 0:
            self._set_accountable(ep, -1)
        harm = self.handovers.harm_at_close(ep) if ep.hidden_losses else 0
        self.today["harm_risk_events"] += harm
        t = self.totals
        if not completed:
            t["episodes_dropped"] += 1
            t["episodes_elsewhere"] += ep.elsewhere
            t["harm_risk_events_dropped"] += harm
            return
        t["episodes_completed"] += 1
        t["ep_tasks"] += ep.tasks_done
        t["ep_handovers"] += ep.handovers
        t["ep_losses"] += ep.losses
        t["ep_rework"] += ep.rework
        t["ep_escalations"] += ep.escalations
        t["ep_harm"] += harm
        t["ep_wait_days"] += ep.first_contact_day - ep.arrival_day
        t["ep_days"] += day - ep.arrival_day
        if ep.tasks_done >= 2:
            t["frag_sum"] += (len(ep.persons) - 1) / (ep.tasks_done - 1)
            t["frag_n"] += 1

    def _end_day(self, day: int) -> None:
        today = self.today
        today["tasks_waiting"] = self.waiting
        self.supervision.end_day()
        today["mean_tie_strength"] = self.network.mean_tie()
        available = self._available_today
        today["utilisation"] = today["utilisation"] / available if available else 0.0
        totals = self.totals
        for name in SUMMED_DAILY:
            totals[name] += today[name]


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Pause the cyclic garbage collector (restored afterwards, if it was on).

    Building a model and running it allocate and free millions of records (patients, tasks,
    requests, tuples); reference counting frees them, and a run makes no reference cycles (a
    collection after a 252-day run finds a few dozen objects). The collector's passes only walk
    live objects: with the default thresholds they took about a tenth of a run, and each pass costs
    more as the population grows (0.15 s per young pass at 1,000,000 patients), which made the
    run's cost grow faster than its work.
    """
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def _reporter(name: str) -> Any:
    def report(model: HandoverModel) -> float:
        return model.today[name]

    report.__name__ = f"report_{name}"
    return report
