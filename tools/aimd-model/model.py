#!/usr/bin/env python3
"""A discrete-event model of the cluster soak's create phase (bench/Bench/ClusterSoak.cs), for trying AIMD rules in
seconds instead of a 5-minute soak each. Not a test and not a bench row: the soak is the measurement; this only says
which rules are worth a soak.

What it models, as the soak runs it: 20 agents, 8 workers each; 1,000 pods in waves of 50 every 2 s spread over the
live nodes; one instance terminated after wave 8 (its pods go with it); a random agent killed every 10 s and back
2.5 s later with fresh rates and full local buckets (its created-but-unassociated ENIs are kept); each pod is a
CreateNetworkInterface then an AssociateTrunkInterface; the account's buckets refill at 10/s (burst 100 and 50); every
50 ms the sandbox owes 30% of the calls made since as throttles, handed to whichever calls come next (they take no
token); 5% of served calls fail with a 5xx; 2% of answers are a second late. Each agent runs src/Aws as shipped: local
token buckets at a 5/s ceiling that a waiting caller looks at again every 250 ms (jittered by up to a quarter), full-
jitter retries (100 ms doubling, at most 8 attempts), and AdaptiveRate (cut to half when a throttle comes while the
throttle share is above one half, at most once per 250 ms, emptying the bucket; growth per success, per second busy,
and faster since the last cut).

Calibration against the soak's seven runs of the per-bucket rule (1.05-1.25x the floor, about 48% of create-phase
calls throttled, 4.2 attempts per pod in that phase): with `--share bucket` the model gives 1.14x on average over 100
seeds, 15 of them above 1.2x, 48.8% throttled, 4.15 attempts per pod.

    python3 tools/aimd-model/model.py                 # the shipped rule (one throttle share per process)
    python3 tools/aimd-model/model.py --share bucket  # the rule before: one share per action bucket
    python3 tools/aimd-model/model.py --share bucket --new-evidence 4   # run H of docs/benchmarks.md
    python3 tools/aimd-model/model.py --set smoothing=0.2 --seeds 100
"""
import argparse
import heapq
import itertools
import math
import random
import statistics

CEILING = 5.0
LOCAL_BURST = {"create": 100, "mutating": 50}
ACCOUNT = {"create": (100, 10.0), "mutating": (50, 10.0)}  # burst, refill per second


class Settings:
    floor = 0.05
    decrease = 0.5
    increase_per_success = 1 / 50
    increase_per_second = 1 / 20
    acceleration = 1 / 100
    acceleration_limit = 30.0
    cut_window = 0.25
    tolerance = 0.5
    smoothing = 0.1
    wait_jitter = 0.25
    share = "node"       # "node": one share over every answer of the process; "bucket": one per action bucket
    new_evidence = 0     # >0: a second cut needs this many answers since the last one, most of them throttles


class Share:
    def __init__(self, smoothing):
        self.smoothing = smoothing
        self.value = 0.0

    def throttled(self):
        self.value += self.smoothing * (1 - self.value)
        return self.value

    def succeeded(self):
        self.value *= 1 - self.smoothing


class LocalBucket:
    def __init__(self, rate, burst, now):
        self.rate, self.capacity, self.tokens, self.last = rate, burst, burst, now
        self.waiters = []
        self.polling = False

    def refill(self, now):
        self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)
        self.last = now

    def set_rate(self, rate, now):
        self.refill(now)
        self.rate = rate

    def empty(self, now):
        self.refill(now)
        self.tokens = min(self.tokens, 0)

    def try_take(self, now):
        """None when a token was taken, else the seconds until one is due."""
        self.refill(now)
        if self.tokens >= 1:
            self.tokens -= 1
            return None
        return (1 - self.tokens) / self.rate


class AdaptiveRate:
    def __init__(self, bucket, share, s, now):
        self.bucket, self.share, self.s = bucket, share, s
        self.started = self.last_growth = now
        self.last_cut = None
        self.answers_since_cut = self.throttles_since_cut = 0

    def throttled(self, now):
        s = self.s
        share = self.share.throttled()
        self.answers_since_cut += 1
        self.throttles_since_cut += 1
        if share <= s.tolerance:
            return
        self.last_growth = now
        if self.last_cut is not None and now - self.last_cut < s.cut_window:
            return
        if s.new_evidence and self.last_cut is not None and not (
                self.answers_since_cut >= s.new_evidence and 2 * self.throttles_since_cut > self.answers_since_cut):
            return
        self.last_cut = now
        self.answers_since_cut = self.throttles_since_cut = 0
        self.bucket.empty(now)
        self.bucket.set_rate(max(min(s.floor, CEILING), self.bucket.rate * s.decrease), now)

    def succeeded(self, now):
        self.share.succeeded()
        self.answers_since_cut += 1
        self.grow(now, True)

    def waiting(self, now):
        self.grow(now, False)

    def grow(self, now, succeeded):
        s = self.s
        seconds = min(1.0, now - self.last_growth)
        self.last_growth = now
        rate = self.bucket.rate
        if rate >= CEILING:
            return
        since_cut = min(s.acceleration_limit, now - (self.last_cut if self.last_cut is not None else self.started))
        fraction = (s.increase_per_success if succeeded else 0) + seconds * (s.increase_per_second + s.acceleration * since_cut)
        self.bucket.set_rate(min(CEILING, rate + CEILING * fraction), now)


class Pod:
    __slots__ = ("created",)

    def __init__(self):
        self.created = False


class Agent:
    """One node: its queue of pods, its workers, and (while running) one process's buckets and rates."""

    def __init__(self, world, index, workers):
        self.world, self.index, self.workers = world, index, workers
        self.queue, self.in_flight = [], []
        self.assigned = self.done = 0
        self.last_done = 0.0
        self.retired = self.running = False
        self.generation = 0
        self.idle = 0

    def start(self):
        w = self.world
        self.running = True
        self.generation += 1
        node_share = Share(w.s.smoothing)
        self.buckets, self.rates = {}, {}
        for kind in ("create", "mutating"):
            bucket = LocalBucket(CEILING, LOCAL_BURST[kind], w.now)
            share = node_share if w.s.share == "node" else Share(w.s.smoothing)
            self.buckets[kind] = bucket
            self.rates[kind] = AdaptiveRate(bucket, share, w.s, w.now)
        self.idle = self.workers
        self.dispatch()

    def kill(self, down):
        self.running = False
        self.generation += 1
        self.queue[:0] = self.in_flight
        self.in_flight = []
        generation = self.generation
        self.world.after(down, lambda: self.start() if self.generation == generation and not self.retired else None)

    def retire(self):
        self.retired = True
        self.running = False
        self.generation += 1
        self.queue, self.in_flight = [], []

    def add_pod(self):
        self.assigned += 1
        self.queue.append(Pod())
        self.dispatch()

    def dispatch(self):
        while self.running and self.idle > 0 and self.queue:
            self.idle -= 1
            pod = self.queue.pop(0)
            self.in_flight.append(pod)
            self.call(pod, "mutating" if pod.created else "create", 1, self.generation)

    def call(self, pod, kind, attempt, generation):
        if generation != self.generation:
            return
        bucket = self.buckets[kind]
        bucket.waiters.append((pod, kind, attempt))
        if not bucket.polling:
            bucket.polling = True
            self.poll(kind, generation)

    def poll(self, kind, generation):
        """The head waiter of a bucket (its gate admits one at a time) takes a token or sleeps and looks again."""
        if generation != self.generation:
            return
        w, bucket = self.world, self.buckets[kind]
        due = bucket.try_take(w.now)
        if due is None:
            pod, kind, attempt = bucket.waiters.pop(0)
            self.send(pod, kind, attempt, generation)
            if bucket.waiters:
                self.poll(kind, generation)
            else:
                bucket.polling = False
            return
        sleep = math.ceil(due * 1000) / 1000 if due < 0.25 else 0.25
        sleep *= 1 + w.rng.random() * w.s.wait_jitter

        def look_again():
            if generation == self.generation:
                self.rates[kind].waiting(w.now)
                self.poll(kind, generation)
        w.after(sleep, look_again)

    def send(self, pod, kind, attempt, generation):
        w = self.world
        outcome = w.account_answer(kind)
        latency = w.latency * (0.5 + w.rng.random()) + (w.spike_seconds if w.rng.random() < w.spike_rate else 0)

        def answer():
            if generation != self.generation:
                return
            rate = self.rates[kind]
            if outcome == "success":
                rate.succeeded(w.now)
                if kind == "create":
                    pod.created = True
                    self.call(pod, "mutating", 1, generation)
                else:
                    self.in_flight.remove(pod)
                    self.done += 1
                    self.last_done = w.now
                    self.idle += 1
                    w.check_finished()
                    self.dispatch()
                return
            if outcome == "throttled":
                rate.throttled(w.now)
            if attempt >= 8:  # the work queue retries the pod later
                self.in_flight.remove(pod)
                self.queue.append(pod)
                self.idle += 1
                w.after(0.4, self.dispatch)
                return
            backoff = w.rng.random() * min(10.0, 0.1 * 2 ** (attempt - 1))
            w.after(backoff, lambda: self.call(pod, kind, attempt + 1, generation))
        w.after(latency, answer)


class World:
    def __init__(self, s, seed, nodes=20, pods=1000, wave=50, wave_every=2.0, terminate_after_wave=8,
                 throttle_share=0.30, server_errors=0.05, spike_rate=0.02, spike_seconds=1.0, latency=0.01,
                 kill_every=10.0, down=2.5, workers=8):
        self.s, self.rng = s, random.Random(seed)
        self.now, self.events, self.sequence = 0.0, [], itertools.count()
        self.account = {kind: [burst, rate, burst, 0.0] for kind, (burst, rate) in ACCOUNT.items()}  # tokens, rate, cap, last
        self.served = {kind: 0 for kind in ACCOUNT}
        self.calls = self.throttled = 0
        self.owed_throttles, self.pending_throttles, self.calls_at_tick = 0.0, 0, 0
        self.throttle_share, self.server_errors = throttle_share, server_errors
        self.spike_rate, self.spike_seconds, self.latency = spike_rate, spike_seconds, latency
        self.pods, self.wave, self.wave_every, self.terminate_after_wave = pods, wave, wave_every, terminate_after_wave
        self.kill_every, self.down = kill_every, down
        self.agents = [Agent(self, i, workers) for i in range(nodes)]
        self.made, self.finished = 0, None

    def after(self, delay, action):
        heapq.heappush(self.events, (self.now + delay, next(self.sequence), action))

    def account_answer(self, kind):
        tokens, rate, capacity, last = self.account[kind]
        tokens = min(capacity, tokens + (self.now - last) * rate)
        self.calls += 1
        outcome = "throttled"
        if self.pending_throttles > 0:
            self.pending_throttles -= 1
        elif tokens >= 1:
            tokens -= 1
            self.served[kind] += 1
            outcome = "error" if self.rng.random() < self.server_errors else "success"
        self.throttled += outcome == "throttled"
        self.account[kind] = [tokens, rate, capacity, self.now]
        return outcome

    def inject(self):
        self.owed_throttles += (self.calls - self.calls_at_tick) * self.throttle_share
        self.calls_at_tick = self.calls
        whole = int(self.owed_throttles)
        self.pending_throttles += whole
        self.owed_throttles -= whole
        if self.finished is None:
            self.after(0.05, self.inject)

    def next_wave(self, number):
        if number == self.terminate_after_wave:
            self.agents[random.Random(len(self.agents)).randrange(len(self.agents))].retire()
        live = [a for a in self.agents if not a.retired]
        for _ in range(self.wave):
            if self.made < self.pods:
                min(live, key=lambda a: a.assigned).add_pod()
                self.made += 1
        if self.made < self.pods:
            self.after(self.wave_every, lambda: self.next_wave(number + 1))

    def kill_one(self):
        running = [a for a in self.agents if a.running]
        if running:
            self.rng.choice(running).kill(self.down)
        if self.finished is None:
            self.after(self.kill_every, self.kill_one)

    def check_finished(self):
        if self.made >= self.pods and self.finished is None and all(a.retired or a.done == a.assigned for a in self.agents):
            self.finished = self.now

    def run(self):
        self.after(0, lambda: self.next_wave(0))
        self.after(0.05, self.inject)
        self.after(self.kill_every, self.kill_one)
        for agent in self.agents:
            agent.start()
        while self.events and self.finished is None and self.now < 900:
            self.now, _, action = heapq.heappop(self.events)
            action()
        floor = max((self.served[k] - ACCOUNT[k][0]) / ACCOUNT[k][1] for k in ACCOUNT)
        live_pods = sum(a.assigned for a in self.agents if not a.retired)
        return {"ratio": (self.finished or self.now) / floor, "throttled": self.throttled / self.calls,
                "attempts": self.calls / live_pods}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=100)
    parser.add_argument("--share", choices=["node", "bucket"], default="node")
    parser.add_argument("--new-evidence", type=int, default=0)
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="an AdaptiveSettings constant")
    args = parser.parse_args()
    s = Settings()
    s.share, s.new_evidence = args.share, args.new_evidence
    for assignment in args.set:
        name, value = assignment.split("=", 1)
        if not hasattr(Settings, name):
            parser.error(f"no setting {name}")
        setattr(s, name, float(value))
    runs = [World(s, seed).run() for seed in range(args.seeds)]
    ratios = sorted(r["ratio"] for r in runs)
    print(f"time / floor: mean {statistics.mean(ratios):.3f}x, p90 {ratios[int(len(ratios) * 0.9)]:.2f}x, "
          f"max {ratios[-1]:.2f}x, above 1.2x in {sum(r > 1.2 for r in ratios)} of {len(ratios)}; "
          f"throttled {100 * statistics.mean(r['throttled'] for r in runs):.1f}%; "
          f"attempts per pod {statistics.mean(r['attempts'] for r in runs):.2f}")


if __name__ == "__main__":
    main()
