"""SolaraViz dashboard for what-if team design (optional extra: `pip install 'handover-abm[dashboard]'`).

Started by `handover-abm dashboard [CONFIG]`, which serves this module with Solara. The core never
imports this module. Each browser session builds its own model (solara.use_memo inside Page).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import networkx as nx
import solara
from mesa.visualization import SolaraViz, make_plot_component
from mesa.visualization.utils import update_counter

from handover_abm.catalogue import load_catalogue
from handover_abm.config import ROUTING_POLICIES, Scenario, load_scenario
from handover_abm.metrics import continuity_means, summarise
from handover_abm.model import HandoverModel
from handover_abm.plots import OKABE_ITO, ROLE_COLOURS

CONFIG_ENV = "HANDOVER_ABM_CONFIG"
SEED = 20261123  # fixed, so that Reset and the side-by-side model see the same patients
TABLE_METRICS = [
    "episodes_completed",
    "handovers_per_episode",
    "miscommunications_per_episode",
    "harm_risk_per_1000_episodes",
    "supervisor_load_index",
    "coc_mean",
    "wait_days_mean",
    "cost_per_episode",
]


def config_path() -> Path:
    """The config the dashboard starts from (set by the CLI)."""
    return Path(os.environ.get(CONFIG_ENV, "configs/default.yaml"))


def model_params(scenario: Scenario, path: Path) -> dict[str, Any]:
    """Controls: posts per team entry, routing, interventions, protected time, population."""
    roles = load_catalogue().roles
    params: dict[str, Any] = {"config": str(path), "rng": SEED}
    for i, entry in enumerate(scenario.team):
        params[f"team__{i}__count"] = {
            "type": "SliderInt",
            "value": entry.count,
            "min": 0,
            "max": max(6, 2 * entry.count),
            "step": 1,
            "label": f"{roles[entry.role].label} ({entry.organisation}) posts",
        }
    params["routing__policy"] = {
        "type": "Select",
        "value": scenario.routing.policy,
        "values": list(ROUTING_POLICIES),
        "label": "Booking rule",
    }
    params["interventions__shared_record"] = {
        "type": "Checkbox",
        "label": "Shared record",
        "value": scenario.interventions.shared_record,
    }
    params["interventions__colocate_all"] = {
        "type": "Checkbox",
        "label": "Co-locate everyone",
        "value": scenario.interventions.colocate_all,
    }
    params["supervision__protected_minutes_per_day"] = {
        "type": "SliderInt",
        "value": int(scenario.supervision.protected_minutes_per_day),
        "min": 5,
        "max": 120,
        "step": 5,
        "label": "Protected supervision (min/GP/day)",
    }
    params["population__size"] = {
        "type": "SliderInt",
        "value": scenario.population.size,
        "min": 2000,
        "max": 100_000,
        "step": 1000,
        "label": "Registered patients",
    }
    return params


@solara.component
def Intro(model: HandoverModel) -> None:
    """What the page does and how Reset works."""
    update_counter.get()
    posts = len(model.clinicians)
    fte = sum(c.fte for c in model.clinicians)
    solara.Markdown(
        f"**{model.config.name}**: {model.config.description or 'team network'}. Team: {posts} posts, "
        f"{fte:.1f} FTE, booking rule {model.config.routing.policy}. Day "
        f"**{model.steps}** of {model.config.days}. Change the team, booking rule, interventions or "
        "supervision time on the left, then press **Reset**: the model is rebuilt with them (the "
        "controls do not change a model that is already running). **Step** and ▶ advance it day by "
        f"day. Every Reset uses the same patients and episodes (seed {SEED})."
    )


def _layout(model: HandoverModel) -> dict[int, Any]:
    if getattr(model, "_dashboard_layout", None) is None:
        g = nx.Graph()
        g.add_nodes_from(c.post for c in model.clinicians)
        g.add_edges_from((c.post, c.supervisor) for c in model.clinicians if c.supervisor >= 0)
        model._dashboard_layout = nx.spring_layout(g, seed=1, k=1.2 / max(1, g.number_of_nodes()) ** 0.5)
    return model._dashboard_layout


@solara.component
def NetworkView(model: HandoverModel) -> None:
    """Team network: colour by role, size by workload, width by tie, supervision dashed, recent
    handovers highlighted."""
    update_counter.get()
    pos = _layout(model)
    roles = sorted({c.role_name for c in model.clinicians})
    colour = {r: ROLE_COLOURS[i % len(ROLE_COLOURS)] for i, r in enumerate(roles)}
    fig, ax = plt.subplots(figsize=(7, 5.5))
    w = model.network.w
    ties = [
        (i, j)
        for i in range(len(w))
        for j in range(i + 1, len(w))
        if w[i, j] > model.network.floor[i, j] + 0.05
    ]
    recent = model.network.recent_handovers()
    g = nx.Graph()
    g.add_nodes_from(pos)
    nx.draw_networkx_edges(
        g, pos, edgelist=ties, width=[3 * w[i, j] for i, j in ties], edge_color="#bbbbbb", ax=ax
    )
    hot = list(recent)
    if hot:
        top = max(recent.values())
        nx.draw_networkx_edges(
            g,
            pos,
            edgelist=hot,
            width=[0.5 + 3 * recent[e] / top for e in hot],
            edge_color=OKABE_ITO[1],
            ax=ax,
        )
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
    handles = [
        plt.Line2D([], [], marker="o", ls="", color=colour[r], label=r.replace("_", " ")) for r in roles
    ]
    handles += [
        plt.Line2D([], [], color=OKABE_ITO[5], ls="--", label="supervision"),
        plt.Line2D([], [], color=OKABE_ITO[1], lw=2, label="handovers, last 7 days"),
        plt.Line2D([], [], color="#bbbbbb", lw=2, label="working tie"),
    ]
    ax.legend(handles=handles, frameon=False, fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    ax.set_title(f"Team network, day {model.steps} (node size: weeks until a free slot)", fontsize=10)
    ax.axis("off")
    fig.tight_layout()
    solara.FigureMatplotlib(fig, format="png", dependencies=[update_counter.value, model])
    plt.close(fig)


@solara.component
def ContinuityAndFlow(model: HandoverModel) -> None:
    """Handovers per episode (7-day) and COC so far, recorded at each render."""
    update_counter.get()
    history = getattr(model, "_dashboard_history", None)
    if history is None:
        history = model._dashboard_history = []
    frame = model.datacollector.model_vars
    if model.steps and (not history or history[-1][0] != model.steps):
        arrived = sum(frame["episodes_arrived"][-7:]) or 1
        _, coc, _ = continuity_means([p.history for p in model.patients])
        history.append((model.steps, sum(frame["handovers"][-7:]) / arrived, coc))
    fig, (a, b) = plt.subplots(1, 2, figsize=(8, 3))
    if history:
        days, hpe, coc = zip(*history, strict=True)
        a.plot(days, hpe, color=OKABE_ITO[0])
        b.plot(days, coc, color=OKABE_ITO[2])
    a.set_title("handovers per new episode (7 days)", fontsize=9)
    b.set_title("continuity (COC), patients with 2+ contacts", fontsize=9)
    for ax in (a, b):
        ax.set_xlabel("day")
    fig.tight_layout()
    solara.FigureMatplotlib(fig, format="png", dependencies=[update_counter.value, model])
    plt.close(fig)


def _metric_rows(models: list[HandoverModel]) -> list[dict[str, float]]:
    return [summarise(m) for m in models]


@solara.component
def Headline(model: HandoverModel) -> None:
    """The headline metrics of the run so far."""
    update_counter.get()
    if not model.steps:
        solara.Markdown("Press **Step** to start.")
        return
    s = summarise(model)
    lines = ["| metric | so far |", "|---|---:|"] + [f"| {k} | {s[k]:.4g} |" for k in TABLE_METRICS]
    solara.Markdown("\n".join(lines))


@solara.component
def SideBySide(model: HandoverModel) -> None:
    """Run a second config on the same patients (common random numbers) and show the difference."""
    update_counter.get()
    choices = [*ROUTING_POLICIES, *sorted(str(p) for p in Path("configs").glob("*.yaml"))]
    other, set_other = solara.use_state("continuity_first")
    solara.Select(
        "Compare with (booking rule or config file)", value=other, values=choices, on_value=set_other
    )

    def build() -> HandoverModel:
        if other in ROUTING_POLICIES:
            return HandoverModel(
                model.config.model_copy(
                    update={"routing": model.config.routing.model_copy(update={"policy": other})}
                ),
                rng=model.seed,
            )
        data = load_scenario(other).model_dump(mode="json")
        data["population"] = model.config.population.model_dump(mode="json")  # same patients
        return HandoverModel(data, rng=model.seed)

    twin = solara.use_memo(build, [other, model])
    while twin.steps < model.steps and twin.running:
        twin.step()
    if not model.steps:
        solara.Markdown("Press **Step**: the second team then runs on the same patients and episodes.")
        return
    a, b = _metric_rows([model, twin])
    lines = [f"| metric | this team | {other} | difference |", "|---|---:|---:|---:|"]
    lines += [f"| {k} | {a[k]:.4g} | {b[k]:.4g} | {b[k] - a[k]:+.4g} |" for k in TABLE_METRICS]
    solara.Markdown(f"Day {model.steps}, same seed and patients:\n\n" + "\n".join(lines))


def _capacity_line(ax: Any) -> None:
    ax.axhline(1.0, color="grey", ls="--", lw=1)
    ax.set_ylabel("supervision min / protected min")


@solara.component
def Page() -> None:
    """The dashboard page: one model per browser session."""
    path = config_path()
    scenario = load_scenario(path)
    params = model_params(scenario, path)
    model = solara.use_memo(lambda: HandoverModel(str(path), rng=SEED), [])
    components = [
        (Intro, 0),
        (NetworkView, 0),
        make_plot_component(["handovers", "miscommunications"], page=0),
        make_plot_component("supervisor_load_index", post_process=_capacity_line, page=0),
        make_plot_component("tasks_waiting", page=0),
        (ContinuityAndFlow, 0),
        (Headline, 0),
        (SideBySide, 1),
    ]
    SolaraViz(model, components=components, model_params=params, name="handover-abm: team what-if")
