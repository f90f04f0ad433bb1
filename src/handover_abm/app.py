"""The planner's dashboard (optional extra: `pip install 'handover-abm[dashboard]'`), a Solara page.

Started by `handover-abm dashboard [CONFIG]`, which serves this module with Solara; the core never
imports it. Left: the team being planned, every post count and FTE as a number with the team's
FTE and annual staff cost recomputed as they change, a post of any catalogue role added with one
click, warnings for a doubtful team (no GP, roles without their own supervisors), the team saved
as a config file, and the settings a planner changes (booking rule, shared record, co-location,
protected supervision time, population). Config files, the planner's own included, are loaded by
upload or by path from the folders the command allows. Above two tabs, the root seed both use
(the command line's default, 0, until changed):

- "Compare for a year": runs this team and a comparison team (any loaded config, on this team's
  patients) with several replicates in the background, through the same engine as
  `handover-abm compare` (experiment.run_replicates), with the command's defaults (the config's
  run length less the default warm-up), with progress, then shows the verdict, any team that does
  not keep up with demand, a chart of the paired differences and the table of outcomes with 95%
  intervals (stats, verdict, glossary), the table downloadable as CSV. Results whose team or
  settings have changed since they were run are marked out of date.
- "Watch a run": steps one run day by day: team network, daily series against working days and
  dates, and the outcomes so far.

State lives in solara.reactive variables, which Solara keeps per browser session.

The page has no log-in and may be reached by other users of the machine (or, with --host, of the
network), who may not be allowed to read the files the server can. So a file is read by path only
from the folders the command named (handover_abm.serve), and one that is not a config is refused
without a word of its contents: no unknown key, no value, no line of YAML. An uploaded file's
problems are named in full, as its contents came from the person who sees them. When the command
set an access token, a page whose address does not carry it shows only a refusal.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import functools
import hmac
import io
import math
import os
import re
import stat
import textwrap
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import parse_qs

import matplotlib

matplotlib.use("Agg")  # the dashboard's own server process draws to PNG only
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import networkx as nx
import numpy as np
import solara
import yaml
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator
from pydantic import BaseModel, ValidationError
from solara.lab import task

from handover_abm.catalogue import load_catalogue
from handover_abm.config import (
    ROUTING_POLICIES,
    ConfigError,
    Organisation,
    Scenario,
    TeamEntry,
    scenario_from_dict,
    validation_message,
)
from handover_abm.dates import Calendar
from handover_abm.experiment import DEFAULT_SEED, Replicates, load_configs, run_replicates
from handover_abm.glossary import (
    BOARD,
    DAILY,
    POLICIES,
    display_name,
    fmt,
    fmt_diff,
    interval,
    interval_diff,
    label,
    parameter_label,
    role_label,
    task_label,
)
from handover_abm.limits import check_held_runs, check_seed
from handover_abm.metrics import TABLE_METRICS, summarise, warmup_for
from handover_abm.model import HandoverModel
from handover_abm.plots import OKABE_ITO, ROLE_COLOURS
from handover_abm.results import csv_writer
from handover_abm.serve import CONFIG_DIRS_ENV, CONFIG_ENV, SHIPPED_CONFIGS, TOKEN_ENV
from handover_abm.stats import INTERVAL_METHOD
from handover_abm.streams import replicate_seeds
from handover_abm.style import PAPER_STYLE
from handover_abm.team import annual_cost, total_fte
from handover_abm.verdict import (
    BETTER,
    WORSE,
    Call,
    calls,
    keep_up_notes,
    measured_text,
    verdicts,
    warnings_for,
)

matplotlib.rcParams.update(PAPER_STYLE)  # this process is the dashboard's own: its figures all in it
WATCH_METRICS = [
    "handovers_per_episode",
    "miscommunications_per_episode",
    "harm_risk_per_1000_episodes",
    "supervisor_load_index",
    "same_day_share",
    "upc_gp_mean",
    "cost_per_episode",
]
WATCH_SERIES = ["handovers", "miscommunications", "supervisor_load_index", "tasks_waiting"]
CONFIG_SUFFIXES = (".yaml", ".yml")
MAX_CONFIG_BYTES = 1_000_000  # the shipped configs are about 2 kB


def config_path() -> Path:
    """The config the dashboard starts from (set by the command)."""
    return Path(os.environ.get(CONFIG_ENV, SHIPPED_CONFIGS / "default.yaml"))


def config_folders() -> list[Path]:
    """The folders configs may be read from by path, resolved (set by the command; without it, the
    starting config's folder and the shipped configs/)."""
    listed = os.environ.get(CONFIG_DIRS_ENV)
    if listed:
        return [Path(p) for p in listed.split(os.pathsep)]
    return [config_path().resolve().parent, SHIPPED_CONFIGS.resolve()]


def read_config(text: str | Path, folders: list[Path]) -> dict[str, Any]:
    """The config file at path `text` as data, read only if it lies in one of `folders` once
    symlinks and '..' are resolved, is a .yaml or .yml file and parses as a config. ConfigError
    otherwise, saying why in general terms: the person asking may not be allowed to read the file,
    so nothing of it is shown (see config_data)."""
    path = Path(str(text).strip()).expanduser()
    real = path.resolve()
    if not any(real.is_relative_to(folder) for folder in folders):
        raise ConfigError(
            f"{path}: outside the folders configs are loaded from ({', '.join(map(str, folders))}); "
            "copy it into one of them, start the dashboard with --configs FOLDER, or drop the file here"
        )
    if real.suffix.lower() not in CONFIG_SUFFIXES:
        raise ConfigError(f"{path}: not a .yaml or .yml file")
    try:  # never following a link put in place since the check, never waiting on a pipe
        fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as fh:
        if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
            raise ConfigError(f"{path}: not a file")
        raw = fh.read(MAX_CONFIG_BYTES + 1)
    return config_data(raw, str(path))


def config_data(raw: bytes, name: str, *, own: bool = False) -> dict[str, Any]:
    """A config file's contents as data, named after the file (`name`) if they name no team.

    ConfigError if they are not a config. The message names the kind of problem and the schema's
    keys at fault but no value, unknown key or line of the file, as whoever reads it may not be
    allowed to read the file; unless `own`: a file from the person who reads the message (an
    upload), whose problems are named in full, as on the command line."""

    def refuse(why: str) -> NoReturn:
        if own:
            raise ConfigError(f"{name}: {why}")
        raise ConfigError(
            f"{name}: not a config ({why}); nothing of the file is shown here: `handover-abm "
            f"validate {name}` on the command line names its problems"
        )

    if len(raw) > MAX_CONFIG_BYTES:
        refuse(f"larger than {MAX_CONFIG_BYTES:,} bytes")
    try:
        data = yaml.safe_load(raw.decode("utf-8"))
    except UnicodeDecodeError:
        refuse("not UTF-8 text")
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}: {getattr(exc, 'problem', '')}" if own and mark else ""
        refuse(f"not valid YAML{where}")
    except RecursionError:
        refuse("nested too deeply")
    if not isinstance(data, dict):
        refuse("not a YAML mapping of keys to values")
    data.setdefault("name", Path(name).stem)
    try:
        Scenario.model_validate(data)
    except ValidationError as exc:
        if own:
            raise ConfigError(validation_message(name, exc)) from None
        refuse(f"it does not match the config schema: {schema_problems(exc)}")
    except RecursionError:
        refuse("nested too deeply")
    return data


def schema_problems(exc: ValidationError) -> str:
    """A config's problems in general terms: what is wrong (missing, not allowed, a key that is not
    a config key) and where, as a key path shown only when made of the schema's own key names and
    list positions (a mapping's keys, e.g. role names, are the file's)."""
    names = schema_key_names()
    problems = []
    for err in exc.errors():
        loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
        if err["type"] == "extra_forbidden":
            what, loc = "a key that is not a config key", loc[:-1]
        else:
            what = "missing" if err["type"] == "missing" else "a value that is not allowed"
        if not loc:
            where = "at the top level"
        elif all(isinstance(p, int) or p in names for p in loc):
            where = "at '" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc)[1:] + "'"
        else:
            where = "under a key of the file"
        problems.append(f"{what} {where}")
    return "; ".join(dict.fromkeys(problems))


@functools.cache
def schema_key_names() -> frozenset[str]:
    """Every key name the config schema defines, at any depth."""
    names: set[str] = set()
    seen: set[type[BaseModel]] = set()

    def walk(annotation: Any) -> None:
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            if annotation not in seen:
                seen.add(annotation)
                names.update(annotation.model_fields)
                for field in annotation.model_fields.values():
                    walk(field.annotation)
        else:
            for arg in typing.get_args(annotation):  # list[X], X | None, dict[str, X], Annotated
                walk(arg)

    walk(Scenario)
    return frozenset(names)


def config_label(path: Path) -> str:
    """How a config file is named on the page: from the working directory when it lies below it."""
    return str(path.relative_to(Path.cwd())) if path.is_relative_to(Path.cwd()) else str(path)


def token_ok(search: str | None, token: str | None) -> bool:
    """Whether a page may show the dashboard: always when the command set no token, else only when
    its address carries it (?token=...), compared in constant time."""
    if not token:
        return True
    given = parse_qs(search or "").get("token", [""])[0]
    return hmac.compare_digest(given.encode(), token.encode())


def employer_label(organisation: str) -> str:
    """'pcn' -> 'PCN', 'mental_health_trust' -> 'mental health trust'."""
    return "PCN" if organisation == "pcn" else organisation.replace("_", " ")


def policy_label(policy: str) -> str:
    """A booking rule in words, from the glossary."""
    return POLICIES.get(policy, policy.replace("_", " "))


def seed_problem(value: int) -> str:
    """Why `value` cannot be the root seed ('' when it can): bounded as the command line's --seed."""
    try:
        check_seed(value, "Root seed")
    except ConfigError as exc:
        return str(exc)
    return ""


def replicates_problem(value: int) -> str:
    """Why `value` cannot be the number of replicates ('' when it can): at least 1, and the two
    teams' runs bounded as the command line's `compare` (limits.MAX_HELD_RUNS)."""
    if value < 1:
        return f"Replicates {value}: at least 1."
    try:
        check_held_runs(2, value)
    except ConfigError as exc:
        return f"Replicates: {exc}"
    return ""


# The employer of a post added on the page where the catalogue's `arrs` flag (ARRS roles: the PCN)
# does not say it, as in the shipped configs: a mental health practitioner's ARRS post is employed
# by the local mental health trust (NHS England ARRS guidance; roles.yaml).
EMPLOYED_ELSEWHERE = {"mental_health_practitioner": Organisation.MENTAL_HEALTH_TRUST}


def default_employer(role: str) -> str:
    """The organisation a post of `role` is employed by unless the planner says otherwise: as in
    the shipped configs, the PCN for ARRS roles (but see EMPLOYED_ELSEWHERE), else the practice."""
    if role in EMPLOYED_ELSEWHERE:
        return EMPLOYED_ELSEWHERE[role].value
    return (Organisation.PCN if load_catalogue().roles[role].arrs else Organisation.PRACTICE).value


def with_post(data: dict[str, Any], role: str) -> dict[str, Any]:
    """A copy of config data with a team entry of one post of `role` added, by its default
    employer, whole-time: the config schema's default FTE, so the post costs what a line
    `{role: ...}` in a config file costs and the planner sets its FTE from there."""
    out = copy.deepcopy(data)
    entry = {
        "role": role,
        "count": 1,
        "fte": TeamEntry.model_fields["fte"].default,
        "organisation": default_employer(role),
    }
    out["team"] = [*out.get("team", []), entry]
    return out


EDITED = "_edited"


def team_file(data: dict[str, Any], edited: bool) -> tuple[str, str]:
    """The team as a config file to save: (file name, YAML). The config's own keys with the
    planner's edits, nothing resolved, so that `handover-abm validate` and the dashboard read it as
    they read the config it started from; renamed '<name>_edited' when edited, so that the team
    reloaded is told apart from that config."""
    name = str(data.get("name", "team"))
    if edited and not name.endswith(EDITED):
        name += EDITED
    header = (
        "# A team saved from the handover-abm dashboard. `handover-abm validate FILE` checks it and\n"
        "# prints it with every default; the dashboard loads it by path or dropped on the page.\n"
    )
    text = header + yaml.safe_dump({**data, "name": name}, sort_keys=False, allow_unicode=True)
    return (re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_.") or "team") + ".yaml", text


def team_warnings(scenario: Scenario) -> list[str]:
    """What makes a valid team doubtful, in words, for the planner to see as they edit: no GP, and
    roles that need supervision with none of their own supervisors in the team. The runs go ahead
    (a team the model cannot run, e.g. with no supervisor at all, is refused by the config)."""
    catalogue = scenario.catalogue()
    roles = catalogue.roles
    gp_roles = [r for r, role in roles.items() if role.staff_group == "GP"]
    working = [e for e in scenario.team if e.count > 0 and e.fte > 0]
    out = []
    if not any(e.role in gp_roles for e in working):
        done = {catalogue.escalation_task for e in working if e.acts_as_supervisor}
        for e in working:
            done.update(roles[e.role].scope if e.tasks is None else e.tasks)
        gp_work = {t for r in gp_roles for t in roles[r].scope}
        undone = [task_label(t) for t in catalogue.task_types if t in gp_work and t not in done]
        lost = f", and no one in it can do: {'; '.join(undone)} (these tasks are dropped)" if undone else ""
        out.append(
            f"No GP in this team (no {' or '.join(map(role_label, gp_roles))} post with time): the "
            f"runs go ahead, but with no GP contacts {label('upc_gp_mean')} cannot be measured{lost}."
        )
    supervising: dict[str, int] = {}  # role -> posts that supervise
    for e in scenario.team:
        if e.acts_as_supervisor:
            supervising[e.role] = supervising.get(e.role, 0) + e.count
    needing = dict.fromkeys(
        e.role
        for e in scenario.team
        # staff employed outside general practice are supervised by their employer (supervision.py)
        if e.count > 0
        and roles[e.role].supervision.required
        and e.organisation in (Organisation.PRACTICE, Organisation.PCN)
    )
    for role in needing:
        own = [*roles[role].supervision.supervised_by, *gp_roles]  # supervision.assign_supervisors
        if any(supervising.get(r, 0) for r in own):
            continue
        others = [r for r, n in supervising.items() if n - (r == role) > 0]  # no post supervises itself
        instead = (
            f"the runs give its supervision to {' or '.join(map(role_label, others))} instead"
            if others
            else "its posts have no supervisor in the runs"
        )
        out.append(
            f"{role_label(role)} needs a supervisor who is a {' or '.join(map(role_label, own))}; "
            f"none in this team supervises, so {instead}."
        )
    return out


# ---------------------------------------------------------------- state (per browser session)

library: solara.Reactive[dict[str, dict[str, Any]]] = solara.reactive({})  # label -> config data
mine: solara.Reactive[str] = solara.reactive("")  # label of the config the team started from
team_data: solara.Reactive[dict[str, Any]] = solara.reactive({})  # the team as edited
other: solara.Reactive[str] = solara.reactive("")  # label of the comparison config
message: solara.Reactive[str] = solara.reactive("")
replicates = solara.reactive(5)
seed = solara.reactive(DEFAULT_SEED)  # the root seed of both tabs: the command line's default
# The command line's measured period, set from the config chosen: its run length less the default warm-up.
measured_days = solara.reactive(0)
warmup_days = solara.reactive(0)


def ensure_started() -> None:
    """Load the starting config and every config in the folders the dashboard may read into the
    library (once per session); files there that are not configs are left out."""
    if library.value:
        return
    start = config_path()
    found = {config_label(start): config_data(start.read_bytes(), str(start))}
    folders = config_folders()
    for folder in folders:
        for path in sorted(folder.iterdir()) if folder.is_dir() else []:
            if path.suffix.lower() in CONFIG_SUFFIXES and path.resolve() != start.resolve():
                with contextlib.suppress(ConfigError):
                    found.setdefault(config_label(path), read_config(path, folders))
    library.value = found
    choose_mine(config_label(start))
    others = [k for k in found if k != config_label(start)]
    other.value = others[0] if others else config_label(start)


def choose_mine(key: str) -> None:
    """Start editing the team of a loaded config."""
    mine.value = key
    team_data.value = copy.deepcopy(library.value[key])
    days = scenario_from_dict(team_data.value).days
    warmup_days.value = warmup_for(days)
    measured_days.value = days - warmup_days.value


def add_config(key: str, data: dict[str, Any]) -> None:
    """Add a loaded config to the library (offered as my team and as a comparison)."""
    library.value = {**library.value, key: data}
    message.value = f"Loaded {key} ({data['name']})."


def load_path(text: str) -> None:
    """Load a config file named by the planner, from the folders the dashboard may read."""
    try:
        add_config(config_label(Path(text.strip()).expanduser()), read_config(text, config_folders()))
    except ConfigError as exc:
        message.value = f"Could not load {exc}"


def load_upload(name: str, content: bytes) -> None:
    """Load an uploaded config file, its problems named in full (the planner sent it)."""
    name = Path(name).name
    try:
        add_config(f"uploaded: {name}", config_data(content, name, own=True))
    except ConfigError as exc:
        message.value = f"Could not load {exc}"


def edited(data: dict[str, Any], path: list[Any], value: Any) -> dict[str, Any]:
    """A copy of config data with one value replaced."""
    out = copy.deepcopy(data)
    node = out
    for part in path[:-1]:
        node = node.setdefault(part, {}) if isinstance(node, dict) else node[part]
    node[path[-1]] = value
    return out


def set_value(path: list[Any], value: Any) -> None:
    """Change one value of the team being edited."""
    team_data.value = edited(team_data.value, path, value)


def is_edited() -> bool:
    """Whether the planner has changed the team since it was loaded."""
    return team_data.value != library.value.get(mine.value, {})


def my_name() -> str:
    """This team's name: the config's, marked when the planner has changed it."""
    name = str(team_data.value.get("name", "team"))
    return f"{name} (edited)" if is_edited() else name


def current_scenario() -> tuple[Scenario | None, str]:
    """The edited team validated, or None and the reason it is not a valid team."""
    try:
        return scenario_from_dict({**team_data.value, "name": my_name()}, "this team"), ""
    except ConfigError as exc:
        return None, str(exc)


# ---------------------------------------------------------------- the team


@solara.component
def ConfigLoader() -> None:
    """Load any config file by path or upload; choose the team to start from."""
    path, set_path = solara.use_state("")
    solara.Markdown("#### Config files")
    keys = list(library.value)
    solara.Select("My team starts from", value=mine.value, values=keys, on_value=choose_mine)
    with solara.Row(style={"align-items": "center"}):
        solara.InputText("Config file path", value=path, on_value=set_path, continuous_update=True)
        solara.Button("Load", on_click=lambda: load_path(path), disabled=not path.strip())
    solara.FileDrop(
        label="…or drop a config file (.yaml) here",
        on_file=lambda f: load_upload(f["name"], f["data"] or b""),
        lazy=False,
    )
    if message.value:
        solara.Text(message.value, style={"font-size": "0.85em"})


@solara.component
def TeamEditor() -> None:
    """Posts and FTE per team entry as numbers, a post of any role added, the team's FTE and annual
    cost live with any warning, and the team saved as a config file."""
    data = team_data.value
    solara.Markdown("#### The team")
    for i, entry in enumerate(data.get("team", [])):
        org = employer_label(str(entry.get("organisation", "practice")))
        with solara.Row(style={"align-items": "center", "gap": "6px"}):
            solara.Text(
                f"{role_label(entry['role'])} ({org})", style={"width": "210px", "font-size": "0.9em"}
            )
            solara.InputInt(
                "posts",
                value=int(entry.get("count", 1)),
                on_value=lambda v, i=i: set_value(["team", i, "count"], max(0, int(v))),
                continuous_update=True,
                style={"max-width": "70px"},
            )
            solara.InputFloat(
                "FTE per post",
                value=float(entry.get("fte", 1.0)),
                on_value=lambda v, i=i: set_value(["team", i, "fte"], float(v)),
                continuous_update=True,
                style={"max-width": "90px"},
            )
    RoleAdder()
    scenario, problem = current_scenario()
    if scenario is None:
        solara.Error(f"Not a valid team: {problem}")
        return
    posts = sum(e.count for e in scenario.team)
    solara.Success(
        f"Team: {posts} posts, {total_fte(scenario):.1f} FTE, annual staff cost "
        f"{fmt('annual_staff_cost', annual_cost(scenario))}",
        dense=True,
        icon=False,
    )
    for note in team_warnings(scenario):
        solara.Warning(note, dense=True)
    filename, text = team_file(data, is_edited())
    solara.FileDownload(
        text, filename=filename, label="Save the team (config file)", mime_type="application/yaml"
    )


@solara.component
def RoleAdder() -> None:
    """Add a team entry of one post of any catalogue role (with_post)."""
    roles = {role_label(r): r for r in load_catalogue().roles}
    chosen, set_chosen = solara.use_state(next(iter(roles)))
    with solara.Row(style={"align-items": "center"}):
        solara.Select("Add a post of", value=chosen, values=list(roles), on_value=set_chosen)
        solara.Button("Add", on_click=lambda: team_data.set(with_post(team_data.value, roles[chosen])))


@solara.component
def Settings() -> None:
    """The settings a planner changes, each with its value shown."""
    data = team_data.value
    routing = data.get("routing", {}).get("policy", "preferred_within")
    interventions = data.get("interventions", {})
    solara.Markdown("#### How the team works")
    solara.Select(
        parameter_label("routing.policy"),
        value=policy_label(routing),
        values=[policy_label(p) for p in ROUTING_POLICIES],
        on_value=lambda v: set_value(["routing", "policy"], v.replace(" ", "_")),
    )
    solara.Checkbox(
        label=parameter_label("interventions.shared_record"),
        value=bool(interventions.get("shared_record", False)),
        on_value=lambda v: set_value(["interventions", "shared_record"], v),
    )
    solara.Checkbox(
        label=parameter_label("interventions.colocate_all"),
        value=bool(interventions.get("colocate_all", False)),
        on_value=lambda v: set_value(["interventions", "colocate_all"], v),
    )
    minutes = data.get("supervision", {}).get("protected_minutes_per_day")
    if minutes is None:
        minutes = scenario_from_dict(data).supervision.protected_minutes_per_day
    solara.InputInt(
        parameter_label("supervision.protected_minutes_per_day"),
        value=int(minutes),
        on_value=lambda v: set_value(["supervision", "protected_minutes_per_day"], int(v)),
        continuous_update=True,
    )
    solara.InputInt(
        "Registered patients",
        value=int(data.get("population", {}).get("size", 10_000)),
        on_value=lambda v: set_value(["population", "size"], int(v)),
        continuous_update=True,
    )


# ---------------------------------------------------------------- compare for a year


@dataclass(frozen=True)
class Inputs:
    """What a comparison is run from: this team's and the comparison team's config data (as
    edited), replicates, working days measured, warm-up and root seed. Results run from other
    inputs than the page's are out of date (`changed`)."""

    team: dict[str, Any]
    comparison: dict[str, Any]
    replicates: int
    measured_days: int
    warmup_days: int
    seed: int


# Each input in the words of the page's controls.
INPUT_WORDS = {
    "team": "this team",
    "comparison": "the comparison team",
    "replicates": "replicates",
    "measured_days": "working days measured",
    "warmup_days": "warm-up",
    "seed": "root seed",
}


def page_inputs() -> Inputs:
    """The inputs the page would run a comparison from now."""
    return Inputs(
        team_data.value,
        library.value.get(other.value, {}),
        replicates.value,
        measured_days.value,
        warmup_days.value,
        seed.value,
    )


def changed(old: Inputs, new: Inputs) -> list[str]:
    """What differs between two comparisons' inputs, in words (none: results run from `old` answer
    `new`)."""
    return [
        INPUT_WORDS[f.name]
        for f in dataclasses.fields(Inputs)
        if getattr(old, f.name) != getattr(new, f.name)
    ]


@dataclass(frozen=True)
class YearResult:
    """What "Run a year" produced: the inputs it ran from, the runs and their comparison table."""

    inputs: Inputs
    runs: Replicates
    table: Any

    @property
    def mine(self) -> str:
        """This team's name in the table (the comparison team is the table's baseline)."""
        return self.runs.scenarios[1].name


@task
def run_year(inputs: Inputs, scenarios: list[Scenario]) -> YearResult:
    """Both teams, replicates 1 to n of the root seed each on common random numbers, in the background."""
    total = len(scenarios) * inputs.replicates
    done = [0]
    run_year.progress = 0.0

    def tick(i: int, outcome: object) -> None:
        done[0] += 1
        run_year.progress = 100.0 * done[0] / total

    seeds = replicate_seeds(inputs.seed, inputs.replicates)
    runs = run_replicates(scenarios, seeds, inputs.warmup_days, on_done=tick)
    return YearResult(inputs, runs, runs.comparison(TABLE_METRICS))


def results_csv(result: YearResult) -> bytes:
    """The comparison table as `handover-abm compare` writes it (comparison.csv), with this team's
    verdict on each outcome (blank in the comparison team's rows)."""
    table = result.table.copy()
    words = {c.metric: c.verdict for c in calls(table, result.mine)}
    table["verdict"] = [
        words[m] if cfg == result.mine else ""
        for cfg, m in zip(table["config"], table["metric"], strict=True)
    ]
    out = io.BytesIO()
    csv_writer(table)(out)
    return out.getvalue()


def board_calls(result: YearResult) -> list[Call]:
    """This team's call on each outcome a board reads (glossary.BOARD), in the board's order."""
    by = {c.metric: c for c in calls(result.table, result.mine)}
    return [by[m] for names in BOARD.values() for m in names if m in by]


def differences_figure(rows: list[Call]) -> Figure:
    """Each outcome's paired difference (this team less the comparison team) with its 95% interval,
    one row each on its own scale around zero, named from the glossary, the verdict beside it in
    words (and colour: Okabe-Ito bluish green better, vermillion worse)."""
    colours = {BETTER: OKABE_ITO[2], WORSE: OKABE_ITO[5]}
    fig = Figure(figsize=(7.5, 0.45 * len(rows) + 0.9))
    axes = fig.subplots(len(rows), 1, squeeze=False)[:, 0]
    for ax, c in zip(axes, rows, strict=True):
        colour = colours.get(c.verdict, "0.3")
        ends = [v for v in (c.diff, c.low, c.high) if math.isfinite(v)]
        reach = 1.15 * max((abs(v) for v in ends), default=0.0) or 1.0
        if math.isfinite(c.diff):
            if math.isfinite(c.low):
                ax.plot([c.low, c.high], [0, 0], color=colour, lw=2)
            ax.plot([c.diff], [0], "o", color=colour, ms=5)
        ax.axvline(0, color="0.6", lw=0.8, ls="--")
        ax.set_xlim(-reach, reach)
        ax.set_yticks([])
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4, symmetric=True))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _, m=c.metric: fmt_diff(m, x)))
        ax.tick_params(axis="x", labelsize=7, length=2, pad=1)
        for side in ("left", "right", "top"):
            ax.spines[side].set_visible(False)
        beside = {"transform": ax.transAxes, "va": "center", "fontsize": 8}
        ax.text(-0.02, 0.5, textwrap.fill(display_name(c.metric), 36), ha="right", **beside)
        ax.text(1.02, 0.5, c.verdict, ha="left", color=colour, **beside)
    fig.suptitle(
        "Paired difference, this team less the comparison team\n(replicate by replicate on the same "
        "patients): mean and 95% interval",
        fontsize=9,
    )
    fig.subplots_adjust(left=0.4, right=0.78, top=1 - 0.65 / fig.get_figheight(), bottom=0.05, hspace=1.6)
    return fig


def year_scenarios() -> tuple[list[Scenario], str]:
    """[comparison team, this team], both on this team's patients and run length, or a reason."""
    scenario, problem = current_scenario()
    if scenario is None:
        return [], f"This team is not valid: {problem}"
    if other.value not in library.value:
        return [], "Choose a comparison team."
    theirs = {**library.value[other.value]}
    theirs["population"] = scenario.population.model_dump(mode="json")  # the same patients
    days = warmup_days.value + measured_days.value
    try:
        return load_configs([theirs, scenario], days=days), ""
    except ConfigError as exc:
        return [], f"The comparison team is not valid here: {exc}"


@solara.component
def VerdictTable(result: YearResult) -> None:
    """Verdict sentence, board outcomes in words and as a chart of paired differences, then every
    outcome with its interval, and the table as CSV."""
    table = result.table
    runs = result.runs
    n = len(runs.seeds)
    seeds = f"root seed {result.inputs.seed}"
    solara.Text(measured_text(runs.scenarios[0], runs.warmup_days, n, seeds), style={"font-size": "0.9em"})
    for v in verdicts(table):
        solara.Markdown(f"**{v.sentence()}**")
        lines = ["| Outcome | verdict |", "|:---|:---|"]
        for group, (word, _) in v.groups.items():
            note = v.group_note(group)
            lines.append(f"| {group.capitalize()} | {word}{f': {note}' if note else ''} |")
        solara.Markdown("\n".join(lines))
    figure = solara.use_memo(lambda: differences_figure(board_calls(result)), [id(result)])
    solara.FigureMatplotlib(figure, format="png", dependencies=[id(result)])
    base, mine_ = (s.name for s in runs.scenarios)
    by = table.set_index(["config", "metric"])
    rows = [
        f"| Outcome | {base} | {mine_} | difference [95% interval] | verdict |",
        "|:---|---:|---:|---:|:---|",
    ]
    for c in calls(table, mine_, TABLE_METRICS):
        a = by.loc[(base, c.metric)]
        b = by.loc[(mine_, c.metric)]
        word = f"**{c.verdict}**" if c.verdict in (BETTER, WORSE) else c.verdict
        rows.append(
            f"| {display_name(c.metric)} | {interval(c.metric, a['mean'], a['ci_low'], a['ci_high'])} "
            f"| {interval(c.metric, b['mean'], b['ci_low'], b['ci_high'])} "
            f"| {interval_diff(c.metric, c.diff, c.low, c.high)} | {word} |"
        )
    solara.Markdown(
        f"Mean [95% interval] over {n} replicates; difference: this team less the comparison team, "
        "replicate by replicate on the same patients (an interval that spans zero is no detectable "
        f"difference). Intervals: {INTERVAL_METHOD}.\n\n" + "\n".join(rows),
        style={"font-size": "0.9em"},
    )
    days = runs.scenarios[0].days
    for note in keep_up_notes(table) + warnings_for(n, days, runs.warmup_days):
        solara.Warning(note, dense=True)
    solara.FileDownload(
        solara.use_memo(lambda: results_csv(result), [id(result)]),
        filename="comparison.csv",
        label="Download the table (CSV)",
        mime_type="text/csv",
    )


@solara.component
def TeamsSideBySide(scenarios: list[Scenario]) -> None:
    """The two teams' posts per role, FTE and annual cost, side by side."""
    theirs, ours = scenarios
    roles = list(dict.fromkeys(e.role for s in (ours, theirs) for e in s.team))

    def posts(s: Scenario, role: str) -> str:
        n = sum(e.count for e in s.team if e.role == role)
        fte = sum(e.count * e.fte for e in s.team if e.role == role)
        return f"{n} ({fte:.1f} FTE)" if n else "–"

    rows = [f"| Posts (FTE) | {ours.name} | {theirs.name} |", "|:---|---:|---:|"]
    rows += [f"| {role_label(r)} | {posts(ours, r)} | {posts(theirs, r)} |" for r in roles]
    rows.append(
        f"| **Team** | **{total_fte(ours):.1f} FTE, {fmt('annual_staff_cost', annual_cost(ours))}** "
        f"| **{total_fte(theirs):.1f} FTE, {fmt('annual_staff_cost', annual_cost(theirs))}** |"
    )
    solara.Markdown("\n".join(rows), style={"font-size": "0.9em"})


@solara.component
def CompareYear() -> None:
    """Choose a comparison team, run a year with replicates, read the verdict."""
    keys = list(library.value)
    solara.Markdown(
        "Runs **this team** and a **comparison team** (any config loaded on the left, your own "
        "included) on the same patients for the config's run length after a warm-up, as "
        "`handover-abm compare` does, several times over, and says which is better on each outcome "
        "and whether each team keeps up with demand. The comparison team keeps its own posts and "
        "settings but uses this team's population."
    )
    solara.Select("Comparison team (config file)", value=other.value, values=keys, on_value=other.set)
    with solara.Row():
        solara.InputInt("Replicates", value=replicates.value, on_value=replicates.set, continuous_update=True)
        solara.InputInt(
            "Working days measured",
            value=measured_days.value,
            on_value=measured_days.set,
            continuous_update=True,
        )
        solara.InputInt(
            "Warm-up (working days, not counted)",
            value=warmup_days.value,
            on_value=warmup_days.set,
            continuous_update=True,
        )
    too_many = replicates_problem(replicates.value)
    if too_many:
        solara.Error(too_many)
    scenarios, problem = year_scenarios()
    if scenarios:
        TeamsSideBySide(scenarios)
        seeds = f"root seed {seed.value}"
        measured = measured_text(scenarios[1], warmup_days.value, replicates.value, seeds)
        solara.Text(f"{measured} {2 * replicates.value} runs in all.", style={"font-size": "0.9em"})
    else:
        solara.Error(problem)
    ok = (
        bool(scenarios)
        and not too_many
        and measured_days.value >= 1
        and warmup_days.value >= 0
        and not seed_problem(seed.value)
    )
    inputs = page_inputs()
    solara.Button(
        "Run a year",
        color="primary",
        disabled=not ok or run_year.pending,
        on_click=lambda: run_year(inputs, scenarios),
    )
    if run_year.pending:
        done = run_year.progress or 0.0
        solara.ProgressLinear(done)
        solara.Text(f"Running in the background: {done:.0f}% of {2 * replicates.value} runs done")
    elif run_year.error:
        solara.Error(f"The runs failed: {run_year.exception}")
    elif run_year.finished and run_year.value is not None:
        # Marked, not hidden: a planner often changes one thing to set the new answer beside the
        # old, and runs take minutes; the mark and the dimming say it is not this team's answer.
        gone = changed(run_year.value.inputs, inputs)
        if gone:
            solara.Warning(
                "Out of date: these results are for the team and settings as they were before your "
                f"last change ({', '.join(gone)} changed since they were run). Run again for this team.",
            )
        with solara.Column(style={"opacity": "0.45"} if gone else {}):
            VerdictTable(run_year.value)


# ---------------------------------------------------------------- watch a run


def _day_axis(ax: Any, calendar: Calendar, days: int) -> None:
    """Working days below, dates above."""
    xs = np.arange(0, max(days, 1) + 1)
    nums = mdates.date2num(calendar.dates[: len(xs)])
    top = ax.secondary_xaxis(
        "top", functions=(lambda d: np.interp(d, xs, nums), lambda n: np.interp(n, nums, xs))
    )
    top.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=2, maxticks=4))
    top.xaxis.set_major_formatter(mdates.DateFormatter("%-d %b %Y"))
    top.tick_params(labelsize=7)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("working day")


@solara.component
def NetworkView(model: HandoverModel, day: int) -> None:
    """Team network: colour by role, size by weeks to a free slot, handovers of the last 7 days."""
    g = nx.Graph()
    g.add_nodes_from(c.post for c in model.clinicians)
    g.add_edges_from((c.post, c.supervisor) for c in model.clinicians if c.supervisor >= 0)
    pos = nx.spring_layout(g, seed=1, k=1.2 / max(1, g.number_of_nodes()) ** 0.5)
    roles = sorted({c.role_name for c in model.clinicians})
    colour = {r: ROLE_COLOURS[i % len(ROLE_COLOURS)] for i, r in enumerate(roles)}
    fig, ax = plt.subplots(figsize=(7, 3.6), layout="constrained")
    recent = model.network.recent_handovers()
    if recent:
        top = max(recent.values())
        hot = list(recent)
        widths = [0.5 + 3 * recent[e] / top for e in hot]
        nx.draw_networkx_edges(g, pos, edgelist=hot, width=widths, edge_color=OKABE_ITO[1], ax=ax)
    sup = [(c.post, c.supervisor) for c in model.clinicians if c.supervisor >= 0]
    nx.draw_networkx_edges(g, pos, edgelist=sup, style="dashed", edge_color=OKABE_ITO[5], ax=ax)
    sizes = [60 + 240 * min(3.0, model.book.days_to_free(c.post, model.steps) / 5) for c in model.clinicians]
    nx.draw_networkx_nodes(
        g,
        pos,
        nodelist=[c.post for c in model.clinicians],
        node_size=sizes,
        node_color=[colour[c.role_name] for c in model.clinicians],
        edgecolors="black",
        linewidths=0.5,
        ax=ax,
    )
    handles = [plt.Line2D([], [], marker="o", ls="", color=colour[r], label=role_label(r)) for r in roles]
    handles += [
        plt.Line2D([], [], color=OKABE_ITO[5], ls="--", label="supervision"),
        plt.Line2D([], [], color=OKABE_ITO[1], lw=2, label="handovers, last 7 days"),
    ]
    ax.legend(handles=handles, frameon=False, fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    ax.set_title(f"Team network, working day {day} (node size: weeks until a free slot)", fontsize=10)
    ax.axis("off")
    solara.FigureMatplotlib(fig, format="png", dependencies=[day, id(model)])
    plt.close(fig)


@solara.component
def SeriesView(model: HandoverModel, day: int) -> None:
    """The daily series so far, against working days (below) and dates (above)."""
    frame = model.datacollector.model_vars
    fig, axes = plt.subplots(2, 2, figsize=(9, 5), layout="constrained")
    for ax, name in zip(axes.flat, WATCH_SERIES, strict=True):
        values = frame.get(name, [])
        ax.plot(range(1, len(values) + 1), values, color=OKABE_ITO[0])
        ax.set_title(DAILY[name][0], fontsize=9)
        ax.set_ylabel(DAILY[name][1], fontsize=8)
        ax.set_xlim(0, max(day, 5))
        _day_axis(ax, model.calendar, max(day, 5))
    solara.FigureMatplotlib(fig, format="png", dependencies=[day, id(model)])
    plt.close(fig)


@task
def advance(model: HandoverModel, days: int) -> int:
    """Step the watched run `days` working days in the background (a large team takes seconds a day)."""
    for k in range(days):
        if not model.running or model.steps >= model.config.days or not advance.is_current():
            break
        model.step()
        advance.progress = 100.0 * (k + 1) / days
    return model.steps


@dataclass(frozen=True)
class Watched:
    """The run being watched, with the team (config data) and root seed it was started from."""

    model: HandoverModel
    team: dict[str, Any]
    seed: int


@solara.component
def WatchRun() -> None:
    """Step one run of this team day by day: replicate 1 of the root seed, as on the command line."""
    watched, set_watched = solara.use_state(typing.cast(Watched | None, None))
    scenario, problem = current_scenario()
    solara.Markdown(
        "One run of this team, day by day (the same patients every time for a root seed). Press "
        "**Start** after changing the team or settings; a year with intervals is on the other tab."
    )
    busy = advance.pending
    model = watched.model if watched else None

    def start() -> None:
        rng = replicate_seeds(seed.value, 1)[0]
        set_watched(Watched(HandoverModel(scenario, rng=rng), team_data.value, seed.value))

    with solara.Row():
        solara.Button("Start", on_click=start, disabled=scenario is None or bool(seed_problem(seed.value)))
        for n, name in ((1, "Next day"), (5, "Next 5 days"), (20, "Next 20 days")):
            solara.Button(name, on_click=lambda n=n: advance(model, n), disabled=model is None or busy)
    if scenario is None:
        solara.Error(problem)
    if watched is None:
        return
    differs = {"this team": watched.team != team_data.value, "root seed": watched.seed != seed.value}
    gone = [words for words, d in differs.items() if d]
    if gone:
        solara.Warning(
            "Out of date: this run is of the team and seed as they were before your last change "
            f"({', '.join(gone)} changed since it started). Press Start to run it as it is now."
        )
    if busy:  # the model is being stepped: draw it again when the step is done
        solara.ProgressLinear(advance.progress or True)
        solara.Text("Stepping the run…")
        return
    day = model.steps
    date = model.calendar.dates[min(day, len(model.calendar.dates) - 1)]
    solara.Markdown(
        f"**{model.config.name}**: working day **{day}** of {model.config.days} ({date:%A %-d %B %Y}); "
        f"replicate 1 of root seed {watched.seed}, as on the command line"
    )
    SeriesView(model, day)
    NetworkView(model, day)
    if day:
        s = summarise(model)
        lines = ["| Outcome | so far |", "|:---|---:|"]
        lines += [f"| {display_name(m)} | {fmt(m, s[m])} |" for m in WATCH_METRICS]
        solara.Markdown("\n".join(lines))


# ---------------------------------------------------------------- page


@solara.component
def SeedControl() -> None:
    """The root seed both tabs run from, bounded as the command line's --seed."""
    with solara.Row(style={"align-items": "center"}):
        solara.InputInt(
            "Root seed",
            value=seed.value,
            on_value=seed.set,
            continuous_update=True,
            style={"max-width": "220px"},
        )
        solara.Text(
            "for both tabs: a comparison runs replicates 1 to n of it, a watched run replicate 1, as "
            f"the command line's --seed does (its default: {DEFAULT_SEED}). The same seed gives the "
            "same patients and the same results.",
            style={"font-size": "0.85em"},
        )
    problem = seed_problem(seed.value)
    if problem:
        solara.Error(problem)


@solara.component
def Page() -> None:
    """The dashboard, or only a refusal when the command set an access token and the page's
    address does not carry it (Solara's router holds the address's query string)."""
    if not token_ok(solara.use_router().search, os.environ.get(TOKEN_ENV)):
        solara.Title("handover-abm")
        solara.Error(
            "This dashboard needs the address with its access token (…/?token=…), as printed by "
            "the command that started it."
        )
        return
    Dashboard()


@solara.component
def Dashboard() -> None:
    """The dashboard: the team on the left, compare for a year or watch a run on the right."""
    ensure_started()
    solara.Title("handover-abm: plan a team")
    # The sidebar is as wide as its widest unbreakable content (Solara's drawer: min-content, at
    # least 400 px) and the page is not laid out again when it grows, so a long path loaded would
    # cover the page: keep it at 400 px, breaking long words.
    with solara.Sidebar(), solara.Column(style={"max-width": "400px", "overflow-wrap": "anywhere"}):
        ConfigLoader()
        TeamEditor()
        Settings()
    solara.Markdown("## Plan a primary care team")
    SeedControl()
    with solara.lab.Tabs():
        with solara.lab.Tab("Compare for a year"):
            CompareYear()
        with solara.lab.Tab("Watch a run"):
            WatchRun()
