#!/usr/bin/env python3
"""Streaming a command's complete output: `ssmres get --full-output -o text` on a large S3 object.

Run with the project venv's python (scripts/setup-venv): standard library plus boto3, which
comes with moto (started with another python, the script runs itself again with the venv's).
bench/run-all runs it after the fleet part; alone:

    .venv/bin/python bench/full_output.py --bin-dir target/release [--size-mb 200] [--runs 3] [--no-write]

What it does:
  1. Generates a stdout object of SIZE × 10^6 bytes (deterministic pseudo-random printable
     text: lines of about 64 characters, about 1 % of them 2-, 3- and 4-byte UTF-8 characters),
     written chunk by chunk to a temporary file and hashed on the way, and a 1 MB stderr object.
  2. Starts moto_server from the venv, creates a bucket, uploads both with boto3's upload_file.
  3. Serves a scripted GetCommandInvocation (AWS JSON 1.1) itself: a Success record whose
     StandardOutputUrl / StandardErrorUrl name the objects (path-style AWS URLs) and whose
     contents are cut as the agent cuts them (the first 23,980 / 7,980 bytes and
     `--output truncated--`).
  4. Runs `ssmres --endpoint-url <that endpoint> get --command-id C --instance-id I
     --full-output -o text > file` with AWS_ENDPOINT_URL_S3 pointing at moto: one warm-up run,
     then RUNS runs, each under `/usr/bin/time` (peak RSS, CPU time). Every run's stdout must be
     the object byte for byte (sha256) and its stderr the stderr object exactly.
  5. For information, one run of `-o json` (the complete text in memory by necessity:
     StandardOutputContent must be the object) and one `aws s3 cp s3://bucket/key -` from the
     venv's aws CLI, as a reference.

Writes its section of BENCHMARKS.md (`<!-- full-output:start -->` … `<!-- full-output:end -->`,
placed before the fleet section when absent) unless --no-write, and prints it with the goal
line. Exits 1 when an output is wrong (after writing the section, which says so), 3 when the
harness cannot run (moto does not start, a binary is missing); a failed goal is reported, not
fatal.
"""

import argparse
import datetime
import hashlib
import http.server
import json
import os
import platform
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import urllib.request
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))
sys.dont_write_bytecode = True  # no bench/__pycache__ from importing sidebyside
import sidebyside as sbs  # noqa: E402  (standard library only, no side effects on import)

CMD_ID = "5c0ffee1-9b2a-4d3c-8e4f-a1b2c3d4e5f6"
INSTANCE_ID = "i-0f1e2d3c4b5a69788"
BUCKET = "ssmres-bench-output"
KEY_PREFIX = f"run-command/{CMD_ID}/{INSTANCE_ID}/awsrunShellScript/0.awsrunShellScript"
STDOUT_KEY = f"{KEY_PREFIX}/stdout"
STDERR_KEY = f"{KEY_PREFIX}/stderr"
STDERR_BYTES = 1_000_000
MARKER = "--output truncated--"
GOAL_MIB = 64
GOAL_SIZE_MB = 200
RUN_LIMIT = 600  # seconds for one tool run before it is killed

HarnessError = sbs.HarnessError
log = sbs.log


# ---------------------------------------------------------------------------------------------
# The objects


def byte_table():
    """Maps a random byte to a character: 4/256 newlines (lines of about 64 characters),
    9/256 spaces, 3/256 placeholders for multibyte characters, the rest printable ASCII."""
    table = bytearray(256)
    for b in range(256):
        if b < 4:
            table[b] = 0x0A
        elif b < 7:
            table[b] = b - 3  # 0x01, 0x02, 0x03: replaced below
        elif b < 16:
            table[b] = 0x20
        else:
            table[b] = 33 + (b - 16) % 94
    return bytes(table)


MULTIBYTE = [(b"\x01", "é".encode()), (b"\x02", "€".encode()), (b"\x03", "𝄞".encode())]


def generate(path, size, seed):
    """Writes `size` bytes of valid UTF-8 text to `path`, 1 MiB of randomness at a time;
    returns its sha256 and its first 24,000 bytes."""
    rng = random.Random(seed)
    table = byte_table()
    h = hashlib.sha256()
    head = b""
    written = 0
    with open(path, "wb") as f:
        while written < size:
            chunk = rng.randbytes(1 << 20).translate(table)
            for placeholder, char in MULTIBYTE:
                chunk = chunk.replace(placeholder, char)
            need = size - written
            if len(chunk) >= need:
                # The last piece: never end inside a character, pad with newlines to the size.
                chunk = chunk[:need].decode("utf-8", "ignore").encode()
                chunk += b"\n" * (need - len(chunk))
            f.write(chunk)
            h.update(chunk)
            if len(head) < 24_000:
                head += chunk[:24_000 - len(head)]
            written += len(chunk)
    return h.hexdigest(), head


def agent_cut(head, limit):
    """What GetCommandInvocation returns for a stream longer than `limit` bytes: its first
    `limit - 20` bytes (back to a character boundary) and the marker."""
    return head[:limit - len(MARKER)].decode("utf-8", "ignore") + MARKER


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
    return h.hexdigest()


# ---------------------------------------------------------------------------------------------
# moto and the scripted SSM endpoint


def start_moto(venv, env, logdir):
    """moto_server on a free loopback port (three tries, as tests/support/moto.rs does);
    returns the process and its endpoint once it answers HTTP."""
    failures = []
    for attempt in range(1, 4):
        port = sbs.free_port()
        endpoint = f"http://127.0.0.1:{port}"
        logpath = os.path.join(logdir, f"moto-{attempt}.log")
        with open(logpath, "wb") as logf:
            proc = subprocess.Popen([os.path.join(venv, "bin", "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                                    stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT, env=env)
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=2).read()
                if proc.poll() is None:
                    return proc, endpoint
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        stop(proc)
        failures.append(f"port {port}: {open(logpath, errors='replace').read()[-2000:]}")
    raise HarnessError("moto_server did not start:\n" + "\n".join(failures))


def stop(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class SsmEndpoint:
    """GetCommandInvocation over AWS JSON 1.1 on 127.0.0.1: the one record for CMD_ID /
    INSTANCE_ID, InvocationDoesNotExist for anything else; counts the calls."""

    def __init__(self, record):
        self.record = json.dumps(record).encode()
        self.calls = 0
        self.stray = []
        ep = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                target = self.headers.get("X-Amz-Target", "")
                try:
                    req = json.loads(raw or b"{}")
                except ValueError:
                    req = {}
                if (target == "AmazonSSM.GetCommandInvocation" and req.get("CommandId") == CMD_ID
                        and req.get("InstanceId") == INSTANCE_ID):
                    ep.calls += 1
                    status, data = 200, ep.record
                else:
                    ep.stray.append(f"{target} {req}")
                    status = 400
                    data = json.dumps({"__type": "InvocationDoesNotExist", "message": None}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def record(stdout_head, stderr_head):
    rec = sbs.invocation("Success", "Success", agent_cut(stdout_head, 24_000))
    rec.update(CommandId=CMD_ID, InstanceId=INSTANCE_ID,
               StandardOutputUrl=f"https://s3.us-east-1.amazonaws.com/{BUCKET}/{STDOUT_KEY}",
               StandardErrorContent=agent_cut(stderr_head, 8_000),
               StandardErrorUrl=f"https://s3.us-east-1.amazonaws.com/{BUCKET}/{STDERR_KEY}")
    return rec


# ---------------------------------------------------------------------------------------------
# Running one tool


def run_tool(argv, env, out, err):
    """Runs argv under `/usr/bin/time` (stdin /dev/null, stdout and stderr to files, its process
    group killed after RUN_LIMIT s). Wall time from the spawn to wait4; peak RSS (KiB), user
    and system CPU seconds as GNU time reports them for the tool itself."""
    timef = out + ".time"
    argv = ["/usr/bin/time", "-f", "%M %U %S", "-o", timef, *argv]
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    actions = [(os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
               (os.POSIX_SPAWN_OPEN, 1, out, flags, 0o644),
               (os.POSIX_SPAWN_OPEN, 2, err, flags, 0o644)]
    start = time.monotonic()
    pid = os.posix_spawn(argv[0], argv, env, file_actions=actions, setpgroup=0)
    killed = []

    def kill():
        killed.append(True)
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    timer = threading.Timer(RUN_LIMIT, kill)
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
    wall = time.monotonic() - start
    lines = open(timef).read().strip().splitlines()
    fields = lines[-1].split() if lines else []
    if len(fields) != 3 or not fields[0].isdigit():
        raise HarnessError(f"no figures from /usr/bin/time for {argv[5]}: {lines[-3:]}")
    rc = os.waitstatus_to_exitcode(status)
    if killed:
        raise HarnessError(f"{argv[5]} still running after {RUN_LIMIT} s: killed")
    return dict(wall=wall, rc=rc, rss_kib=int(fields[0]), cpu=float(fields[1]) + float(fields[2]))


def first_lines(path, n=3):
    with open(path, "rb") as f:
        return f.read(2000).decode("utf-8", "replace").strip().splitlines()[:n]


# ---------------------------------------------------------------------------------------------
# Measuring


def measure(cfg):
    size = cfg.size_mb * 1_000_000
    venv = cfg.venv
    ssmres = os.path.abspath(os.path.join(cfg.bin_dir, "ssmres"))
    aws = os.path.join(venv, "bin", "aws")
    for path in (ssmres, os.path.join(venv, "bin", "moto_server"), "/usr/bin/time"):
        if not os.access(path, os.X_OK):
            raise HarnessError(f"missing {path} (build the release binary, run scripts/setup-venv, install time)")

    # rustup finds its toolchains through HOME: ask before HOME is changed.
    rustc = sbs.version_of(["rustc", "--version"], dict(os.environ))
    scratch = tempfile.mkdtemp(prefix="ssmres-full-output.")
    moto = ep = None
    try:
        home = os.path.join(scratch, "home")
        os.makedirs(home)
        env = {k: v for k, v in sbs.clean_env().items() if not k.lower().endswith("_proxy")}
        env.update(HOME=home, NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
        # boto3 in this process reads the same isolated configuration.
        for k in [k for k in os.environ if k.startswith("AWS_") or k.lower().endswith("_proxy")]:
            del os.environ[k]
        os.environ.update({k: v for k, v in env.items() if k.startswith("AWS_") or k.lower().endswith("_proxy")})

        now = datetime.datetime.now(datetime.timezone.utc)
        info = dict(date=now.date().isoformat(), time=now.strftime("%H:%M"), machine=sbs.machine(),
                    rustc=rustc,
                    ssmres_version=sbs.version_of([ssmres, "--version"], env),
                    aws_version=sbs.version_of([aws, "--version"], env) if os.access(aws, os.X_OK) else None,
                    moto_version=moto_version(), python=platform.python_version(),
                    ssmres_mb=os.path.getsize(ssmres) / 1e6, size=size, stderr_size=STDERR_BYTES,
                    load_start=sbs.loadavg())

        t = time.monotonic()
        obj = os.path.join(scratch, "stdout.obj")
        errobj = os.path.join(scratch, "stderr.obj")
        sha, head = generate(obj, size, seed=20240514)
        err_sha, err_head = generate(errobj, STDERR_BYTES, seed=8000)
        err_bytes = open(errobj, "rb").read()
        info["generate_s"] = time.monotonic() - t
        log(f"full-output: generated {size / 1e6:.0f} MB + {STDERR_BYTES / 1e6:.0f} MB in {info['generate_s']:.1f} s")

        t = time.monotonic()
        moto, moto_url = start_moto(venv, env, scratch)
        info["moto_start_s"] = time.monotonic() - t
        t = time.monotonic()
        import boto3
        from boto3.s3.transfer import TransferConfig
        s3 = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing",
                                   region_name="us-east-1").client("s3", endpoint_url=moto_url)
        s3.create_bucket(Bucket=BUCKET)
        s3.upload_file(obj, BUCKET, STDOUT_KEY, Config=TransferConfig(multipart_chunksize=64 * 1024 * 1024))
        s3.upload_file(errobj, BUCKET, STDERR_KEY)
        stored = s3.head_object(Bucket=BUCKET, Key=STDOUT_KEY)["ContentLength"]
        if stored != size:
            raise HarnessError(f"moto holds {stored} bytes for the stdout object, not {size}")
        info["upload_s"] = time.monotonic() - t
        log(f"full-output: moto started in {info['moto_start_s']:.1f} s, upload took {info['upload_s']:.1f} s")

        ep = SsmEndpoint(record(head, err_head))
        run_env = dict(env, AWS_ENDPOINT_URL_S3=moto_url)
        base = [ssmres, "--endpoint-url", ep.url, "get", "--command-id", CMD_ID, "--instance-id", INSTANCE_ID,
                "--full-output"]
        out, err = os.path.join(scratch, "out"), os.path.join(scratch, "err")
        wrong = []

        def text_run(label):
            r = run_tool(base + ["-o", "text"], run_env, out, err)
            problems = []
            if r["rc"] != 0:
                problems.append(f"exit {r['rc']}")
            got = os.path.getsize(out)
            if got != size or sha256_file(out) != sha:
                problems.append(f"stdout is not the object ({got} bytes, {size} expected)")
            if open(err, "rb").read() != err_bytes:
                problems.append(f"stderr is not the stderr object ({os.path.getsize(err)} bytes, "
                                f"{STDERR_BYTES} expected; starts {first_lines(err, 2)})")
            r["ok"] = not problems
            r["problems"] = problems
            log(f"full-output: text {label}: {r['wall']:.2f} s, {r['rss_kib'] / 1024:.1f} MiB, "
                f"cpu {r['cpu']:.2f} s, {'ok' if not problems else 'WRONG: ' + '; '.join(problems)}")
            if problems:
                wrong.append(f"-o text {label}: " + "; ".join(problems))
            return r

        text_run("warm-up")
        text = [text_run(f"run {i}") for i in range(1, cfg.runs + 1)]

        r = run_tool(base + ["-o", "json"], run_env, out, err)
        problems = [] if r["rc"] == 0 else [f"exit {r['rc']}"]
        try:
            with open(out, encoding="utf-8") as f:
                doc = json.load(f)
            content = doc.get("StandardOutputContent", "").encode()
            if len(content) != size or hashlib.sha256(content).hexdigest() != sha:
                problems.append(f"StandardOutputContent is not the object ({len(content)} bytes, {size} expected)")
            if doc.get("StandardErrorContent", "").encode() != err_bytes:
                problems.append("StandardErrorContent is not the stderr object")
            del doc, content
        except ValueError as e:
            problems.append(f"stdout is not JSON: {e}")
        if os.path.getsize(err):
            problems.append(f"stderr not empty: {first_lines(err, 2)}")
        r.update(ok=not problems, problems=problems)
        log(f"full-output: json: {r['wall']:.2f} s, {r['rss_kib'] / 1024:.1f} MiB, cpu {r['cpu']:.2f} s, "
            f"{'ok' if not problems else 'WRONG: ' + '; '.join(problems)}")
        if problems:
            wrong.append("-o json: " + "; ".join(problems))
        json_run = r

        aws_run = None
        if os.access(aws, os.X_OK):
            aws_env = dict(env)
            r = run_tool([aws, "--endpoint-url", moto_url, "s3", "cp", f"s3://{BUCKET}/{STDOUT_KEY}", "-"],
                         aws_env, out, err)
            ok = r["rc"] == 0 and os.path.getsize(out) == size and sha256_file(out) == sha
            r.update(ok=ok, problems=[] if ok else [f"exit {r['rc']}, {os.path.getsize(out)} bytes: "
                                                     f"{first_lines(err, 2)}"])
            log(f"full-output: aws s3 cp: {r['wall']:.2f} s, {r['rss_kib'] / 1024:.1f} MiB, cpu {r['cpu']:.2f} s, "
                f"{'ok' if ok else 'not the object (reference only): ' + r['problems'][0]}")
            aws_run = r

        info.update(ssm_calls=ep.calls, stray=ep.stray[:3], load_end=sbs.loadavg())
        if ep.stray:
            wrong.append(f"unexpected SSM calls: {ep.stray[:3]}")
        return info, dict(text=text, json=json_run, aws=aws_run), wrong
    finally:
        if ep:
            ep.close()
        if moto:
            stop(moto)
        shutil.rmtree(scratch, ignore_errors=True)


def moto_version():
    try:
        from importlib.metadata import version
        return f"moto {version('moto')}"
    except Exception:
        return "moto (version unknown)"


# ---------------------------------------------------------------------------------------------
# The section


def mib(kib):
    return kib / 1024


def goal(info, res):
    """(text, verdict: True/False/None, measured)."""
    size_mb = info["size"] / 1e6
    worst = max(mib(r["rss_kib"]) for r in res["text"])
    label = f"peak RSS under {GOAL_MIB} MiB streaming {size_mb:g} MB in text mode (every run)"
    if info["size"] != GOAL_SIZE_MB * 1_000_000:
        return label, None, f"max {worst:.1f} MiB (goal set at {GOAL_SIZE_MB} MB)"
    return label, worst < GOAL_MIB, f"max {worst:.1f} MiB"


def row(name, runs, size):
    walls = [r["wall"] for r in runs]
    lo, hi, _ = sbs.spread(walls)
    rss = [mib(r["rss_kib"]) for r in runs]
    cpu = statistics.median([r["cpu"] for r in runs])
    correct = "yes" if all(r["ok"] for r in runs) else "**no**: " + "; ".join(
        dict.fromkeys(p for r in runs for p in r["problems"]))
    return (f"| {name} | {len(runs)} | {statistics.median(walls):.2f} s | {lo:.2f}–{hi:.2f} s | "
            f"{size / 1e6 / statistics.median(walls):.0f} | {cpu:.2f} s | "
            f"{statistics.median(rss):.1f} / {max(rss):.1f} MiB | {correct} |")


def section(info, res):
    m = info["machine"]
    size, size_mb = info["size"], info["size"] / 1e6
    rows = [row("`ssmres get --full-output -o text > file`", res["text"], size),
            row("`ssmres get --full-output -o json > file` (for information)", [res["json"]], size)]
    if res["aws"]:
        aws = info["aws_version"].split()[0] if info["aws_version"] else "aws CLI"
        rows.append(row(f"`aws s3 cp s3://…/stdout -` ({aws}; reference)", [res["aws"]], size))
    g, p, measured = goal(info, res)
    method = " ".join([
        f"Measured {info['date']} on {m['cpu']} ({m['cores']} cores), {info['rustc']}, release build",
        f"({info['ssmres_mb']:.1f} MB binary), by `bench/full_output.py`; load average {info['load_start']}",
        f"at the start, {info['load_end']} at the end. The command's stdout is a {size_mb:g} MB object",
        f"({size:,} bytes of pseudo-random printable text in lines of about 64 characters, about 1 %",
        "of them 2- to 4-byte UTF-8 characters, generated with a fixed seed), its stderr a",
        f"{info['stderr_size'] / 1e6:g} MB one, both uploaded with boto3 to a local moto server",
        f"({info['moto_version']}). The harness serves GetCommandInvocation itself: a Success record",
        "whose StandardOutputUrl and StandardErrorUrl are path-style",
        "`https://s3.us-east-1.amazonaws.com/<bucket>/<key>` URLs and whose contents are cut as the",
        "agent cuts them (23,980 / 7,980 bytes and `--output truncated--`); `AWS_ENDPOINT_URL_S3`",
        f"points ssmres' S3 client at moto. After one warm-up run, {len(res['text'])} runs of",
        "`ssmres --endpoint-url <ssm> get --command-id … --instance-id … --full-output -o text`,",
        "stdout to a file, each under `/usr/bin/time`: peak RSS is the tool's `ru_maxrss`, CPU its",
        "user + system time; wall time runs from the spawn to `wait4` and holds start-up, the",
        "GetCommandInvocation call and both GetObject calls; MB/s is the object's size (10^6 bytes)",
        "over that. Every run's stdout, the warm-up's too, is checked against the object (sha256)",
        "and its stderr against the stderr object. One `-o json` run, where the whole text is in",
        "memory by design (its StandardOutputContent is checked against the object), and one",
        "`aws s3 cp` of the same object to stdout are there for comparison. Both ends share the",
        "machine: moto (Python) serves the object while ssmres reads it, so the throughput is",
        "moto's as much as ssmres'. Spread is min–max. Regenerate with `bench/run-all` or",
        "`bench/full_output.py`.",
    ])
    method = textwrap.fill(method, width=100, break_long_words=False, break_on_hyphens=False)
    return f"""<!-- full-output:start -->
## Complete output from S3 (`get --full-output`)

{method}

| mode | runs | wall time: median | spread | MB/s | CPU: median | peak RSS: median / max | correct |
|---|---|---|---|---|---|---|---|
{chr(10).join(rows)}

| goal | result | measured |
|---|---|---|
| {g} | {sbs.verdict(p)} | {measured} |
<!-- full-output:end -->"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bin-dir", required=True, help="release dir with ssmres")
    ap.add_argument("--venv", default=os.environ.get("SSMRES_VENV") or os.path.join(ROOT, ".venv"))
    ap.add_argument("--size-mb", type=int, default=200, help="stdout object size in 10^6 bytes (200)")
    ap.add_argument("--runs", type=int, default=3, help="measured text-mode runs after the warm-up (3)")
    ap.add_argument("--no-write", action="store_true", help="print, leave BENCHMARKS.md alone")
    cfg = ap.parse_args()
    if cfg.size_mb < 1 or cfg.runs < 1:
        ap.error("--size-mb and --runs are at least 1")
    cfg.venv = os.path.abspath(cfg.venv)

    started = time.monotonic()
    info, res, wrong = measure(cfg)
    text = section(info, res)
    print(text)
    print()
    g, p, measured = goal(info, res)
    print(f"{'N/A ' if p is None else ('PASS' if p else 'FAIL')}  {g}: {measured}")
    if p is False:
        print(f"\n1 goal FAILED (figures written all the same):\n  FAIL  {g}")
    sys.stdout.flush()

    if not cfg.no_write:
        path = os.path.join(ROOT, "BENCHMARKS.md")
        doc = open(path).read() if os.path.exists(path) else \
            "# Benchmarks\n\nFigures written by the scripts in bench/; do not edit them by hand.\n"
        with open(path, "w") as f:
            f.write(sbs.put(doc, "full-output", text, ["fleet"]))
        log(f"wrote full-output to {path}")
    log(f"full-output: {time.monotonic() - started:.0f} s")
    if wrong:
        log("full-output: WRONG OUTPUT:\n  " + "\n  ".join(wrong))
        sys.exit(1)


def ensure_venv_python():
    """boto3 and moto live in the venv: run this script again with the venv's python when
    started with another one (so that the moto version named is the server's)."""
    venv = os.environ.get("SSMRES_VENV") or os.path.join(ROOT, ".venv")
    if "--venv" in sys.argv[:-1]:
        venv = sys.argv[sys.argv.index("--venv") + 1]
    python = os.path.join(os.path.abspath(venv), "bin", "python")
    if os.path.realpath(sys.prefix) != os.path.realpath(venv) and os.access(python, os.X_OK) \
            and not os.environ.get("SSMRES_FULL_OUTPUT_REEXEC"):
        os.environ["SSMRES_FULL_OUTPUT_REEXEC"] = "1"
        os.execv(python, [python, os.path.abspath(__file__), *sys.argv[1:]])
    try:
        import boto3  # noqa: F401
    except ImportError:
        sbs.log(f"full_output: boto3 not importable; run scripts/setup-venv (looked in {venv})")
        sys.exit(3)


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    ensure_venv_python()
    try:
        main()
    except HarnessError as e:
        log(f"full_output: {e}")
        sys.exit(3)
    except KeyboardInterrupt:
        sys.exit(130)
