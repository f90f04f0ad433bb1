"""The life cycle of a task, compiled: created, booked or queued, handed over, done, and what follows.

`HandoverModel.step` calls four kernels a day, in this order: `book_due` (retries, follow-ups due,
work deferred behind rework), `arrivals` (new episodes, urgent first), `see_patients` (today's
appointments, in booking order; same-day bookings join the end) and `work_without_slots` (each
clinician works results, prescriptions and letters in the time nobody booked). Each goes through
the primary care networks in turn: networks share no clinician and no patient, and a day's work on
one network's tasks touches that network's patients, posts, ties and books only. Each finished task
calls the mechanisms in their own modules: the booking rules (booking.py) and the book (book.py),
handover loss (handover.py), supervision (supervision.py), referral back to a GP (referral.py),
avoidable admissions (admissions.py), familiarity (familiarity.py) and ties (network.py).

Tasks and episodes are rows of the state's pools (state.py). A task that is done or dropped is
freed at the end of the day (`end_of_day`), so a list being walked never meets a reused row;
an episode row is freed once it is closed and none of its tasks is left.
"""

from __future__ import annotations

import math

from handover_abm import familiarity, handover, referral, supervision
from handover_abm.admissions import at_arrival
from handover_abm.book import earliest, take, unused
from handover_abm.booking import choose, choose_unbooked
from handover_abm.preferences import willingness
from handover_abm.state import (
    ARRIVAL_AT,
    AVAILABLE,
    BEYOND,
    CONTACTS,
    CUR,
    CX,
    D_ARRIVED,
    D_COMPLETED,
    D_CONTACTS,
    D_CREATED,
    D_DROPPED,
    D_ESCALATIONS,
    D_HARM,
    D_REWORK,
    D_UNMET,
    D_UTILISATION,
    E_DEAD,
    E_FREE,
    E_USED,
    EP_ACCOUNTABLE,
    EP_ARRIVAL,
    EP_CLOSED,
    EP_DELAY,
    EP_DONE,
    EP_DROPPED,
    EP_ELSEWHERE,
    EP_END,
    EP_ESCALATIONS,
    EP_FIRST,
    EP_HANDOVERS,
    EP_HIDDEN,
    EP_HOLISTIC,
    EP_ID,
    EP_KIND,
    EP_LAST_PERSON,
    EP_LAST_POST,
    EP_LOSSES,
    EP_NPERSONS,
    EP_NREM,
    EP_PATIENT,
    EP_PEOPLE,
    EP_PHEAD,
    EP_PLANNED,
    EP_PRACTICE,
    EP_REFS,
    EP_REWORK,
    ESCALATION,
    HIDDEN,
    HX,
    K_DNA,
    K_EP_COMPLETED,
    K_EP_DAYS,
    K_EP_DROPPED,
    K_EP_ELSEWHERE,
    K_EP_ESCALATIONS,
    K_EP_HANDOVERS,
    K_EP_HARM,
    K_EP_LOSSES,
    K_EP_REWORK,
    K_EP_TASKS,
    K_EP_WAIT,
    K_FRAG_N,
    K_FRAG_SUM,
    K_HARM_DROPPED,
    K_NEW_PROBLEM,
    K_NEW_SAME_DAY,
    K_PREFERRED,
    K_PREFERRED_WITH,
    N_FREE,
    N_USED,
    NEXT_EPISODE,
    NODE_NEXT,
    NODE_PERSON,
    NONE,
    NORMAL,
    PAIRS,
    PT_BAND,
    PT_CONTACTS,
    PT_GP_CONTACTS,
    PT_LTC,
    PT_OPEN,
    PT_PRACTICE,
    PT_PREFERS,
    PT_TOP,
    PT_USUAL,
    QUEUE_AT,
    QUEUE_LEFT,
    QUEUE_OPEN,
    QUEUE_WORKED,
    REWORK,
    REWORKED,
    RH,
    S_ACCESS,
    SEEN_MINUTES,
    T_DEAD,
    T_FREE,
    T_USED,
    TK_ATTEMPTS,
    TK_CHECKED,
    TK_CHOICE,
    TK_CREATED,
    TK_EP,
    TK_KIND,
    TK_NEXT,
    TK_PINNED,
    TK_POST,
    TK_QUEUED,
    TK_REQUESTED,
    TK_START,
    TK_TYPE,
    TK_URGENT,
    WAITING,
    State,
    inline_kernel,
    kernel,
    prefetch,
    uniform,
)

LOW_ROWS = 1024  # free rows every pool and log keeps for one step of a day's loop
LOW_DRAWS = 4096  # uniforms every random-number block keeps for one step
FREE_AHEAD = 8  # end_of_day reads a freed task's episode this many tasks ahead, its row twice as far

# ------------------------------------------------------------------ pools


@inline_kernel
def _row(free, ic, free_at, used_at, size):
    """A row of a pool: the last one freed, else one never used; -1 when the pool is full (`room`
    stops a day's kernel long before that)."""
    top = ic[free_at]
    if top > 0:
        ic[free_at] = top - 1
        return free[top - 1]
    row = ic[used_at]
    if row >= size:
        return -1
    ic[used_at] = row + 1
    return row


@inline_kernel
def _next_free(free, ic, free_at):
    """The row `_row` will give next from the free list (-1 if none): freed last night and, in a
    large run, out of the cache by now, so its taker asks for it ahead (see state.prefetch)."""
    top = ic[free_at]
    return free[top - 1] if top > 0 else -1


@kernel
def new_task(S: State, ep, ttype, kind, day):
    """A fresh task row of episode `ep`."""
    t = _row(S.t_free, S.ic, T_FREE, T_USED, S.T.shape[0])
    if t < 0:
        raise RuntimeError("the task pool is full")
    S.T[t, :] = -1  # no post, queue day, request or start day, pin or next task yet
    S.T[t, TK_EP] = ep
    S.T[t, TK_TYPE] = ttype
    S.T[t, TK_KIND] = kind
    S.T[t, TK_CREATED] = day
    S.T[t, TK_CHECKED] = S.T[t, TK_URGENT] = S.T[t, TK_ATTEMPTS] = S.T[t, TK_CHOICE] = 0
    S.t_minutes[t] = 0.0
    S.E[ep, EP_REFS] += 1
    after = _next_free(S.t_free, S.ic, T_FREE)
    prefetch(S.T, after)  # the minutes too: one line
    return t


@inline_kernel
def _finished(S: State, t):
    """A task is done or dropped: its row is freed tonight."""
    k = S.ic[T_DEAD]
    S.t_dead[k] = t
    S.ic[T_DEAD] = k + 1


@kernel
def new_episode(S: State, patient, kind, tasks, lo, hi, day):
    """A fresh episode row for `patient` whose task types are tasks[lo:hi], in order."""
    ep = _row(S.e_free, S.ic, E_FREE, E_USED, S.E.shape[0])
    if ep < 0:
        raise RuntimeError("the episode pool is full")
    S.ic[NEXT_EPISODE] += 1
    S.E[ep, EP_ID] = S.ic[NEXT_EPISODE]
    S.E[ep, EP_PATIENT] = patient
    S.E[ep, EP_KIND] = kind
    n = hi - lo
    for i in range(n):  # the next task last
        S.e_rem[ep, i] = tasks[hi - 1 - i]
    S.E[ep, EP_NREM] = n
    S.E[ep, EP_ARRIVAL] = day
    S.E[ep, EP_PLANNED] = n
    S.E[ep, EP_PRACTICE] = S.P[patient, PT_PRACTICE]
    S.E[ep, EP_FIRST:EP_END] = 0  # counts and flags; no contact, clinician or accountable post yet
    S.E[ep, EP_FIRST] = S.E[ep, EP_LAST_POST] = S.E[ep, EP_LAST_PERSON] = -1
    S.E[ep, EP_PHEAD] = S.E[ep, EP_ACCOUNTABLE] = -1
    prefetch(S.E, _next_free(S.e_free, S.ic, E_FREE))
    return ep


@kernel
def _add_person(S: State, ep, person):
    """Add `person` to the people who did the episode's tasks, once: the first EP_PEOPLE in the
    episode's row, the rest in its list of nodes."""
    n = S.E[ep, EP_NPERSONS]
    for i in range(min(n, EP_PEOPLE)):
        if S.E[ep, EP_END + i] == person:
            return
    if n < EP_PEOPLE:
        S.E[ep, EP_END + n] = person
    else:
        node = S.E[ep, EP_PHEAD]
        while node >= 0:
            if S.N[node, NODE_PERSON] == person:
                return
            node = S.N[node, NODE_NEXT]
        node = _row(S.n_free, S.ic, N_FREE, N_USED, S.N.shape[0])
        if node < 0:
            raise RuntimeError("the person-list pool is full")
        S.N[node, NODE_PERSON] = person
        S.N[node, NODE_NEXT] = S.E[ep, EP_PHEAD]
        S.E[ep, EP_PHEAD] = node
    S.E[ep, EP_NPERSONS] = n + 1


@kernel
def _free_episode(S: State, ep):
    node = S.E[ep, EP_PHEAD]
    while node >= 0:
        nxt = S.N[node, NODE_NEXT]
        S.n_free[S.ic[N_FREE]] = node
        S.ic[N_FREE] += 1
        node = nxt
    S.E[ep, EP_PHEAD] = -1
    S.e_free[S.ic[E_FREE]] = ep
    S.ic[E_FREE] += 1


@kernel
def end_of_day(S: State):
    """Free the rows of tasks finished today, and of episodes closed with no task left."""
    n = S.ic[T_DEAD]
    for k in range(n):  # each step is short: ask for the rows many steps ahead (FREE_AHEAD)
        if k + FREE_AHEAD < n:
            prefetch(S.E, S.T[S.t_dead[k + FREE_AHEAD], TK_EP])
        if k + 2 * FREE_AHEAD < n:
            prefetch(S.T, S.t_dead[k + 2 * FREE_AHEAD])
        t = S.t_dead[k]
        ep = S.T[t, TK_EP]
        S.E[ep, EP_REFS] -= 1
        if S.E[ep, EP_REFS] == 0 and S.E[ep, EP_CLOSED]:
            _free_episode(S, ep)
        S.t_free[S.ic[T_FREE]] = t
        S.ic[T_FREE] += 1
    S.ic[T_DEAD] = 0
    for k in range(S.ic[E_DEAD]):
        _free_episode(S, S.e_dead[k])
    S.ic[E_DEAD] = 0


# ------------------------------------------------------------------ lists of tasks


@inline_kernel
def _append(head, tail, tasks, i, t):
    """Append task `t` to list `i` of (head, tail), linked through the tasks' next column."""
    tasks[t, TK_NEXT] = -1
    if tail[i] < 0:
        head[i] = t
    else:
        tasks[tail[i], TK_NEXT] = t
    tail[i] = t


@inline_kernel
def _day_list(S: State, day, t):
    """Which of `day`'s lists `t` joins: its patient's network's (see State.ap_head)."""
    return day * S.n_nets + S.practice_net[S.E[S.T[t, TK_EP], EP_PRACTICE]]


@inline_kernel
def _due(S: State, when, t, pinned):
    """Book or route `t` on day `when` (a day the run never reaches: it waits for ever)."""
    S.T[t, TK_PINNED] = pinned
    if when >= S.n_days:
        S.ic[BEYOND] += 1
        return
    _append(S.du_head, S.du_tail, S.T, _day_list(S, when, t), t)


@inline_kernel
def _enqueue(S: State, post, t, day):
    """Put a task without a slot in the post's queue."""
    S.T[t, TK_POST] = post
    S.T[t, TK_QUEUED] = day
    _append(S.p_qhead, S.p_qtail, S.T, post, t)
    S.p_qlen[post] += 1
    S.p_unbooked_minutes[post] += S.t_minutes[t]


# ------------------------------------------------------------------ creating and routing


@inline_kernel
def _counted(S: State):
    """A task was created: it counts for the day and waits until it is done or dropped."""
    S.today[D_CREATED] += 1
    S.ic[WAITING] += 1


@kernel
def create(S: State, t, day, when, pinned):
    """A new task exists: book or route it now, or when its day comes."""
    _counted(S)
    if when <= day:
        route(S, t, day, pinned)
    else:
        _due(S, when, t, pinned)


@kernel
def _new_rework(S: State, ep, ttype, day):
    """A rework task: the lost step done again (a re-contact when it is a contact)."""
    S.E[ep, EP_REWORK] += 1
    S.today[D_REWORK] += 1
    t = new_task(S, ep, ttype, REWORK, day)
    S.T[t, TK_CHECKED] = 1
    return t


@kernel
def _rework(S: State, ep, post, ttype, day, when):
    """A rework task for `post`, booked or routed on day `when`."""
    create(S, _new_rework(S, ep, ttype, day), day, when, post)


@kernel
def _in_scope(S: State, practice, ttype, post):
    for i in range(S.el_start[practice, ttype], S.el_end[practice, ttype]):  # noqa: SIM110 (compiled)
        if S.el_post[i] == post:
            return True
    return False


@inline_kernel
def log_logistic_days(median, shape, u, most):
    """The u-quantile (0 <= u < 1) of a log-logistic distribution with this median and shape
    truncated at `most` (>= median), rounded to whole days."""
    r = (most / median) ** shape
    v = u * r / (1.0 + r)  # u scaled into [0, F(most)): the truncated distribution, no pile at `most`
    x = median * (v / (1.0 - v)) ** (1.0 / shape)
    return int(x + 0.5)


@inline_kernel
def _lead(S: State, median):
    """Working days until a next step is due: log-logistic around the task type's median, within
    the booking horizon (one access draw), or the median itself when the shape is 0."""
    if median <= 0 or S.lead_shape <= 0 or median >= S.horizon:
        return median
    return log_logistic_days(median, S.lead_shape, uniform(S, S_ACCESS), S.horizon)


@kernel
def advance(S: State, ep, day, first, urgent, planned):
    """Create the episode's next task, or close the episode when none is left.

    A planned review's first contact is booked ahead (`access.planned_lead_days`); a routine
    request's first contact is booked when the patient calls, for a day they choose a little after
    the earliest they are offered (`access.routine_choice_days`, at booking); a later step is due
    after its lead time (log-logistic around the task type's lead days, its median, with shape
    `access.lead_time_shape`) and is booked now for that day when it falls within the booking
    horizon (pre-booked), else by the patient when it is due.
    """
    n = S.E[ep, EP_NREM]
    if n == 0:
        _close(S, ep, day, True)
        return
    ttype = S.e_rem[ep, n - 1]
    S.E[ep, EP_NREM] = n - 1
    contact = S.tt_contact[ttype]
    choice = 0
    if first:
        lead = 0
        if planned and contact and S.planned_lead_mean > 0:
            lead = int(-S.planned_lead_mean * math.log1p(-uniform(S, S_ACCESS)))
        elif not planned and not urgent and contact and S.routine_choice_mean > 0:
            choice = int(-S.routine_choice_mean * math.log1p(-uniform(S, S_ACCESS)))
    else:
        lead = _lead(S, S.tt_lead[ttype]) + S.E[ep, EP_DELAY]
    S.E[ep, EP_DELAY] = 0
    t = new_task(S, ep, ttype, NORMAL, day)
    S.T[t, TK_URGENT] = urgent
    S.T[t, TK_START] = day + lead
    S.T[t, TK_CHOICE] = choice
    pinned = -1
    last = S.E[ep, EP_LAST_POST]
    if (
        lead == 0
        and not first
        and not contact
        and S.same_session
        and _in_scope(S, S.E[ep, EP_PRACTICE], ttype, last)
    ):
        pinned = last  # done at the same consultation
    if contact and 0 < lead <= S.horizon and uniform(S, S_ACCESS) < S.prebooked_share:
        S.T[t, TK_REQUESTED] = day  # booked now for its due date
        create(S, t, day, day, pinned)
        return
    create(S, t, day, day + lead, pinned)


@kernel
def route(S: State, t, day, pinned):
    """Give a task a clinician (and a slot when it is a contact); a change of person is a handover."""
    post, slot_day = _place(S, t, day, pinned)
    if post < 0:
        return
    ep = S.T[t, TK_EP]
    last_person = S.E[ep, EP_LAST_PERSON]
    if (
        S.T[t, TK_KIND] != REWORK
        and not S.T[t, TK_CHECKED]
        and last_person >= 0
        and S.p_person[post] != last_person
    ):
        S.T[t, TK_CHECKED] = 1
        if _handover(S, t, ep, S.E[ep, EP_LAST_POST], post, day):
            return  # deferred behind a rework task
    _book(S, t, post, slot_day, day)


@kernel
def _route_checked(S: State, t, day, pinned):
    """`route` for a task whose handover is already counted (rework, or deferred behind rework)."""
    post, slot_day = _place(S, t, day, pinned)
    if post >= 0:
        _book(S, t, post, slot_day, day)


@kernel
def _place(S: State, t, day, pinned):
    """(post, day) a task goes to, with its minutes set; (-1, -1) when it was dropped or found no slot."""
    ep = S.T[t, TK_EP]
    if S.E[ep, EP_DROPPED]:
        _drop(S, t, day)
        return -1, -1
    ttype = S.T[t, TK_TYPE]
    minutes = S.tt_minutes[ttype]
    if S.T[t, TK_REQUESTED] < 0:
        S.T[t, TK_REQUESTED] = day
    practice = S.E[ep, EP_PRACTICE]
    lo, hi = S.el_start[practice, ttype], S.el_end[practice, ttype]
    if pinned < 0 and hi <= lo:
        _drop(S, t, day)
        return -1, -1
    if S.T[t, TK_KIND] == REWORK:
        minutes *= S.rework_fraction
    slot_day = day
    if S.tt_contact[ttype]:
        post, slot_day = _find_slot(S, t, day, minutes, lo, hi, pinned)
        if post < 0:
            _no_slot(S, t, day, pinned)
            return -1, -1
    elif pinned >= 0:
        post = pinned
    else:
        nlo, nhi = S.nv_start[practice, ttype], S.nv_end[practice, ttype]
        navigated = nhi > nlo  # care navigation: to those whose core it is, when there are any
        post = choose_unbooked(
            S.policy,
            S.p_jitter,
            S.p_unbooked_per_day,
            S.p_unbooked_minutes,
            S.p_debt,
            S.E[ep, EP_LAST_POST],
            S.nv_post if navigated else S.el_post,
            S.nv_mult if navigated else S.el_mult,
            nlo if navigated else lo,
            nhi if navigated else hi,
        )
    S.t_minutes[t] = minutes * S.scope_mult[post, ttype]
    return post, slot_day


@kernel
def _book(S: State, t, post, slot_day, day):
    """The task takes its slot (a contact) or joins the post's queue of work without a slot."""
    S.T[t, TK_CHECKED] = 1
    if S.tt_contact[S.T[t, TK_TYPE]]:
        S.T[t, TK_POST] = post
        take(S.pre, S.otd, S.first_pre, post, slot_day, day, S.t_minutes[t], S.T[t, TK_URGENT])
        _append(S.ap_head, S.ap_tail, S.T, _day_list(S, slot_day, t), t)
    else:
        _enqueue(S, post, t, day)


@kernel
def _handover(S: State, t, ep, sender, receiver, day):
    """A change of person: count it and draw its loss (handover.py). True when the task now waits
    behind a rework task (booked with the receiver after `rework_delay_days`)."""
    lost, p, tie = handover.transfer(S, ep, sender, receiver, day)
    outcome = NONE
    if lost:
        outcome = HIDDEN
        if handover.lose(S, ep):
            outcome = REWORKED
            when = day + S.rework_delay
            r = _new_rework(S, ep, S.T[t, TK_TYPE], day)
            _counted(S)
            if when <= day:  # routed now, as `create` would; neither is a handover again
                _route_checked(S, r, day, receiver)
                _route_checked(S, t, day, receiver)
            else:
                _due(S, when, r, receiver)
                _due(S, when, t, receiver)
    if S.log_events:
        k = S.ic[HX]
        S.hx[k, 0] = day
        S.hx[k, 1] = S.E[ep, EP_ID]
        S.hx[k, 2] = S.E[ep, EP_PATIENT]
        S.hx[k, 3] = S.T[t, TK_TYPE]
        S.hx[k, 4] = sender
        S.hx[k, 5] = S.p_person[sender]
        S.hx[k, 6] = receiver
        S.hx[k, 7] = S.p_person[receiver]
        S.hx[k, 8] = outcome
        S.hxf[k, 0] = tie
        S.hxf[k, 1] = p
        S.ic[HX] = k + 1
    return outcome == REWORKED


@kernel
def _find_slot(S: State, t, day, minutes, lo, hi, pinned):
    """(post, day) of the appointment for a contact, or (-1, -1) when there is none."""
    start = S.T[t, TK_START] if S.T[t, TK_START] > day else day
    ttype = S.T[t, TK_TYPE]
    if pinned >= 0:
        need = minutes * S.scope_mult[pinned, ttype]
        d = earliest(S.pre, S.otd, S.first_pre, pinned, need, start, min(S.n_days - 1, day + S.horizon), day)
        if d >= 0:
            return pinned, d
        return -1, -1
    ep = S.T[t, TK_EP]
    patient = S.E[ep, EP_PATIENT]
    urgent = S.T[t, TK_URGENT]
    willing = 0
    if not urgent and S.prefers_named:
        willing = willingness(S, S.P[patient, PT_LTC])
    last, usual, prefers = S.E[ep, EP_LAST_POST], S.P[patient, PT_USUAL], S.P[patient, PT_PREFERS]
    practice = S.E[ep, EP_PRACTICE]
    nlo, nhi = S.nv_start[practice, ttype], S.nv_end[practice, ttype]
    navigated = nhi > nlo  # care navigation first
    if navigated:
        got = _choose(
            S, S.nv_post, S.nv_mult, nlo, nhi, last, usual, prefers, minutes, day, start, urgent, willing
        )
        navigated = got[0] >= 0
    if not navigated:
        got = _choose(
            S, S.el_post, S.el_mult, lo, hi, last, usual, prefers, minutes, day, start, urgent, willing
        )
    choice = S.T[t, TK_CHOICE]
    if got[0] < 0 or choice <= 0:
        return got
    # the patient takes a day `choice` working days after the earliest they were offered, if any
    posts, mults, a, b = (S.nv_post, S.nv_mult, nlo, nhi) if navigated else (S.el_post, S.el_mult, lo, hi)
    later = _choose(
        S, posts, mults, a, b, last, usual, prefers, minutes, day, got[1] + choice, urgent, willing
    )
    return later if later[0] >= 0 else got


@kernel
def _choose(S: State, posts, mults, lo, hi, last, usual, prefers, minutes, day, start, urgent, willing):
    """The booking rule's (post, day) among posts[lo:hi] on the state's book (booking.choose)."""
    return choose(
        S.policy,
        S.horizon,
        S.pre,
        S.otd,
        S.first_pre,
        S.p_jitter,
        last,
        usual,
        prefers,
        posts,
        mults,
        lo,
        hi,
        minutes,
        day,
        start,
        urgent,
        willing,
    )


@kernel
def _no_slot(S: State, t, day, pinned):
    """No slot: the patient tries again later or goes elsewhere (unmet demand)."""
    S.T[t, TK_ATTEMPTS] += 1
    urgent = S.T[t, TK_URGENT]
    p = S.p_elsewhere_urgent if urgent else S.p_elsewhere_routine
    if S.T[t, TK_ATTEMPTS] >= S.max_attempts or uniform(S, S_ACCESS) < p:
        _elsewhere(S, t, day)
        return
    _due(S, day + (1 if urgent else S.retry_days), t, pinned)


@kernel
def _elsewhere(S: State, t, day):
    """The patient goes to NHS 111, an urgent treatment centre or A&E: the episode ends here."""
    ep = S.T[t, TK_EP]
    S.today[D_UNMET] += 1
    S.unmet_band[S.P[S.E[ep, EP_PATIENT], PT_BAND]] += 1
    S.E[ep, EP_ELSEWHERE] = 1
    _drop(S, t, day)


@kernel
def _drop(S: State, t, day):
    S.ic[WAITING] -= 1
    S.today[D_DROPPED] += 1
    _finished(S, t)
    ep = S.T[t, TK_EP]
    if not S.E[ep, EP_DROPPED] and not S.E[ep, EP_CLOSED]:
        S.E[ep, EP_DROPPED] = 1
        _close(S, ep, day, False)


# ------------------------------------------------------------------ finishing


@kernel
def complete(S: State, c, t, day):
    """A task is done: record the contact, supervision demand, then move the episode on."""
    S.ic[WAITING] -= 1
    S.today[D_COMPLETED] += 1
    S.p_tasks_done[c] += 1
    ttype = S.T[t, TK_TYPE]
    S.p_types_done[c, ttype] = True
    ep = S.T[t, TK_EP]
    patient = S.E[ep, EP_PATIENT]
    _finished(S, t)
    if S.tt_contact[ttype]:
        _record_contact(S, c, t, patient, day)
    if S.E[ep, EP_CLOSED]:  # late rework on a finished episode: the contact still happened
        return
    if S.E[ep, EP_FIRST] < 0:
        S.E[ep, EP_FIRST] = day
    S.E[ep, EP_DONE] += 1
    person = S.p_person[c]
    _add_person(S, ep, person)
    S.E[ep, EP_LAST_POST] = c
    S.E[ep, EP_LAST_PERSON] = person
    sup = S.p_supervisor[c]
    if S.E[ep, EP_ACCOUNTABLE] != sup:
        _set_accountable(S, ep, sup)
    if S.p_holistic[c] or c == S.P[patient, PT_USUAL]:
        S.E[ep, EP_HOLISTIC] = 1  # a usual clinician or care coordinator sees the whole episode
        for _ in range(S.E[ep, EP_HIDDEN]):
            if handover.reconcile_one(S, ep):
                _rework(S, ep, c, ttype, day, day)
    kind = S.T[t, TK_KIND]
    if kind == REWORK:
        return
    if sup >= 0 and kind != ESCALATION:
        out = supervision.after_task(S, c, ttype, ep, day)
        if out & supervision.SIGNOFF_LOSS_NOTICED:
            _rework(S, ep, c, ttype, day, day + S.rework_delay)
        if out & supervision.ESCALATE:
            S.E[ep, EP_ESCALATIONS] += 1
            S.today[D_ESCALATIONS] += 1
            esc = new_task(S, ep, S.esc_type, ESCALATION, day)
            S.T[esc, TK_URGENT] = 1
            create(S, esc, day, day, sup)
            return
    referral.after_task(S, c, ttype, kind, ep)  # back to a GP from the edge of scope
    advance(S, ep, day, False, False, False)


@kernel
def _record_contact(S: State, c, t, patient, day):
    """Count a patient contact: its wait in calendar days, who was seen, and with whom."""
    person = S.p_person[c]
    k = S.ic[CONTACTS]
    S.cl_patient[k] = patient
    S.cl_person[k] = person
    S.cl_gp[k] = S.p_is_gp[c]
    S.ic[CONTACTS] = k + 1
    S.P[patient, PT_CONTACTS] += 1
    key = familiarity.pair(patient, person)
    seen = familiarity.contact(S.fam, S.fam_f, S.ic, S.fam_growth, S.fam_retention, S.fam_horizon, key, day)
    if seen > S.P[patient, PT_TOP]:
        S.P[patient, PT_TOP] = seen
    if S.p_is_gp[c]:
        S.P[patient, PT_GP_CONTACTS] += 1
    wait = S.ordinal[day] - S.ordinal[S.T[t, TK_REQUESTED]]
    S.waits[wait] += 1
    S.today[D_CONTACTS] += 1
    S.tot[S.p_contact_total[c]] += 1
    ep = S.T[t, TK_EP]
    if S.E[ep, EP_FIRST] < 0 and S.T[t, TK_KIND] == NORMAL:
        S.tot[K_NEW_PROBLEM] += 1
        if wait == 0:
            S.tot[K_NEW_SAME_DAY] += 1
    with_preferred = c == S.P[patient, PT_USUAL]
    if S.P[patient, PT_PREFERS]:
        S.tot[K_PREFERRED] += 1
        if with_preferred:
            S.tot[K_PREFERRED_WITH] += 1
    if S.log_events:
        k = S.ic[CX]
        S.cx[k, 0] = patient
        S.cx[k, 1] = S.E[ep, EP_ID]
        S.cx[k, 2] = S.T[t, TK_TYPE]
        S.cx[k, 3] = S.T[t, TK_URGENT]
        S.cx[k, 4] = S.T[t, TK_REQUESTED]
        S.cx[k, 5] = day
        S.cx[k, 6] = c
        S.cx[k, 7] = person
        S.cx[k, 8] = with_preferred
        S.ic[CX] = k + 1


@kernel
def _set_accountable(S: State, ep, sup):
    acc = S.E[ep, EP_ACCOUNTABLE]
    if acc == sup:
        return
    if acc >= 0:
        S.p_open_cases[acc] -= 1
    if sup >= 0:
        S.p_open_cases[sup] += 1
    S.E[ep, EP_ACCOUNTABLE] = sup


@kernel
def _close(S: State, ep, day, completed):
    """Episode finished (or dropped): hidden losses may become harm-risk events."""
    S.E[ep, EP_CLOSED] = 1
    S.P[S.E[ep, EP_PATIENT], PT_OPEN] -= 1
    if S.E[ep, EP_REFS] == 0:
        S.e_dead[S.ic[E_DEAD]] = ep
        S.ic[E_DEAD] += 1
    if S.E[ep, EP_ACCOUNTABLE] >= 0:
        _set_accountable(S, ep, -1)
    harm = handover.harm_at_close(S, ep) if S.E[ep, EP_HIDDEN] else 0
    S.today[D_HARM] += harm
    tot = S.tot
    if not completed:
        tot[K_EP_DROPPED] += 1
        if S.E[ep, EP_ELSEWHERE]:
            tot[K_EP_ELSEWHERE] += 1
        tot[K_HARM_DROPPED] += harm
        return
    done = S.E[ep, EP_DONE]
    tot[K_EP_COMPLETED] += 1
    tot[K_EP_TASKS] += done
    tot[K_EP_HANDOVERS] += S.E[ep, EP_HANDOVERS]
    tot[K_EP_LOSSES] += S.E[ep, EP_LOSSES]
    tot[K_EP_REWORK] += S.E[ep, EP_REWORK]
    tot[K_EP_ESCALATIONS] += S.E[ep, EP_ESCALATIONS]
    tot[K_EP_HARM] += harm
    tot[K_EP_WAIT] += S.E[ep, EP_FIRST] - S.E[ep, EP_ARRIVAL]
    tot[K_EP_DAYS] += day - S.E[ep, EP_ARRIVAL]
    if done >= 2:
        tot[K_FRAG_SUM] += (S.E[ep, EP_NPERSONS] - 1) / (done - 1)
        tot[K_FRAG_N] += 1


# ------------------------------------------------------------------ the day's kernels


@kernel
def room(S: State):
    """Whether the pools, logs and random-number blocks have room for one more step of a day's
    loop (one task, one episode or one post's next task, with all it may lead to). When they have
    not, the day's kernel stops where it is and returns False; the model grows the state and calls
    it again, and it goes on from there."""
    ic = S.ic
    if ic[T_FREE] + S.T.shape[0] - ic[T_USED] < LOW_ROWS or ic[E_FREE] + S.E.shape[0] - ic[E_USED] < LOW_ROWS:
        return False
    if ic[N_FREE] + S.N.shape[0] - ic[N_USED] < LOW_ROWS or S.cl_patient.size - ic[CONTACTS] < LOW_ROWS:
        return False
    if S.rh.shape[0] - ic[RH] < LOW_ROWS:
        return False
    if S.log_events and (S.cx.shape[0] - ic[CX] < LOW_ROWS or S.hx.shape[0] - ic[HX] < LOW_ROWS):
        return False
    if 2 * (ic[PAIRS] + LOW_ROWS) > S.fam.shape[0]:
        return False
    for k in range(S.u.shape[0]):  # noqa: SIM110 (compiled: no generator)
        if S.u.shape[1] - ic[CUR + k] < LOW_DRAWS:
            return False
    return True


@kernel
def book_due(S: State, day):
    """Requests whose day has come: retries, follow-ups due, tasks deferred behind rework, network
    by network. False when it stopped for room (the list keeps what is left)."""
    for i in range(day * S.n_nets, (day + 1) * S.n_nets):
        t = S.du_head[i]
        tail = S.du_tail[i]
        S.du_head[i] = -1
        S.du_tail[i] = -1
        while t >= 0:
            if not room(S):
                S.du_head[i] = t
                S.du_tail[i] = tail
                return False
            _ahead(S, t)
            nxt = S.T[t, TK_NEXT]
            route(S, t, day, S.T[t, TK_PINNED])
            t = nxt
    return True


@kernel
def arrivals(S: State, day, patients, kinds, urgent, planned, tasks, offsets):
    """New episodes, in the order given (urgent first: on-the-day slots go to them); episode i's
    task types are tasks[offsets[i]:offsets[i + 1]]. False when it stopped for room."""
    for i in range(S.ic[ARRIVAL_AT], patients.size):
        if not room(S):
            S.ic[ARRIVAL_AT] = i
            return False
        if i + 1 < patients.size:
            prefetch(S.P, patients[i + 1])
        patient = patients[i]
        ep = new_episode(S, patient, kinds[i], tasks, offsets[i], offsets[i + 1], day)
        S.P[patient, PT_OPEN] += 1
        at_arrival(S, patient)  # admissions.py: expected avoidable admissions
        advance(S, ep, day, True, urgent[i], planned[i])
    S.ic[ARRIVAL_AT] = 0
    S.today[D_ARRIVED] += patients.size
    return True


@kernel
def _ahead(S: State, t):
    """Start the memory reads of the tasks after `t` in its list while `t` is worked: the row of
    the third task on, the episode of the second, the patient and familiarity of the first. A
    day's tasks touch rows spread over the state, which outgrows the cache in a large run; reading
    them one task ahead overlaps their waits for memory with the work."""
    n1 = S.T[t, TK_NEXT]
    if n1 < 0:
        return
    ep = S.T[n1, TK_EP]
    patient = S.E[ep, EP_PATIENT]
    prefetch(S.P, patient)
    post = S.T[n1, TK_POST]
    if post >= 0:  # the clinician who will see the patient
        familiarity.ahead(S.fam, S.ic, familiarity.pair(patient, S.p_person[post]))
    n2 = S.T[n1, TK_NEXT]
    if n2 < 0:
        return
    ep = S.T[n2, TK_EP]
    prefetch(S.E, ep)
    prefetch(S.T, S.T[n2, TK_NEXT])


@inline_kernel
def _did_not_attend(S: State, t, day):
    """Whether the patient misses today's appointment: a chance by calendar days booked ahead
    (`access.dna_*`: same day, next day, 2-7 days, 8 or more)."""
    ahead = S.ordinal[day] - S.ordinal[S.T[t, TK_REQUESTED]]
    band = 0 if ahead == 0 else 1 if ahead == 1 else 2 if ahead <= 7 else 3
    p = S.dna[band]
    return p > 0 and uniform(S, S_ACCESS) < p


@inline_kernel
def _rebook(S: State, t, day):
    """A missed appointment is booked again: a new routine request from the next working day."""
    S.T[t, TK_REQUESTED] = -1
    S.T[t, TK_URGENT] = 0
    S.T[t, TK_CHOICE] = 0
    S.T[t, TK_ATTEMPTS] = 0
    S.T[t, TK_START] = day + 1
    _due(S, day + 1, t, -1)


@kernel
def see_patients(S: State, day):
    """Every appointment booked for today, network by network, in booking order (same-day bookings
    join the end). False when it stopped for room (the day's lists start where it stopped)."""
    for i in range(day * S.n_nets, (day + 1) * S.n_nets):
        t = S.ap_head[i]
        while t >= 0:
            if not room(S):
                S.ap_head[i] = t
                return False
            _ahead(S, t)
            post = S.T[t, TK_POST]
            if S.E[S.T[t, TK_EP], EP_DROPPED]:  # the patient went elsewhere: the slot's time is not used
                S.pre[post, day] += S.t_minutes[t]
                _drop(S, t, day)
            elif _did_not_attend(S, t, day):  # the slot's time goes back to the day; booked again
                S.pre[post, day] += S.t_minutes[t]
                S.tot[K_DNA] += 1
                after = S.T[t, TK_NEXT]
                _rebook(S, t, day)
                t = after
                continue
            else:
                S.p_worked[post] += S.t_minutes[t]
                S.fc[SEEN_MINUTES] += S.t_minutes[t]
                complete(S, post, t, day)
            t = S.T[t, TK_NEXT]  # read after: a booking made for today joins the end
        S.ap_head[i] = -1
        S.ap_tail[i] = -1
    S.today[D_UTILISATION] += S.fc[SEEN_MINUTES]
    S.fc[SEEN_MINUTES] = 0.0
    return True


@kernel
def close_books(S: State, day):
    """The day's books close: appointment minutes nobody booked join each working post's time for
    work without a slot (`p_time`)."""
    for c in range(S.p_person.size):
        if S.p_working[c]:
            S.p_time[c] = S.unbooked_day[c, day] + unused(S.pre, S.otd, c, day)
            available = S.unbooked_day[c, day] + S.appointment_day[c, day]
            S.p_available[c] += available
            S.fc[AVAILABLE] += available


@kernel
def work_without_slots(S: State, day, order):
    """Each clinician (in `order`) works results, prescriptions and letters in the time the books
    left them. A task is started while any time is left; what it overruns is owed from the post's
    next working day, so no task blocks a queue. False when it stopped for room."""
    fc = S.fc
    for i in range(S.ic[QUEUE_AT], order.size):
        c = order[i]
        if not S.p_working[c]:
            continue
        if not S.ic[QUEUE_OPEN]:  # the post starts its queue
            fc[QUEUE_LEFT] = S.p_time[c] - S.p_debt[c] - S.p_debrief[c]
            fc[QUEUE_WORKED] = 0.0
            S.p_debt[c] = 0.0
            S.p_debrief[c] = 0.0
            S.ic[QUEUE_OPEN] = 1
        while S.p_qhead[c] >= 0 and fc[QUEUE_LEFT] > 0:
            if not room(S):
                S.ic[QUEUE_AT] = i
                return False
            t = S.p_qhead[c]
            _ahead(S, t)
            S.p_qhead[c] = S.T[t, TK_NEXT]
            if S.p_qhead[c] < 0:
                S.p_qtail[c] = -1
            S.p_qlen[c] -= 1
            S.p_unbooked_minutes[c] -= S.t_minutes[t]
            if S.E[S.T[t, TK_EP], EP_DROPPED] or day - S.T[t, TK_QUEUED] > S.abandon_days:
                _drop(S, t, day)
                continue
            fc[QUEUE_LEFT] -= S.t_minutes[t]
            fc[QUEUE_WORKED] += S.t_minutes[t]
            complete(S, c, t, day)
        S.ic[QUEUE_OPEN] = 0
        S.p_debt[c] = max(0.0, -fc[QUEUE_LEFT])
        S.p_worked[c] += fc[QUEUE_WORKED]
        S.today[D_UTILISATION] += fc[QUEUE_WORKED]
    S.ic[QUEUE_AT] = 0
    return True
