#!/usr/bin/env python3
"""`leakscan sweep` sharded over a real Slurm cluster (#11).

Starts munged, slurmctld and slurmd itself (a single-node slurm.conf written
from `slurmd -C`, everything under a temporary directory, no cgroups:
proctrack/linuxproc, task/none) and stops them by pid. Then:

1. an `sbatch --array=0-3` sweep of a directory of generated repositories
   (forks, a mirror, independent ones), each task one `--shard I/4`, plus a
   merge job with an `afterok` dependency; the merged report must equal the
   single-machine sweep (but for its timing);
2. the same with one task failing (its repository's blob is a FIFO that never
   delivers, and the task is stopped by `timeout`): the merge job must never
   run; after the repository is repaired, rerunning that one task must scan
   exactly the repositories its first attempt did not finish, and the merge
   must then equal the single-machine report.

Needs Debian's slurm-wlm and munge, git, and root (the daemons run as root).
Usage: tests/slurm/slurm_test.py [path/to/leakscan]
"""

import json
import os
import random
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import time

POLL = 0.5
JOB_TIMEOUT = 300
TASK_TIMEOUT = 10
SHARDS = 4


def log(msg):
    print(f"slurm-test: {msg}", flush=True)


def fail(msg):
    print(f"slurm-test: FAIL: {msg}", file=sys.stderr, flush=True)
    sys.exit(1)


def token(rng, prefix, n):
    """A fake credential made at run time (never a committed literal)."""
    return prefix + "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(n))


class Fixture:
    def __init__(self, root):
        self.root = root
        self.day = 0
        self.rng = random.Random(11)
        self.env = dict(os.environ)
        for k in ("GIT_DIR", "GIT_INDEX_FILE", "GIT_WORK_TREE", "GIT_OBJECT_DIRECTORY"):
            self.env.pop(k, None)
        self.env.update(GIT_CONFIG_NOSYSTEM="1", GIT_CONFIG_GLOBAL="/dev/null",
                        GIT_AUTHOR_NAME="Ada Tester", GIT_AUTHOR_EMAIL="ada@example.com",
                        GIT_COMMITTER_NAME="Ada Tester", GIT_COMMITTER_EMAIL="ada@example.com")

    def git(self, repo, *args):
        env = dict(self.env)
        date = f"{1704067200 + self.day * 86400} +0000"
        env.update(GIT_AUTHOR_DATE=date, GIT_COMMITTER_DATE=date)
        out = subprocess.run(["git", *args], cwd=os.path.join(self.root, repo), env=env,
                             capture_output=True, text=True)
        if out.returncode != 0:
            fail(f"git {args} in {repo}: {out.stderr}")
        return out.stdout.strip()

    def write(self, rel, text):
        path = os.path.join(self.root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text)

    def commit(self, repo, msg):
        self.day += 1
        self.git(repo, "add", "-A")
        self.git(repo, "commit", "-q", "-m", msg)

    def init(self, repo):
        os.makedirs(os.path.join(self.root, repo), exist_ok=True)
        self.git(repo, "init", "-q", "-b", "main")

    def build(self):
        self.init("web")
        self.write("web/config.py", f'token = "{token(self.rng, "ghp_", 36)}"\n')
        self.commit("web", "config")
        self.write("web/config.py", "token = os.environ['TOKEN']\n")
        self.commit("web", "from the environment")
        os.makedirs(os.path.join(self.root, "forks"))
        self.git("forks", "clone", "-q", "../web", "web-fork")
        self.write("forks/web-fork/deploy.sh", f'GH="{token(self.rng, "ghp_", 36)}"\n')
        self.commit("forks/web-fork", "deploy")
        os.makedirs(os.path.join(self.root, "mirrors"))
        self.git("mirrors", "clone", "-q", "--mirror", "../web", "web.git")
        for i in range(9):
            name = f"svc/svc{i}"
            self.init(name)
            self.write(f"{name}/env", f'token = "{token(self.rng, "ghp_", 36)}"\n')
            self.commit(name, "env")
            self.write(f"{name}/README", f"service {i}\n")
            self.commit(name, "readme")


class Cluster:
    """munged + slurmctld + slurmd under `base`, stopped by pid."""

    def __init__(self, base):
        self.base = base
        self.pidfiles = []
        os.makedirs(os.path.join(base, "spool"))
        os.makedirs(os.path.join(base, "state"))
        self.conf = os.path.join(base, "slurm.conf")
        self.env = dict(os.environ, SLURM_CONF=self.conf)

    def start(self):
        b = self.base
        key = os.path.join(b, "munge.key")
        with open(key, "wb") as f:
            f.write(os.urandom(1024))
        os.chmod(key, 0o400)
        sock = os.path.join(b, "munge.sock")
        self.daemon(["munged", "-f", f"--key-file={key}", f"--socket={sock}",
                     f"--pid-file={b}/munged.pid", f"--log-file={b}/munged.log",
                     f"--seed-file={b}/munged.seed"], f"{b}/munged.pid")
        node = subprocess.run(["slurmd", "-C"], capture_output=True, text=True, check=True)
        node_line = node.stdout.splitlines()[0]
        host = node_line.split()[0].split("=", 1)[1]
        # Ports away from the defaults, so a machine's own Slurm is not disturbed.
        port = 20000 + os.getpid() % 20000
        with open(self.conf, "w") as f:
            f.write(f"""ClusterName=leakscan-test
SlurmctldHost={host}
AuthType=auth/munge
AuthInfo=socket={sock}
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
SlurmctldPort={port}
SlurmdPort={port + 1}
StateSaveLocation={b}/state
SlurmdSpoolDir={b}/spool
SlurmctldPidFile={b}/slurmctld.pid
SlurmdPidFile={b}/slurmd.pid
SlurmctldLogFile={b}/slurmctld.log
SlurmdLogFile={b}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SwitchType=switch/none
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MinJobAge=3600
{node_line}
PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
""")
        self.daemon(["slurmctld", "-i"], f"{b}/slurmctld.pid")
        self.daemon(["slurmd"], f"{b}/slurmd.pid")
        deadline = time.time() + 60
        while time.time() < deadline:
            out = subprocess.run(["sinfo", "-h", "-o", "%T"], env=self.env,
                                 capture_output=True, text=True)
            if out.returncode == 0 and out.stdout.strip() in ("idle", "mixed"):
                log(f"cluster up: node {host}, {out.stdout.strip()}")
                return
            time.sleep(POLL)
        fail(f"the node did not come up; see {b}/slurmd.log and {b}/slurmctld.log")

    def daemon(self, argv, pidfile):
        subprocess.run(argv, env=self.env, check=True)
        deadline = time.time() + 20
        while not os.path.exists(pidfile) and time.time() < deadline:
            time.sleep(0.1)
        if not os.path.exists(pidfile):
            fail(f"{argv[0]} wrote no pid file")
        self.pidfiles.append(pidfile)

    def stop(self):
        for pidfile in reversed(self.pidfiles):
            try:
                pid = int(open(pidfile).read().strip())
            except (OSError, ValueError):
                continue
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
            for _ in range(100):
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.1)

    def sbatch(self, *args, env=None):
        e = dict(self.env, **(env or {}))
        out = subprocess.run(["sbatch", "--parsable", *args], env=e, capture_output=True, text=True)
        if out.returncode != 0:
            fail(f"sbatch {args}: {out.stderr}")
        return out.stdout.strip().split(";")[0]

    def queued(self, jobs):
        out = subprocess.run(["squeue", "-h", "-o", "%i %T %r"], env=self.env,
                             capture_output=True, text=True, check=True)
        lines = [l for l in out.stdout.splitlines()
                 if any(l.split()[0] == j or l.split()[0].startswith(j + "_") for j in jobs)]
        return lines

    def wait(self, jobs, until_blocked=()):
        """Polls squeue until none of `jobs` is queued, or only `until_blocked`
        remain, pending on a dependency that can never be satisfied."""
        deadline = time.time() + JOB_TIMEOUT
        while time.time() < deadline:
            left = self.queued(jobs)
            if not left:
                return
            if until_blocked and all(l.split()[0] in until_blocked and "DependencyNeverSatisfied" in l
                                     for l in left):
                return
            time.sleep(POLL)
        fail(f"jobs {jobs} still queued after {JOB_TIMEOUT} s")

    def job_state(self, job):
        out = subprocess.run(["scontrol", "show", "job", job], env=self.env,
                             capture_output=True, text=True)
        for word in out.stdout.split():
            if word.startswith("JobState="):
                return word.split("=", 1)[1], out.stdout
        return "UNKNOWN", out.stdout + out.stderr


def untimed(path):
    with open(path) as f:
        doc = json.load(f)
    del doc["stats"]["elapsed_ms"]
    return doc


def state_entries(state):
    """repo name -> mtime (ns) of its result file."""
    out = {}
    d = os.path.join(state, "repos")
    if not os.path.isdir(d):
        return out
    for name in os.listdir(d):
        if name.startswith(".") or not name.endswith(".json"):
            continue
        p = os.path.join(d, name)
        with open(p) as f:
            out[json.load(f)["result"]["repo"]] = os.stat(p).st_mtime_ns
    return out


def scanned_reused(err_path):
    text = open(err_path).read()
    at = text.index(" scanned, ")
    scanned = int(text[:at].rsplit("(", 1)[1])
    reused = int(text[at + len(" scanned, "):].split()[0])
    return scanned, reused


def main():
    if os.geteuid() != 0:
        fail("run as root (slurmctld and slurmd run as root here)")
    for tool in ("munged", "slurmctld", "slurmd", "sbatch", "git"):
        if shutil.which(tool) is None:
            fail(f"{tool} is not installed (apt-get install slurm-wlm munge)")
    here = os.path.dirname(os.path.abspath(__file__))
    repo_root = os.path.dirname(os.path.dirname(here))
    leakscan = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else
                               os.path.join(repo_root, "target", "release", "leakscan"))
    if not os.access(leakscan, os.X_OK):
        fail(f"{leakscan}: no leakscan binary (cargo build --release)")
    base = tempfile.mkdtemp(prefix="leakscan-slurm-")
    os.chmod(base, 0o755)
    cluster = Cluster(os.path.join(base, "cluster"))
    try:
        run(base, cluster, leakscan)
    finally:
        cluster.stop()
        if os.environ.get("KEEP") is None:
            shutil.rmtree(base, ignore_errors=True)
        else:
            log(f"kept {base}")


def run(base, cluster, leakscan):
    root = os.path.join(base, "repos")
    os.makedirs(root)
    Fixture(root).build()
    key = os.path.join(base, "sweep.key")
    with open(key, "wb") as f:
        f.write(os.urandom(32))
    single = os.path.join(base, "single.json")
    rc = subprocess.run([leakscan, "sweep", root, "--key-file", key, "--format", "json", "-q",
                         "-o", single]).returncode
    if rc != 1:
        fail(f"single-machine sweep exited {rc}")
    want = untimed(single)
    log(f"single machine: {want['stats']['repos']} repositories, {want['stats']['secrets']} secrets")

    task = os.path.join(base, "sweep-task.sh")
    with open(task, "w") as f:
        f.write("""#!/bin/sh
# One shard of the sweep; exit 1 (secrets found) is success for the job.
timeout "${TASK_TIMEOUT:-0}" "$LEAKSCAN" sweep "$ROOT" --key-file "$KEY" --state "$STATE" \\
    --shard "$SLURM_ARRAY_TASK_ID/$SHARDS" --format json \\
    -o "$OUT/shard-$SLURM_ARRAY_TASK_ID.json.part" 2> "$OUT/task-$SLURM_ARRAY_TASK_ID.err"
rc=$?
[ $rc -le 1 ] && mv "$OUT/shard-$SLURM_ARRAY_TASK_ID.json.part" "$OUT/shard-$SLURM_ARRAY_TASK_ID.json"
""")
    merge = os.path.join(base, "sweep-merge.sh")
    with open(merge, "w") as f:
        f.write("""#!/bin/sh
"$LEAKSCAN" sweep merge "$OUT"/shard-*.json --format json -q -o "$OUT/merged.json"
[ $? -le 1 ]
""")
    os.chmod(task, 0o755)
    os.chmod(merge, 0o755)
    cluster.start()

    def submit(out, state, array, extra=None):
        os.makedirs(out, exist_ok=True)
        env = dict(LEAKSCAN=leakscan, ROOT=root, KEY=key, STATE=state, OUT=out, SHARDS=str(SHARDS),
                   **(extra or {}))
        arr = cluster.sbatch(f"--array={array}", "-c", "1", "-o", f"{out}/slurm-%A_%a.out",
                             "--export=ALL", task, env=env)
        mjob = cluster.sbatch(f"--dependency=afterok:{arr}", "--kill-on-invalid-dep=yes",
                              "-o", f"{out}/slurm-merge-%j.out", "--export=ALL", merge, env=env)
        return arr, mjob

    # 1. All tasks succeed: the merge runs and equals the single machine.
    out1, state1 = os.path.join(base, "run1"), os.path.join(base, "state1")
    arr, mjob = submit(out1, state1, f"0-{SHARDS - 1}")
    log(f"submitted array job {arr} and merge job {mjob} (afterok)")
    cluster.wait([arr, mjob])
    st, detail = cluster.job_state(mjob)
    if st != "COMPLETED":
        fail(f"merge job {mjob} is {st}:\n{detail}")
    got = untimed(os.path.join(out1, "merged.json"))
    if got != want:
        fail("the merged report differs from the single-machine report")
    shards = {}
    for i in range(SHARDS):
        with open(os.path.join(out1, f"shard-{i}.json")) as f:
            shards[i] = [r["repo"] for r in json.load(f)["repos"]]
    for i, names in shards.items():
        webs = [n for n in names if "web" in n]
        if webs and len(webs) != 3:
            fail(f"forks of web split across shards: shard {i} has {webs}")
    log("run 1: merged report == single-machine report; shards: "
        + ", ".join(f"{i}: {len(n)}" for i, n in shards.items()))

    # 2. One task fails in the middle of its shard.
    mtimes = state_entries(state1)
    candidates = []
    for i, names in shards.items():
        svc = [n for n in names if n.startswith("svc/")]
        if svc:
            last = max(svc, key=lambda n: mtimes[n])
            done_before = sum(1 for n in names if mtimes[n] < mtimes[last])
            candidates.append((done_before, i, last))
    if not candidates:
        fail("no shard holds an independent repository")
    _, bad_shard, bad_repo = max(candidates)
    repo_dir = os.path.join(root, bad_repo)
    blob = subprocess.run(["git", "rev-parse", "HEAD:env"], cwd=repo_dir, capture_output=True,
                          text=True, check=True).stdout.strip()
    obj = os.path.join(repo_dir, ".git", "objects", blob[:2], blob[2:])
    saved = open(obj, "rb").read()
    os.remove(obj)
    os.mkfifo(obj)
    log(f"run 2: {bad_repo} (shard {bad_shard}) now stalls on reading blob {blob[:12]}")
    out2, state2 = os.path.join(base, "run2"), os.path.join(base, "state2")
    arr, mjob = submit(out2, state2, f"0-{SHARDS - 1}", {"TASK_TIMEOUT": str(TASK_TIMEOUT)})
    cluster.wait([arr, mjob], until_blocked=(mjob,))
    st, detail = cluster.job_state(mjob)
    if st not in ("CANCELLED", "PENDING") or "DependencyNeverSatisfied" not in detail:
        fail(f"merge job {mjob} should never run, but is {st}:\n{detail}")
    if os.path.exists(os.path.join(out2, "merged.json")):
        fail("the merge ran although a task failed")
    present = sorted(i for i in range(SHARDS) if os.path.exists(os.path.join(out2, f"shard-{i}.json")))
    if present != sorted(set(range(SHARDS)) - {bad_shard}):
        fail(f"expected every shard but {bad_shard} to finish, got {present}")
    done = state_entries(state2)
    missing = [n for n in shards[bad_shard] if n not in done]
    log(f"run 2: task {bad_shard} failed, merge job {mjob} {st} (DependencyNeverSatisfied); "
        f"{len(shards[bad_shard]) - len(missing)} of its {len(shards[bad_shard])} repositories were "
        f"saved before the failure")
    if bad_repo not in missing:
        fail(f"{bad_repo} has a result although its task never finished it")

    # 3. Repair, rerun only the failed task: it scans only what is missing.
    os.remove(obj)
    with open(obj, "wb") as f:
        f.write(saved)
    os.remove(os.path.join(out2, f"task-{bad_shard}.err"))
    arr, mjob = submit(out2, state2, str(bad_shard))
    cluster.wait([arr, mjob])
    st, detail = cluster.job_state(mjob)
    if st != "COMPLETED":
        fail(f"merge job {mjob} after the rerun is {st}:\n{detail}")
    scanned, reused = scanned_reused(os.path.join(out2, f"task-{bad_shard}.err"))
    if (scanned, reused) != (len(missing), len(shards[bad_shard]) - len(missing)):
        fail(f"the rerun scanned {scanned} and reused {reused}; expected {len(missing)} and "
             f"{len(shards[bad_shard]) - len(missing)}")
    if untimed(os.path.join(out2, "merged.json")) != want:
        fail("after the rerun, the merged report differs from the single-machine report")
    log(f"run 3: rerun of task {bad_shard} scanned {scanned} (reused {reused}); merged report == "
        "single-machine report")
    log("PASS")


if __name__ == "__main__":
    main()
