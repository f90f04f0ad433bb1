"""The run's state as typed arrays: what the compiled task life cycle reads and writes.

One record of arrays (a numba structref, `State`, passed to every kernel as one pointer; its fields
are listed with their types in `StateFields`): posts, tasks, episodes, patients, the appointment
book, ties, familiarity, random-number blocks and the day's counters. A task, an episode and a
patient are one row each of an integer block (`T`, `E`, `P`). Mesa agents (agents.py) are views of
their rows. Tasks and episodes live in pools whose rows are reused once they are finished; the
pools, logs and random-number blocks grow between days (`HandoverModel._reserve`) and, when a day
needs more, a kernel stops for room and goes on once the model has grown them (lifecycle.room).

Mutable scalars live in two small arrays, `ic` (integers) and `fc` (floats), at the indices below.
"""

from __future__ import annotations

import os
from types import SimpleNamespace
from typing import NamedTuple

import numpy as np
from llvmlite import ir
from numba import njit
from numba.core import types
from numba.experimental import structref
from numba.extending import intrinsic

from handover_abm.kernel_cache import drop_stale

drop_stale()  # before numba loads any cached kernel of this package

# Every compiled function of the model: cached on disk, bounds-checked when NUMBA_BOUNDSCHECK=1.
kernel = njit(cache=True, nogil=True, boundscheck=os.environ.get("NUMBA_BOUNDSCHECK") == "1")
# A small one, compiled into each caller: a call between compiled functions counts a reference to
# each array it passes (an atomic add, then a subtract), which costs more than these functions' work.
inline_kernel = njit(
    cache=True, nogil=True, inline="always", boundscheck=os.environ.get("NUMBA_BOUNDSCHECK") == "1"
)

# ic: integer scalars
T_USED, T_FREE, T_DEAD = 0, 1, 2  # task rows ever used, free rows on the stack, rows to free tonight
E_USED, E_FREE = 3, 4  # episode rows ever used, free rows on the stack
N_USED, N_FREE = 5, 6  # person-list nodes
NEXT_EPISODE = 7  # the last episode id given
WAITING = 8  # tasks created and not yet done or dropped
CONTACTS = 9  # rows of the contact log (patient, person, GP)
CX, HX, RH = 10, 11, 12  # today's rows of the detailed contact log, handover events, handover pairs
PAIRS = 13  # familiarity pairs (rows used in its hash table)
F_PATIENTS = 14  # patients, whose pairs share the familiarity table in order
F_ORIGIN = 15  # familiarity's origin day
CUR = 16  # 16..20: cursors of the random-number blocks, in the order of STREAMS
BEYOND = 21  # tasks due after the last day the run can reach
E_DEAD = 22  # closed episodes with no task left, to free tonight
ARRIVAL_AT, QUEUE_AT, QUEUE_OPEN = 23, 24, 25  # where a day's kernel stopped for more room
N_IC = 26

# fc: float scalars
AVAILABLE = 0  # minutes available today
SEEN_MINUTES, QUEUE_LEFT, QUEUE_WORKED = 1, 2, 3  # running sums of a day's kernel (see lifecycle.py)
N_FC = 4

STREAMS = ("access", "handover", "supervision", "referral", "preference")  # drawn in the kernels
S_ACCESS, S_HANDOVER, S_SUPERVISION, S_REFERRAL, S_PREFERENCE = range(5)

# columns of the task, episode and patient rows (T, E, P): one row per task, episode or patient,
# so that what a step reads of one of them lies in one or two cache lines
TASK_COLUMNS = tuple(
    [
        "ep",
        "type",
        "kind",
        "created",
        "post",
        "queued",
        "checked",
        "urgent",
        "requested",
        "start",
        "attempts",
        "pinned",
        "next",
        "choice",  # working days after the earliest free day the patient asks for (0: the earliest)
    ]
)
EPISODE_COLUMNS = tuple(
    [
        "id",
        "patient",
        "kind",
        "nrem",
        "arrival",
        "planned",
        "practice",
        "first",
        "last_post",
        "last_person",
        "done",
        "phead",
        "npersons",
        "handovers",
        "losses",
        "hidden",
        "rework",
        "escalations",
        "holistic",
        "delay",
        "accountable",
        "dropped",
        "closed",
        "elsewhere",
        "refs",
    ]
)
PATIENT_COLUMNS = tuple(
    ["band", "ltc", "practice", "usual", "prefers", "top", "contacts", "gp_contacts", "open"]
)
(
    TK_EP,
    TK_TYPE,
    TK_KIND,
    TK_CREATED,
    TK_POST,
    TK_QUEUED,
    TK_CHECKED,
    TK_URGENT,
    TK_REQUESTED,
    TK_START,
    TK_ATTEMPTS,
    TK_PINNED,
    TK_NEXT,
    TK_CHOICE,
) = range(len(TASK_COLUMNS))
(
    EP_ID,
    EP_PATIENT,
    EP_KIND,
    EP_NREM,
    EP_ARRIVAL,
    EP_PLANNED,
    EP_PRACTICE,
    EP_FIRST,
    EP_LAST_POST,
    EP_LAST_PERSON,
    EP_DONE,
    EP_PHEAD,
    EP_NPERSONS,
    EP_HANDOVERS,
    EP_LOSSES,
    EP_HIDDEN,
    EP_REWORK,
    EP_ESCALATIONS,
    EP_HOLISTIC,
    EP_DELAY,
    EP_ACCOUNTABLE,
    EP_DROPPED,
    EP_CLOSED,
    EP_ELSEWHERE,
    EP_REFS,
) = range(len(EPISODE_COLUMNS))
(PT_BAND, PT_LTC, PT_PRACTICE, PT_USUAL, PT_PREFERS, PT_TOP, PT_CONTACTS, PT_GP_CONTACTS, PT_OPEN) = range(
    len(PATIENT_COLUMNS)
)
EP_END = len(EPISODE_COLUMNS)  # after its columns, an episode row holds the first people who
EP_PEOPLE = 8  # worked on it, up to this many, then its task types still to do (e_rem); people
# beyond the first EP_PEOPLE go in a list of nodes (rare: at most 1 such node in use at once in a
# 100,000-patient year, 2 in a million-patient year)
NODE_PERSON, NODE_NEXT = 0, 1  # a node of that list: person, next node

# Rows laid out on cache lines. A large run's state outgrows the cache, so a task's step waits for
# each line of a row it has not read lately: a row that starts and ends on line boundaries costs
# the fewest waits. A task row is one line of 64 bytes: TASK_COLUMNS (14 int32) and the task's
# minutes as a float in its last 8 bytes (float column TK_MINUTES of the row read as floats). An
# episode row is a whole number of lines: EPISODE_COLUMNS, its first people, then the task types
# still to do (e_rem). An episode's people are read at each of its tasks: in its row, they cost no
# wait of their own (a list of nodes made at different times cost one wait a node).
LINE = 64  # bytes in a cache line
INTS_A_LINE = LINE // 4  # int32 columns in a line
TASK_WIDTH = INTS_A_LINE  # int32 columns of a task row
TK_MINUTES = TASK_WIDTH // 2 - 1
assert len(TASK_COLUMNS) <= 2 * TK_MINUTES, "task columns overlap the minutes: a row is one cache line"


def aligned_zeros(shape: tuple[int, ...], dtype: type | np.dtype) -> np.ndarray:
    """Zeros whose first byte starts a cache line (numpy's own start 16 bytes into one)."""
    dtype = np.dtype(dtype)
    size = int(np.prod(shape)) * dtype.itemsize
    raw = np.zeros(size + LINE, dtype=np.uint8)
    start = -raw.ctypes.data % LINE
    return raw[start : start + size].view(dtype).reshape(shape)


def task_rows(n: int) -> tuple[np.ndarray, np.ndarray]:
    """`n` task rows (T) and the view of their minutes (t_minutes): one cache line a task."""
    rows = aligned_zeros((n, TASK_WIDTH), np.int32)
    return rows, task_minutes(rows)


def task_minutes(rows: np.ndarray) -> np.ndarray:
    """The minutes of task rows `rows` (a view: the last 8 bytes of each row, as a float)."""
    return rows.view(np.float64)[:, TK_MINUTES]


def episode_rows(n: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """`n` episode rows (E) with room for `width` task types still to do, and the view of those
    (e_rem); each row a whole number of cache lines."""
    lines = -(-(EP_END + EP_PEOPLE + width) // INTS_A_LINE)
    rows = aligned_zeros((n, lines * INTS_A_LINE), np.int32)
    return rows, episode_remaining(rows, width)


def episode_remaining(rows: np.ndarray, width: int) -> np.ndarray:
    """The task types still to do of episode rows `rows` (a view of `width` columns after the people)."""
    return rows[:, EP_END + EP_PEOPLE : EP_END + EP_PEOPLE + width]


# task kinds (a step of the episode, rework after a noticed loss, an escalation) and handover outcomes
NORMAL, REWORK, ESCALATION = 0, 1, 2
NONE, HIDDEN, REWORKED = 0, 1, 2

# the totals the kernels add to (model.totals reads them by name)
KERNEL_TOTALS = (
    "new_problem_contacts",
    "new_problem_same_day",
    "preferred_contacts",
    "preferred_contacts_with",
    "episodes_dropped",
    "episodes_elsewhere",
    "harm_risk_events_dropped",
    "episodes_completed",
    "ep_tasks",
    "ep_handovers",
    "ep_losses",
    "ep_rework",
    "ep_escalations",
    "ep_harm",
    "ep_wait_days",
    "ep_days",
    "frag_sum",
    "frag_n",
    "queries",
    "signoffs",
    "signoff_losses",
    "failure_demand",
    "acsc_admissions",
    "missed_appointments",
)
(
    K_NEW_PROBLEM,
    K_NEW_SAME_DAY,
    K_PREFERRED,
    K_PREFERRED_WITH,
    K_EP_DROPPED,
    K_EP_ELSEWHERE,
    K_HARM_DROPPED,
    K_EP_COMPLETED,
    K_EP_TASKS,
    K_EP_HANDOVERS,
    K_EP_LOSSES,
    K_EP_REWORK,
    K_EP_ESCALATIONS,
    K_EP_HARM,
    K_EP_WAIT,
    K_EP_DAYS,
    K_FRAG_SUM,
    K_FRAG_N,
    K_QUERIES,
    K_SIGNOFFS,
    K_SIGNOFF_LOSSES,
    K_FAILURE,
    K_ACSC,
    K_DNA,
) = range(len(KERNEL_TOTALS))
# then one total per contact group (contacts_<group>), from len(KERNEL_TOTALS) on

# the day's counters the kernels add to (model.DAILY_COLUMNS, in that order)
(
    D_ARRIVED,
    D_CREATED,
    D_COMPLETED,
    D_WAITING,
    D_DROPPED,
    D_CONTACTS,
    D_UNMET,
    D_HANDOVERS,
    D_MISCOMMUNICATIONS,
    D_REWORK,
    D_HARM,
    D_ESCALATIONS,
) = range(12)
D_UTILISATION, D_TURNOVER = 17, 18


class StateFields(NamedTuple):
    """Every field of the state, with its type: the arrays the task life cycle touches."""

    # constants of the run
    n_days: int  # days in the book (the run, the horizon and one)
    n_nets: int  # primary care networks: each day list is kept network by network
    horizon: int
    esc_type: int  # the supervisor's escalation task type
    ref_type: int  # the GP re-consultation task of a referral (-1: none)
    policy: int  # booking rule (booking.POLICIES)
    prefers_named: bool
    log_events: bool
    prebooked_share: float
    same_session: bool
    rework_fraction: float
    planned_lead_mean: float
    routine_choice_mean: float  # mean working days a routine request asks for beyond the earliest
    dna: np.ndarray  # chance of not attending by calendar days booked ahead: 0, 1, 2-7, 8 or more
    lead_shape: float  # log-logistic shape of a next step's lead time (0: the median exactly)
    p_elsewhere_urgent: float
    p_elsewhere_routine: float
    max_attempts: int
    retry_days: int
    abandon_days: int
    wait_base: float
    wait_per_ltc: float
    # handover loss model (log odds)
    lg_base: float
    lg_signoff: float
    loss_coef: np.ndarray  # handover.COEFFICIENTS
    p_detect: float
    rework_delay: int
    p_reconcile: float
    p_harm: float
    # supervision, admissions, familiarity, ties
    escalation_share: float
    answer_delay: int
    query_minutes: float
    acsc_risk: float
    acsc_rr: float
    upc_reference: float
    fam_growth: float
    fam_retention: float
    fam_horizon: float
    tie_growth: float
    # calendar and task types
    weekday: np.ndarray  # day -> 0..4
    ordinal: np.ndarray  # day -> calendar ordinal
    tt_contact: np.ndarray
    tt_lead: np.ndarray
    tt_minutes: np.ndarray
    # eligibility: practice x task type -> a slice of (post, multiplier); navigation likewise
    el_start: np.ndarray
    el_end: np.ndarray
    el_post: np.ndarray
    el_mult: np.ndarray
    nv_start: np.ndarray
    nv_end: np.ndarray
    nv_post: np.ndarray
    nv_mult: np.ndarray
    # posts
    p_person: np.ndarray
    p_supervisor: np.ndarray
    p_is_gp: np.ndarray
    p_holistic: np.ndarray
    p_contact_total: np.ndarray  # index of the post's contacts_<group> total
    p_unbooked_per_day: np.ndarray
    p_unbooked_minutes: np.ndarray
    p_qhead: np.ndarray  # queue of work without a slot (linked through the tasks' next column)
    p_qtail: np.ndarray
    p_qlen: np.ndarray
    p_debt: np.ndarray
    p_debrief: np.ndarray
    p_interruptions: np.ndarray
    p_working: np.ndarray
    p_worked: np.ndarray
    p_available: np.ndarray
    p_tasks_done: np.ndarray
    p_types_done: np.ndarray  # post x task type
    p_protected: np.ndarray
    p_sup_today: np.ndarray
    p_open_cases: np.ndarray
    p_record: np.ndarray
    p_org: np.ndarray
    p_sites: np.ndarray  # post x weekday
    p_need: np.ndarray  # today's learning-curve multiplier of supervision needs
    p_jitter: np.ndarray  # today's tie-break offsets
    p_time: np.ndarray  # today's minutes for work without a slot (set when the books close)
    scope_mult: np.ndarray  # post x task type (NaN: out of scope)
    query_p: np.ndarray  # post x task type
    referral_p: np.ndarray  # post x task type
    review_minutes: np.ndarray  # per post (0: no per-case review)
    # minutes per post and day: kept for work without a slot, and for appointments (rota.py)
    unbooked_day: np.ndarray
    appointment_day: np.ndarray
    # book (book.py) and the day lists
    pre: np.ndarray  # post x day: pre-bookable minutes left
    otd: np.ndarray  # post x day: on-the-day minutes left
    first_pre: np.ndarray
    # (day, network) -> first task (row) of a list linked through the next column, at day x n_nets
    # + network: a day's work goes network by network, through one network's memory at a time
    practice_net: np.ndarray  # practice -> its network
    ap_head: np.ndarray  # the appointments of a day
    ap_tail: np.ndarray
    du_head: np.ndarray  # the tasks due on a day (retries, follow-ups, deferred)
    du_tail: np.ndarray
    # tasks: one cache line each (task_rows): TASK_COLUMNS, and the minutes (a view of the rows)
    T: np.ndarray
    t_minutes: np.ndarray
    t_free: np.ndarray
    t_dead: np.ndarray
    # episodes: one row each (episode_rows): EPISODE_COLUMNS, the first people, the task types to do
    E: np.ndarray
    e_rem: np.ndarray  # episode x slot: task types still to do, the next one last (a view of E)
    e_free: np.ndarray
    e_dead: np.ndarray
    N: np.ndarray  # node x (NODE_PERSON, NODE_NEXT): lists of the people who worked on an episode
    n_free: np.ndarray
    # patients: one row of PATIENT_COLUMNS each
    P: np.ndarray
    # contact log (every contact: patient, person, GP or not)
    cl_patient: np.ndarray
    cl_person: np.ndarray
    cl_gp: np.ndarray
    # today's detailed records (log_events): contacts and handovers
    cx: np.ndarray  # contact x 9: patient, episode id, type, urgent, requested, day, post, person, preferred
    hx: np.ndarray  # handover x 9: day, episode id, patient, type, from/to post, from/to person, outcome
    hxf: np.ndarray  # handover x 2 floats: tie, loss probability
    rh: np.ndarray  # today's handovers x 2: pairs of posts
    # ties (network.py)
    nw_floor: np.ndarray
    nw_x: np.ndarray
    nw_handovers: np.ndarray
    nw_s: np.ndarray  # [lazy decay factor, sum of the stored excess]
    # familiarity (familiarity.py): a hash table of pairs (person, patient): key, value, contacts
    fam: np.ndarray
    fam_f: np.ndarray  # the same memory read as floats (the value column)
    # random-number blocks: one row of pre-drawn uniforms per stream of STREAMS (streams.py)
    u: np.ndarray
    # counters
    today: np.ndarray
    tot: np.ndarray
    waits: np.ndarray
    unmet_band: np.ndarray
    ic: np.ndarray
    fc: np.ndarray


@structref.register
class StateType(types.StructRef):
    """numba's type of the state: one record passed by reference to every kernel."""

    def preprocess_fields(self, fields):
        return tuple((name, types.unliteral(t)) for name, t in fields)


class State(structref.StructRefProxy):
    """The state as the kernels see it (fields as in StateFields); built by `pack`."""


FIELDS = StateFields._fields
structref.define_proxy(State, StateType, list(FIELDS))


@njit(cache=True)
def _new_state(fields):
    return State(*fields)


def pack(arrays: SimpleNamespace) -> State:
    """The compiled record holding `arrays`' fields (the same buffers: no copy)."""
    return _new_state(tuple(getattr(arrays, name) for name in FIELDS))


@inline_kernel
def uniform(S: State, k: int) -> float:
    """One U(0, 1) draw from stream `k` of STREAMS: the next of its block (streams.py fills it)."""
    c = S.ic[CUR + k]
    if c >= S.u.shape[1]:
        raise RuntimeError("a random-number block was used up within a day")
    S.ic[CUR + k] = c + 1
    return S.u[k, c]


@intrinsic
def _prefetch(typingctx, address):
    """LLVM's prefetch of the cache line at `address` (a hint: never faults, changes nothing)."""
    if not isinstance(address, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        i32, ptr = ir.IntType(32), ir.IntType(8).as_pointer()
        fn = builder.module.declare_intrinsic(
            "llvm.prefetch", fnty=ir.FunctionType(ir.VoidType(), (ptr, i32, i32, i32))
        )
        read, keep, data = ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)
        builder.call(fn, (builder.inttoptr(args[0], ptr), read, keep, data))
        return context.get_dummy_value()

    return types.void(types.uintp), codegen


@inline_kernel
def prefetch(a, i):
    """Ask for row `i` of `a` to be brought into the cache (every cache line it touches, at most
    four: an episode's row is three), so that a loop can start the memory reads of the next items
    while it works on this one."""
    if 0 <= i < a.shape[0]:
        address = a.ctypes.data + i * a.strides[0]
        line = address - address % LINE
        last = min(address + a.strides[0] - 1, line + 4 * LINE - 1)
        while line <= last:
            _prefetch(line)
            line += LINE
