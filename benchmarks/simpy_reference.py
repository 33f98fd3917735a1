"""A hand-written SimPy model of the catastrophe benchmark, timed against ``mcsim.simulate``.

Issue 8 asks that mcsim, with its agents and records, be no slower than "a straightforward
hand-written SimPy model of an incident that size (RPM deterioration, triage, ambulances,
hospital bays)", the kind a competent user writes in a day. This file is that model, so the
comparison is measured rather than assumed. It reuses mcsim's *data* only: the scenario of
``catastrophe_scenarios.py``, the region from ``mcsim.region.build_region``, the casualties from
``mcsim.casualties.generate_casualties`` with the scenario's injury profile, and the RPM tables of
``mcsim.physiology``. The simulation itself is ordinary SimPy:

* one process per casualty; its RPM falls along the deterioration table on an effective clock
  (slower under transport care and while waiting in hospital, stopped by definitive care), and
  every wait races the casualty's death time (``event | env.timeout(time_to_death)``);
* trapped casualties are extracted first; the walking wounded are sorted out as minor (START's
  first step) and some leave by themselves to the nearest hospital; the others wait for one of
  the incident's triage officers (``simpy.Resource``) and are tagged START-like from their
  initial respiratory, pulse and motor codes: immediate, delayed or minor;
* ambulances are sent to the incidents at the alert, nearest first, in numbers proportional to
  each incident's casualties, and wait there in a ``simpy.Store``; a loader process per incident
  pairs the next free ambulance with the most urgent waiting casualty (``simpy.PriorityStore``);
  the crew loads, drives to the nearest hospital, hands over and goes back to its incident (or to
  the nearest one with casualties left, or home when none has);
* hospitals have resuscitation bays (immediate) and ED beds (the others), each a
  ``simpy.PriorityResource`` sized by the beds not already occupied; the start of care decides
  survival from the RPM reached (the survival curve against the casualty's drawn uniform);
* every state change is appended to a list of tuples ``(time, kind, casualty, vehicle, place)``.

It does not reproduce mcsim's results, only the scope and size of the work.

    .venv/bin/python benchmarks/simpy_reference.py [--sizes 1000 10000 100000] [--repeats 2]

For each size the script runs this model and ``mcsim.simulate`` on the same scenario and seed,
each in a fresh interpreter (timed from the parsed scenario to the end of the run, so both
include building the region and drawing the casualties), and prints the median wall time, the
events logged, the peak resident memory and the ratio mcsim / SimPy. A SimPy run longer than
``--timeout`` seconds is reported as such instead of waited for.
"""

from __future__ import annotations

import argparse
import bisect
import json
import math
import random
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import simpy

from mcsim.casualties import generate_casualties
from mcsim.physiology import effective_min_to_zero, survival_probability, untreated_rpm
from mcsim.region import build_region

HERE = Path(__file__).resolve().parent

IMMEDIATE, DELAYED, MINOR = 0, 1, 2
CATEGORY_NAMES = ("immediate", "delayed", "minor")
#: Statuses of a casualty still in the system at the end of the run.
WAITING = {
    "scene",
    "extracting",
    "triage",
    "awaiting_ambulance",
    "transport",
    "self_transport",
    "awaiting_bay",
    "in_care",
}


class Casualty:
    """One casualty: what was drawn for them, their effective clock and where they are."""

    def __init__(self, cid: int, site: Site, table: Any, i: int, zero_min: float, rate: float):
        self.id = cid
        self.site = site
        self.rpm0 = int(table.rpm0[i])
        self.codes = (int(table.c_rr[i]), int(table.c_pulse[i]), int(table.c_motor[i]))
        self.minor_injury = int(table.severity[i]) == 3
        self.walking = bool(table.walking0[i])
        self.self_transport = bool(table.self_transport[i])
        self.self_delay = float(table.self_transport_delay_min[i])
        self.extraction = float(table.extraction_min[i])
        self.triage_min = float(table.triage_min[i])
        self.needs_surgery = bool(table.needs_surgery[i])
        self.u_survival = float(table.u_survival[i])
        self.zero_min = zero_min  # effective minutes until the RPM reaches 0
        self.base_rate = rate
        self.rate = rate
        self.eff = 0.0
        self.since = 0.0
        self.status = "scene"
        self.category: int | None = None
        self.ride: simpy.Event | None = None  # an ambulance picks them up
        self.arrived: simpy.Event | None = None  # the ambulance reaches the hospital

    def clock(self, now: float) -> float:
        """Effective minutes elapsed at ``now``."""
        return self.eff + self.rate * (now - self.since)

    def set_care(self, now: float, factor: float) -> None:
        """From ``now`` on, deteriorate at the untreated rate times ``factor``."""
        self.eff = self.clock(now)
        self.since = now
        self.rate = self.base_rate * factor

    def time_to_death(self, now: float) -> float:
        """Minutes from ``now`` until the RPM reaches 0 at the current rate."""
        remaining = self.zero_min - self.clock(now)
        if self.rate == 0.0 or math.isinf(remaining):
            return math.inf
        return max(0.0, remaining / self.rate)


class Site:
    """An incident site: its officers, its waiting casualties and its ambulances."""

    def __init__(self, env: simpy.Environment, sid: str, node: int, officers: int):
        self.id = sid
        self.node = node
        self.officers = simpy.Resource(env, capacity=max(1, officers))
        self.ready = simpy.PriorityStore(env)  # casualties waiting for an ambulance
        self.ambulances = simpy.Store(env)  # free ambulances at the site
        self.pending = 0  # casualties who may still need an ambulance
        self.hospital: Hospital | None = None


class InsortQueue(list):
    """A request queue kept sorted by inserting in place (SimPy's re-sorts on every append)."""

    def __init__(self, maxlen: int | None = None):
        super().__init__()
        self.maxlen = maxlen

    def append(self, item: Any) -> None:
        """Insert ``item`` after the requests with the same key (the order SimPy's sort gives)."""
        bisect.insort_right(self, item, key=lambda e: e.key)


class InsortPriorityResource(simpy.PriorityResource):
    """``simpy.PriorityResource`` with :class:`InsortQueue`: same order, no O(n) re-sort."""

    PutQueue = InsortQueue


class Hospital:
    """A hospital's free resuscitation bays and ED beds."""

    def __init__(self, env: simpy.Environment, spec: Any, node: int, bays: type):
        self.id = spec.id
        self.node = node
        self.resus = bays(env, capacity=max(1, spec.resus_bays - spec.occupied.resus_bays))
        self.ed = bays(env, capacity=max(1, spec.ed_beds - spec.occupied.ed_beds))


class Ambulance:
    """One vehicle: where it is and the incident it serves."""

    def __init__(self, vid: int, station: int):
        self.id = vid
        self.station = station
        self.node = station
        self.site: Site | None = None


def start_triage(c: Casualty) -> int:
    """START-like tag from the initial codes: breathing, circulation, obeys commands."""
    rr, pulse, motor = c.codes
    if rr < 4 or pulse < 4 or motor < 4:
        return IMMEDIATE
    return DELAYED


class Reference:
    """The SimPy model of one scenario; :meth:`run` simulates it to the scenario's horizon.

    ``insort=True`` gives the hospital bays :class:`InsortPriorityResource` instead of the stock
    ``simpy.PriorityResource``, whose queue re-sorts itself on every request (quadratic when
    thousands wait for a bay); the simulation is the same, event for event.
    """

    def __init__(self, scenario: Any, seed: int = 0, *, insort: bool = False):
        self.env = simpy.Environment()
        self.scenario = scenario
        self.params = scenario.physiology
        self.response = scenario.response
        self.care = scenario.hospital_care
        self.rng = random.Random(seed)
        self.log: list[tuple[float, str, int, int, str]] = []
        self.region = build_region(scenario.region)

        bays = InsortPriorityResource if insort else simpy.PriorityResource
        self.hospitals = [
            Hospital(self.env, h, self.region.index(h.node), bays) for h in scenario.hospitals
        ]
        self.ambulances: list[Ambulance] = []
        for st in scenario.stations:
            node = self.region.index(st.node)
            for group in st.vehicles:
                for _ in range(group.count):
                    self.ambulances.append(Ambulance(len(self.ambulances), node))

        self.sites: list[Site] = []
        self.casualties: list[Casualty] = []
        hospital_nodes = [h.node for h in self.hospitals]
        by_node = {h.node: h for h in self.hospitals}
        for k, inc in enumerate(scenario.incidents):
            site = Site(
                self.env, inc.id, self.region.index(inc.node), self.response.triage_officers
            )
            site.hospital = by_node[self.region.nearest(site.node, hospital_nodes)]
            self.sites.append(site)
            table = generate_casualties(
                inc.casualties,
                scenario.profile(inc.injury_profile),  # builtin_profiles()['crush']
                child_share=inc.child_share,
                self_transport_share=inc.self_transport_share,
                extraction_share=inc.extraction_share,
                extraction_min_range=inc.extraction_min_range,
                self_transport_delay_min_range=self.response.self_transport_delay_min_range,
                rng=np.random.default_rng([seed, k]),
            )
            zero = effective_min_to_zero(self.params, table.rpm0)
            for i in range(len(table)):
                minor = int(table.severity[i]) == 3
                rate = self.params.untreated_rate(bool(table.penetrating[i]))
                if minor:
                    rate *= self.params.minor_deterioration_factor
                c = Casualty(len(self.casualties), site, table, i, float(zero[i]), rate)
                self.casualties.append(c)
                if c.rpm0 == 0:
                    c.status = "dead"
                    self.record("dead_on_scene", c.id)
                    continue
                if not (c.self_transport and c.extraction == 0):
                    site.pending += 1
                self.env.process(self.casualty(c))
            self.env.process(self.loader(site))
        self.dispatch_at_alert()

    # ---------------------------------------------------------------- helpers

    def record(self, kind: str, casualty: int = -1, vehicle: int = -1, place: str = "") -> None:
        """Append one state change to the event log."""
        self.log.append((self.env.now, kind, casualty, vehicle, place))

    def travel(self, a: int, b: int) -> float:
        """Driving minutes from node ``a`` to node ``b``."""
        return self.region.travel_min(a, b)

    def service(self, mean: float) -> float:
        """A lognormal service time with the scenario's coefficient of variation."""
        cv = self.care.service_cv
        if cv == 0:
            return mean
        sigma2 = math.log(1.0 + cv * cv)
        return self.rng.lognormvariate(math.log(mean) - sigma2 / 2, math.sqrt(sigma2))

    def survive(self, c: Casualty, event: simpy.Event):
        """Wait for ``event`` unless the casualty dies first; True if they are still alive."""
        ttd = c.time_to_death(self.env.now)
        if math.isinf(ttd):
            yield event
            return True
        result = yield event | self.env.timeout(ttd)
        if event in result:
            return True
        if c.status == "awaiting_ambulance" and not c.ride.triggered:
            c.site.pending -= 1
        c.status = "dead"
        self.record("death", c.id)
        return False

    # ---------------------------------------------------------------- casualties

    def casualty(self, c: Casualty):
        """One casualty from the incident to the end of hospital care (or death)."""
        env = self.env
        site = c.site
        if not (yield from self.survive(c, env.timeout(self.response.alert_delay_min))):
            return
        if c.extraction > 0:
            c.status = "extracting"
            if not (yield from self.survive(c, env.timeout(c.extraction))):
                return
            self.record("extracted", c.id)
        elif c.walking:
            if c.self_transport:
                yield from self.self_transport(c)
                return
            if not (yield from self.survive(c, env.timeout(self.response.global_sort_min))):
                return
            c.category = MINOR
            self.record("sorted_minor", c.id)
        if c.category is None:
            c.status = "triage"
            with site.officers.request() as req:
                if not (yield from self.survive(c, req)):
                    return
                if not (yield from self.survive(c, env.timeout(c.triage_min))):
                    return
            c.category = start_triage(c)
            self.record("triaged", c.id, place=CATEGORY_NAMES[c.category])

        c.status = "awaiting_ambulance"
        c.ride = env.event()
        c.arrived = env.event()
        site.ready.put(simpy.PriorityItem((c.category, c.id), c))
        if not (yield from self.survive(c, c.ride)):
            return
        c.status = "transport"
        c.set_care(env.now, self.params.transport_care_factor)
        if not (yield from self.survive(c, c.arrived)):
            return
        yield from self.hospital_care(c, c.arrived.value)

    def self_transport(self, c: Casualty):
        """A walking casualty who leaves on their own for the nearest hospital."""
        env = self.env
        leave = max(0.0, c.self_delay - env.now)
        if not (yield from self.survive(c, env.timeout(leave))):
            return
        c.status = "self_transport"
        c.category = MINOR
        self.record("self_transport_start", c.id)
        hospital = c.site.hospital
        drive = self.travel(c.site.node, hospital.node) * self.response.self_transport_travel_factor
        if not (yield from self.survive(c, env.timeout(drive))):
            return
        self.record("hospital_arrival", c.id, place=hospital.id)
        yield from self.hospital_care(c, hospital)

    def hospital_care(self, c: Casualty, hospital: Hospital):
        """Wait for a bay, then definitive care, which decides survival."""
        env = self.env
        c.status = "awaiting_bay"
        c.set_care(env.now, self.params.hospital_wait_care_factor)
        if c.category == IMMEDIATE:
            bays, mean = hospital.resus, self.care.resus_min
            if c.needs_surgery:
                mean += self.care.surgery_min
        else:
            bays = hospital.ed
            mean = self.care.ed_minor_min if c.category == MINOR else self.care.ed_serious_min
        self.record("queue", c.id, place=hospital.id)
        with bays.request(priority=c.category) as req:
            if not (yield from self.survive(c, req)):
                return
            c.status = "in_care"
            c.set_care(env.now, 0.0)
            rpm = untreated_rpm(self.params, c.rpm0, c.eff)
            if c.minor_injury:
                p = self.params.minor_survival_probability
            else:
                p = survival_probability(self.params, rpm)
            survives = c.u_survival < p
            self.record("definitive_care", c.id, place=hospital.id)
            yield env.timeout(self.service(mean))
        if survives:
            c.status = "treated"
            self.record("discharged", c.id, place=hospital.id)
        else:
            c.status = "dead"
            self.record("death_after_care", c.id, place=hospital.id)

    # ---------------------------------------------------------------- ambulances

    def dispatch_at_alert(self) -> None:
        """Send every ambulance to an incident: nearest first, quotas by casualties."""
        total = sum(s.pending for s in self.sites)
        n = len(self.ambulances)
        quota = {s.id: (n * s.pending) // max(total, 1) for s in self.sites}
        spare = n - sum(quota.values())
        for s in sorted(self.sites, key=lambda s: -s.pending)[:spare]:
            quota[s.id] += 1
        pairs = []
        for s in self.sites:
            to_site = self.region.travel_to(s.node)
            pairs.extend((float(to_site[a.station]), a.id, s) for a in self.ambulances)
        pairs.sort(key=lambda p: (p[0], p[1]))
        for _, aid, s in pairs:
            amb = self.ambulances[aid]
            if amb.site is None and quota[s.id] > 0:
                amb.site = s
                quota[s.id] -= 1
                self.env.process(self.first_run(amb))

    def first_run(self, amb: Ambulance):
        """From the station to the assigned incident after the alert."""
        env = self.env
        yield env.timeout(self.response.alert_delay_min)
        self.record("dispatched", vehicle=amb.id, place=amb.site.id)
        yield env.timeout(self.travel(amb.node, amb.site.node))
        amb.node = amb.site.node
        self.record("vehicle_at_scene", vehicle=amb.id, place=amb.site.id)
        amb.site.ambulances.put(amb)

    def loader(self, site: Site):
        """Pair each free ambulance at the site with the most urgent living casualty."""
        while True:
            amb = yield site.ambulances.get()
            while True:
                c = (yield site.ready.get()).item
                if c.status != "dead":
                    break
            site.pending -= 1
            c.ride.succeed(amb)
            self.env.process(self.trip(amb, c))

    def trip(self, amb: Ambulance, c: Casualty):
        """Load, drive to the nearest hospital, hand over, and go where the work is."""
        env = self.env
        site = c.site
        self.record("load_start", c.id, amb.id)
        yield env.timeout(self.response.loading_min)
        if c.status == "dead":  # died during loading: the crew takes the next casualty
            site.ambulances.put(amb)
            return
        hospital = site.hospital
        self.record("depart_scene", c.id, amb.id, hospital.id)
        yield env.timeout(self.travel(site.node, hospital.node))
        amb.node = hospital.node
        self.record("hospital_arrival", c.id, amb.id, hospital.id)
        if c.status != "dead":
            c.arrived.succeed(hospital)
        yield env.timeout(self.response.handover_min)
        self.record("handover_done", c.id, amb.id, hospital.id)
        target = amb.site if amb.site.pending > 0 else None
        if target is None:
            busy = [s for s in self.sites if s.pending > 0]
            if busy:
                from_here = self.region.travel_from(amb.node)
                target = min(busy, key=lambda s: from_here[s.node])
        if target is None:
            yield env.timeout(self.travel(amb.node, amb.station))
            amb.node = amb.station
            self.record("vehicle_at_station", vehicle=amb.id)
            return
        amb.site = target
        yield env.timeout(self.travel(amb.node, target.node))
        amb.node = target.node
        self.record("vehicle_at_scene", vehicle=amb.id, place=target.id)
        target.ambulances.put(amb)

    # ---------------------------------------------------------------- run

    def run(self) -> Reference:
        """Simulate to the scenario's horizon."""
        self.env.run(until=self.scenario.duration_min)
        return self

    def summary(self) -> dict[str, int]:
        """Casualties dead, treated (discharged alive) and still waiting, and events logged."""
        statuses = [c.status for c in self.casualties]
        return {
            "casualties": len(statuses),
            "dead": statuses.count("dead"),
            "treated": statuses.count("treated"),
            "waiting": sum(s in WAITING for s in statuses),
            "events": len(self.log),
        }


def run(scenario: Any, seed: int = 0, *, insort: bool = False) -> Reference:
    """Build and run the SimPy model of ``scenario``."""
    return Reference(scenario, seed, insort=insort).run()


# -------------------------------------------------------------------- timing harness

CHILD = """
import json, resource, sys, time
sys.path.insert(0, {here!r})
from catastrophe_scenarios import catastrophe
{imports}
scenario = catastrophe({n})
t0 = time.perf_counter()
{body}
elapsed = time.perf_counter() - t0
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"s": elapsed, "events": events, "peak_mb": peak_mb}}))
"""

MODELS = {
    "simpy": (
        "import simpy_reference",
        "events = len(simpy_reference.run(scenario, seed={seed}).log)",
    ),
    "simpy-insort": (
        "import simpy_reference",
        "events = len(simpy_reference.run(scenario, seed={seed}, insort=True).log)",
    ),
    "mcsim": ("import mcsim", "events = len(mcsim.simulate(scenario, seed={seed}).events)"),
}


def run_once(model: str, n: int, seed: int, timeout: float) -> dict | None:
    """One timed run in a fresh interpreter; None if it took longer than ``timeout`` s."""
    imports, body = MODELS[model]
    code = CHILD.format(here=str(HERE), n=n, imports=imports, body=body.format(seed=seed))
    try:
        out = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        return None
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure(model: str, n: int, repeats: int, timeout: float) -> dict | None:
    """Median time, events and peak memory over ``repeats`` runs (None on a timeout)."""
    runs = []
    for seed in range(repeats):
        r = run_once(model, n, seed, timeout)
        if r is None:
            return None
        runs.append(r)
    return {
        "s": statistics.median(r["s"] for r in runs),
        "events": runs[0]["events"],
        "peak_mb": max(r["peak_mb"] for r in runs),
    }


def main() -> None:
    """Print the SimPy-versus-mcsim table."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000, 10_000, 100_000])
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds per SimPy run")
    args = ap.parse_args()
    print(
        f"{'casualties':>10} | {'SimPy s':>8}{'events':>9}{'MB':>6} | {'insort s':>8} | "
        f"{'mcsim s':>8}{'events':>9}{'MB':>6} | {'mcsim/SimPy':>11}{'/insort':>8}"
    )
    for n in args.sizes:
        ref = measure("simpy", n, args.repeats, args.timeout)
        fast = measure("simpy-insort", n, args.repeats, args.timeout)
        ours = measure("mcsim", n, args.repeats, max(args.timeout, 600.0))
        late = f"> {args.timeout:.0f}"
        cols = [
            f"{ref['s']:>8.2f}{ref['events']:>9,}{ref['peak_mb']:>6.0f}"
            if ref
            else f"{late:>8}{'timeout':>9}{'':>6}",
            f"{fast['s']:>8.2f}" if fast else f"{late:>8}",
            f"{ours['s']:>8.2f}{ours['events']:>9,}{ours['peak_mb']:>6.0f}"
            if ours
            else f"{'timeout':>8}{'':>15}",
        ]
        ratios = [f"{ours['s'] / r['s']:.2f}x" if ours and r else "–" for r in (ref, fast)]
        print(
            f"{n:>10,} | {cols[0]} | {cols[1]} | {cols[2]} | {ratios[0]:>11}{ratios[1]:>8}",
            flush=True,
        )


if __name__ == "__main__":
    main()
