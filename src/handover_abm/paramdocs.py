"""Generate docs/parameters.md from the scenario schema and the catalogue (so docs never drift)."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from handover_abm.catalogue import EpisodeType, TaskGroup, load_catalogue
from handover_abm.config import AgeBand, Population, Scenario
from handover_abm.limits import BOUNDS
from handover_abm.team import employer_annual_cost, hourly_cost

HEADER = """# Parameters

Generated from the code by `make docs` (scripts/gen_docs.py); a test fails when this file is out
of date. Every number the model uses is here: the scenario parameters (any of them can be set in
a config file or with `--set key.path=value`), then the role catalogue and the task/episode
catalogue (package data, `src/handover_abm/data/*.yaml`). A scenario can replace a role's cost,
turnover, supervision and scope figures under `roles.<role>` (default: the catalogue's value), so
they can be swept too, e.g. `--set roles.clinical_pharmacist.salary=55000`.

"Allowed" gives each number's bounds; every number must also be finite (`.inf`, `inf` and `.nan`
are refused). The upper bounds on sizes and counts (see "Bounds on sizes and counts" below) are
checked before anything is allocated or started: they are far above any primary care network or
study of one (a run takes about 2 KiB of memory per patient) but keep a typo from asking for more
memory, time or processes than a machine has.

"Source" names the published figure a default comes from, or says plainly that it is an
assumption. Assumptions are the first candidates for sensitivity analysis. "Varied in" names the
experiment specs in experiments/ that vary the parameter (sweeps, or the Morris/Sobol analysis of
`sensitivity_assumptions`); "-" means no shipped experiment varies it yet: run
`handover-abm sensitivity` with it to see how much it matters.
"""

ROLE_SOURCES = """
Sources for the role catalogue:
- Costs, one basis: the employer's annual cost of a whole-time post is salary x (1 +
  `costs.on_cost_rate`) x (1 + `costs.overhead_rate`), and the cost per working hour is that over
  the working hours of a whole-time year (`costs.hours_per_fte_year`, 1,574 as PSSRU Unit Costs
  2024 count them), so a team's annual cost (FTE x hours x hourly cost) is the same figure. With
  on-costs and overheads from PSSRU 2024 Table 8.2.1, every role's cost per working hour is within
  5% of PSSRU's for its band (GPs: Table 9.4.2, per hour of GMS activity without direct care staff
  or qualifications; `data/workforce.yaml`, `unit_costs`, tested); healthcare assistants (band 3)
  have no PSSRU figure. Salaries: Agenda for Change 2024/25 band midpoints (NHS Employers pay
  scales; the band of each role is in the table's cost source); salaried GP: midpoint of the DDRB
  2024/25 range (GBP 73,418-111,037). A GP partner is costed as an employer would cost a salaried
  GP of the same sessions: partner income is a share of the practice's profit, not an employment
  cost, and costing it would make partners' time look dearer for a reason that is not about who
  does the work. PSSRU Unit Costs of Health and Social Care (2024) build their per-hour costs the
  same way (salary, on-costs, overheads) but divide by working hours net of leave, so their
  per-working-hour figures (practice nurse about GBP 47, second-hand) are higher than these
  per-paid-hour figures for the same annual cost; `sensitivity_roles` varies salaries and
  `sensitivity_assumptions` the on-cost and overhead rates.
- Physician associate time multiplier 1.6 and lower cost per consultation: Drennan et al., BJGP
  2015 (PA consultations 5.8 minutes longer than GPs', GBP 6.22 cheaper).
- Supervision: who supervises whom follows NHS England's PCN DES guidance on supervision of the
  additional roles (clinical pharmacists and pharmacy technicians by a senior clinical pharmacist
  with access to a GP; first-contact and other clinical roles by a named GP; staff employed by a
  trust by their employer) and RCGP 2024 (a named GP clinical supervisor and protected time for each
  physician associate). The minutes are the figures in the table; their source, or the word
  assumption with a range, is in the supervision sources table below. `sensitivity_roles` covers
  the physician associate ranges and `sensitivity_assumptions` the learning curve.
- Time multipliers below 1 for specialists in their own scope, edges of scope and turnover rates are
  assumptions (`sensitivity_roles` varies the ones that decide whether specialisation pays).
"""


def _bounds(info: FieldInfo) -> str:
    ann = info.annotation
    if get_origin(ann) is Literal:
        return " / ".join(get_args(ann))
    if isinstance(ann, type) and issubclass(ann, Enum):
        return " / ".join(m.value for m in ann)
    if ann is bool:
        return "true / false"
    parts = []
    for meta in info.metadata:
        for attr, sym in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
            value = getattr(meta, attr, None)
            if value is not None:
                parts.append(f"{sym} {value}")
    return ", ".join(parts)


def _default(info: FieldInfo) -> Any:
    if info.default_factory is not None:
        return "see below"
    value = info.default
    return getattr(value, "value", value)


EXPERIMENTS = Path(__file__).resolve().parents[2] / "experiments"


def experiments_by_parameter(folder: Path = EXPERIMENTS) -> dict[str, list[str]]:
    """Which experiment specs vary each parameter (team.N.x counted as team[].x)."""
    out: dict[str, list[str]] = {}
    for spec in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
        data = yaml.safe_load(spec.read_text(encoding="utf-8")) or {}
        for key in data.get("parameters", {}):
            parts = key.split(".")
            if parts[0] == "team" and len(parts) == 3:
                key = f"team[].{parts[2]}"
            elif parts[0] == "episodes" and len(parts) == 3:
                key = f"episodes.<type>.{parts[2]}"
            elif parts[0] == "roles" and len(parts) >= 3:
                rest = parts[2:]
                if rest[0] == "scope" and len(rest) == 3:
                    rest = ["scope", "<task>", rest[2]]
                key = ".".join(["roles", "<role>", *rest])
            if spec.stem not in out.setdefault(key, []):
                out[key].append(spec.stem)
    return out


def _section_rows(model: type[BaseModel], prefix: str, varied: dict[str, list[str]]) -> list[str]:
    rows = []
    for name, info in model.model_fields.items():
        ann = info.annotation
        if any(isinstance(a, type) and issubclass(a, BaseModel) for a in (ann, *get_args(ann))):
            continue
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        default = _default(info)
        if name == "age_bands":
            default = "5 bands, table below"
        elif info.is_required():
            default = "(required)"
        elif default is None and prefix.startswith(("roles.", "episodes.")):
            default = "catalogue"
        where = ", ".join(varied.get(f"{prefix}{name}", [])) or "-"
        rows.append(
            f"| `{prefix}{name}` | {default} | {extra.get('unit', '')} | {_bounds(info)} | "
            f"{info.description or ''} | {extra.get('source', '')} | {where} |"
        )
    return rows


def parameters_markdown() -> str:
    """The whole of docs/parameters.md."""
    out = [HEADER, *_limits_markdown(), "## Scenario parameters\n"]
    head = (
        "| key | default | unit | allowed | meaning | source | varied in (experiments/) |\n"
        "|---|---|---|---|---|---|---|"
    )
    varied = experiments_by_parameter()
    sections: list[tuple[str, type[BaseModel]]] = [("", Scenario)]
    for name, info in Scenario.model_fields.items():
        ann = info.annotation
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            sections.append((f"{name}.", ann))
    from handover_abm.config import (
        EpisodeOverride,
        RoleOverride,
        RoleSupervisionOverride,
        ScopeOverride,
        TeamEntry,
    )

    sections.append(("team[].", TeamEntry))
    sections.append(("population.age_bands[].", AgeBand))
    sections.append(("roles.<role>.", RoleOverride))
    sections.append(("roles.<role>.supervision.", RoleSupervisionOverride))
    sections.append(("roles.<role>.scope.<task>.", ScopeOverride))
    sections.append(("episodes.<type>.", EpisodeOverride))
    for prefix, model in sections:
        out.append(f"### `{prefix.rstrip('.') or 'top level'}`: {(model.__doc__ or '').strip()}\n")
        out.append(head)
        out.extend(_section_rows(model, prefix, varied))
        out.append("")
    out.append("### Default age bands\n")
    out.append("| band | share | mean long-term conditions | episodes/patient/year (no LTC) |")
    out.append("|---|---|---|---|")
    for band in Population().age_bands:
        out.append(f"| {band.name} | {band.share} | {band.ltc_mean} | {band.episode_rate} |")
    out.append(
        "\nShares: ONS mid-year estimates for England, rounded. Conditions: assumption informed by "
        "Cassell et al., BJGP 2018 (27% of patients multimorbid). Episode rates: calibrated so that "
        "the default PCN has about 5.5 patient contacts per patient-year, between Hobbs et al., "
        "Lancet 2016 (5.16 consultations in 2013/14) and current NHS Digital appointment counts.\n"
    )
    out.extend(_catalogue_markdown())
    return "\n".join(out) + "\n"


def _limits_markdown() -> list[str]:
    """The table of every upper bound a user can meet (limits.BOUNDS)."""
    rows = [f"| {name} | {bound:,} | {what} |" for name, bound, what in BOUNDS]
    return [
        "## Bounds on sizes and counts\n",
        "Each is checked before anything is allocated or started, and refused with exit code 2 and "
        "one paragraph naming the option or key and the bound (`src/handover_abm/limits.py`).\n",
        "| what | at most | of |",
        "|---|---|---|",
        *rows,
        "",
    ]


def _catalogue_markdown() -> list[str]:
    cat = load_catalogue()
    out = ["## Role catalogue (`data/roles.yaml`)\n"]
    base = Scenario(team=[{"role": "gp_partner"}])
    out.append(
        "| role | label | group | ARRS | salary GBP/year | employer cost GBP/year | GBP/working hour | "
        "annual turnover | supervises | usual clinician | holistic | needs supervision | "
        "supervised by | kinds | debrief min/week | query rate | case review (min) |"
    )
    out.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for name, r in cat.roles.items():
        s = r.supervision
        by = ", ".join(s.supervised_by) or ("a GP" if s.required else "-")
        out.append(
            f"| `{name}` | {r.label} | {r.staff_group} | {r.arrs} | {r.salary:,.0f} | "
            f"{employer_annual_cost(r, base):,.0f} | {hourly_cost(r, base):.2f} | "
            f"{r.annual_turnover} | {r.can_supervise} | {r.usual_clinician} | {r.holistic} | "
            f"{s.required} | {by} | {', '.join(s.kinds) or '-'} | {s.debrief_minutes_per_week} | "
            f"{s.query_rate} | {s.review_minutes if s.case_review else '-'} |"
        )
    out.append("\n| role | salary source | supervision source |")
    out.append("|---|---|---|")
    for name, r in cat.roles.items():
        sup = r.supervision.source if r.supervision.required else "-"
        out.append(f"| `{name}` | {r.cost_source} | {sup} |")
    out.append("\nScope: time multiplier of the GP reference minutes / edge of scope (0 core, 1 edge).\n")
    tasks = list(cat.task_types)
    out.append("| role | " + " | ".join(tasks) + " |")
    out.append("|---|" + "---|" * len(tasks))
    for name, r in cat.roles.items():
        cells = [f"{r.scope[t].time}/{r.scope[t].edge}" if t in r.scope else "" for t in tasks]
        out.append(f"| `{name}` | " + " | ".join(cells) + " |")
    out.append(ROLE_SOURCES)
    out.append("## Task types (`data/tasks.yaml`)\n")
    out.append("| task type | GP minutes | patient contact | lead days | label |")
    out.append("|---|---|---|---|---|")
    for name, t in cat.task_types.items():
        out.append(f"| `{name}` | {t.minutes} | {t.contact} | {t.lead_days} | {t.label} |")
    out.append(
        "\nGP minutes: assumptions anchored on the mean GP consultation of 9.22 minutes (Hobbs et al., "
        "Lancet 2016) and 9.24 face-to-face (Stevens et al., BMJ Open 2017); lead days are assumptions "
        "(lab turnaround, booked follow-up). The tasks of the work programmes: a structured medication "
        "review 30 minutes (30-45 for a simple one, up to 60 for a complex one, with preparation: Sutton "
        "PCNs' SMR guidance 2022-23; about 30, Chemist+Druggist), medicines reconciliation after a "
        "discharge 20 (assumption, range 10-30), a care-home resident on the weekly round 10 (assumption, "
        "range 5-20: a round of an 80-bed home took about 3 hours, NHS England case study), a personalised "
        "care plan conversation 30 (assumption, range 20-45), a health coaching session 30 (first "
        "appointments 45-60 minutes, follow-ups shorter: assumption, range 20-60).\n"
    )
    out.append("## Episode types (`data/tasks.yaml`)\n")
    out.append("| episode type | weight | + per LTC | + if social need | tasks (optional groups with p) |")
    out.append("|---|---|---|---|---|")

    def sequence(e: EpisodeType) -> str:
        return ", ".join(
            f"[{' + '.join(i.tasks)}] p={i.p}" if isinstance(i, TaskGroup) else i for i in e.tasks
        )

    for name, e in cat.episode_types.items():
        if not e.programme:
            out.append(
                f"| `{name}` | {e.weight} | {e.weight_per_ltc} | {e.weight_social_need} | {sequence(e)} |"
            )
    out.append(
        "\nEpisode mix weights are assumptions chosen so that minor illness and undifferentiated "
        "problems dominate and long-term-condition work grows with multimorbidity. The treatment-room "
        "episodes (`nurse_treatment`, `blood_test`, `health_check`: immunisation, screening, "
        "injections, dressings, bloods, health checks booked with nurses and healthcare assistants) "
        "are sized so that GPs hold 40-45% of contacts and nurses about 23% (NHS England Appointments "
        "in General Practice, 2024, second-hand) with about nine in ten nurse and other-staff "
        "appointments planned rather than acute (Welsh general practice activity statistics 2023-24, "
        "transferred); their weights are an assumption (together 0.3-0.5 of the weight of a patient "
        "with no condition). A config sets any of these weights (`episodes.<type>.weight`, above), and "
        "`experiments/sensitivity_case_mix.yaml` varies every non-zero one.\n"
    )
    out.append("### Work programmes: the work ARRS roles are employed for\n")
    out.append(
        "Each arrives at its own rate, on top of the requests above: episodes per 1,000 registered "
        "patients a year (`episodes.<type>.rate_per_1000`), on the patients it reaches; "
        "`experiments/sensitivity_case_mix.yaml` varies each rate over its range.\n"
    )
    out.append("| programme | per 1,000 patients a year | range | reaches | tasks | source |")
    out.append("|---|---|---|---|---|---|")
    bands = [b.name for b in Population().age_bands]
    for name, e in cat.episode_types.items():
        if e.programme:
            who = [f"{e.eligible.min_ltc}+ conditions"] if e.eligible.min_ltc else []
            band = bands[e.eligible.min_age_band]
            who += (
                [f"aged {band}" + ("" if band.endswith("+") else " or older")]
                if e.eligible.min_age_band
                else []
            )
            who += ["with a social need"] if e.eligible.social_need else []
            low, high = e.rate_range
            out.append(
                f"| `{name}` | {e.rate_per_1000:g} | {low:g}-{high:g} | {', '.join(who) or 'everyone'} | "
                f"{sequence(e)} | {' '.join(e.rate_source.split())} |"
            )
    return out
