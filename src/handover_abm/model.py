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
Steps 2-5 are compiled kernels (lifecycle.py) over the state's arrays (state.py); the agents are
views of those arrays. Only episodes with open work are touched: there is no loop over patients.
"""

from __future__ import annotations

import gc
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import pairwise
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import mesa
import networkx as nx
import numpy as np
from mesa.datacollection import DataCollector
from mesa.discrete_space import Network
from mesa.time import Schedule

from handover_abm import lifecycle
from handover_abm.agents import Clinician, Patient, Supervisor
from handover_abm.book import AppointmentBook
from handover_abm.booking import make_rule
from handover_abm.config import Scenario, apply_override, load_scenario, scenario_from_dict
from handover_abm.continuity import grouped
from handover_abm.dates import Calendar
from handover_abm.demand import DemandGenerator, build_population
from handover_abm.familiarity import Familiarity
from handover_abm.handover import LossModel, logit, session_sites
from handover_abm.lifecycle import LOW_DRAWS, LOW_ROWS
from handover_abm.network import TeamNetwork
from handover_abm.preferences import named_clinicians, who_prefers
from handover_abm.referral import referral_probability
from handover_abm.rota import capacity_table
from handover_abm.state import (
    AVAILABLE,
    BEYOND,
    CONTACTS,
    CUR,
    CX,
    D_WAITING,
    E_FREE,
    E_USED,
    HX,
    KERNEL_TOTALS,
    N_FC,
    N_FREE,
    N_IC,
    N_USED,
    PATIENT_COLUMNS,
    PT_BAND,
    PT_LTC,
    PT_PRACTICE,
    PT_PREFERS,
    PT_USUAL,
    RH,
    STREAMS,
    T_FREE,
    T_USED,
    TK_NEXT,
    WAITING,
    aligned_zeros,
    episode_remaining,
    episode_rows,
    pack,
    task_minutes,
    task_rows,
)
from handover_abm.streams import RandomStreams
from handover_abm.supervision import SupervisionMechanism, assign_supervisors, query_probability
from handover_abm.turnover import StaffTurnover

# Room kept ahead of each day in the state's pools and logs (rows) and random-number blocks
# (uniforms): a floor, plus this many per task of the busiest day so far. The kernels stop and ask
# for more when a day needs it (lifecycle.room), so these only save stops.
ROOM_ROWS = 8 * LOW_ROWS
ROOM_DRAWS = 4 * LOW_DRAWS
ROOM_PER_TASK = 2
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
        self.task_type_names = list(self.task_types)
        self.escalation_type = self.catalogue.escalation_task

        self.population = build_population(cfg, self.streams["population"])
        self.demand = DemandGenerator(cfg, self.catalogue, self.population, self.streams["demand"])
        self.next_person = 0
        self.posts = _post_arrays(sum(e.count for e in cfg.team), len(self.task_types))
        self.clinicians: list[Clinician] = []
        self._build_team()
        self.person_post = {c.person: c.post for c in self.clinicians}
        supervisor_of = assign_supervisors(self.clinicians)
        for c in self.clinicians:
            c.supervisor = supervisor_of[c.post]
            if c.supervisor >= 0:
                self.clinicians[c.supervisor].supervisees.append(c.post)
        self.supervisors = [c for c in self.clinicians if isinstance(c, Supervisor) and c.active]
        self._supervisor_posts = np.array(
            [c.post for c in self.clinicians if isinstance(c, Supervisor)], np.int64
        )
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
        self.rule = make_rule(cfg.routing.policy, self.book, self.posts)
        self.patients = self._build_patients()
        per = cfg.population.practices_per_pcn
        self._practice_net = np.arange(cfg.population.practices, dtype=np.int64) // per
        self.n_networks = int(self._practice_net[-1]) + 1
        self._patient_net = self._practice_net[self.population.practice]
        self._post_net = np.array([c.pcn for c in self.clinicians], dtype=np.int64)
        self.supervision = SupervisionMechanism(self)
        self.staff_turnover = StaffTurnover(self)
        self.py_totals: dict[str, float] = defaultdict(float)  # totals counted outside the kernels
        self.today: dict[str, float] = dict.fromkeys(DAILY_COLUMNS, 0.0)
        self.A = SimpleNamespace(**self._build_state())  # the state's arrays, for Python
        self.S = pack(self.A)  # the same, as the kernels' record
        self._peak_created = 0
        self.datacollector = DataCollector(model_reporters={name: _reporter(name) for name in DAILY_COLUMNS})
        if any(c.role.supervision.debrief_minutes_per_week for c in self.clinicians if c.supervisor >= 0):
            interval = cfg.supervision.debrief_interval_days
            self.schedule_recurring(self.supervision.debriefs, Schedule(interval=interval, start=0.5))

    # ------------------------------------------------------------------ building

    def _build_team(self) -> None:
        cfg = self.config
        practices, per = cfg.population.practices, cfg.population.practices_per_pcn
        n_pcns = -(-practices // per)
        scopes = []
        for entry in cfg.team:
            role = self.catalogue.roles[entry.role]
            allowed = set(entry.tasks) if entry.tasks is not None else set(role.scope)
            scope = {t: (s.time, s.edge) for t, s in role.scope.items() if t in allowed}
            if entry.acts_as_supervisor:  # seeing escalated cases is part of supervising
                esc = role.scope.get(self.escalation_type)
                scope[self.escalation_type] = (esc.time, esc.edge) if esc else (1.0, 0.0)
            scopes.append(scope)
        places = []  # (network, entry, practice or -1, home practice) of each post
        for i, entry in enumerate(cfg.team):
            for k in range(entry.count):
                if entry.organisation == "practice":
                    practice = home = k % practices
                    pcn = practice // per  # the network it belongs to
                else:  # network and other staff: spread over the networks, then over their practices
                    practice, pcn = -1, k % n_pcns
                    home = pcn * per + (k // n_pcns) % (min(practices, (pcn + 1) * per) - pcn * per)
                places.append((pcn, i, practice, home))
        # posts numbered network by network (the team's order within each), so that a network's
        # posts, and their ties, are neighbours in every per-post array
        places.sort(key=lambda place: place[0])
        for pcn, i, practice, home in places:
            entry = cfg.team[i]
            post = len(self.clinicians)
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
                role=self.catalogue.roles[entry.role],
                scope=scopes[i],
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
        self.day_minutes = minutes  # post x day
        self.unbooked_minutes = np.ascontiguousarray(unbooked)
        self.appointment_minutes = np.ascontiguousarray(appointments)
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
        rows = np.zeros((pop.size, len(PATIENT_COLUMNS)), dtype=np.int32)  # one row per patient
        rows[:, PT_BAND], rows[:, PT_LTC], rows[:, PT_PRACTICE] = pop.age_band, pop.n_ltc, pop.practice
        rows[:, PT_USUAL], rows[:, PT_PREFERS] = named, prefers
        # each column as a view of the rows, by name (what the agents and metrics read)
        self.pats = SimpleNamespace(P=rows, **{f"pt_{c}": rows[:, k] for k, c in enumerate(PATIENT_COLUMNS)})
        with _no_cycle_collection():
            return [
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

    def _slices(self, table: list[dict[str, dict[int, float]]]) -> tuple[np.ndarray, ...]:
        """(start, end, posts, multipliers): practice x task type -> a slice of the flat arrays."""
        n_practices, n_types = len(table), len(self.task_type_names)
        start = np.zeros((n_practices, n_types), dtype=np.int64)
        end = np.zeros((n_practices, n_types), dtype=np.int64)
        posts: list[int] = []
        mults: list[float] = []
        for p, per_type in enumerate(table):
            for k, name in enumerate(self.task_type_names):
                start[p, k] = len(posts)
                for post, mult in per_type.get(name, {}).items():
                    posts.append(post)
                    mults.append(mult)
                end[p, k] = len(posts)
        return start, end, np.array(posts, dtype=np.int64), np.array(mults, dtype=np.float64)

    def _build_state(self) -> dict[str, Any]:
        """The arrays the compiled life cycle works on (state.py); pools start small and grow."""
        cfg, cl, posts = self.config, self.clinicians, self.posts
        n_posts, names = len(cl), self.task_type_names
        code = {name: k for k, name in enumerate(names)}
        types = [self.task_types[n] for n in names]
        groups = sorted({c.role.contact_group for c in cl})
        contact_total = {g: len(KERNEL_TOTALS) + i for i, g in enumerate(groups)}
        self._total_names = list(KERNEL_TOTALS) + [f"contacts_{g}" for g in groups]
        records = {r: i for i, r in enumerate(sorted({c.record for c in cl}))}
        orgs = {o: i for i, o in enumerate(sorted({c.org_key for c in cl}))}
        pop = cfg.population
        sup, ref = cfg.supervision, cfg.referral
        scope_mult = np.full((n_posts, len(names)), np.nan)
        query_p = np.zeros((n_posts, len(names)))
        referral_p = np.zeros((n_posts, len(names)))
        for c in cl:
            for t, (mult, edge) in c.scope.items():
                scope_mult[c.post, code[t]] = mult
                query_p[c.post, code[t]] = query_probability(
                    c.role.supervision.query_rate, edge, sup.edge_query_factor
                )
                at_edge = 0.0 if t == ref.task or c.is_gp else ref.probability_at_edge
                referral_p[c.post, code[t]] = referral_probability(edge, at_edge)
            posts.p_is_gp[c.post] = c.is_gp
            posts.p_holistic[c.post] = c.role.holistic
            posts.p_contact_total[c.post] = contact_total[c.role.contact_group]
            posts.p_record[c.post] = records[c.record]
            posts.p_org[c.post] = orgs[c.org_key]
            posts.p_sites[c.post] = session_sites(c, pop.practices, pop.practices_per_pcn)
            needs = c.role.supervision
            posts.review_minutes[c.post] = needs.review_minutes if needs.case_review else 0.0
        el = self._slices(self.eligible)
        nv = self._slices(self.navigated)
        ordinal = self.calendar.ordinal_list
        n_days = self.book.n_days
        loss = LossModel(cfg.handover, cfg.continuity)
        self.familiarity = Familiarity(cfg.continuity, len(self.patients), np.zeros(N_IC, dtype=np.int64))
        fam = self.familiarity
        width = self.demand.longest_episode() + 1
        access, h, cont = cfg.access, cfg.handover, cfg.continuity
        i8, f8, b1 = np.int64, np.float64, np.bool_
        return dict(
            n_days=n_days,
            horizon=self.book.horizon,
            esc_type=code[self.escalation_type],
            ref_type=code.get(ref.task, 0),
            policy=self.rule.code,
            prefers_named=self.rule.prefers_named,
            log_events=self.log_events,
            prebooked_share=access.follow_up_prebooked_share,
            same_session=cfg.routing.same_session_continuation,
            rework_fraction=h.rework_time_fraction,
            planned_lead_mean=float(access.planned_lead_days),
            routine_choice_mean=float(access.routine_choice_days),
            dna=np.array(
                [access.dna_same_day, access.dna_next_day, access.dna_2_to_7_days, access.dna_8_days_or_more],
                dtype=f8,
            ),
            lead_shape=float(access.lead_time_shape),
            p_elsewhere_urgent=access.p_elsewhere_urgent,
            p_elsewhere_routine=access.p_elsewhere_routine,
            max_attempts=access.max_attempts,
            retry_days=access.retry_days_routine,
            abandon_days=cfg.work.abandon_after_days,
            wait_base=float(access.wait_for_preferred_days),
            wait_per_ltc=float(access.wait_for_preferred_days_per_ltc),
            lg_base=logit(h.base_loss_probability),
            lg_signoff=logit(sup.signoff_base_loss_probability),
            loss_coef=loss.coef,
            p_detect=h.p_detect,
            rework_delay=h.rework_delay_days,
            p_reconcile=h.p_reconcile,
            p_harm=h.p_harm_per_unresolved,
            escalation_share=sup.escalation_share,
            answer_delay=sup.overload_answer_delay_days,
            query_minutes=float(sup.query_minutes),
            acsc_risk=cont.acsc_risk_per_episode,
            acsc_rr=cont.acsc_rate_ratio_per_0_2_upc,
            upc_reference=cont.upc_reference,
            fam_growth=fam.growth,
            fam_retention=fam.retention,
            fam_horizon=float(fam.horizon),
            tie_growth=self.network.growth,
            weekday=self.calendar.weekday.astype(i8),
            ordinal=np.asarray(ordinal, dtype=i8),
            tt_contact=np.array([t.contact for t in types], dtype=b1),
            tt_lead=np.array([t.lead_days for t in types], dtype=i8),
            tt_minutes=np.array([t.minutes for t in types], dtype=f8),
            el_start=el[0],
            el_end=el[1],
            el_post=el[2],
            el_mult=el[3],
            nv_start=nv[0],
            nv_end=nv[1],
            nv_post=nv[2],
            nv_mult=nv[3],
            scope_mult=scope_mult,
            query_p=query_p,
            referral_p=referral_p,
            unbooked_day=self.unbooked_minutes,
            appointment_day=self.appointment_minutes,
            pre=self.book.pre,
            otd=self.book.otd,
            first_pre=self.book.first_pre,
            n_nets=self.n_networks,
            practice_net=self._practice_net,
            ap_head=np.full(n_days * self.n_networks, -1, dtype=i8),
            ap_tail=np.full(n_days * self.n_networks, -1, dtype=i8),
            du_head=np.full(n_days * self.n_networks, -1, dtype=i8),
            du_tail=np.full(n_days * self.n_networks, -1, dtype=i8),
            **_task_pool(1024),
            **_episode_pool(512, width),
            **_node_pool(1024),
            **vars(posts),
            P=self.pats.P,
            cl_patient=np.zeros(1024, dtype=i8),
            cl_person=np.zeros(1024, dtype=i8),
            cl_gp=np.zeros(1024, dtype=b1),
            cx=np.zeros((1024 if self.log_events else 0, 9), dtype=i8),
            hx=np.zeros((1024 if self.log_events else 0, 9), dtype=i8),
            hxf=np.zeros((1024 if self.log_events else 0, 2), dtype=f8),
            rh=np.zeros((1024, 2), dtype=i8),
            nw_floor=self.network.floor,
            nw_x=self.network._x,
            nw_handovers=self.network.handovers,
            nw_s=self.network.s,
            fam=fam.table,
            fam_f=fam.values,
            u=np.zeros((len(STREAMS), 0)),
            today=np.zeros(len(DAILY_COLUMNS)),
            tot=np.zeros(len(self._total_names)),
            waits=np.zeros(ordinal[-1] - ordinal[0] + 1, dtype=i8),
            unmet_band=np.zeros(len(pop.age_bands), dtype=i8),
            ic=fam.ic,
            fc=np.zeros(N_FC),
        )

    def _reserve(self, grow: bool = False) -> None:
        """Room in every pool, log and random-number block for a day's work (ROOM_ROWS, ROOM_DRAWS,
        ROOM_PER_TASK), twice as much when `grow` (a kernel stopped for room); always more than a
        step needs (lifecycle.LOW_ROWS, LOW_DRAWS), so a stopped kernel can go on."""
        S = self.A
        ic = S.ic
        need = LOW_ROWS + ROOM_ROWS + ROOM_PER_TASK * self._peak_created  # never less than a step's
        if grow:
            need *= 2
        out: dict[str, np.ndarray] = {}
        if ic[T_FREE] + S.T.shape[0] - ic[T_USED] < need:
            out.update(_grown(S, _task_pool(0), max(2 * S.T.shape[0], int(ic[T_USED]) + need)))
        if ic[E_FREE] + S.E.shape[0] - ic[E_USED] < need:
            out.update(
                _grown(S, _episode_pool(0, S.e_rem.shape[1]), max(2 * S.E.shape[0], int(ic[E_USED]) + need))
            )
        if ic[N_FREE] + S.N.shape[0] - ic[N_USED] < need:
            out.update(_grown(S, _node_pool(0), max(2 * S.N.shape[0], int(ic[N_USED]) + need)))
        if S.cl_patient.size - ic[CONTACTS] < need:
            size = max(2 * S.cl_patient.size, int(ic[CONTACTS]) + need)
            out.update(_grown(S, {k: getattr(S, k)[:0] for k in ("cl_patient", "cl_person", "cl_gp")}, size))
        for name, used in (("rh", RH), ("cx", CX), ("hx", HX), ("hxf", HX)):
            rows = getattr(S, name)
            if (name == "rh" or self.log_events) and rows.shape[0] - ic[used] < need:
                out.update(_grown(S, {name: rows}, max(2 * rows.shape[0], int(ic[used]) + need)))
        if self.familiarity.reserve(need):
            fam = self.familiarity
            out.update(fam=fam.table, fam_f=fam.values)
        draws = LOW_DRAWS + ROOM_DRAWS + 2 * ROOM_PER_TASK * self._peak_created
        if grow:
            draws *= 2
        u = S.u
        if any(u.shape[1] - ic[CUR + k] < draws for k in range(len(STREAMS))):
            # refilled in place while wide enough: a fresh block each day would cost the system a
            # new zeroed page for every 512 draws
            fresh = u if u.shape[1] >= 2 * draws else np.empty((len(STREAMS), 2 * draws))
            for k, name in enumerate(STREAMS):
                rest = u[k, ic[CUR + k] :].copy()
                fresh[k, : rest.size] = rest
                self.streams[name].rng.random(out=fresh[k, rest.size :])
                ic[CUR + k] = 0
            if fresh is not u:
                out["u"] = fresh
        if out:
            vars(S).update(out)
            self.S = pack(S)

    # ------------------------------------------------------------------ views for people and tests

    @property
    def totals(self) -> dict[str, float]:
        """Run totals by name (those counted in the kernels and those counted per day)."""
        out: dict[str, float] = defaultdict(float, self.py_totals)
        out.update(zip(self._total_names, self.A.tot.tolist(), strict=True))
        return out

    @property
    def waits(self) -> Counter[int]:
        """Calendar days from request to contact -> contacts."""
        w = self.A.waits
        return Counter({int(d): int(w[d]) for d in np.flatnonzero(w)})

    @property
    def unmet_by_band(self) -> Counter[int]:
        """Requests that went elsewhere, by age band."""
        u = self.A.unmet_band
        return Counter({int(b): int(u[b]) for b in np.flatnonzero(u)})

    @property
    def waiting(self) -> int:
        """Tasks created and not yet done or dropped."""
        return int(self.A.ic[WAITING])

    def contacts_by_patient(self, gp: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """(person ids, contacts per patient): every patient's contacts (GP contacts only when `gp`)
        as one array, patient after patient, each in the order they happened."""
        S = self.A
        n = int(S.ic[CONTACTS])
        patient, person = S.cl_patient[:n], S.cl_person[:n]
        if gp:
            keep = S.cl_gp[:n]
            patient, person = patient[keep], person[keep]
        return grouped(patient, person, len(self.patients))

    def histories(self, gp: bool = False) -> list[list[int]]:
        """Each patient's contacts as person ids, in order (GP contacts only when `gp`)."""
        persons, counts = self.contacts_by_patient(gp)
        bounds = np.concatenate([[0], np.cumsum(counts)]).tolist()
        flat = persons.tolist()
        return [flat[a:b] for a, b in pairwise(bounds)]

    def history_of(self, patient: int, gp: bool = False) -> list[int]:
        """One patient's contacts as person ids, in order (a scan of the contact log: for inspection)."""
        S = self.A
        n = int(S.ic[CONTACTS])
        mine = S.cl_patient[:n] == patient
        if gp:
            mine &= S.cl_gp[:n]
        return S.cl_person[:n][mine].tolist()

    def queue_of(self, post: int) -> list[int]:
        """The task rows waiting in a post's queue of work without a slot, first first."""
        out, t = [], int(self.posts.p_qhead[post])
        while t >= 0:
            out.append(t)
            t = int(self.A.T[t, TK_NEXT])
        return out

    def booked(self, day: int) -> list[int]:
        """The task rows booked into appointments on `day`, network by network in booking order."""
        out, n = [], self.n_networks
        for t in self.A.ap_head[day * n : (day + 1) * n].tolist():
            while t >= 0:
                out.append(t)
                t = int(self.A.T[t, TK_NEXT])
        return out

    def due_count(self) -> int:
        """Tasks waiting for a future day: retries, follow-ups, work deferred behind rework."""
        S, n = self.A, int(self.A.ic[BEYOND])
        for head in np.flatnonzero(S.du_head >= 0).tolist():
            t = int(S.du_head[head])
            while t >= 0:
                n += 1
                t = int(S.T[t, TK_NEXT])
        return n

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
        new = self.demand.draw_day().urgent_first(self._patient_net)
        self._reserve()
        self._until(lifecycle.book_due, day)
        self._until(
            lifecycle.arrivals, day, new.patients, new.kinds, new.urgent, new.planned, new.tasks, new.offsets
        )
        self._until(lifecycle.see_patients, day)
        lifecycle.close_books(self.S, day)
        order = self.streams["routing"].rng.permutation(len(self.clinicians)).astype(np.int64)
        order = order[np.argsort(self._post_net[order], kind="stable")]  # network by network
        self._until(lifecycle.work_without_slots, day, order)
        self._end_day(day)
        self.datacollector.collect(self)
        if day >= self.config.days:
            self.running = False

    def _until(self, kernel: Any, *args: Any) -> None:
        """Run one of the day's kernels to its end, growing the state whenever it stops for room."""
        while not kernel(self.S, *args):
            self._reserve(grow=True)

    def run(self) -> None:
        """Run the configured number of days (Mesa event loop: one step per day)."""
        self.run_for(self.config.days - self.steps)

    def run_for(self, duration: float | int) -> None:
        """Mesa's run_for, without cyclic garbage collection while it runs (see `_no_cycle_collection`)."""
        with _no_cycle_collection():
            super().run_for(duration)

    def _start_day(self, day: int) -> None:
        S, posts = self.A, self.posts
        S.today[:] = 0.0
        S.fc[AVAILABLE] = 0.0
        S.ic[RH] = S.ic[CX] = S.ic[HX] = 0
        self.staff_turnover.start_day(day)  # turnover.py: overload memory, leavers replaced
        self.supervision.start_day(day)  # supervision.py: today's learning-curve multipliers
        self.network.decay()
        posts.p_jitter[:] = self.streams["routing"].rng.random(len(self.clinicians)) * 1e-6
        posts.p_interruptions[:] = 0
        posts.p_working[:] = self.day_minutes[:, day] > 0
        sups = self._supervisor_posts
        posts.p_sup_today[sups] = 0.0
        working = sups[posts.p_working[sups]]
        posts.p_sup_today[working] = posts.p_debrief[working]
        posts.p_debrief[working] = 0.0

    def _end_day(self, day: int) -> None:
        S = self.A
        lifecycle.end_of_day(self.S)
        S.today[D_WAITING] = S.ic[WAITING]
        self._peak_created = max(self._peak_created, int(S.today[DAILY_COLUMNS.index("tasks_created")]))
        today = self.today = dict(zip(DAILY_COLUMNS, S.today.tolist(), strict=True))
        self.supervision.end_day()
        today["mean_tie_strength"] = self.network.mean_tie()
        available = float(S.fc[AVAILABLE])
        today["utilisation"] = today["utilisation"] / available if available else 0.0
        totals = self.py_totals
        for name in SUMMED_DAILY:
            totals[name] += today[name]
        self.network.record_day(S.rh[: S.ic[RH]].copy())
        if self.log_events:
            self._log_day(day)

    def _log_day(self, day: int) -> None:
        """Today's contacts and handovers as rows of the contact log and the event log."""
        S, cl, names = self.A, self.clinicians, self.task_type_names
        dates, bands = self.calendar.dates, self.config.population.age_bands
        patients = self.patients
        for patient, ep, ttype, urgent, requested, seen, post, person, preferred in S.cx[: S.ic[CX]].tolist():
            p, c = patients[patient], cl[post]
            self.contact_log.append(
                (
                    patient,
                    bands[p.age_band].name,
                    p.n_ltc,
                    p.practice,
                    ep,
                    names[ttype],
                    "urgent" if urgent else "routine",
                    requested,
                    dates[requested].isoformat(),
                    seen,
                    dates[seen].isoformat(),
                    post,
                    person,
                    c.role_name,
                    c.role.contact_group,
                    p.usual_post if p.prefers else -1,
                    bool(preferred) and p.prefers,
                )
            )
        outcomes = ("none", "hidden", "rework")
        rows = S.hx[: S.ic[HX]].tolist()
        for (d, ep, patient, ttype, a, pa, b, pb, outcome), (tie, p) in zip(
            rows, S.hxf[: S.ic[HX]].tolist(), strict=True
        ):
            self.events.append(
                {
                    "day": d,
                    "episode": ep,
                    "patient": patient,
                    "kind": "handover",
                    "task_type": names[ttype],
                    "from_post": a,
                    "from_person": pa,
                    "from_role": cl[a].role_name,
                    "from_org": cl[a].org_key,
                    "to_post": b,
                    "to_person": pb,
                    "to_role": cl[b].role_name,
                    "to_org": cl[b].org_key,
                    "tie_strength": tie,
                    "loss_probability": p,
                    "information_lost": outcome > 0,
                    "outcome": outcomes[outcome],
                }
            )


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


def _post_arrays(n: int, n_types: int) -> SimpleNamespace:
    """Each post's row of the state (state.py), before the posts exist (the agents view them)."""
    i8, f8, b1 = np.int64, np.float64, np.bool_
    z = np.zeros
    return SimpleNamespace(
        p_person=z(n, i8),
        p_supervisor=np.full(n, -1, i8),
        p_is_gp=z(n, b1),
        p_holistic=z(n, b1),
        p_contact_total=z(n, i8),
        p_unbooked_per_day=z(n, f8),
        p_unbooked_minutes=z(n, f8),
        p_qhead=np.full(n, -1, i8),
        p_qtail=np.full(n, -1, i8),
        p_qlen=z(n, i8),
        p_debt=z(n, f8),
        p_debrief=z(n, f8),
        p_interruptions=z(n, i8),
        p_working=z(n, b1),
        p_worked=z(n, f8),
        p_available=z(n, f8),
        p_tasks_done=z(n, i8),
        p_types_done=z((n, n_types), b1),
        p_protected=z(n, f8),
        p_sup_today=z(n, f8),
        p_open_cases=z(n, i8),
        p_record=z(n, i8),
        p_org=z(n, i8),
        p_sites=z((n, 5), i8),
        p_need=np.ones(n, f8),
        p_jitter=z(n, f8),
        p_time=z(n, f8),
        review_minutes=z(n, f8),
    )


def _task_pool(n: int) -> dict[str, np.ndarray]:
    rows, minutes = task_rows(n)
    return {"T": rows, "t_minutes": minutes, "t_free": np.zeros(n, np.int64), "t_dead": np.zeros(n, np.int64)}


def _episode_pool(n: int, width: int) -> dict[str, np.ndarray]:
    rows, remaining = episode_rows(n, width)
    return {"E": rows, "e_rem": remaining, "e_free": np.zeros(n, np.int64), "e_dead": np.zeros(n, np.int64)}


def _node_pool(n: int) -> dict[str, np.ndarray]:
    return {"N": aligned_zeros((n, 2), np.int64), "n_free": np.zeros(n, np.int64)}


def _grown(S: SimpleNamespace, fields: dict[str, np.ndarray], size: int) -> dict[str, np.ndarray]:
    """Copies of `S`'s arrays named in `fields`, `size` rows long (the old rows first), each
    starting on a cache line; the minutes of tasks and the task types still to do of episodes are
    views of the new rows of T and E."""
    out = {}
    for name in fields:
        if name in ("t_minutes", "e_rem"):  # views of the rows of T and E: made below
            continue
        old = getattr(S, name)
        new = aligned_zeros((size, *old.shape[1:]), old.dtype)
        new[: old.shape[0]] = old
        out[name] = new
    if "t_minutes" in fields:
        out["t_minutes"] = task_minutes(out["T"])
    if "e_rem" in fields:
        out["e_rem"] = episode_remaining(out["E"], S.e_rem.shape[1])
    return out
