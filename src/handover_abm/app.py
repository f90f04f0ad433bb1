"""The planner's dashboard (optional extra: `pip install 'handover-abm[dashboard]'`), a Solara page.

Started by `handover-abm dashboard [CONFIG]`, which serves this module with Solara; the core never
imports it. Left: the team being planned, every post count and FTE as a number with the team's
FTE and annual staff cost recomputed as they change, and the settings a planner changes (booking
rule, shared record, co-location, protected supervision time, population). Config files, the
planner's own included, are loaded by upload or by path from the folders the command allows. Two
tabs:

- "Compare for a year": runs this team and a comparison team (any loaded config, on this team's
  patients) with several replicates in the background, through the same engine as
  `handover-abm compare` (experiment.run_replicates), with the command's defaults (the config's
  run length less the default warm-up, root seed 0), with progress, then shows the verdict, any
  team that does not keep up with demand, and the table of outcomes with 95% intervals and paired
  differences (stats, verdict, glossary).
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
import functools
import hmac
import os
import stat
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import parse_qs

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import networkx as nx
import numpy as np
import solara
import yaml
from matplotlib.ticker import MaxNLocator
from pydantic import BaseModel, ValidationError
from solara.lab import task

from handover_abm.config import (
    ROUTING_POLICIES,
    ConfigError,
    Scenario,
    scenario_from_dict,
    validation_message,
)
from handover_abm.dates import Calendar
from handover_abm.experiment import DEFAULT_SEED, Replicates, load_configs, run_replicates
from handover_abm.glossary import (
    DAILY,
    POLICIES,
    display_name,
    fmt,
    interval,
    interval_diff,
    parameter_label,
    role_label,
)
from handover_abm.metrics import TABLE_METRICS, summarise, warmup_for
from handover_abm.model import HandoverModel
from handover_abm.plots import OKABE_ITO, ROLE_COLOURS
from handover_abm.serve import CONFIG_DIRS_ENV, CONFIG_ENV, SHIPPED_CONFIGS, TOKEN_ENV
from handover_abm.stats import INTERVAL_METHOD
from handover_abm.streams import replicate_seeds
from handover_abm.team import annual_cost, total_fte
from handover_abm.verdict import (
    BETTER,
    WORSE,
    calls,
    keep_up_notes,
    measured_text,
    verdicts,
    warnings_for,
)

# The command line's root seed: every restart, both teams of a comparison and `handover-abm compare`
# see the same patients; a watched run is the command's first replicate.
SEEDS = f"root seed {DEFAULT_SEED}"
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


# ---------------------------------------------------------------- state (per browser session)

library: solara.Reactive[dict[str, dict[str, Any]]] = solara.reactive({})  # label -> config data
mine: solara.Reactive[str] = solara.reactive("")  # label of the config the team started from
team_data: solara.Reactive[dict[str, Any]] = solara.reactive({})  # the team as edited
other: solara.Reactive[str] = solara.reactive("")  # label of the comparison config
message: solara.Reactive[str] = solara.reactive("")
replicates = solara.reactive(5)
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


def my_name() -> str:
    """This team's name: the config's, marked when the planner has changed it."""
    base = library.value.get(mine.value, {})
    name = str(team_data.value.get("name", "team"))
    return name if team_data.value == base else f"{name} (edited)"


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
    """Posts and FTE per team entry as numbers, with the team's FTE and annual cost live."""
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
class YearResult:
    """What "Run a year" produced: the runs and their comparison table."""

    runs: Replicates
    table: Any


@task
def run_year(scenarios: list[Scenario], reps: int, warmup: int) -> YearResult:
    """Both teams, `reps` replicates each on common random numbers, in the background."""
    total = len(scenarios) * reps
    done = [0]
    run_year.progress = 0.0

    def tick(i: int, outcome: object) -> None:
        done[0] += 1
        run_year.progress = 100.0 * done[0] / total

    runs = run_replicates(scenarios, replicate_seeds(DEFAULT_SEED, reps), warmup, on_done=tick)
    return YearResult(runs, runs.comparison(TABLE_METRICS))


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
    """Verdict sentence, board outcomes in words, then every outcome with its interval."""
    table = result.table
    runs = result.runs
    n = len(runs.seeds)
    solara.Text(measured_text(runs.scenarios[0], runs.warmup_days, n, SEEDS), style={"font-size": "0.9em"})
    for v in verdicts(table):
        solara.Markdown(f"**{v.sentence()}**")
        lines = ["| Outcome | verdict |", "|:---|:---|"]
        for group, (word, _) in v.groups.items():
            note = v.group_note(group)
            lines.append(f"| {group.capitalize()} | {word}{f': {note}' if note else ''} |")
        solara.Markdown("\n".join(lines))
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
    scenarios, problem = year_scenarios()
    if scenarios:
        TeamsSideBySide(scenarios)
        measured = measured_text(scenarios[1], warmup_days.value, replicates.value, SEEDS)
        solara.Text(f"{measured} {2 * replicates.value} runs in all.", style={"font-size": "0.9em"})
    else:
        solara.Error(problem)
    ok = bool(scenarios) and replicates.value >= 1 and measured_days.value >= 1 and warmup_days.value >= 0
    solara.Button(
        "Run a year",
        color="primary",
        disabled=not ok or run_year.pending,
        on_click=lambda: run_year(scenarios, replicates.value, warmup_days.value),
    )
    if run_year.pending:
        done = run_year.progress or 0.0
        solara.ProgressLinear(done)
        solara.Text(f"Running in the background: {done:.0f}% of {2 * replicates.value} runs done")
    elif run_year.error:
        solara.Error(f"The runs failed: {run_year.exception}")
    elif run_year.finished and run_year.value is not None:
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
    fig, ax = plt.subplots(figsize=(7, 3.6))
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
    fig.tight_layout()
    solara.FigureMatplotlib(fig, format="png", dependencies=[day, id(model)])
    plt.close(fig)


@solara.component
def SeriesView(model: HandoverModel, day: int) -> None:
    """The daily series so far, against working days (below) and dates (above)."""
    frame = model.datacollector.model_vars
    fig, axes = plt.subplots(2, 2, figsize=(9, 5))
    for ax, name in zip(axes.flat, WATCH_SERIES, strict=True):
        values = frame.get(name, [])
        ax.plot(range(1, len(values) + 1), values, color=OKABE_ITO[0])
        ax.set_title(DAILY[name][0], fontsize=9)
        ax.set_ylabel(DAILY[name][1], fontsize=8)
        ax.set_xlim(0, max(day, 5))
        _day_axis(ax, model.calendar, max(day, 5))
    fig.tight_layout()
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


@solara.component
def WatchRun() -> None:
    """Step one run of this team day by day."""
    model, set_model = solara.use_state(None)  # type: ignore[arg-type]
    scenario, problem = current_scenario()
    solara.Markdown(
        "One run of this team, day by day (the same patients every time). Press **Start** after "
        "changing the team or settings; a year with intervals is on the other tab."
    )
    busy = advance.pending
    with solara.Row():
        solara.Button(
            "Start",
            on_click=lambda: set_model(HandoverModel(scenario, rng=replicate_seeds(DEFAULT_SEED, 1)[0])),
            disabled=scenario is None,
        )
        for n, name in ((1, "Next day"), (5, "Next 5 days"), (20, "Next 20 days")):
            solara.Button(name, on_click=lambda n=n: advance(model, n), disabled=model is None or busy)
    if scenario is None:
        solara.Error(problem)
    if model is None:
        return
    if busy:  # the model is being stepped: draw it again when the step is done
        solara.ProgressLinear(advance.progress or True)
        solara.Text("Stepping the run…")
        return
    day = model.steps
    date = model.calendar.dates[min(day, len(model.calendar.dates) - 1)]
    solara.Markdown(
        f"**{model.config.name}**: working day **{day}** of {model.config.days} ({date:%A %-d %B %Y}); "
        f"replicate 1 of {SEEDS}, as on the command line"
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
    with solara.Sidebar():
        ConfigLoader()
        TeamEditor()
        Settings()
    solara.Markdown("## Plan a primary care team")
    with solara.lab.Tabs():
        with solara.lab.Tab("Compare for a year"):
            CompareYear()
        with solara.lab.Tab("Watch a run"):
            WatchRun()
