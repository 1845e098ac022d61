"""The Lambda python3.13 base image for `sam local`, from Debian packages when the public one
cannot be pulled.

SAM CLI runs a zip function in an image it builds on top of the runtime's base image,
`public.ecr.aws/lambda/python:3.13-<arch>` (samcli/local/docker/lambda_image.py: the
runtime's name and tag from `Runtime.get_image_name_tag`, under `public.ecr.aws/lambda`);
with `--skip-pull-image` it uses whatever image carries that name. On a machine without
access to that registry, this module makes one with the same layout:

- Debian trixie (`debootstrap --variant=minbase`, its python3.13 and CA certificates);
- `/var/lang/bin/python3.13` (a link to Debian's), `/var/runtime` holding the runtime
  interface client `awslambdaric` (local/lambda-base-requirements.txt, wheels for the
  image's architecture) and `/var/runtime/bootstrap`, which the runtime interface emulator
  that SAM CLI adds (`/var/rapid/aws-lambda-rie`) starts: `python3.13 -m awslambdaric
  $_HANDLER` from `/var/task`, with Lambda's module search order (the function, then the
  layers' `/opt/python/lib/python3.13/site-packages` and `/opt/python`, then the runtime;
  Lambda developer guide, "Dependency search path and runtime-included libraries");
- `LAMBDA_TASK_ROOT=/var/task`, `LAMBDA_RUNTIME_DIR=/var/runtime`, Lambda's `PATH` and
  `LD_LIBRARY_PATH`, `TZ=:/etc/localtime`, working directory `/var/task`.

It differs from AWS's image in what no function here relies on: Debian's glibc and
CPython build instead of Amazon Linux 2023's, `LANG=C.UTF-8` (Debian's minimal system has
no `en_US.UTF-8`), and no boto3 in `/var/runtime` (the template's DependenciesLayer brings
its own, which on AWS shadows the runtime's anyway).

The image is built `FROM scratch` with `docker build --platform` (a `docker import
--platform` is ignored by Debian's dockerd 20.10); the debootstrap output is cached as a
tar under .local/lambda-base/, keyed by everything that goes into it, so a rebuild (a
wiped Docker store, a new dockerd) takes seconds. Building needs root (debootstrap) and
this machine's architecture (a foreign one would need qemu-user-static).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
CACHE_DIR = ROOT / ".local" / "lambda-base"
REQUIREMENTS = Path(__file__).with_name("lambda-base-requirements.txt")
RUNTIME = "python3.13"
REPOSITORY = "public.ecr.aws/lambda"  # samcli LambdaImage._INVOKE_REPO_PREFIX
SUITE = "trixie"  # Debian 13: python3.13
MIRROR = os.environ.get("DEBIAN_MIRROR", "http://deb.debian.org/debian")
PACKAGES = ("python3.13", "ca-certificates")
LABEL = "newsdesk.lambda-base"  # the recipe's key, on images built here
PULL_TIMEOUT = 20.0  # seconds without progress before a pull counts as impossible
DEBIAN_ARCH = {"x86_64": "amd64", "arm64": "arm64"}
WHEEL_ARCH = {"x86_64": "x86_64", "arm64": "aarch64"}

# /var/runtime/bootstrap: what the runtime interface emulator runs (it looks for
# /var/runtime/bootstrap first). `-m` puts the working directory, /var/task, first on
# sys.path; PYTHONPATH adds the layers' folders, then the runtime's.
BOOTSTRAP = """#!/bin/sh
# The python3.13 runtime's bootstrap (made by newsdesk's local/lambdabase.py).
export AWS_EXECUTION_ENV=AWS_Lambda_python3.13
export PYTHONPATH=/opt/python/lib/python3.13/site-packages:/opt/python:/var/runtime
cd "${LAMBDA_TASK_ROOT:-/var/task}" || exit 1
exec /var/lang/bin/python3.13 -m awslambdaric "$_HANDLER"
"""

# The image's entry point when run by hand (SAM CLI sets its own: the emulator).
ENTRYPOINT = """#!/bin/sh
if [ $# -ne 1 ]; then
  echo "entrypoint requires the handler name to be the first argument" 1>&2
  exit 142
fi
export _HANDLER="$1"
if [ -z "${AWS_LAMBDA_RUNTIME_API}" ] && [ -x /usr/local/bin/aws-lambda-rie ]; then
  exec /usr/local/bin/aws-lambda-rie /var/runtime/bootstrap
fi
exec /var/runtime/bootstrap
"""

DOCKERFILE = """FROM scratch
ADD rootfs.tar /
ENV LANG=C.UTF-8 \\
    TZ=:/etc/localtime \\
    PATH=/var/lang/bin:/usr/local/bin:/usr/bin/:/bin:/opt/bin \\
    LD_LIBRARY_PATH={ld_library_path} \\
    LAMBDA_TASK_ROOT=/var/task \\
    LAMBDA_RUNTIME_DIR=/var/runtime
WORKDIR /var/task
LABEL {label}={key}
ENTRYPOINT ["/lambda-entrypoint.sh"]
"""
# The python3.13 image's LD_LIBRARY_PATH.
LD_LIBRARY_PATH = ":".join(
    (
        *("/var/lang/lib", "/lib64", "/usr/lib64", "/var/runtime", "/var/runtime/lib"),
        *("/var/task", "/var/task/lib", "/opt/lib"),
    )
)


class BaseImageError(RuntimeError):
    """The base image could not be pulled or built; the message says what to do."""


def image_name(arch: str) -> str:
    """The name SAM CLI uses for python3.13's base image on `arch` (x86_64 or arm64), e.g.
    public.ecr.aws/lambda/python:3.13-x86_64."""
    from samcli.local.docker.lambda_image import Runtime

    return f"{REPOSITORY}/{Runtime.get_image_name_tag(RUNTIME, arch)}"


def recipe_key(arch: str) -> str:
    """12 hex digits naming everything the image is made of (suite, packages, pins, scripts)."""
    parts = [SUITE, arch, *PACKAGES, REQUIREMENTS.read_text(encoding="utf-8")]
    parts += [BOOTSTRAP, ENTRYPOINT, DOCKERFILE]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:12]


def cached_tar(arch: str) -> Path:
    """Where the root file system for `arch` is kept (it exists once built)."""
    return CACHE_DIR / f"{RUNTIME}-{arch}-{recipe_key(arch)}.tar"


def current(client: Any, arch: str) -> bool:
    """True when Docker has the base image for `arch`: pulled (no label of ours), or built
    here from this recipe. One built from an older recipe is not current."""
    import docker

    try:
        image = client.images.get(image_name(arch))
    except docker.errors.ImageNotFound:
        return False
    labels = (image.attrs.get("Config") or {}).get("Labels") or {}
    return labels.get(LABEL) in (None, recipe_key(arch))


def pull(client: Any, arch: str, timeout: float = PULL_TIMEOUT) -> str | None:
    """Pull the public base image; None when done, else why not (no route to the registry,
    or no progress within `timeout` seconds: the pull is then abandoned)."""
    import docker

    name = image_name(arch)
    repository, tag = name.rsplit(":", 1)
    platform = f"linux/{DEBIAN_ARCH[arch]}"
    api = docker.from_env(timeout=timeout).api  # the same daemon, a short timeout
    try:
        for _ in api.pull(repository, tag=tag, platform=platform, stream=True, decode=True):
            pass
        api.inspect_image(name)
    except docker.errors.APIError as err:  # the daemon's own words: no route, no such host
        return str(err.explanation or err).strip().splitlines()[0][:200]
    except Exception as err:  # requests' timeouts, ...
        return f"{type(err).__name__}: {err}".splitlines()[0][:200]
    finally:
        api.close()
    return None


def _run(args: list[str], log: Path, **kwargs: Any) -> None:
    """Run a build command, its output appended to `log`; BaseImageError naming the log on
    failure."""
    with open(log, "ab") as out:
        out.write(f"$ {' '.join(args)}\n".encode())
        out.flush()
        done = subprocess.run(args, stdout=out, stderr=subprocess.STDOUT, check=False, **kwargs)
    if done.returncode != 0:
        raise BaseImageError(f"{args[0]} failed (exit {done.returncode}); see {log}")


def _need_debootstrap(apt_install: Callable[[list[str]], None]) -> str:
    found = shutil.which("debootstrap")
    if found:
        return found
    apt_install(["debootstrap"])
    found = shutil.which("debootstrap")
    if not found:
        raise BaseImageError("debootstrap is not installed: apt-get install debootstrap")
    return found


def build_rootfs(arch: str, apt_install: Callable[[list[str]], None], log: Path) -> Path:
    """The cached root file system tar for `arch` (cached_tar), made now if missing:
    debootstrap, awslambdaric, the runtime's layout. Needs root, and `arch` must be this
    machine's; apt_install(packages) installs debootstrap when it is missing."""
    from local.toolchain import host_architecture

    tar = cached_tar(arch)
    if tar.is_file():
        return tar
    if os.geteuid() != 0:
        raise BaseImageError("building the base image needs root (debootstrap)")
    if arch != host_architecture():
        raise BaseImageError(
            f"the base image for {arch} can only be built on an {arch} machine "
            f"(this one is {host_architecture()}); pull {image_name(arch)} instead"
        )
    debootstrap = _need_debootstrap(apt_install)
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"rootfs-{arch}-", dir=CACHE_DIR))
    try:
        _run(
            [
                debootstrap,
                "--variant=minbase",
                f"--arch={DEBIAN_ARCH[arch]}",
                f"--include={','.join(PACKAGES)}",
                SUITE,
                str(work),
                MIRROR,
            ],
            log,
        )
        _lay_out_runtime(work, arch, log)
        partial = tar.with_suffix(".partial")
        _run(["tar", "--numeric-owner", "-C", str(work), "-cf", str(partial), "."], log)
        partial.rename(tar)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for old in CACHE_DIR.glob(f"{RUNTIME}-{arch}-*.tar"):  # earlier recipes
        if old != tar:
            old.unlink(missing_ok=True)
    return tar


def _lay_out_runtime(root: Path, arch: str, log: Path) -> None:
    """awslambdaric into /var/runtime, the bootstrap, /var/lang/bin, /var/task, /opt; the
    package caches emptied."""
    runtime = root / "var" / "runtime"
    machine = WHEEL_ARCH[arch]
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
            "--implementation=cp",
            "--python-version=3.13",
            f"--platform=manylinux2014_{machine}",
            f"--platform=manylinux_2_28_{machine}",
            "--target",
            str(runtime),
            "-r",
            str(REQUIREMENTS),
        ],
        log,
    )
    _write(runtime / "bootstrap", BOOTSTRAP, 0o755)
    _write(root / "lambda-entrypoint.sh", ENTRYPOINT, 0o755)
    lang = root / "var" / "lang" / "bin"
    lang.mkdir(parents=True, exist_ok=True)
    for name in ("python3.13", "python3", "python"):
        (lang / name).symlink_to("/usr/bin/python3.13")
    (root / "var" / "lang" / "lib").mkdir(exist_ok=True)
    (root / "var" / "task").mkdir(exist_ok=True)
    (root / "opt").mkdir(exist_ok=True)
    for cache in ("var/cache/apt/archives", "var/lib/apt/lists"):
        for item in (root / cache).glob("*"):
            if item.is_file():
                item.unlink()


def _write(path: Path, text: str, mode: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)


def docker_build(client: Any, arch: str, tar: Path, log: Path) -> str:
    """`docker build --platform` of the image FROM scratch with the root file system `tar`,
    tagged image_name(arch); returns that name."""
    name = image_name(arch)
    with tempfile.TemporaryDirectory(prefix="lambda-base-", dir=CACHE_DIR) as context:
        os.link(tar, Path(context) / "rootfs.tar")  # same file system: no copy
        Path(context, "Dockerfile").write_text(
            DOCKERFILE.format(label=LABEL, key=recipe_key(arch), ld_library_path=LD_LIBRARY_PATH),
            encoding="utf-8",
        )
        errors: list[str] = []
        with open(log, "a", encoding="utf-8") as out:
            for chunk in client.api.build(
                path=context,
                tag=name,
                platform=f"linux/{DEBIAN_ARCH[arch]}",
                rm=True,
                forcerm=True,
                decode=True,
            ):
                if "stream" in chunk:
                    out.write(chunk["stream"])
                if "error" in chunk:
                    errors.append(str(chunk["error"]).strip())
    if errors:
        raise BaseImageError(f"docker build of {name} failed: {errors[-1]} (see {log})")
    return name


def ensure(
    client: Any,
    arch: str,
    apt_install: Callable[[list[str]], None],
    log: Path,
    say: Callable[[str], None] = print,
) -> str:
    """The name of a current base image for `arch` in Docker: already there, else pulled
    (one try, PULL_TIMEOUT), else built here (build_rootfs from its cache, docker_build).
    Raises BaseImageError."""
    name = image_name(arch)
    if current(client, arch):
        say(f"{name} is in Docker already")
        return name
    log.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    why = pull(client, arch)
    if why is None:
        say(f"pulled {name} in {time.monotonic() - started:.1f} s")
        return name
    say(f"cannot pull {name} ({why}); building it from Debian packages")
    tar = cached_tar(arch)
    if tar.is_file():
        say(f"root file system from the cache: {tar.relative_to(ROOT)}")
    else:
        say(f"debootstrap {SUITE} + awslambdaric (log: {log.relative_to(ROOT)})")
        build_rootfs(arch, apt_install, log)
    docker_build(client, arch, tar, log)
    return name
