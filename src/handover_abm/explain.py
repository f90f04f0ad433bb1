"""Why do two configs differ? Exact Shapley attribution of every headline metric's difference to
named groups of mechanisms, under common random numbers.

Each config is read as a *switchable state*: one value per key path, e.g. `team.paramedic.count`,
`team.paramedic.organisation`, `roles.paramedic.hourly_cost`, `roles.paramedic.scope.diagnosis.time`
or `handover.or_different_employer`. The key paths on which A and B differ are sorted into the groups of
data/mechanism_groups.yaml (first matching group wins; unmatched keys form the residual group, which
stays at B's value). For every coalition S of groups, a config takes B's values for the groups in S
and A's for the rest, and runs on the same seeds as A and B. Shapley value of group i, per replicate
and metric (k groups, v(S) the coalition's result):

    phi_i = sum over S not containing i of |S|! (k - |S| - 1)! / k! * (v(S + i) - v(S))

so that sum_i phi_i = v(all B) - v(all A) exactly. Whatever separates the coalition "all A" from A
itself (the residual keys) is reported as the residual group's contribution, so the contributions
add up to B - A in every replicate.

A role that one team lacks still needs an A-side (or B-side) value for each of its figures: it is
that team's own average (weighted by FTE, over the posts that do the task for scope figures), so
"pay switched to A" means B's extra roles paid what A's staff are paid on average, "speed switched
to A" that they work at the speed of A's staff at the same tasks, and "employer switched to A" that
they are employed as most of A's staff are. Absent team entries have no posts (count 0).

A change of head counts is split by derived keys (docs/explain.md, "Head counts"): `team.total_fte`,
the team's total FTE, to which each coalition's team is scaled (clinical capacity); for each role
that needs supervision and has posts in both teams, `roles.<role>.supervision.supervised_posts`, to
which its supervision figures are scaled (supervision needs); the entries' counts and FTE are then
the role mix at the same minutes.

Coalitions that give the same config (e.g. every coalition keeping A's team mix, in which B's extra
roles have no posts, so their figures do not matter) run once: a group with no differing keys
contributes exactly 0 and needs no runs.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from types import UnionType
from typing import Any, Union, get_args, get_origin

import numpy as np
import pandas as pd
from pydantic import BaseModel

from handover_abm.backends import Backend, open_backend
from handover_abm.budget import scaled_to
from handover_abm.catalogue import load_catalogue
from handover_abm.config import (
    ConfigError,
    EpisodeOverride,
    RoleOverride,
    RoleSupervisionOverride,
    Scenario,
    TeamEntry,
    load_scenario,
    read_yaml,
    scenario_from_dict,
)
from handover_abm.dispatch import dispatch
from handover_abm.errors import RunsFailed
from handover_abm.glossary import MECHANISM_GROUPS, RESIDUAL_GROUP, group_label
from handover_abm.glossary import label as metric_label
from handover_abm.limits import MAX_RUNS, check_count
from handover_abm.metrics import EXTRA, HEADLINE, warmup_for
from handover_abm.posterior import Replicate, with_draw
from handover_abm.results import Writer, csv_writer, manifest
from handover_abm.simulate import simulate
from handover_abm.stats import mean_ci, posterior_interval
from handover_abm.streams import replicate_seeds

GROUPS_FILE = "mechanism_groups.yaml"
METHOD = (
    "exact Shapley values over every coalition of the mechanism groups on which A and B differ, "
    "computed per replicate on common random numbers (each coalition runs on the same seeds); "
    "intervals: 95% t-interval of the paired per-replicate contributions"
)
MAX_GROUPS = 16  # 2^16 coalitions: beyond that exact Shapley values are out of reach
# Derived keys that split a change of head counts (docs/explain.md, "Head counts"): the team's total
# FTE (its clinical minutes), to which every coalition's team is scaled, and, for each role that
# needs supervision and has posts in both teams, its number of posts, to which that role's
# supervision figures are scaled so that the role asks for that many posts' supervision in all.
TEAM_FTE = "team.total_fte"
SUPERVISED_POSTS = "supervised_posts"  # roles.<role>.supervision.supervised_posts
# Teams whose total FTE differ by no more than this have the same capacity: nothing is scaled and
# the difference stays in the role mix (assumption, range 0.001-0.1 FTE: under 4 clinical minutes a
# day, far below one session of 0.1 FTE; the shipped configs' totals differ by up to 0.0015 FTE).
FTE_TOLERANCE = 0.01
_UNSWITCHED = ("name", "description", "team", "roles", "episodes")  # labels, parts read entry by entry


@dataclass(frozen=True)
class Group:
    """A named group of mechanisms: the config key patterns it switches."""

    name: str
    patterns: tuple[str, ...]
    text: str | None = None  # a label given in a --groups file for a group the glossary lacks

    @property
    def label(self) -> str:
        """Human label: the glossary's, else the one the groups file gives."""
        return self.text or group_label(self.name)

    def matches(self, path: str) -> bool:
        """Whether a dotted key path falls under one of this group's patterns."""
        return any(_regex(p).fullmatch(path) for p in self.patterns)


@cache
def _regex(pattern: str) -> re.Pattern[str]:
    """`*` is one key; a trailing `.*` is every key below."""
    tail = pattern.endswith(".*")
    body = pattern[:-2] if tail else pattern
    text = r"[^.]+".join(re.escape(part) for part in body.split("*"))
    return re.compile(text + (r"\..+" if tail else ""))


def load_groups(path: str | Path | None = None) -> list[Group]:
    """The mechanism groups, in file order (default: the packaged data/mechanism_groups.yaml)."""
    if path is None:
        source = resources.files("handover_abm") / "data" / GROUPS_FILE
        data = read_yaml(Path(str(source)), "mechanism groups file")
        where = f"handover_abm/data/{GROUPS_FILE}"
    else:
        data, where = read_yaml(Path(path), "mechanism groups file"), str(path)
    groups = data.get("groups") if isinstance(data, dict) else None
    if not isinstance(groups, dict) or not groups:
        raise ConfigError(f"{where}: expected a mapping 'groups: {{name: {{keys: [key.path, ...]}}}}'")
    out = []
    for name, body in groups.items():
        keys = body.get("keys") if isinstance(body, dict) else None
        if not isinstance(keys, list) or not keys or not all(isinstance(k, str) and k for k in keys):
            raise ConfigError(f"{where}: key 'groups.{name}.keys': expected a list of key paths")
        text = body.get("label")
        if name == RESIDUAL_GROUP or (name not in MECHANISM_GROUPS and not isinstance(text, str)):
            raise ConfigError(
                f"{where}: key 'groups.{name}': no human label for this group; give it a 'label: ...' "
                f"or use a group named in handover_abm/glossary.py ({', '.join(MECHANISM_GROUPS)}), "
                f"except {RESIDUAL_GROUP!r}"
            )
        out.append(Group(str(name), tuple(keys), text if isinstance(text, str) else None))
    return out


# ---------------------------------------------------------------- switchable state


def _entry_keys(s: Scenario) -> list[str]:
    """A name per team entry: its id, else its role (numbered when a role repeats without ids)."""
    seen: Counter[str] = Counter()
    keys = []
    for e in s.team:
        base = e.id or e.role
        seen[base] += 1
        keys.append(base if seen[base] == 1 else f"{base}_{seen[base]}")
    return keys


def _entries(s: Scenario) -> dict[str, dict[str, Any]]:
    return {k: e.model_dump(mode="json") for k, e in zip(_entry_keys(s), s.team, strict=True)}


ENTRY_FIELDS = tuple(f for f in TeamEntry.model_fields if f not in ("role", "id"))


def _modal(s: Scenario, field_name: str) -> Any:
    """The value of a team-entry field that holds for most of a team's FTE (first on a tie)."""
    weight: dict[str, float] = {}
    values: dict[str, Any] = {}
    for e in s.team:
        v = e.model_dump(mode="json")[field_name]
        key = json.dumps(v, sort_keys=True)
        weight[key] = weight.get(key, 0.0) + e.count * e.fte
        values.setdefault(key, v)
    return values[max(weight, key=lambda k: weight[k])]


def _team_state(s: Scenario, other: Scenario) -> dict[str, Any]:
    """team.<entry>.<field> for the entries of both teams; an entry `s` lacks has no posts, the other
    team's FTE per post, and the value of every other field that most of `s`'s FTE has."""
    mine, theirs = _entries(s), _entries(other)
    state: dict[str, Any] = {}
    for key in dict.fromkeys([*mine, *theirs]):
        entry = mine.get(key)
        for f in ENTRY_FIELDS:
            if entry is not None:
                value = entry[f]
            elif f == "count":
                value = 0
            elif f == "fte":
                value = theirs[key][f]
            else:
                value = _modal(s, f)
            state[f"team.{key}.{f}"] = value
    return state


def _leaf_paths(model: type[BaseModel], role: str, prefix: str) -> list[str]:
    """Every overridable leaf of a role (RoleOverride schema; scope leaves per task in its scope)."""
    paths = []
    for name, info in model.model_fields.items():
        ann = info.annotation
        union = get_origin(ann) in (Union, UnionType)
        args = [a for a in (get_args(ann) if union else (ann,)) if a is not type(None)]
        sub = next((a for a in args if isinstance(a, type) and issubclass(a, BaseModel)), None)
        mapping = next((get_args(a)[1] for a in args if get_origin(a) is dict), None)
        if sub is not None:
            paths += _leaf_paths(sub, role, f"{prefix}{name}.")
        elif isinstance(mapping, type) and issubclass(mapping, BaseModel):
            for task in load_catalogue().roles[role].scope:
                paths += _leaf_paths(mapping, role, f"{prefix}{name}.{task}.")
        else:
            paths.append(f"{prefix}{name}")
    return paths


def _dig(data: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def _roles_state(s: Scenario, roles: Sequence[str]) -> dict[str, Any]:
    """roles.<role>.<leaf> as `s` uses them; for a role `s` has no posts of, the FTE-weighted mean
    of `s`'s posts that have that figure (None when none has it, or it is not a number)."""
    catalogue = {k: v.model_dump(mode="json") for k, v in s.catalogue().roles.items()}
    present = {e.role for e in s.team if e.count > 0}
    state: dict[str, Any] = {}
    for role in roles:
        for leaf in _leaf_paths(RoleOverride, role, ""):
            if role in present:
                state[f"roles.{role}.{leaf}"] = _dig(catalogue[role], leaf)
                continue
            pairs = [(e.count * e.fte, _dig(catalogue[e.role], leaf)) for e in s.team if e.count * e.fte > 0]
            pairs = [(w, v) for w, v in pairs if isinstance(v, int | float) and not isinstance(v, bool)]
            total = sum(w for w, _ in pairs)
            state[f"roles.{role}.{leaf}"] = sum(w * v for w, v in pairs) / total if total else None
    return state


def _case_mix_state(s: Scenario) -> dict[str, Any]:
    """episodes.<type>.<weight> as `s` uses them: the catalogue's, or the config's own."""
    return {
        f"episodes.{name}.{field}": getattr(ep, field)
        for name, ep in s.catalogue().episode_types.items()
        for field in EpisodeOverride.model_fields
    }


def _size_state(s: Scenario, shared: set[str]) -> dict[str, Any]:
    """The derived head-count keys of `s`: its total FTE, and the posts of each role in `shared`
    (roles both teams have posts of) that needs supervision."""
    state: dict[str, Any] = {TEAM_FTE: sum(e.count * e.fte for e in s.team)}
    roles = s.catalogue().roles
    for role in sorted(shared):
        if roles[role].supervision.required:
            posts = sum(e.count for e in s.team if e.role == role)
            state[f"roles.{role}.supervision.{SUPERVISED_POSTS}"] = posts
    return state


def _flat(data: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(data, dict) and data:
        out: dict[str, Any] = {}
        for k, v in data.items():
            out.update(_flat(v, f"{prefix}{k}."))
        return out
    return {prefix[:-1]: data}


def _rest_state(s: Scenario) -> dict[str, Any]:
    data = {k: v for k, v in s.model_dump(mode="json").items() if k not in _UNSWITCHED}
    return _flat(data)


@dataclass
class Pair:
    """Two configs read as switchable states over the same key paths, and their differences."""

    a: Scenario
    b: Scenario
    state_a: dict[str, Any]
    state_b: dict[str, Any]
    groups: list[Group]
    keys: dict[str, list[str]]  # group -> differing key paths (only groups that have some)
    residual: list[str]

    @property
    def switched(self) -> list[str]:
        """Groups on which A and B differ, in file order (the Shapley players)."""
        return [g.name for g in self.groups if g.name in self.keys]

    def config(self, to_b: set[str]) -> dict[str, Any]:
        """Config data with the groups in `to_b` (and the residual keys) at B's values, the other
        groups at A's; team entries without posts and role figures equal to the catalogue's dropped."""
        chosen = dict(self.state_a)
        for name in (*to_b, RESIDUAL_GROUP):
            for path in self.keys.get(name, self.residual if name == RESIDUAL_GROUP else []):
                chosen[path] = self.state_b[path]
        data = self.b.model_dump(mode="json")
        for path, value in chosen.items():
            if not path.startswith(("team.", "roles.", "episodes.")):
                _put(data, path, value)
        data["name"] = f"{self.a.name}->{self.b.name}"
        data["description"] = "explain coalition: " + (", ".join(sorted(to_b)) or "none") + " from B"
        from_b = any(
            self.state_b[p] != self.state_a[p] and chosen[p] == self.state_b[p] for p in _counts(self)
        )
        order = (
            [*_entry_keys(self.b), *_entry_keys(self.a)]
            if from_b
            else [*_entry_keys(self.a), *_entry_keys(self.b)]
        )
        roles_of = {
            **{k: e.role for k, e in zip(_entry_keys(self.b), self.b.team, strict=True)},
            **{k: e.role for k, e in zip(_entry_keys(self.a), self.a.team, strict=True)},
        }
        ids = {k: e.id for s in (self.b, self.a) for k, e in zip(_entry_keys(s), s.team, strict=True)}
        team = []
        for key in dict.fromkeys(order):
            entry = {"role": roles_of[key], "id": ids[key]}
            entry.update({f: chosen[f"team.{key}.{f}"] for f in ENTRY_FIELDS})
            if entry["count"] > 0:
                team.append(entry)
        total = sum(e["count"] * e["fte"] for e in team)
        if abs(total - chosen[TEAM_FTE]) > FTE_TOLERANCE:  # the other side's capacity: scaled as --equalise
            mix = scenario_from_dict({**data, "team": team, "roles": {}, "episodes": {}})
            team = scaled_to(mix, chosen[TEAM_FTE] / total).model_dump(mode="json")["team"]
        data["team"] = team
        data["roles"] = _overrides(_needs_per_post(chosen, team), {e["role"] for e in team})
        data["episodes"] = _case_mix_overrides(chosen)
        return data


def _needs_per_post(chosen: dict[str, Any], team: list[dict[str, Any]]) -> dict[str, Any]:
    """`chosen` with each role's supervision figures scaled by its chosen supervised posts over its
    posts in `team`, so that the role asks for the supervision of the chosen number of posts in all
    (a probability capped at its bound)."""
    posts: Counter[str] = Counter()
    for e in team:
        posts[e["role"]] += e["count"]
    out = dict(chosen)
    for path, wanted in chosen.items():
        role = path.split(".")[1] if path.endswith(f".{SUPERVISED_POSTS}") else ""
        if not role or posts[role] in (0, wanted):
            continue
        for name, info in RoleSupervisionOverride.model_fields.items():
            key = f"roles.{role}.supervision.{name}"
            bound = next((m.le for m in info.metadata if hasattr(m, "le")), math.inf)
            if isinstance(out.get(key), int | float):
                out[key] = min(bound, out[key] * wanted / posts[role])
    return out


def _counts(pair: Pair) -> list[str]:
    return [p for p in pair.state_a if p.startswith("team.") and p.endswith(".count")]


def _put(data: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    node = data
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def _overrides(chosen: dict[str, Any], roles: set[str]) -> dict[str, Any]:
    """roles.<role> overrides of the figures that differ from the shipped catalogue."""
    shipped = {k: v.model_dump(mode="json") for k, v in load_catalogue().roles.items()}
    out: dict[str, Any] = {}
    for path, value in chosen.items():
        if not path.startswith("roles.") or value is None or path.endswith(f".{SUPERVISED_POSTS}"):
            continue
        _, role, leaf = path.split(".", 2)
        if role in roles and value != _dig(shipped[role], leaf):
            _put(out, f"{role}.{leaf}", value)
    return out


def _case_mix_overrides(chosen: dict[str, Any]) -> dict[str, Any]:
    """episodes.<type> overrides of the weights that differ from the shipped catalogue."""
    shipped = load_catalogue().episode_types
    out: dict[str, Any] = {}
    for path, value in chosen.items():
        if path.startswith("episodes."):
            _, name, field = path.split(".")
            if value != getattr(shipped[name], field):
                _put(out, f"{name}.{field}", value)
    return out


def pair_of(a: Scenario, b: Scenario, groups: Sequence[Group]) -> Pair:
    """Read two configs as switchable states and sort the keys where they differ into groups."""
    role_a = dict(zip(_entry_keys(a), (e.role for e in a.team), strict=True))
    for key, e in zip(_entry_keys(b), b.team, strict=True):
        if key in role_a and role_a[key] != e.role:
            raise ConfigError(
                f"team entry {key!r} is a {role_a[key]} in {a.name} and a {e.role} in {b.name}: explain "
                f"matches team entries by id (else role); give the two entries different ids"
            )
    roles = list(dict.fromkeys(e.role for s in (a, b) for e in s.team if e.count > 0))
    shared = {e.role for e in a.team if e.count} & {e.role for e in b.team if e.count}
    state_a = {**_rest_state(a), **_case_mix_state(a), **_team_state(a, b), **_roles_state(a, roles)}
    state_b = {**_rest_state(b), **_case_mix_state(b), **_team_state(b, a), **_roles_state(b, roles)}
    state_a.update(_size_state(a, shared))
    state_b.update(_size_state(b, shared))
    if abs(state_a[TEAM_FTE] - state_b[TEAM_FTE]) <= FTE_TOLERANCE:  # the same capacity
        state_b[TEAM_FTE] = state_a[TEAM_FTE]
    for path in set(state_a) | set(state_b):  # a key only one side has (None: no value there)
        state_a.setdefault(path, None)
        state_b.setdefault(path, None)
    has_a = {e.role for e in a.team if e.count > 0}
    has_b = {e.role for e in b.team if e.count > 0}
    for path in list(state_a):  # a figure neither side can give a value for is not a difference
        # (None is a value for a role a config has posts of: a figure left to the catalogue's
        # derivation, such as an hourly cost derived from the salary)
        role = path.split(".")[1] if path.startswith("roles.") else None
        if state_a[path] is None and role is not None and role not in has_a:
            state_a[path] = state_b[path]
        if state_b[path] is None and role is not None and role not in has_b:
            state_b[path] = state_a[path]
    keys: dict[str, list[str]] = {}
    residual = []
    for path in sorted(state_a):
        if state_a[path] == state_b[path]:
            continue
        group = next((g for g in groups if g.matches(path)), None)
        if group is None:
            residual.append(path)
        else:
            keys.setdefault(group.name, []).append(path)
    if not keys and not residual:
        raise ConfigError(
            f"configs {a.name!r} and {b.name!r} do not differ in any value the model uses (names and "
            f"descriptions aside): there is no difference to explain; give two configs that differ"
        )
    if len(keys) > MAX_GROUPS:
        raise ConfigError(
            f"the configs differ in {len(keys)} mechanism groups; exact Shapley values need 2^k "
            f"coalitions, at most {MAX_GROUPS} groups: merge groups in a --groups file"
        )
    return Pair(a, b, state_a, state_b, list(groups), keys, residual)


# ---------------------------------------------------------------- running


def _check_size(pair: Pair, replicates: int) -> None:
    """Refuse an explanation of more than MAX_RUNS runs (2^groups coalitions x replicates)."""
    coalitions = 1 << len(pair.switched)
    what = f"{coalitions:,} coalitions x {replicates:,} replicates"
    check_count(
        what, coalitions * replicates, MAX_RUNS, "use fewer replicates, or fewer groups in a --groups file"
    )


def check_explain(a: Scenario, b: Scenario, groups: Sequence[Group], replicates: int) -> None:
    """Everything `explain` refuses about a pair, checked before any worker starts: configs that do
    not differ, too many groups, too many runs (ConfigError)."""
    _check_size(pair_of(a, b, list(groups)), replicates)


def _digest(data: dict[str, Any]) -> str:
    body = {k: v for k, v in data.items() if k not in ("name", "description")}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


def run_point(data: dict[str, Any], seed: int, warmup_days: int) -> dict[str, float]:
    """One run of one coalition's config: its headline and extra metrics (top level: picklable)."""
    out = simulate(Scenario.model_validate(data), seed, warmup_days=warmup_days)
    return {k: out.summary[k] for k in (*HEADLINE, *EXTRA)}


def _execute_job(
    digest: str, replicate: int, data: dict[str, Any], seed: int, warmup: int
) -> tuple[str, int, dict[str, float]]:
    """A dispatched run: its config digest and replicate travel with its metrics."""
    return digest, replicate, run_point(data, seed, warmup)


def _failed(job: tuple[Any, ...], error: str) -> tuple[str, int, str]:
    """A run the backend lost (after retries): recorded with its error, reported after dispatch."""
    return job[0], job[1], error


def shapley(values: np.ndarray) -> np.ndarray:
    """Exact Shapley values from v over all 2^k coalitions (axis 0, bit i = player i in S);
    returns shape (k, ...) summing to v[all] - v[none]."""
    n = values.shape[0]
    k = n.bit_length() - 1
    if 1 << k != n:
        raise ValueError("values must have 2^k rows")
    phi = np.zeros((k, *values.shape[1:]))
    for i in range(k):
        bit = 1 << i
        for mask in range(n):
            if mask & bit:
                continue
            s = mask.bit_count()
            w = math.factorial(s) * math.factorial(k - s - 1) / math.factorial(k)
            phi[i] += w * (values[mask | bit] - values[mask])
    return phi


@dataclass
class Explanation:
    """The attribution of B - A to mechanism groups, per replicate and summarised."""

    a: Scenario
    b: Scenario
    seeds: list[int]
    warmup_days: int
    groups: list[Group]
    keys: dict[str, list[str]]
    residual: list[str]
    replicates: pd.DataFrame  # metric, group, replicate, seed, contribution
    totals: pd.DataFrame  # metric, replicate, seed, a, b, total
    runs: int
    configs: int
    wall_s: float
    backend: str
    coalitions: pd.DataFrame = field(default_factory=pd.DataFrame)
    summary: pd.DataFrame = field(default_factory=pd.DataFrame)  # A's and B's own runs
    draws: list[int] = field(default_factory=list)  # posterior draw of each replicate (--posterior)

    def _interval(self, values: np.ndarray) -> tuple[float, float, float]:
        """Mean and 95% interval over replicates; with posterior draws the interval also carries
        parameter uncertainty (between-draw variance, stats.posterior_interval)."""
        if not self.draws:
            return mean_ci(values)
        return posterior_interval(values, self.draws)[:3]

    def to_frame(self) -> pd.DataFrame:
        """Tidy: one row per metric and group, mean contribution with its 95% interval over the
        paired (same-seed) replicates, beside the total difference and A's and B's means."""
        rows = []
        totals = self.totals.set_index("metric")
        labels = {g.name: g.label for g in self.groups} | {RESIDUAL_GROUP: group_label(RESIDUAL_GROUP)}
        names = list(labels)
        for metric in HEADLINE:
            t = totals.loc[[metric]]
            tot = self._interval(t["total"].to_numpy())
            part = self.replicates[self.replicates["metric"] == metric]
            for name in names:
                values = part[part["group"] == name]["contribution"].to_numpy()
                mean, lo, hi = self._interval(values) if len(values) else (0.0, 0.0, 0.0)
                rows.append(
                    {
                        "metric": metric,
                        "label": metric_label(metric),
                        "group": name,
                        "group_label": labels[name],
                        "keys": len(self.residual if name == RESIDUAL_GROUP else self.keys.get(name, [])),
                        "contribution": mean,
                        "lo": lo,
                        "hi": hi,
                        "total": tot[0],
                        "total_lo": tot[1],
                        "total_hi": tot[2],
                        "a_mean": float(t["a"].mean()),
                        "b_mean": float(t["b"].mean()),
                        "a": self.a.name,
                        "b": self.b.name,
                    }
                )
        return pd.DataFrame(rows)


def _scenario(x: Scenario | str | Path, days: int | None) -> Scenario:
    if isinstance(x, Scenario):
        return x if days is None else x.model_copy(update={"days": days})
    return load_scenario(x, (), days)


def explain(
    a: Scenario | str | Path,
    b: Scenario | str | Path,
    *,
    days: int | None = None,
    replicates: int = 3,
    seed: int = 0,
    seeds: Sequence[int] | None = None,
    warmup_days: int | None = None,
    groups: Sequence[Group] | str | Path | None = None,
    backend: Backend | str = "processes",
    workers: int | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    posterior: Sequence[Replicate] | None = None,
) -> Explanation:
    """Attribute B - A in every headline metric to mechanism groups (exact Shapley values under
    common random numbers); runs go through a backend's Executor (processes, serial or dask).

    With `posterior` (posterior.posterior_replicates), replicate r runs every coalition with draw
    r's parameter values and seed: contributions then carry parameter uncertainty.
    """
    if isinstance(backend, str):
        with open_backend(backend, workers) as opened:
            return explain(
                a,
                b,
                days=days,
                replicates=replicates,
                seed=seed,
                seeds=seeds,
                warmup_days=warmup_days,
                groups=groups,
                backend=opened,
                on_progress=on_progress,
                posterior=posterior,
            )
    start = time.perf_counter()
    sa, sb = _scenario(a, days), _scenario(b, days)
    group_list = (
        list(groups) if isinstance(groups, Sequence) and not isinstance(groups, str) else load_groups(groups)
    )
    pair = pair_of(sa, sb, group_list)
    if posterior:
        seed_list = [r.seed for r in posterior]
        _check_drawn_keys(pair, posterior[0].values)
    else:
        seed_list = list(seeds) if seeds is not None else replicate_seeds(seed, replicates)
    warm = warmup_for(min(sa.days, sb.days), warmup_days)
    if warm >= min(sa.days, sb.days):
        raise ConfigError(
            f"warm-up of {warm} working days leaves nothing to measure in a run of "
            f"{min(sa.days, sb.days)} working days; use a shorter warm-up or more days"
        )
    _check_size(pair, len(seed_list))
    players = pair.switched
    k = len(players)
    configs: dict[str, dict[str, Any]] = {}
    mask_digest = []
    for mask in range(1 << k):
        from_b = [p for i, p in enumerate(players) if mask >> i & 1]
        where = f"explain coalition with {', '.join(from_b) or 'no group'} from {sb.name}"
        data = scenario_from_dict(pair.config(set(from_b)), where).model_dump(mode="json")
        mask_digest.append(_digest(data))
        configs.setdefault(mask_digest[-1], data)
    ends = {}
    for side, s in (("A", sa), ("B", sb)):
        ends[side] = _digest(s.model_dump(mode="json"))
        configs.setdefault(ends[side], s.model_dump(mode="json"))
    applied: dict[tuple[str, int], dict[str, Any]] = {}  # (config, draw) -> config with the draw set
    if posterior:
        for d, data in configs.items():
            for r in posterior:
                if (d, r.draw) not in applied:
                    applied[(d, r.draw)] = with_draw(data, r.values, "--posterior")
    jobs = [
        (d, r, applied[(d, posterior[r].draw)] if posterior else data, sd, warm)
        for d, data in configs.items()
        for r, sd in enumerate(seed_list)
    ]
    results: dict[tuple[str, int], dict[str, float]] = {}
    lost: list[str] = []

    def record(result: tuple[str, int, dict[str, float] | str]) -> None:
        if isinstance(result[2], str):
            lost.append(result[2])
        else:
            results[(result[0], result[1])] = result[2]
        if on_progress:
            on_progress(len(results) + len(lost), len(jobs))

    dispatch(backend, _execute_job, jobs, record, _failed)
    if lost:
        first = " ".join(str(lost[0]).split())[:300]
        raise RunsFailed(
            f"{len(lost)} of {len(jobs)} explain runs failed, so no contribution can be computed and "
            f"nothing was written; the first: {first}. Rerun with --workers 1 to see it in one process"
        )
    metrics = list(HEADLINE)
    reps = range(len(seed_list))
    v = np.array([[[results[(d, r)][m] for m in metrics] for r in reps] for d in mask_digest], dtype=float)
    va = np.array([[results[(ends["A"], r)][m] for m in metrics] for r in reps], dtype=float)
    vb = np.array([[results[(ends["B"], r)][m] for m in metrics] for r in reps], dtype=float)
    phi = shapley(v)
    residual = (v[0] - va) + (vb - v[-1])
    rows = []
    for i, name in enumerate([*players, RESIDUAL_GROUP]):
        contrib = phi[i] if i < k else residual
        for r in reps:
            for j, m in enumerate(metrics):
                rows.append(
                    {
                        "metric": m,
                        "group": name,
                        "replicate": r,
                        "seed": seed_list[r],
                        "contribution": float(contrib[r, j]),
                    }
                )
    totals = [
        {
            "metric": m,
            "replicate": r,
            "seed": seed_list[r],
            "a": va[r, j],
            "b": vb[r, j],
            "total": vb[r, j] - va[r, j],
        }
        for r in reps
        for j, m in enumerate(metrics)
    ]
    coalitions = [
        {
            "coalition": mask,
            "from_b": ", ".join(p for i, p in enumerate(players) if mask >> i & 1),
            "replicate": r,
            "seed": seed_list[r],
            **results[(d, r)],
        }
        for mask, d in enumerate(mask_digest)
        for r in reps
    ]
    summary = [
        {"config": s.name, "replicate": r, "seed": seed_list[r], **results[(ends[side], r)]}
        for side, s in (("A", sa), ("B", sb))
        for r in reps
    ]
    return Explanation(
        a=sa,
        b=sb,
        seeds=seed_list,
        warmup_days=warm,
        groups=group_list,
        keys=pair.keys,
        residual=pair.residual,
        replicates=pd.DataFrame(rows),
        totals=pd.DataFrame(totals),
        runs=len(jobs),
        configs=len(configs),
        wall_s=time.perf_counter() - start,
        backend=backend.description,
        coalitions=pd.DataFrame(coalitions),
        summary=pd.DataFrame(summary),
        draws=[r.draw for r in posterior] if posterior else [],
    )


def _check_drawn_keys(pair: Pair, values: dict[str, float]) -> None:
    """Refuse a posterior whose parameters include a key on which A and B differ (or a supervision
    figure the head-count split scales): every run would set it to the draw's value, so the
    difference it makes could not be attributed."""
    switched = {key: group for group, keys in pair.keys.items() for key in keys} | dict.fromkeys(
        pair.residual, RESIDUAL_GROUP
    )
    for key, group in list(switched.items()):  # the figures a switched supervised_posts key scales
        if key.endswith(f".{SUPERVISED_POSTS}"):
            for name in RoleSupervisionOverride.model_fields:
                switched[key.replace(SUPERVISED_POSTS, name)] = group
    clash = [f"{name} ({group_label(switched[name])})" for name in values if name in switched]
    if clash:
        raise ConfigError(
            f"--posterior: the posterior draws {', '.join(clash)}, on which the two configs differ; a draw "
            f"would set it alike in both and erase that difference. Use a posterior without it, or "
            f"configs that agree on it"
        )


def explain_files(
    result: Explanation, root_seed: int, extra: dict[str, Any] | None = None
) -> tuple[dict[str, Writer], dict[str, Any]]:
    """The files of an explain folder (name -> writer): explain.csv, explain_replicates.csv,
    coalitions.csv, summary.csv (A's and B's own runs); and its manifest."""
    per_rep = result.replicates.merge(
        result.totals[["metric", "replicate", "total"]], on=["metric", "replicate"], how="left"
    )
    labels = {g.name: g.label for g in result.groups} | {RESIDUAL_GROUP: group_label(RESIDUAL_GROUP)}
    per_rep.insert(2, "group_label", per_rep["group"].map(labels))
    if result.draws:  # which posterior draw each replicate used
        per_rep.insert(
            per_rep.columns.get_loc("replicate") + 1,
            "draw",
            per_rep["replicate"].map(result.draws.__getitem__),
        )
    groups = {
        g.name: {"label": g.label, "patterns": list(g.patterns), "keys": result.keys.get(g.name, [])}
        for g in result.groups
    }
    groups[RESIDUAL_GROUP] = {"label": group_label(RESIDUAL_GROUP), "patterns": [], "keys": result.residual}
    info = {
        **(extra or {}),
        "replicates": len(result.seeds),
        "warmup_days": result.warmup_days,
        "method": METHOD,
        "groups": groups,
        "players": [g for g in (x.name for x in result.groups) if g in result.keys],
        "residual_keys": result.residual,
        "runs": result.runs,
        "distinct_configs": result.configs,
        "backend": result.backend,
    }
    files = {
        "explain.csv": csv_writer(result.to_frame()),
        "explain_replicates.csv": csv_writer(per_rep),
        "coalitions.csv": csv_writer(result.coalitions),
        "summary.csv": csv_writer(result.summary),
    }
    return files, manifest("explain", [result.a, result.b], result.seeds, root_seed, result.wall_s, info)
