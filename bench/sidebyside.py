#!/usr/bin/env python3
"""Side-by-side benchmark of ssmres against the tools people use today, in one run.

Run with the project venv's python (scripts/setup-venv); standard library only. Normally
started by bench/run-all, which builds the binaries first; bench/run-get runs the `get` part
alone.

Parts:
  get   `ssmres get -o json`, a bare aws-sdk-ssm call (bench/bare_get.rs) and
        `aws ssm get-command-invocation --output json` against one local moto server, runs
        interleaved round by round: wall time and peak RSS (ru_maxrss, through /usr/bin/time).
  wait  `ssmres wait` against `aws ssm wait command-executed` (botocore's CommandExecuted
        waiter) on a scripted GetCommandInvocation endpoint served by this process: the
        invocation turns terminal T seconds after the harness arms the endpoint, right before
        it starts the tool; lag = the moment wait4 returns - (arm time + T). Then the eventual
        consistency scenario: InvocationDoesNotExist for the first seconds.

Rounds (environment): BENCH_GET_WARMUP (3), BENCH_GET_ROUNDS (30), BENCH_WAIT_TS ("2 10 60"),
BENCH_WAIT_ROUNDS (3, for T <= 10 s), BENCH_WAIT_ROUNDS_LONG (2, for T > 10 s),
BENCH_EC_ROUNDS (2).

Writes the headline, build, get and wait sections of BENCHMARKS.md (the fleet section belongs
to bench/run-fleet) and prints them; --raw FILE keeps every run's measurements, --from-raw FILE
renders the sections again from such a file without measuring. Exits non-zero only when the harness itself fails (a tool
that cannot run, an endpoint that does not start); failed goals are printed, not fatal.
"""

import argparse
import datetime
import http.server
import json
import os
import platform
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CMD_ID = "8d5f3b4e-2a1c-4c3e-9f7a-1b2c3d4e5f60"
INSTANCE_ID = "i-0123456789abcdef0"


class HarnessError(Exception):
    pass


def env_int(name, default):
    v = os.environ.get(name, "").strip()
    return int(v) if v else default


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def clean_env():
    """The process environment without AWS_*, with dummy credentials and a fixed region, so
    that no real profile, credential or metadata look-up can take part; without PYTHON* too
    (PYTHONDONTWRITEBYTECODE and the like), so the aws CLI starts as it does for a user; and
    without SSMRES_* (the user's own defaults would change the figures of "default flags")."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "PYTHON", "SSMRES_"))}
    env.update(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_REGION="us-east-1",
        AWS_DEFAULT_REGION="us-east-1",
        AWS_EC2_METADATA_DISABLED="true",
        AWS_CONFIG_FILE="/dev/null",
        AWS_SHARED_CREDENTIALS_FILE="/dev/null",
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
    )
    return env


# ---------------------------------------------------------------------------------------------
# Running one process


class Runner:
    """Runs one process at a time, stdin from /dev/null, stdout and stderr to scratch files.

    Peak RSS is `ru_maxrss` of the tool as reported by `wait4`, but read through GNU time
    (`/usr/bin/time -f %M`): Linux folds the high-water RSS of the process that calls exec into
    the new program's `ru_maxrss`, so a tool spawned straight from this Python process would
    report at least this process's own RSS (about 25 MiB). Forked from GNU time (about 2 MB),
    the figure is the tool's own. The wrapper costs about 0.7 ms of start-up, so wall times of
    `get` are taken from separate runs spawned directly."""

    def __init__(self, env, scratch):
        self.env = env
        self.out = os.path.join(scratch, "stdout")
        self.err = os.path.join(scratch, "stderr")
        self.rss = os.path.join(scratch, "rss")

    def spawn(self, argv, limit, before=None, rss=False):
        """Runs argv to its end (its process group killed after `limit` seconds) and returns
        start and end (monotonic), wall time, exit code, peak RSS in KiB (with rss=True, else
        None) and stderr's first line. `before` runs right before the spawn."""
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        actions = [
            (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
            (os.POSIX_SPAWN_OPEN, 1, self.out, flags, 0o644),
            (os.POSIX_SPAWN_OPEN, 2, self.err, flags, 0o644),
        ]
        if rss:
            argv = ["/usr/bin/time", "-f", "%M", "-o", self.rss, *argv]
        if before:
            before()
        start = time.monotonic()
        pid = os.posix_spawn(argv[0], argv, self.env, file_actions=actions, setpgroup=0)
        killed = []

        def kill():
            killed.append(True)
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        timer = threading.Timer(limit, kill)
        timer.daemon = True
        timer.start()
        try:
            _, status, _ = os.wait4(pid, 0)
        except BaseException:
            kill()
            os.waitpid(pid, 0)
            raise
        finally:
            timer.cancel()
        end = time.monotonic()
        with open(self.err, errors="replace") as f:
            first = next((line.strip() for line in f if line.strip()), "")
        peak = None
        if rss:
            with open(self.rss) as f:
                last = f.read().strip().splitlines()[-1:]
            if not last or not last[0].isdigit():
                raise HarnessError(f"no peak RSS from /usr/bin/time for {argv[5]}: {last}")
            peak = int(last[0])
        return dict(start=start, end=end, wall=end - start, rc=os.waitstatus_to_exitcode(status),
                    rss_kib=peak, stderr=first[:300], killed=bool(killed))

    def stdout(self):
        with open(self.out, errors="replace") as f:
            return f.read()


# ---------------------------------------------------------------------------------------------
# The scripted endpoint


def invocation(status, details, stdout):
    """A GetCommandInvocation answer shaped like SSM's (tests/support/fake_ssm.rs)."""
    running = status in ("Pending", "InProgress", "Delayed", "Cancelling")
    return {
        "CommandId": CMD_ID,
        "InstanceId": INSTANCE_ID,
        "Comment": "",
        "DocumentName": "AWS-RunShellScript",
        "DocumentVersion": "$DEFAULT",
        "PluginName": "aws:runShellScript",
        "ResponseCode": -1 if running else (0 if status == "Success" else 1),
        "ExecutionStartDateTime": "2024-05-14T09:12:31.291Z",
        "ExecutionElapsedTime": "" if running else "PT2.516S",
        "ExecutionEndDateTime": "" if running else "2024-05-14T09:12:33.807Z",
        "Status": status,
        "StatusDetails": details,
        "StandardOutputContent": stdout,
        "StandardOutputUrl": "",
        "StandardErrorContent": "",
        "StandardErrorUrl": "",
        "CloudWatchOutputConfig": {"CloudWatchLogGroupName": "", "CloudWatchOutputEnabled": False},
    }


IN_PROGRESS = invocation("InProgress", "In Progress", "")
SUCCESS = invocation("Success", "Success", "deployed build 4711\nall checks passed\n")


class Endpoint:
    """GetCommandInvocation over AWS JSON 1.1 on 127.0.0.1, scripted per run: armed with the
    terminal moment T and an invisible window, it answers InvocationDoesNotExist until the
    window ends, InProgress until T, then Success, and records every call."""

    def __init__(self):
        self.lock = threading.Lock()
        self.t0 = None
        self.terminal_at = 0.0
        self.invisible = 0.0
        self.calls = []  # (seconds after arming, answer)
        self.stray = []  # calls while not armed, or to other operations, or for other ids
        ep = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                status, body = ep.answer(self.headers.get("X-Amz-Target", ""), raw)
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()

    def arm(self, terminal_at, invisible):
        with self.lock:
            self.calls, self.stray = [], []
            self.terminal_at, self.invisible = terminal_at, invisible
            self.t0 = time.monotonic()

    def take(self):
        with self.lock:
            t0, calls, stray = self.t0, self.calls, self.stray
            self.t0, self.calls, self.stray = None, [], []
        return t0, calls, stray

    def answer(self, target, raw):
        now = time.monotonic()
        not_found = (400, {"__type": "InvocationDoesNotExist", "message": None})
        try:
            req = json.loads(raw or b"{}")
        except ValueError:
            req = {}
        with self.lock:
            if target != "AmazonSSM.GetCommandInvocation":
                self.stray.append(target)
                return 400, {"__type": "UnknownOperationException", "message": f"unknown {target}"}
            if self.t0 is None or req.get("CommandId") != CMD_ID or req.get("InstanceId") != INSTANCE_ID:
                self.stray.append(f"{target} {req}")
                return not_found
            rel = now - self.t0
            if rel < self.invisible:
                self.calls.append((rel, "InvocationDoesNotExist"))
                return not_found
            if rel < self.terminal_at:
                self.calls.append((rel, "InProgress"))
                return 200, IN_PROGRESS
            self.calls.append((rel, "Success"))
            return 200, SUCCESS


# ---------------------------------------------------------------------------------------------
# Statistics and formatting


def spread(xs):
    """(low, high, what): min–max for fewer than 10 runs, else the 10th–90th percentile."""
    xs = sorted(xs)
    if len(xs) < 10:
        return xs[0], xs[-1], "min–max"
    q = statistics.quantiles(xs, n=10, method="inclusive")
    return q[0], q[-1], "p10–p90"


def med(xs):
    return statistics.median(xs)


def ratio(a, b):
    return a / b if b else float("inf")


def fmt_ratio(x):
    if x == float("inf"):
        return "∞"
    return f"{x:.0f}×" if x >= 10 else f"{x:.2f}×"


def verdict(p):
    return "—" if p is None else ("PASS" if p else "**FAIL**")


def machine():
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor() or "unknown CPU")
    mem = next((int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal")), 0)
    return dict(cpu=cpu, cores=os.cpu_count(), mem_gib=mem / 1024 / 1024,
                kernel=f"{platform.system()} {platform.release()}")


def version_of(argv, env):
    try:
        p = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60)
        return (p.stdout.strip() or p.stderr.strip()).splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "unknown"


def waiter_config(venv):
    """botocore's CommandExecuted waiter as the venv's aws CLI loads it (awscli 1.x carries its
    own copy of botocore, awscli/botocore): delay, maxAttempts, what InvocationDoesNotExist does."""
    site = [os.path.join(venv, "lib", d, "site-packages") for d in os.listdir(os.path.join(venv, "lib"))]
    for base in [os.path.join(x, "awscli", "botocore") for x in site] + [os.path.join(x, "botocore") for x in site]:
        d = os.path.join(base, "data", "ssm")
        if not os.path.isdir(d):
            continue
        for v in sorted(os.listdir(d), reverse=True):
            f = os.path.join(d, v, "waiters-2.json")
            if os.path.exists(f):
                w = json.load(open(f))["waiters"]["CommandExecuted"]
                nf = next((a["state"] for a in w["acceptors"] if a.get("expected") == "InvocationDoesNotExist"),
                          "failure (no acceptor)")
                return dict(delay=float(w["delay"]), max_attempts=int(w["maxAttempts"]), not_found=nf,
                            source=os.path.relpath(f, venv))
    raise HarnessError("cannot find botocore's ssm waiters-2.json in the venv")


def loadavg():
    return open("/proc/loadavg").read().split()[0]


# ---------------------------------------------------------------------------------------------
# Part 1: start-up and one get


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def part_get(cfg, runner):
    venv = cfg.venv
    aws = os.path.join(venv, "bin", "aws")
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    moto = subprocess.Popen([os.path.join(venv, "bin", "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env=runner.env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).read()
                break
            except OSError:
                if moto.poll() is not None or time.monotonic() > deadline:
                    raise HarnessError("moto_server did not start")
                time.sleep(0.1)

        def aws_text(*args):
            p = subprocess.run([aws, "--endpoint-url", endpoint, *args, "--output", "text"],
                               capture_output=True, text=True, env=runner.env, timeout=120)
            if p.returncode != 0:
                raise HarnessError(f"aws {' '.join(args[:2])} failed: {p.stderr.strip()}")
            return p.stdout.strip()

        ami = aws_text("ec2", "describe-images", "--owners", "amazon", "--query", "Images[0].ImageId")
        iid = aws_text("ec2", "run-instances", "--image-id", ami, "--count", "1",
                       "--query", "Instances[0].InstanceId")
        cid = aws_text("ssm", "send-command", "--document-name", "AWS-RunShellScript",
                       "--instance-ids", iid, "--parameters", 'commands=["echo bench"]',
                       "--query", "Command.CommandId")
        ids = ["--command-id", cid, "--instance-id", iid]
        tools = [
            ("ssmres", [cfg.ssmres, "get", "-o", "json", "--endpoint-url", endpoint, *ids]),
            ("bare", [cfg.bare, endpoint, cid, iid]),
            ("aws", [aws, "ssm", "get-command-invocation", "--endpoint-url", endpoint, *ids,
                     "--output", "json"]),
        ]
        warmup, rounds = env_int("BENCH_GET_WARMUP", 3), env_int("BENCH_GET_ROUNDS", 30)
        runs = {name: [] for name, _ in tools}
        rss = {name: [] for name, _ in tools}
        log(f"get: {warmup} warm-up rounds, then {rounds} rounds of ssmres, bare SDK, aws CLI "
            f"(each round: one direct run of each for the wall time, one through /usr/bin/time for the RSS)")
        for i in range(warmup + rounds):
            for with_rss in (False, True):
                for name, argv in tools:
                    r = runner.spawn(argv, limit=60, rss=with_rss)
                    if r["rc"] != 0:
                        raise HarnessError(f"get: {name} exited {r['rc']}: {r['stderr']}")
                    if i == 0 and name != "bare":
                        try:
                            out = json.loads(runner.stdout())
                        except ValueError:
                            raise HarnessError(f"get: {name} printed no JSON")
                        if out.get("CommandId") != cid:
                            raise HarnessError(f"get: {name} printed another invocation: {out}")
                    if i >= warmup:
                        (rss if with_rss else runs)[name].append(r)
        return dict(runs=runs, rss=rss, warmup=warmup, rounds=rounds)
    finally:
        moto.terminate()
        try:
            moto.wait(timeout=10)
        except subprocess.TimeoutExpired:
            moto.kill()
            moto.wait()


def summarise_get(res):
    runs = res["runs"]
    s = {}
    for name, rs in runs.items():
        walls = [r["wall"] * 1000 for r in rs]
        rss = [r["rss_kib"] / 1024 for r in res["rss"][name]]
        lo, hi, kind = spread(walls)
        rlo, rhi, _ = spread(rss)
        s[name] = dict(med=med(walls), lo=lo, hi=hi, kind=kind, rss=med(rss), rss_lo=rlo, rss_hi=rhi)
    speedup = ratio(s["aws"]["med"], s["ssmres"]["med"])
    vs_bare = ratio(s["ssmres"]["med"], s["bare"]["med"])
    goals = [
        ("`get`: ssmres at least 15× faster than the aws CLI (wall time, medians)", speedup >= 15,
         f"{speedup:.1f}×"),
        ("`get`: ssmres within 1.5× of the bare SDK call (the project's own bar, medians)", vs_bare <= 1.5,
         f"{vs_bare:.2f}×"),
    ]
    return s, speedup, vs_bare, goals


def section_get(res, info):
    s, speedup, vs_bare, goals = summarise_get(res)
    labels = dict(ssmres="`ssmres get -o json`", bare="bare aws-sdk-ssm call (`bench/bare_get.rs`)",
                  aws=f"`aws ssm get-command-invocation --output json` ({info['aws_version'].split()[0]}) — anchor")
    rows = []
    for name in ("ssmres", "bare", "aws"):
        x = s[name]
        rows.append(f"| {labels[name]} | {x['med']:.1f} ms | {x['lo']:.1f}–{x['hi']:.1f} ms "
                    f"| {fmt_ratio(ratio(s['aws']['med'], x['med']))} | {fmt_ratio(ratio(x['med'], s['bare']['med']))} "
                    f"| {x['rss']:.1f} MiB | {x['rss_lo']:.1f}–{x['rss_hi']:.1f} MiB "
                    f"| {fmt_ratio(ratio(s['aws']['rss'], x['rss']))} |")
    kind = s["ssmres"]["kind"]
    goal_rows = "\n".join(f"| {g} | {verdict(p)} | {t} |" for g, p, t in goals)
    return f"""<!-- get:start -->
## Start-up and one `get`

Measured {info['date']} in one run of `bench/run-all` (see [the run](#the-run) for the machine
and versions). Three commands fetch the same invocation from the same local moto server
({info['moto_version']}): each makes one GetCommandInvocation call, so the difference is start-up,
configuration and rendering. After {plural(res['warmup'], 'warm-up round')}, {plural(res['rounds'], 'round')} run the three
commands one after the other (ssmres, bare SDK, aws CLI, then again), so that any drift in the
machine's load hits all three alike. Wall time runs from the spawn (`posix_spawn` from the
harness) to the moment `wait4` returns. Peak RSS is the tool's `ru_maxrss`, from a second run of
each command in the same round under `/usr/bin/time -f %M` (spawned straight from the Python
harness, Linux would fold the harness's own RSS into the figure). Spread is the {kind.replace('p10–p90', '10th–90th percentile').replace('min–max', 'minimum–maximum')}
of the {res['rounds']} runs. The anchor is the aws CLI: "anchor ÷ this" is how many times faster
(or lighter) than the aws CLI; "this ÷ bare SDK" is the cost over one bare aws-sdk-ssm call
with the SDK's defaults (the project's own bar).

| command | wall time: median | spread | anchor ÷ this | this ÷ bare SDK | peak RSS: median | spread | anchor ÷ this |
|---|---|---|---|---|---|---|---|
{chr(10).join(rows)}

| goal | result | measured |
|---|---|---|
{goal_rows}
<!-- get:end -->"""


# ---------------------------------------------------------------------------------------------
# Part 2: wait lag and calls; part 3: eventual consistency


def wait_tools(cfg, url, with_variant):
    ids = ["--command-id", CMD_ID, "--instance-id", INSTANCE_ID]
    aws = os.path.join(cfg.venv, "bin", "aws")
    tools = [("ssmres", "`ssmres wait` (default flags)",
              [cfg.ssmres, "wait", "--endpoint-url", url, *ids, "-o", "json", "-q"])]
    if with_variant:
        tools.append(("ssmres-5s", "`ssmres wait --min-interval 5s`",
                      [cfg.ssmres, "wait", "--endpoint-url", url, *ids, "-o", "json", "-q",
                       "--min-interval", "5s"]))
    tools.append(("waiter", "`aws ssm wait command-executed` — anchor",
                  [aws, "ssm", "wait", "command-executed", "--endpoint-url", url, *ids]))
    return tools


def one_wait(runner, ep, argv, terminal_at, invisible):
    # The endpoint is armed (t0 taken) right before the spawn.
    r = runner.spawn(argv, limit=terminal_at + 180, before=lambda: ep.arm(terminal_at, invisible), rss=True)
    t0, calls, stray = ep.take()
    r.update(terminal_at=terminal_at, invisible=invisible, lag=r["end"] - (t0 + terminal_at),
             calls=len(calls), call_times=[round(t, 3) for t, _ in calls],
             answers=[a for _, a in calls], stray=stray)
    return r


def run_scenario(runner, ep, tools, terminal_at, invisible, rounds, label):
    warm_t = min(terminal_at, 2.0)
    log(f"{label}: warm-up (T = {warm_t:g} s, visible), then {rounds} rounds of {', '.join(n for n, _, _ in tools)}")
    for name, _, argv in tools:
        one_wait(runner, ep, argv, warm_t, 0.0)
    runs = {name: [] for name, _, _ in tools}
    for i in range(rounds):
        for name, _, argv in tools:
            r = one_wait(runner, ep, argv, terminal_at, invisible)
            if r["calls"] == 0:
                raise HarnessError(f"{label}: {name} made no call to the endpoint "
                                   f"(exit {r['rc']}: {r['stderr']})")
            log(f"  round {i + 1}/{rounds} {name}: exit {r['rc']}, lag {r['lag']:.2f} s, {r['calls']} calls")
            runs[name].append(r)
    return runs


def part_wait(cfg, runner):
    ep = Endpoint()
    try:
        ts = [float(t) for t in os.environ.get("BENCH_WAIT_TS", "2 10 60").split()]
        short, long_ = env_int("BENCH_WAIT_ROUNDS", 3), env_int("BENCH_WAIT_ROUNDS_LONG", 2)
        scenarios = []
        for t in ts:
            tools = wait_tools(cfg, ep.url, with_variant=t > 10)
            rounds = short if t <= 10 else long_
            runs = run_scenario(runner, ep, tools, t, 0.0, rounds, f"wait T = {t:g} s")
            scenarios.append(dict(T=t, invisible=0.0, rounds=rounds,
                                  tools=[(n, label) for n, label, _ in tools], runs=runs))
        ec_rounds = env_int("BENCH_EC_ROUNDS", 2)
        tools = wait_tools(cfg, ep.url, with_variant=False)
        ec_runs = run_scenario(runner, ep, tools, 8.0, 5.0, ec_rounds,
                               "eventual consistency (invisible 5 s, terminal at 8 s)")
        ec = dict(T=8.0, invisible=5.0, rounds=ec_rounds, tools=[(n, label) for n, label, _ in tools],
                  runs=ec_runs)
        return dict(scenarios=scenarios, ec=ec)
    finally:
        ep.close()


def wait_goals(res):
    goals = []
    for sc in res["scenarios"]:
        t, runs = sc["T"], sc["runs"]
        if t <= 10:
            lag = med([r["lag"] for r in runs["ssmres"]])
            goals.append((f"wait T = {t:g} s: ssmres median lag ≤ 0.5 s", lag <= 0.5, f"{lag:.2f} s"))
        else:
            waiter_calls = med([r["calls"] for r in runs["waiter"]])
            for name, note in (("ssmres", "default flags"), ("ssmres-5s", "`--min-interval 5s`, for information")):
                if name not in runs:
                    continue
                calls = med([r["calls"] for r in runs[name]])
                worst = max(r["lag"] for r in runs[name])
                goals.append((f"wait T = {t:g} s ({note}): ssmres calls ≤ the waiter's (medians)",
                              calls <= waiter_calls, f"{calls:g} vs {waiter_calls:g}"))
                goals.append((f"wait T = {t:g} s ({note}): ssmres lag ≤ 5 s, the waiter's worst case (every run)",
                              worst <= 5.0, f"worst {worst:.2f} s"))
    ec = res["ec"]["runs"]["ssmres"]
    ok = sum(1 for r in ec if r["rc"] == 0)
    goals.append(("eventual consistency: ssmres ends with Success (exit 0) in every run", ok == len(ec),
                  f"{ok} of {len(ec)} runs"))
    for sc in res["scenarios"] + [res["ec"]]:
        for name, rs in sc["runs"].items():
            bad = [r for r in rs if r["stray"]]
            if bad:
                goals.append((f"sanity: only GetCommandInvocation for the scripted ids ({name}, T = {sc['T']:g} s)",
                              False, "; ".join(sorted({s for r in bad for s in r["stray"]}))[:200]))
    return goals


def exit_codes(rs):
    codes = sorted({r["rc"] for r in rs})
    return ", ".join(str(c) for c in codes)


def first_attempt(rs):
    """What the endpoint answered to a tool's first call and what the tool did next, over runs."""
    firsts = sorted({r["answers"][0] for r in rs if r["answers"]})
    text = (f"first call {med([r['call_times'][0] for r in rs]):.2f} s after the start "
            f"(median) answered {' / '.join(firsts)} in {'every run' if len(firsts) == 1 else 'the runs'}")
    again = [r["call_times"][1] - r["call_times"][0] for r in rs if len(r["call_times"]) > 1]
    if len(again) < len(rs):
        text += f"; {len(rs) - len(again)} run(s) made no further call"
    if again:
        text += f"; it called again {med(again):.2f} s later (median)"
    misses = [sum(1 for a in r["answers"] if a == "InvocationDoesNotExist") for r in rs]
    return text + f"; InvocationDoesNotExist answers: {', '.join(map(str, misses))}"


def last_pause(r):
    """The pause before the call that saw the end: the most the lag could have been."""
    t = r["call_times"]
    return t[-1] - t[-2] if len(t) > 1 else float("nan")


def plural(n, word):
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def section_wait(res, info):
    w = info["waiter"]
    rows = []
    for sc in res["scenarios"]:
        waiter = sc["runs"]["waiter"]
        w_lag = med([r["lag"] for r in waiter])
        w_calls = med([r["calls"] for r in waiter])
        for name, label in sc["tools"]:
            rs = sc["runs"][name]
            lags = [r["lag"] for r in rs]
            calls = [r["calls"] for r in rs]
            lo, hi, _ = spread(lags)
            rows.append(
                f"| {sc['T']:g} s | {label} | {len(rs)} | {med(lags):.2f} s | {lo:.2f}–{hi:.2f} s "
                f"| {', '.join(f'{x:.2f}' for x in lags)} | {fmt_ratio(ratio(med(lags), w_lag))} "
                f"| {med([last_pause(r) for r in rs]):.2f} s "
                f"| {med(calls):g} ({min(calls)}–{max(calls)}) | {fmt_ratio(ratio(med(calls), w_calls))} "
                f"| {exit_codes(rs)} | {med([r['rss_kib'] for r in rs]) / 1024:.1f} MiB |")
    ec = res["ec"]
    ec_rows = []
    for name, label in ec["tools"]:
        rs = ec["runs"][name]
        lags = [r["lag"] for r in rs]
        lo, hi, _ = spread(lags)
        stderr = sorted({r["stderr"] for r in rs if r["stderr"]})
        ec_rows.append(
            f"| {label} | {len(rs)} | {', '.join(str(r['rc']) for r in rs)} | {med(lags):.2f} s ({lo:.2f}–{hi:.2f} s) "
            f"| {med([r['calls'] for r in rs]):g} | {first_attempt(rs)} "
            f"| {'; '.join(f'`{s}`' for s in stderr) if stderr else '(empty)'} |")
    goal_rows = "\n".join(f"| {g} | {verdict(p)} | {t} |" for g, p, t in wait_goals(res))
    short = sorted({sc["rounds"] for sc in res["scenarios"] if sc["T"] <= 10})
    long_ = sorted({sc["rounds"] for sc in res["scenarios"] if sc["T"] > 10})
    rounds_text = " and ".join(
        x for x in (f"{'/'.join(map(str, short))} round{'s' if short != [1] else ''} for T ≤ 10 s" if short else "",
                    f"{'/'.join(map(str, long_))} for T > 10 s" if long_ else "") if x)
    first = med([r["call_times"][0] for sc in res["scenarios"] for r in sc["runs"]["waiter"]])
    long_ts = " and ".join(f"{sc['T']:g} s" for sc in res["scenarios"] if sc["T"] > 10)
    variant = f"""
At T = {long_ts} the goals are checked with default flags; `ssmres wait --min-interval 5s` is shown
beside them, for information, as the setting for users who prefer fewer calls over a fast first
detection: ssmres then never polls more often than every 5 s.
No one schedule meets both the T ≤ 10 s lag goal and the T = 60 s call goal: a median lag of at
most 0.5 s at T = 10 s needs polls about 1 s apart or closer until then (10 calls or more), and a
lag of at most 5 s at T = 60 s needs a call at least every 5 s from 10 s to 60 s (10 more), while
the waiter makes 13 calls in all. The defaults favour seeing a short command end at once; the
call goal at T = 60 s is reported as it is, with the `--min-interval 5s` row as the answer for
users who count calls.""" if long_ts else ""
    return f"""<!-- wait:start -->
## Waiting for one invocation: detection lag and calls

Measured {info['date']} in the same run. The endpoint is scripted GetCommandInvocation
(AWS JSON 1.1) served by the harness itself (`bench/sidebyside.py`): armed right before each
process starts, it answers `InProgress` until T seconds later, then `Success`, and counts every
call. Lag is the time from that terminal moment to the moment the process has exited (`wait4`
returns), so it holds the last poll pause, the last call and printing; every run goes through
`/usr/bin/time -f %M` for its peak RSS (about 0.7 ms of the lag). The anchor is
`aws ssm wait command-executed` ({info['aws_version']}), botocore's CommandExecuted waiter
(`{w['source']}`): a call, then one every {w['delay']:g} s, at most {w['max_attempts']} calls;
InvocationDoesNotExist: {w['not_found']}. Its lag depends on where T falls between its calls: from
about 0 to {w['delay']:g} s, {w['delay'] / 2:g} s on average for commands ending at random moments. Here its first call
came {first:.2f} s after the start (median, its start-up), so its calls fall about that long after each
multiple of {w['delay']:g} s: a T that is such a multiple (10, 60 s) is seen within about {first:.1f} s, a phase
that favours the waiter; T = 2 s is seen by its second call, about {w['delay'] - 2 + first:.1f} s later.
Each scenario starts with one warm-up run of each tool (at T = 2 s, not counted), then rounds run
the tools one after the other: {rounds_text}. Spread is the minimum–maximum over the runs, every
run's lag is listed; the ratios are this tool's median over the waiter's. "Last pause" is the
median gap between a run's last two calls: the end falls somewhere in it, so it bounds that run's
lag (plus the exit). ssmres pauses 0.5 s for the first 10 s, then a twentieth of the time waited
(±10 %, at most 5 s, its default `--max-interval`): about 0.5 s around 10 s, 3 s around 60 s and
5 s from 100 s on, so its lag at T = 10 s is spread over about 0–0.5 s and at T = 60 s over
about 0–3 s (plus one call);
a few rounds show where this run fell.{variant}

| T | tool | runs | lag: median | spread | every run | lag ÷ waiter's | last pause | calls: median (min–max) | calls ÷ waiter's | exit | peak RSS |
|---|---|---|---|---|---|---|---|---|---|---|---|
{chr(10).join(rows)}

### Eventual consistency

The invocation is invisible (400 `InvocationDoesNotExist`) for the first {ec['invisible']:g} s, as it can be
right after SendCommand, then `InProgress` until {ec['T']:g} s, then `Success`; {plural(ec['rounds'], 'round')} after a
warm-up. "First attempt" is what the endpoint answered to the first call and what the tool did
next; lag is counted from {ec['T']:g} s.

| tool | runs | exit per run | lag: median (spread) | calls | first attempt | stderr, first line |
|---|---|---|---|---|---|---|
{chr(10).join(ec_rows)}

| goal | result | measured |
|---|---|---|
{goal_rows}
<!-- wait:end -->"""


# ---------------------------------------------------------------------------------------------
# Build, headline, writing


def section_build(info, timings):
    size, bare = info["ssmres_mb"], info["bare_mb"]
    if info["build_seconds"] is not None:
        build = (f"Cold release build: **{info['build_seconds']:.0f} s** (`cargo build --release --bin ssmres "
                 f"--example bare_get --example fleet_endpoint --example aliyun_fleet_endpoint` "
                 f"into an empty target directory, "
                 f"no compiler cache; dependencies fetched beforehand, not timed).")
    else:
        build = f"Cold release build: not measured in this run ({info['build_note'] or 'binaries reused'})."
    parts = ", ".join(f"{k} {v:.0f} s" for k, v in timings.items())
    m = info["machine"]
    return f"""<!-- build:start -->
## The run

{info['date']} {info['time']} UTC on {m['cpu']}, {m['cores']} cores, {m['mem_gib']:.0f} GiB,
{m['kernel']}; load average {info['load_start']} at the start, {info['load_end']} at the end of the
side-by-side part. {info['rustc']}; {info['ssmres_version']}; {info['aws_version']};
{info['moto_version']}; Python {info['python']}.

{build} Release binary `ssmres`: **{size:.1f} MB** (the bare SDK example: {bare:.1f} MB,
ratio {size / bare:.2f}×), for the record.

Time this run took: {parts}.
<!-- build:end -->"""


def headline(info, get_res, wait_res):
    fleet = info["fleet"]
    lines = []
    if get_res:
        s, speedup, vs_bare, goals = summarise_get(get_res)
        lines.append(f"- `get`, start-up and one call: ssmres {s['ssmres']['med']:.1f} ms vs the aws CLI "
                     f"{s['aws']['med']:.0f} ms: **{speedup:.0f}× faster** (goal ≥ 15×: {verdict(goals[0][1])}); "
                     f"peak RSS {s['ssmres']['rss']:.1f} vs {s['aws']['rss']:.1f} MiB "
                     f"({ratio(s['aws']['rss'], s['ssmres']['rss']):.1f}× lighter).")
        lines.append(f"- `get` vs one bare aws-sdk-ssm call: **{vs_bare:.2f}×** (bar ≤ 1.5×: {verdict(goals[1][1])}).")
    if wait_res:
        goals = {g: (p, t) for g, p, t in wait_goals(wait_res)}
        for sc in wait_res["scenarios"]:
            r = sc["runs"]
            sl, wl = med([x["lag"] for x in r["ssmres"]]), med([x["lag"] for x in r["waiter"]])
            sc_, wc = med([x["calls"] for x in r["ssmres"]]), med([x["calls"] for x in r["waiter"]])
            if sc["T"] <= 10:
                g = goals.get(f"wait T = {sc['T']:g} s: ssmres median lag ≤ 0.5 s", (None, ""))[0]
                lines.append(f"- `wait`, command ending after {sc['T']:g} s: median lag ssmres **{sl:.2f} s** vs "
                             f"the waiter {wl:.2f} s, with {sc_:g} vs {wc:g} calls (goal lag ≤ 0.5 s: {verdict(g)}).")
            else:
                pre = f"wait T = {sc['T']:g} s (default flags): ssmres "
                gc = goals.get(pre + "calls ≤ the waiter's (medians)", (None,))[0]
                gl = goals.get(pre + "lag ≤ 5 s, the waiter's worst case (every run)", (None,))[0]
                line = (f"- `wait`, command ending after {sc['T']:g} s: ssmres {sc_:g} calls vs the waiter's {wc:g} "
                        f"(goal ≤: {verdict(gc)}), median lag {sl:.2f} s vs {wl:.2f} s (goal ≤ 5 s: {verdict(gl)})")
                if "ssmres-5s" in r:
                    vl = med([x["lag"] for x in r["ssmres-5s"]])
                    vc = med([x["calls"] for x in r["ssmres-5s"]])
                    line += f"; with `--min-interval 5s`: {vc:g} calls, median lag {vl:.2f} s"
                lines.append(line + ".")
        ec = wait_res["ec"]["runs"]
        ok = sum(1 for x in ec["ssmres"] if x["rc"] == 0)
        wok = sum(1 for x in ec["waiter"] if x["rc"] == 0)
        lines.append(f"- Eventual consistency (invisible for {wait_res['ec']['invisible']:g} s): ssmres ends with "
                     f"Success in {ok} of {len(ec['ssmres'])} runs ({verdict(ok == len(ec['ssmres']))}), median lag "
                     f"{med([x['lag'] for x in ec['ssmres']]):.2f} s; the waiter, which retries on "
                     f"InvocationDoesNotExist, in {wok} of {len(ec['waiter'])}, median lag "
                     f"{med([x['lag'] for x in ec['waiter']]):.2f} s.")
    if fleet:
        lines.append(f"- Fleet waits: {fleet} (see [the fleet section](#waiting-for-a-fleet-ssmres-wait-without---instance-id)).")
    lines.append(f"- Release binary {info['ssmres_mb']:.1f} MB"
                 + (f", cold release build {info['build_seconds']:.0f} s." if info["build_seconds"] is not None else
                    "; cold build not measured in this run."))
    return f"""<!-- headline:start -->
## Headline

Measured {info['date']} on {info['machine']['cpu']} ({info['machine']['cores']} cores), all in one run of
`bench/run-all`; details and spreads below.

{chr(10).join(lines)}
<!-- headline:end -->"""


def fleet_summary(path, status):
    if not path or not os.path.exists(path):
        return None
    results = [line.split()[0] for line in open(path, errors="replace")
               if line.startswith(("PASS", "FAIL", "N/A"))]
    if not results:
        return f"no goal results (bench/run-fleet exited {status})"
    passed, failed = results.count("PASS"), results.count("FAIL")
    failing = [line.strip() for line in open(path, errors="replace") if line.startswith("FAIL")]
    text = f"{passed} of {passed + failed} goals PASS"
    if failing:
        text += "; **FAIL**: " + "; ".join(x[4:].strip() for x in failing)
    return text


def put(text, name, section, before):
    pattern = re.compile(rf"<!-- {name}:start -->.*?<!-- {name}:end -->", re.S)
    if pattern.search(text):
        return pattern.sub(lambda _: section, text)
    for b in before:
        i = text.find(f"<!-- {b}:start -->")
        if i >= 0:
            return text[:i] + section + "\n\n" + text[i:]
    return text.rstrip("\n") + "\n\n" + section + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin-dir", help="release dir with ssmres and examples/bare_get")
    ap.add_argument("--venv", default=os.environ.get("SSMRES_VENV", os.path.join(ROOT, ".venv")))
    ap.add_argument("--only", choices=["get", "wait"], action="append",
                    help="run only this part (repeatable); leaves the headline and build sections alone")
    ap.add_argument("--build-seconds", type=float)
    ap.add_argument("--build-note")
    ap.add_argument("--timings", default="", help="earlier parts' times, 'name=seconds,...'")
    ap.add_argument("--fleet-log")
    ap.add_argument("--fleet-status", default="")
    ap.add_argument("--raw", help="write every run's measurements to this JSON file")
    ap.add_argument("--from-raw", metavar="FILE",
                    help="measure nothing: render the sections again from a --raw file")
    ap.add_argument("--no-write", action="store_true", help="print, leave BENCHMARKS.md alone")
    cfg = ap.parse_args()

    if cfg.from_raw:
        raw = json.load(open(cfg.from_raw))
        info, timings, get_res, wait_res = raw["info"], raw["timings"], raw["get"], raw["wait"]
    else:
        if not cfg.bin_dir:
            ap.error("--bin-dir is required (or --from-raw)")
        info, timings, get_res, wait_res = measure(cfg)
        if cfg.raw:
            os.makedirs(os.path.dirname(os.path.abspath(cfg.raw)), exist_ok=True)
            with open(cfg.raw, "w") as f:
                json.dump(dict(info=info, timings=timings, get=get_res, wait=wait_res), f, indent=1)

    sections = []
    if info["full"]:
        sections.append(("headline", headline(info, get_res, wait_res)))
        sections.append(("build", section_build(info, timings)))
    if get_res:
        sections.append(("get", section_get(get_res, info)))
    if wait_res:
        sections.append(("wait", section_wait(wait_res, info)))

    for _, text in sections:
        print(text)
        print()
    goals = (summarise_get(get_res)[3] if get_res else []) + (wait_goals(wait_res) if wait_res else [])
    for g, p, t in goals:
        print(f"{'N/A ' if p is None else ('PASS' if p else 'FAIL')}  {g}: {t}")
    failed = [g for g, p, _ in goals if p is False]
    if failed:
        print(f"\n{len(failed)} goal(s) FAILED (figures written all the same):")
        for g in failed:
            print(f"  FAIL  {g}")

    if not cfg.no_write:
        path = os.path.join(ROOT, "BENCHMARKS.md")
        text = open(path).read() if os.path.exists(path) else \
            "# Benchmarks\n\nFigures written by the scripts in bench/; do not edit them by hand.\n"
        order = ["headline", "build", "get", "wait", "fleet"]
        for name, section in sections:
            text = put(text, name, section, order[order.index(name) + 1:])
        with open(path, "w") as f:
            f.write(text)
        log(f"wrote {', '.join(n for n, _ in sections)} to {path}")


def measure(cfg):
    cfg.ssmres = os.path.abspath(os.path.join(cfg.bin_dir, "ssmres"))
    cfg.bare = os.path.abspath(os.path.join(cfg.bin_dir, "examples", "bare_get"))
    cfg.venv = os.path.abspath(cfg.venv)
    for path in (cfg.ssmres, cfg.bare, os.path.join(cfg.venv, "bin", "aws"),
                 os.path.join(cfg.venv, "bin", "moto_server"), "/usr/bin/time"):
        if not os.access(path, os.X_OK):
            raise HarnessError(f"missing {path} (build the binaries, run scripts/setup-venv, install time)")
    parts = cfg.only or ["get", "wait"]

    env = clean_env()
    now = datetime.datetime.now(datetime.timezone.utc)
    try:
        from importlib.metadata import version
        moto_version = f"moto {version('moto')}"
    except Exception:
        moto_version = "moto (version unknown)"
    info = dict(date=now.date().isoformat(), time=now.strftime("%H:%M"), machine=machine(),
                rustc=version_of(["rustc", "--version"], env),
                aws_version=version_of([os.path.join(cfg.venv, "bin", "aws"), "--version"], env),
                ssmres_version=version_of([cfg.ssmres, "--version"], env), moto_version=moto_version,
                python=platform.python_version(), load_start=loadavg(),
                build_seconds=cfg.build_seconds, build_note=cfg.build_note,
                ssmres_mb=os.path.getsize(cfg.ssmres) / 1e6, bare_mb=os.path.getsize(cfg.bare) / 1e6,
                waiter=waiter_config(cfg.venv), full=not cfg.only,
                fleet=fleet_summary(cfg.fleet_log, cfg.fleet_status))
    timings = {}
    for item in filter(None, cfg.timings.split(",")):
        k, v = item.split("=", 1)
        timings[k] = float(v)

    get_res = wait_res = None
    with tempfile.TemporaryDirectory(prefix="ssmres-sidebyside.") as scratch:
        runner = Runner(env, scratch)
        if "get" in parts:
            t = time.monotonic()
            get_res = part_get(cfg, runner)
            timings["get"] = time.monotonic() - t
            log(f"get: {timings['get']:.0f} s")
        if "wait" in parts:
            t = time.monotonic()
            wait_res = part_wait(cfg, runner)
            timings["wait"] = time.monotonic() - t
            log(f"wait: {timings['wait']:.0f} s")
    info["load_end"] = loadavg()
    timings["total"] = sum(v for k, v in timings.items() if k != "total")
    return info, timings, get_res, wait_res


if __name__ == "__main__":
    # Stopped with SIGTERM, unwind like Ctrl-C: the running tool and moto_server are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        main()
    except HarnessError as e:
        log(f"sidebyside: {e}")
        sys.exit(3)
    except KeyboardInterrupt:
        sys.exit(130)
