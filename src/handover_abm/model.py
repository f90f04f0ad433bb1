"""HandoverModel: patients, clinicians and supervisors on a team network, one step per working day.

Daily schedule (see docs/ODD.md):
 1. turnover: post-holders leave and are replaced; their ties fall back to the floor;
 2. ties decay; today's capacity is set (debriefs, protected supervision time);
 3. tasks whose lead time ends today are routed (a handover when the receiver is a new person);
 4. new episodes arrive and their first task is routed;
 5. clinicians work their queues within capacity (supervisees first, then supervisors, who
    answer the day's queries and escalations); finishing a task routes the next one;
 6. supervisor load and the day's counts are recorded.
Only episodes with open work are touched: there is no loop over patients.
"""

from __future__ import annotations

from collections import defaultdict, deque
from pathlib import Path
from typing import Any

import mesa
import networkx as nx
import numpy as np
from mesa.datacollection import DataCollector
from mesa.discrete_space import Network
from mesa.time import Schedule

from handover_abm.agents import Clinician, Patient, Supervisor
from handover_abm.config import Scenario, apply_override, load_scenario, scenario_from_dict
from handover_abm.demand import DemandGenerator, build_population
from handover_abm.episodes import Episode, Task, TaskKind
from handover_abm.handover import LossModel, TransferFactors
from handover_abm.network import TeamNetwork
from handover_abm.routing import make_policy
from handover_abm.streams import RandomStreams
from handover_abm.supervision import assign_supervisors, demand_for_task

DAILY_COLUMNS = (
    "episodes_arrived",
    "tasks_created",
    "tasks_completed",
    "tasks_waiting",
    "tasks_dropped",
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
    (`routing__policy="continuity_first"` sets routing.policy). `scenario` (Mesa's own Scenario
    object, passed by SolaraViz on Reset) is accepted and ignored: the config is the scenario.
    """

    def __init__(
        self,
        config: Scenario | dict | str | Path | None = None,
        rng: Any = None,
        log_events: bool = False,
        scenario: Any = None,
        **overrides: Any,
    ) -> None:
        self.seed = resolve_seed(rng)
        super().__init__(rng=self.seed)
        self.config = _as_scenario(config, overrides)
        self.catalogue = self.config.catalogue()
        self.streams = RandomStreams(self.seed)
        self.log_events = log_events
        self.events: list[dict[str, Any]] = []
        cfg = self.config
        self.task_types = self.catalogue.task_types
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
        self.others = [c for c in self.clinicians if c not in self.supervisors]
        self.network = TeamNetwork(
            [c.site for c in self.clinicians], [c.record for c in self.clinicians], supervisor_of, cfg.network
        )
        self.space = Network(self._structure_graph(), layout=None, random=self.random)
        for c in self.clinicians:
            c.cell = self.space[c.post]
        self.eligible = self._eligibility()
        self.patients = self._build_patients()
        self.policy = make_policy(
            cfg.routing.policy, self.clinicians, cfg.routing.max_backlog_days, self.person_post
        )
        self.loss = LossModel(cfg.handover)

        self.calendar: dict[int, list[tuple[Task, int]]] = defaultdict(list)
        self.next_episode = 0
        self.totals: dict[str, float] = defaultdict(float)
        self.today: dict[str, float] = dict.fromkeys(DAILY_COLUMNS, 0.0)
        self.waiting = 0
        self._available_today = 0.0
        self.datacollector = DataCollector(model_reporters={name: _reporter(name) for name in DAILY_COLUMNS})
        if any(c.role.supervision.debrief_minutes_per_week for c in self.clinicians if c.supervisor >= 0):
            interval = cfg.supervision.debrief_interval_days
            self.schedule_recurring(self._schedule_debriefs, Schedule(interval=interval, start=0.5))

    # ------------------------------------------------------------------ building

    def _build_team(self) -> None:
        cfg = self.config
        practices = cfg.population.practices
        for entry in cfg.team:
            role = self.catalogue.roles[entry.role]
            allowed = set(entry.tasks) if entry.tasks is not None else set(role.scope)
            scope = {t: (s.time, s.edge) for t, s in role.scope.items() if t in allowed}
            if entry.acts_as_supervisor:  # seeing escalated cases is part of supervising
                esc = role.scope.get(self.escalation_type)
                scope[self.escalation_type] = (esc.time, esc.edge) if esc else (1.0, 0.0)
            for k in range(entry.count):
                post = len(self.clinicians)
                practice = k % practices if entry.organisation == "practice" else -1
                colocated = entry.colocated or cfg.interventions.colocate_all
                site = (practice if practice >= 0 else k % practices) if colocated else -1 - post
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

    def _eligibility(self) -> list[dict[str, dict[int, float]]]:
        """For each practice and task type: posts in scope (with time multipliers)."""
        out: list[dict[str, dict[int, float]]] = []
        for p in range(self.config.population.practices):
            table: dict[str, dict[int, float]] = defaultdict(dict)
            for c in self.clinicians:
                if c.base_capacity <= 0 or (c.practice >= 0 and c.practice != p):
                    continue
                for t, (mult, _) in c.scope.items():
                    if t != self.escalation_type:
                        table[t][c.post] = mult
            out.append(dict(table))
        return out

    def _build_patients(self) -> list[Patient]:
        pop = self.population
        share = self.config.population.usual_clinician_share
        alloc = self.streams["allocation"].rng
        usual = np.full(pop.size, -1)
        for p in range(self.config.population.practices):
            holders = [
                c
                for c in self.clinicians
                if c.role.usual_clinician and c.practice == p and c.base_capacity > 0
            ]
            members = np.flatnonzero(pop.practice == p)
            if not holders or members.size == 0:
                continue
            weights = np.array([c.fte for c in holders])
            has = alloc.random(members.size) < share
            picks = alloc.choice(len(holders), size=members.size, p=weights / weights.sum())
            posts = np.array([c.post for c in holders])[picks]
            usual[members[has]] = posts[has]
        return [
            Patient(self, i, int(a), int(n), bool(s), int(pr), int(u))
            for i, (a, n, s, pr, u) in enumerate(
                zip(
                    pop.age_band.tolist(),
                    pop.n_ltc.tolist(),
                    pop.social_need.tolist(),
                    pop.practice.tolist(),
                    usual.tolist(),
                    strict=True,
                )
            )
        ]

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
        return self.network.graph(attrs, min_tie=0.0)

    # ------------------------------------------------------------------ the day

    def step(self) -> None:
        """One working day."""
        day = self.steps
        self._start_day(day)
        for task, pinned in self.calendar.pop(day, []):
            self._assign(task, day, pinned)
        self._arrivals(day)
        order = self.streams["routing"].rng
        for group in (self.others, self.supervisors):
            for k in order.permutation(len(group)).tolist():
                self._work(group[k], day)
        self._end_day(day)
        self.datacollector.collect(self)
        if day >= self.config.days:
            self.running = False

    def run(self) -> None:
        """Run the configured number of days (Mesa event loop: one step per day)."""
        self.run_for(self.config.days - self.steps)

    def _start_day(self, day: int) -> None:
        self.today = dict.fromkeys(DAILY_COLUMNS, 0.0)
        self._available_today = 0.0
        if self.config.turnover.enabled:
            self._turnover(day)
        self.network.decay()
        self.policy.set_tiebreak((self.streams["routing"].rng.random(len(self.clinicians)) * 1e-6).tolist())
        for c in self.clinicians:
            c.interruptions_today = 0
            if isinstance(c, Supervisor):
                c.supervision_minutes_today = c.debrief_minutes_pending
                c.capacity_today = c.base_capacity - (c.protected_minutes if c.active else 0.0)
            else:
                c.capacity_today = c.base_capacity - c.debrief_minutes_pending
            c.debrief_minutes_pending = 0.0

    def _turnover(self, day: int) -> None:
        stream = self.streams["turnover"]
        scale = self.config.turnover.rate_multiplier / self.config.working_days_per_year
        for c in self.clinicians:
            if stream.uniform() < c.role.annual_turnover * scale:
                del self.person_post[c.person]
                c.person = self._new_person()
                self.person_post[c.person] = c.post
                self.network.reset_post(c.post)
                self.today["staff_turnover"] += 1

    def _schedule_debriefs(self) -> None:
        """Scheduled supervision (a recurring Mesa event): minutes from both sides, ties grow."""
        scale = self.config.supervision.debrief_interval_days / 5.0
        for c in self.clinicians:
            minutes = c.role.supervision.debrief_minutes_per_week * scale
            if c.supervisor >= 0 and minutes > 0:
                c.debrief_minutes_pending += minutes
                self.clinicians[c.supervisor].debrief_minutes_pending += minutes
                self.network.strengthen(c.post, c.supervisor)
                self.totals["debrief_minutes"] += minutes

    def _arrivals(self, day: int) -> None:
        for patient_index, kind, tasks in self.demand.draw_day():
            self.next_episode += 1
            patient = self.patients[patient_index]
            ep = Episode(
                self.next_episode, patient_index, kind, deque(tasks), day, len(tasks), patient.practice
            )
            patient.open_episodes += 1
            self.today["episodes_arrived"] += 1
            self._advance(ep, day, first=True)

    # ------------------------------------------------------------------ tasks

    def _create(self, task: Task, day: int, when: int, pinned: int = -1) -> None:
        """A new task exists: route it now, or at the end of its lead time."""
        self.today["tasks_created"] += 1
        self.totals["tasks_created"] += 1
        self.waiting += 1
        if when <= day:
            self._assign(task, day, pinned)
        else:
            self.calendar[when].append((task, pinned))

    def _advance(self, ep: Episode, day: int, first: bool = False) -> None:
        """Create the episode's next task, or close the episode when none is left."""
        if not ep.remaining:
            self._close(ep, day, completed=True)
            return
        ttype = ep.remaining.popleft()
        lead = (0 if first else self.task_types[ttype].lead_days) + ep.delay
        ep.delay = 0
        pinned = -1
        if lead == 0 and not first and self.config.routing.same_session_continuation:
            eligible = self.eligible[ep.practice].get(ttype, {})
            if ep.last_post in eligible:
                pinned = ep.last_post  # done in the same consultation, no new booking
        self._create(Task(ep, ttype, TaskKind.NORMAL, day), day, day + lead, pinned)

    def _assign(self, task: Task, day: int, pinned: int) -> None:
        """Route a task to a clinician's queue; a change of person is a handover."""
        ep = task.episode
        if ep.dropped:
            self._drop(task, day)
            return
        if pinned >= 0:
            post = pinned
        else:
            eligible = self.eligible[ep.practice].get(task.type)
            if not eligible:
                self._drop(task, day)
                return
            post = self.policy.choose(ep, self.patients, eligible)
        receiver = self.clinicians[post]
        mult = receiver.scope[task.type][0]
        task.minutes = self.task_types[task.type].minutes * mult
        if task.kind == TaskKind.REWORK:
            task.minutes *= self.config.handover.rework_time_fraction
        if (
            task.kind != TaskKind.REWORK
            and not task.checked
            and ep.last_person >= 0
            and receiver.person != ep.last_person
        ):
            task.checked = True
            if self._handover(ep, self.clinicians[ep.last_post], receiver, task, day):
                return  # deferred behind a rework task
        task.checked = True
        receiver.enqueue(task, day, front=task.kind == TaskKind.ESCALATION)

    def _factors(self, ep: Episode, a: Clinician, b: Clinician) -> TransferFactors:
        return TransferFactors(
            tie=self.network.tie(a.post, b.post),
            same_record=a.record == b.record,
            boundary=a.org_key != b.org_key,
            same_site=a.site == b.site,
            backlog_sender=a.backlog_days(),
            backlog_receiver=b.backlog_days(),
            interruptions=a.interruptions_today + b.interruptions_today,
            holistic=ep.holistic,
        )

    def _handover(self, ep: Episode, sender: Clinician, receiver: Clinician, task: Task, day: int) -> bool:
        """Count a handover, draw information loss, apply its consequence.

        Returns True when the task was deferred behind a rework task.
        """
        ep.handovers += 1
        self.today["handovers"] += 1
        params = self.config.handover
        factors = self._factors(ep, sender, receiver)
        p = self.loss.probability(params.base_loss_probability, factors)
        stream = self.streams["handover"]
        lost = stream.uniform() < p
        self.network.record_handover(sender.post, receiver.post)
        outcome = "none"
        deferred = False
        if lost:
            outcome = self._loss(ep, receiver.post, task, day, blocking=True)
            deferred = outcome == "rework"
        if self.log_events:
            self.events.append(
                {
                    "day": day,
                    "episode": ep.id,
                    "patient": ep.patient,
                    "kind": "handover",
                    "task_type": task.type,
                    "from_post": sender.post,
                    "from_person": sender.person,
                    "from_role": sender.role_name,
                    "from_org": sender.org_key,
                    "to_post": receiver.post,
                    "to_person": receiver.person,
                    "to_role": receiver.role_name,
                    "to_org": receiver.org_key,
                    "tie_strength": factors.tie,
                    "loss_probability": p,
                    "information_lost": lost,
                    "outcome": outcome,
                }
            )
        return deferred

    def _loss(self, ep: Episode, post: int, task: Task, day: int, blocking: bool) -> str:
        """Information was lost: noticed (rework after a delay) or hidden (harm risk later)."""
        params = self.config.handover
        ep.losses += 1
        self.today["miscommunications"] += 1
        if self.streams["handover"].uniform() >= params.p_detect:
            ep.hidden_losses += 1
            return "hidden"
        when = day + params.rework_delay_days
        self._rework(ep, post, task.type, day, when)
        if blocking:
            if when > day:
                self.calendar[when].append((task, post))
            else:
                self._assign(task, day, post)
        return "rework"

    def _rework(self, ep: Episode, post: int, ttype: str, day: int, when: int) -> None:
        ep.rework += 1
        self.today["rework_tasks"] += 1
        rework = Task(ep, ttype, TaskKind.REWORK, day)
        rework.checked = True
        self._create(rework, day, when, pinned=post)

    def _drop(self, task: Task, day: int) -> None:
        self.waiting -= 1
        self.today["tasks_dropped"] += 1
        self.totals["tasks_dropped"] += 1
        ep = task.episode
        if not ep.dropped and not ep.closed:
            ep.dropped = True
            self._close(ep, day, completed=False)

    def _work(self, c: Clinician, day: int) -> None:
        """Work the queue within today's clinical minutes (supervision overflow comes first)."""
        remaining = c.capacity_today
        if isinstance(c, Supervisor):
            remaining -= max(0.0, c.supervision_minutes_today - c.protected_minutes)
        remaining = max(0.0, remaining)
        c.minutes_available += remaining
        abandon = self.config.work.abandon_after_days
        queue = c.queue
        worked = 0.0
        while queue:
            task = queue[0]
            if task.episode.dropped or day - task.queued_day > abandon:
                queue.popleft()
                c.backlog_minutes -= task.minutes
                self._drop(task, day)
                continue
            if task.minutes > remaining:
                break
            queue.popleft()
            c.backlog_minutes -= task.minutes
            remaining -= task.minutes
            worked += task.minutes
            self._complete(c, task, day)
        c.minutes_worked += worked
        self.today["utilisation"] += worked
        self._available_today += remaining + worked

    def _complete(self, c: Clinician, task: Task, day: int) -> None:
        """A task is done: record the contact, supervision demand, then move the episode on."""
        self.waiting -= 1
        self.today["tasks_completed"] += 1
        self.totals["tasks_completed"] += 1
        c.tasks_done += 1
        c.task_types_done.add(task.type)
        ep = task.episode
        patient = self.patients[ep.patient]
        if self.task_types[task.type].contact:
            patient.history.append(c.person)
            if c.is_gp:
                patient.gp_history.append(c.person)
        if ep.closed:  # late rework on a finished episode: the contact still happened
            return
        if ep.first_contact_day < 0:
            ep.first_contact_day = day
        ep.tasks_done += 1
        ep.persons.add(c.person)
        ep.last_post, ep.last_person = c.post, c.person
        self._set_accountable(ep, c.supervisor)
        if c.role.holistic or c.post == patient.usual_post:
            self._rebuild_holistic_view(ep, c, task.type, day)
        if task.kind == TaskKind.REWORK:
            return
        if c.supervisor >= 0 and task.kind != TaskKind.ESCALATION and self._supervise(c, task, ep, day):
            return
        self._advance(ep, day)

    def _rebuild_holistic_view(self, ep: Episode, c: Clinician, ttype: str, day: int) -> None:
        """A usual clinician or care coordinator sees the whole episode: hidden losses surface."""
        ep.holistic = True
        stream = self.streams["handover"]
        for _ in range(ep.hidden_losses):
            if stream.uniform() < self.config.handover.p_reconcile:
                ep.hidden_losses -= 1
                self._rework(ep, c.post, ttype, day, day)

    def _supervise(self, c: Clinician, task: Task, ep: Episode, day: int) -> bool:
        """Queries, per-case review and escalation. True when the case went to the supervisor."""
        params = self.config.supervision
        sup = self.clinicians[c.supervisor]
        assert isinstance(sup, Supervisor)
        demand = demand_for_task(c, c.scope[task.type][1], params, self.streams["supervision"])
        if demand.query:
            if sup.supervision_minutes_today >= sup.protected_minutes:
                ep.delay += params.overload_answer_delay_days
            sup.supervision_minutes_today += params.query_minutes
            sup.interruptions_today += 1
            self.network.strengthen(c.post, sup.post)
            self.totals["queries"] += 1
        if demand.review_minutes:
            sup.supervision_minutes_today += demand.review_minutes
            self.totals["signoffs"] += 1
            self.network.strengthen(c.post, sup.post)
            p = self.loss.probability(params.signoff_base_loss_probability, self._factors(ep, c, sup))
            if self.streams["supervision"].uniform() < p:
                self.totals["signoff_losses"] += 1
                self._loss(ep, c.post, task, day, blocking=False)
        if demand.escalate:
            ep.escalations += 1
            self.today["escalations"] += 1
            self._create(Task(ep, self.escalation_type, TaskKind.ESCALATION, day), day, day, pinned=sup.post)
            return True
        return False

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
        self._set_accountable(ep, -1)
        stream = self.streams["handover"]
        harm = sum(
            stream.uniform() < self.config.handover.p_harm_per_unresolved for _ in range(ep.hidden_losses)
        )
        self.today["harm_risk_events"] += harm
        t = self.totals
        if not completed:
            t["episodes_dropped"] += 1
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
        if self.supervisors:
            loads = [s.load_index() for s in self.supervisors]
            for s, load in zip(self.supervisors, loads, strict=True):
                s.load_index_sum += load
                s.overload_days += load > 1.0
                s.interruptions_total += s.interruptions_today
                s.days_observed += 1
            today["supervisor_load_index"] = sum(loads) / len(loads)
            today["supervisor_interruptions"] = sum(s.interruptions_today for s in self.supervisors) / len(
                self.supervisors
            )
            today["supervisors_overloaded"] = sum(load > 1.0 for load in loads)
            today["supervisor_open_cases"] = sum(s.open_cases for s in self.supervisors) / len(
                self.supervisors
            )
        today["mean_tie_strength"] = self.network.mean_tie()
        available = self._available_today
        today["utilisation"] = today["utilisation"] / available if available else 0.0
        for name in (
            "handovers",
            "miscommunications",
            "rework_tasks",
            "harm_risk_events",
            "escalations",
            "episodes_arrived",
            "staff_turnover",
        ):
            self.totals[name] += today[name]


def _reporter(name: str) -> Any:
    def report(model: HandoverModel) -> float:
        return model.today[name]

    report.__name__ = f"report_{name}"
    return report
