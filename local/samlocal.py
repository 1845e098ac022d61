"""`make sam-local` (`python -m local.samlocal`): the site in SAM CLI's own emulator, from
nothing on a Debian or Ubuntu machine.

Each step prints what it does and how long it took:

1. Docker: a daemon that answers is used as it is. Otherwise, as root, `apt-get install
   docker.io` when dockerd is missing, then a plain `dockerd` in the background (no
   systemd needed), its log in .local/sam-local/dockerd.log; it is stopped at the end.
2. The python3.13 Lambda base image SAM CLI asks for (local/lambdabase.py): already in
   Docker, else pulled (one short try), else made from Debian packages (cached).
3. `sam build` for this machine's architecture (the template's Architecture parameter),
   into .aws-sam/sam-local/build.
4. DynamoDB as `make run` has it: AWS_ENDPOINT_URL_DYNAMODB when set (it must answer),
   else DynamoDB Local on port 8000 (or a free one), with the template's tables and, when
   the articles table is empty, the sample article.
5. `sam local start-api --skip-pull-image --warm-containers LAZY` on 127.0.0.1:$PORT
   (3000), with the functions' variables in a generated copy of env.json: the tables, the
   admin token, and the endpoint as the containers reach it. A DynamoDB on this machine
   (a loopback address) is `dynamodb-local`, which `--add-host` maps to the Docker bridge's
   gateway, i.e. this machine as the containers see it (DynamoDB Local listens on every
   interface). The default bridge network keeps each container's runtime port mapped apart;
   host networking would put every warm container's emulator on the host's port 8080.
6. One request to `/`: the first cold start, timed.

Ctrl-C (or SIGTERM) stops SAM CLI, which stops its containers, then DynamoDB Local and
dockerd, when this run started them. Failures print one line and exit 1.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit, urlunsplit

from local import lambdabase
from local.toolchain import ROOT, architecture_override, build_for_this_machine, host_architecture

LOG_DIR = ROOT / ".local" / "sam-local"
WORK_DIR = ROOT / ".aws-sam" / "sam-local"
SAM = Path(sys.executable).with_name("sam")
HOST_ALIAS = "dynamodb-local"  # what the containers call a DynamoDB on this machine
LOOPBACK = ("127.0.0.1", "localhost", "::1", "0.0.0.0")
DOCKERD_START_TIMEOUT = 90.0  # seconds
API_START_TIMEOUT = 180.0  # seconds until start-api listens
STOP_TIMEOUT = 30.0  # seconds SAM CLI and dockerd get to stop on their own
SAM_CONTAINER_LABEL = "sam.cli.container.type=lambda"  # samcli/local/docker/lambda_container.py


class Failure(Exception):
    """Stop with this one-line message."""


# ---- steps and their times -----------------------------------------------------------------


@dataclass
class Steps:
    """Prints `==> what` before a step and its time after; keeps (what, seconds)."""

    out: IO[str] = field(default_factory=lambda: sys.stdout)
    times: list[tuple[str, float]] = field(default_factory=list)

    @contextmanager
    def __call__(self, what: str) -> Iterator[None]:
        print(f"==> {what}", file=self.out, flush=True)
        started = time.monotonic()
        yield
        seconds = time.monotonic() - started
        self.times.append((what, seconds))
        print(f"    ({seconds:.1f} s)", file=self.out, flush=True)

    def say(self, message: str) -> None:
        print(f"    {message}", file=self.out, flush=True)

    def summary(self) -> str:
        return "; ".join(f"{what}: {seconds:.1f} s" for what, seconds in self.times)

    def save(self, path: Path) -> None:
        """The steps' times as JSON [{"step", "seconds"}] (artifacts/ for CI)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = [{"step": what, "seconds": round(s, 2)} for what, s in self.times]
        path.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")


# ---- Docker --------------------------------------------------------------------------------


def _docker_client(timeout: float = 10.0) -> Any | None:
    """A docker SDK client of a daemon that answers, else None."""
    import docker

    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
    except Exception:
        return None
    return client


def _debian_like() -> bool:
    """True on Debian, Ubuntu and their derivatives (/etc/os-release ID or ID_LIKE)."""
    try:
        lines = Path("/etc/os-release").read_text(encoding="utf-8").lower().splitlines()
    except OSError:
        return False
    words = {
        word.strip('"')
        for line in lines
        if line.startswith(("id=", "id_like="))
        for word in line.split("=", 1)[1].split()
    }
    return bool(words & {"debian", "ubuntu"})


def docker_unavailable_reason() -> str | None:
    """None when this machine can run Docker: a daemon answers, or (as root) dockerd is
    installed or installable with apt-get on Debian/Ubuntu; else why not, in one line."""
    if _docker_client(timeout=5.0) is not None:
        return None
    if os.geteuid() != 0:
        return "no Docker daemon answers, and starting or installing one needs root"
    if shutil.which("dockerd"):
        return None
    if not shutil.which("apt-get") or not _debian_like():
        return "no Docker daemon answers, and docker.io cannot be installed (not Debian/Ubuntu)"
    return None


def apt_install(packages: list[str], log: Path = LOG_DIR / "apt.log") -> None:
    """`apt-get install` packages as root (apt-get update first if the lists are stale);
    Failure naming the log."""
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise Failure(f"{' '.join(packages)} is needed: install it (apt-get install, as root)")
    log.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", *packages]
    with open(log, "ab") as out:
        for command in (install, ["apt-get", "update", "-q"], install):
            done = subprocess.run(command, stdout=out, stderr=subprocess.STDOUT, env=env)
            if done.returncode == 0 and command is install:
                return
    raise Failure(f"apt-get install {' '.join(packages)} failed; see {log}")


@dataclass
class Docker:
    """The daemon to use; stop() ends dockerd if this run started it."""

    client: Any
    process: subprocess.Popen[bytes] | None = None

    @property
    def started_here(self) -> bool:
        return self.process is not None

    def stop(self) -> None:
        process, self.process = self.process, None
        with contextlib.suppress(Exception):
            self.client.close()
        if process is None or process.poll() is not None:
            return
        process.terminate()  # dockerd stops its containers and containerd
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def ensure_docker(steps: Steps, log_dir: Path = LOG_DIR) -> Docker:
    """A Docker daemon that answers: the running one, else dockerd started here (installed
    first with apt-get when missing). Raises Failure."""
    client = _docker_client()
    if client is not None:
        steps.say(f"Docker {client.version().get('Version', '?')} is running")
        return Docker(client)
    reason = docker_unavailable_reason()
    if reason:
        raise Failure(reason)
    if not shutil.which("dockerd"):
        with steps("install Docker (apt-get install docker.io)"):
            apt_install(["docker.io"], log_dir / "apt.log")
    with steps("start dockerd"):
        return Docker(*_start_dockerd(log_dir / "dockerd.log"))


def _start_dockerd(log: Path) -> tuple[Any, subprocess.Popen[bytes]]:
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        process = subprocess.Popen(
            [shutil.which("dockerd") or "dockerd"],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches us; we stop it last
        )
    deadline = time.monotonic() + DOCKERD_START_TIMEOUT
    while (client := _docker_client(timeout=2.0)) is None:
        if process.poll() is not None:
            raise Failure(f"dockerd exited (code {process.returncode}); see {log}")
        if time.monotonic() > deadline:
            Docker(None, process).stop()
            raise Failure(f"dockerd did not answer within {DOCKERD_START_TIMEOUT:.0f} s; see {log}")
        time.sleep(0.5)
    return client, process


def bridge_gateway(client: Any) -> str:
    """This machine's address on Docker's default bridge network (e.g. 172.17.0.1): the
    network's IPAM gateway, else the bridge interface's own IPv4 address. A dockerd started
    for the first time on a machine (no docker0 yet) reports the bridge's subnet without
    its gateway (Docker 20.10, Debian's docker.io); the address is on docker0 all the same."""
    attrs = client.networks.get("bridge").attrs
    for config in (attrs.get("IPAM") or {}).get("Config") or []:
        gateway = str(config.get("Gateway") or "")
        if gateway and ":" not in gateway:  # IPv4: what --add-host maps dynamodb-local to
            return gateway
    name = (attrs.get("Options") or {}).get("com.docker.network.bridge.name", "docker0")
    address = interface_address(name)
    if address:
        return address
    raise Failure(f"Docker's bridge network has no gateway address, nor {name} an IPv4 one")


def interface_address(name: str) -> str | None:
    """The first IPv4 address of network interface `name` (`ip -json -4 addr show dev`,
    iproute2), or None when it has none or `ip` cannot tell."""
    try:
        shown = subprocess.run(
            ["ip", "-json", "-4", "addr", "show", "dev", name],
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        ).stdout
        links = json.loads(shown or "[]")
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    for link in links:
        for info in link.get("addr_info", []):
            if info.get("family") == "inet" and info.get("local"):
                return str(info["local"])
    return None


def container_endpoint(endpoint: str, gateway: str) -> tuple[str, list[str]]:
    """The DynamoDB endpoint as the functions' containers reach it, and the --add-host
    values that needs: a loopback host (a DynamoDB on this machine) becomes HOST_ALIAS,
    mapped to the bridge's gateway; any other endpoint is used as it is."""
    parts = urlsplit(endpoint)
    if parts.hostname not in LOOPBACK:
        return endpoint, []
    netloc = f"{HOST_ALIAS}:{parts.port}" if parts.port else HOST_ALIAS
    return urlunsplit(parts._replace(netloc=netloc)), [f"{HOST_ALIAS}:{gateway}"]


def env_vars(endpoint: str, tables: dict[str, str], admin_token: str) -> dict[str, Any]:
    """env.json with this run's values: the endpoint (as the containers reach it), the
    tables' names and the admin token. SAM CLI only applies variables the template declares
    (aws/aws-sam-cli#6145); credentials come from SAM CLI's own environment."""
    base = json.loads((ROOT / "env.json").read_text(encoding="utf-8"))
    parameters = {**base.get("Parameters", {}), **tables, "AWS_ENDPOINT_URL_DYNAMODB": endpoint}
    admin = {**base.get("AdminFunction", {}), "ADMIN_TOKEN": admin_token}
    return {**base, "Parameters": parameters, "AdminFunction": admin}


# ---- build and start-api -------------------------------------------------------------------


def build(build_dir: Path = WORK_DIR / "build") -> Path:
    """`sam build` for this machine's architecture into build_dir (its cache beside it, see
    build_for_this_machine); the built template. Raises Failure with the end of SAM CLI's
    output."""
    try:
        done = build_for_this_machine(build_dir, SAM)
    except FileNotFoundError as err:
        raise Failure(f"{err} (pyenv install 3.13, or python3.13 on PATH)") from None
    if done.returncode != 0:
        tail = (done.stdout + done.stderr).strip().splitlines()[-15:]
        raise Failure("sam build failed:\n" + "\n".join(tail))
    return build_dir / "template.yaml"


def sam_environment(env: Any = os.environ) -> dict[str, str]:
    """SAM CLI's environment: no telemetry, and credentials and a region that reach no
    account (SAM CLI hands its credentials to the functions; DynamoDB Local takes any)."""
    return {
        **env,
        "SAM_CLI_TELEMETRY": "0",
        "AWS_ACCESS_KEY_ID": env.get("AWS_ACCESS_KEY_ID", "local"),
        "AWS_SECRET_ACCESS_KEY": env.get("AWS_SECRET_ACCESS_KEY", "local"),
        "AWS_REGION": env.get("AWS_REGION", "us-east-1"),
        "AWS_DEFAULT_REGION": env.get("AWS_DEFAULT_REGION", env.get("AWS_REGION", "us-east-1")),
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def start_api_args(
    template: Path, port: int, env_file: Path, add_hosts: list[str], arch: str
) -> list[str]:
    """The `sam local start-api` command line."""
    args = [str(SAM), "local", "start-api", "--template", str(template)]
    args += ["--parameter-overrides", architecture_override(arch)]
    args += ["--env-vars", str(env_file), "--skip-pull-image", "--warm-containers", "LAZY"]
    args += ["--host", "127.0.0.1", "--port", str(port)]
    for host in add_hosts:
        args += ["--add-host", host]
    return args


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@contextmanager
def start_api(
    args: list[str], port: int, log: IO[bytes] | None = None, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """SAM CLI's start-api running `args` until it listens on port; stopped on exit (SIGINT,
    as Ctrl-C would: it then stops and removes its containers). Its output goes to `log`
    (default: this terminal); its environment is sam_environment(env or this process's):
    SAM CLI gives a function the value there of each variable the template declares, unless
    the --env-vars file sets it. Raises Failure when it exits or does not listen in time."""
    process = subprocess.Popen(
        args,
        cwd=ROOT,
        env=sam_environment(os.environ if env is None else env),
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT if log else None,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + API_START_TIMEOUT
        while not _listening(port):
            if process.poll() is not None:
                raise Failure(f"sam local start-api exited (code {process.returncode})")
            if time.monotonic() > deadline:
                raise Failure(f"sam local start-api did not listen within {API_START_TIMEOUT} s")
            time.sleep(0.3)
        yield process
    finally:
        stop_api(process)


def stop_api(process: subprocess.Popen[bytes]) -> None:
    """SIGINT, as Ctrl-C: SAM CLI stops and removes its warm containers, then exits."""
    for sig, wait in ((signal.SIGINT, STOP_TIMEOUT), (signal.SIGTERM, 10.0), (signal.SIGKILL, 10)):
        if process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=wait)


def remove_containers(client: Any, keep: set[str]) -> int:
    """Remove SAM CLI's function containers except those in `keep` (ids that existed
    before this run); the number removed. For a SAM CLI that did not stop on its own."""
    removed = 0
    for container in client.containers.list(all=True, filters={"label": SAM_CONTAINER_LABEL}):
        if container.id not in keep:
            with contextlib.suppress(Exception):
                container.remove(force=True)
                removed += 1
    return removed


def sam_containers(client: Any) -> set[str]:
    """Ids of SAM CLI's function containers now (running or not)."""
    listed = client.containers.list(all=True, filters={"label": SAM_CONTAINER_LABEL})
    return {c.id for c in listed}


def timed_get(url: str, timeout: float = 60.0) -> tuple[int, float]:
    """(status, seconds) of one GET."""
    started = time.monotonic()
    request = urllib.request.Request(url, headers={"User-Agent": "newsdesk-sam-local/1.0"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            reply.read()
            status = reply.status
    except urllib.error.HTTPError as err:
        status = err.code
    return status, time.monotonic() - started


# ---- make sam-local ------------------------------------------------------------------------


def _dynamodb(stack: ExitStack, steps: Steps) -> tuple[str, dict[str, str]]:
    """DynamoDB as `make run` has it, with the tables and the sample article: (endpoint as
    this machine reaches it, env var -> table name)."""
    from local.__main__ import Failure as RunFailure
    from local.__main__ import dynamodb_endpoint, import_sample_if_empty, make_tables

    with steps("DynamoDB, the tables and the sample article"):
        try:
            endpoint = stack.enter_context(dynamodb_endpoint())
        except RunFailure as err:
            raise Failure(str(err)) from None
        names = make_tables(endpoint)
        import_sample_if_empty(endpoint)
    return endpoint, names


def _reachable_from_containers(endpoint: str, inside: str, gateway: str) -> None:
    """Failure unless a DynamoDB on this machine answers on the bridge's gateway too."""
    from local import dynamodb

    parts = urlsplit(endpoint)
    if parts.hostname not in LOOPBACK:
        return
    via_bridge = urlunsplit(parts._replace(netloc=f"{gateway}:{parts.port or 80}"))
    if not dynamodb.answers(via_bridge):
        raise Failure(
            f"DynamoDB at {endpoint} does not answer on {via_bridge}, the address the "
            f"containers use ({inside}): it must listen on every interface (DynamoDB Local "
            "does; moto's server, used without Java, does not: install Java 17+)"
        )


def serve(steps: Steps, stack: ExitStack, port: int, arch: str) -> subprocess.Popen[bytes]:
    """Every step of `make sam-local` up to a listening start-api (its process)."""
    from local.__main__ import admin_hint, admin_token

    docker = ensure_docker(steps)
    stack.callback(docker.stop)
    with steps(f"Lambda base image {lambdabase.image_name(arch)}"):
        try:
            lambdabase.ensure(
                docker.client, arch, apt_install, LOG_DIR / "base-image.log", steps.say
            )
        except lambdabase.BaseImageError as err:
            raise Failure(str(err)) from None
    with steps(f"sam build ({architecture_override(arch)})"):
        template = build()
    endpoint, names = _dynamodb(stack, steps)
    gateway = bridge_gateway(docker.client)
    inside, add_hosts = container_endpoint(endpoint, gateway)
    _reachable_from_containers(endpoint, inside, gateway)
    generated = admin_token()
    env_file = WORK_DIR / "env.json"
    env_file.write_text(
        json.dumps(env_vars(inside, names, os.environ["ADMIN_TOKEN"]), indent=2), encoding="utf-8"
    )
    steps.say(f"functions reach DynamoDB at {inside} ({' '.join(add_hosts) or 'as given'})")
    with steps(f"sam local start-api on http://127.0.0.1:{port}/"):
        process = stack.enter_context(
            start_api(start_api_args(template, port, env_file, add_hosts, arch), port)
        )
    with steps("first request: GET / (the pages function's cold start)"):
        status, seconds = timed_get(f"http://127.0.0.1:{port}/")
        steps.say(f"{status} in {seconds:.2f} s")
    print(f"\n  newsdesk is running in SAM CLI on http://127.0.0.1:{port}/   (Ctrl-C to stop)")
    print(f"  Setup: {steps.summary()}\n")
    print(admin_hint(port, generated), flush=True)
    return process


def run(out: IO[str] = sys.stdout) -> int:
    """make sam-local, until Ctrl-C / SIGTERM (0), or a failure (1)."""
    from local.__main__ import _port_setting, check_config, set_defaults

    steps = Steps(out)
    arch = host_architecture()
    with ExitStack() as stack:
        try:
            set_defaults()
            port = _port_setting()
            check_config()
            if _listening(port):
                raise Failure(
                    f"port {port} is in use; choose another: PORT={port + 1} make sam-local"
                )
            process = serve(steps, stack, port, arch)
            steps.save(ROOT / "artifacts" / "sam-local-times.json")
            code = process.wait()
            print(f"error: sam local start-api exited (code {code})", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("\nStopping (SAM CLI and its containers, DynamoDB, dockerd if started here)...")
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C must not cut the stop
            return 0
        except Failure as err:
            print(f"error: {err}", file=sys.stderr)
            return 1
        except Exception as err:  # docker's, botocore's: still one line
            print(f"error: {type(err).__name__}: {err}", file=sys.stderr)
            return 1
        finally:
            stack.close()


def main() -> int:
    from local.__main__ import _stop_on_signals

    _stop_on_signals()
    code = run()
    if code == 0:
        print("Stopped.", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
