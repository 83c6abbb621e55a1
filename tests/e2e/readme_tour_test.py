#!/usr/bin/env python3
"""The README's "A tour of the CLI" runs top to bottom, as written.

    readme_tour_test.py SOURCE_DIR KILN_BINARY

Every command of the tour's ```sh block runs in order, through bash, in a
fresh working directory where the repository's folders the commands name
(models/, examples/, tests/) are symlinks, so nothing is copied and any
write into them shows. `kiln` is on PATH as the README says (its build
folder first); KILN_PLUGIN_PATH is unset, since the binary finds its
plugins relative to itself. HOME and XDG_CACHE_HOME point into the working
directory: the GPU backends' pipeline cache ($XDG_CACHE_HOME/kiln, as
documented) and the drivers' own caches are the only writes kiln makes
outside the paths a command names, and they must not touch the real home.

Each command must exit 0. Afterwards: every output a command names (-o,
--output, --json, a `>` redirect) inside the working directory exists; one
outside it (/dev/null) is still what it was, a character device with the
same device number; and the repository folders the commands read gained,
lost or changed no file.

Run as root, the tour runs twice: as root (the issue's /dev/null report),
then as the unprivileged user nobody through setpriv or runuser, when
either exists. Run as anyone else, it runs once as that user.

A command for a GPU backend that `kiln backends` reports unavailable here
is skipped with the reason, unless KILN_REQUIRE_BACKENDS names it.
"""

import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
import tempfile
import time

REPO_FOLDERS = ("models", "examples", "tests")
NOBODY_UID = 65534
NOBODY_GID = 65534

failures = []


def fail(message):
    failures.append(message)
    print("FAIL: " + message, flush=True)


def tour_commands(readme_path):
    """The tour's commands: the first ```sh block after its heading, one
    command a line (a trailing backslash joins lines); comment lines out."""
    text = open(readme_path, encoding="utf-8").read()
    heading = text.index("## A tour of the CLI")
    begin = text.index("```sh\n", heading) + len("```sh\n")
    end = text.index("\n```", begin - 1)
    commands, pending = [], ""
    for line in text[begin:end].splitlines():
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        if line.strip() and not line.lstrip().startswith("#"):
            commands.append(line.strip())
    return commands


def words(command):
    """The command's shell words, up to its comment."""
    lexer = shlex.shlex(command, posix=True, punctuation_chars="|>")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    return list(lexer)


def named_outputs(command):
    """The paths a command says it writes."""
    tokens = words(command)
    outputs = []
    for i, token in enumerate(tokens[:-1]):
        following = tokens[i + 1]
        if token in ("-o", "--json", "--dump-logits", ">"):
            outputs.append(following)
        elif token == "--output":
            outputs.append(following.split("=", 1)[-1])
    return outputs


def repo_folders_read(commands):
    """The folders (relative to the repository) holding the files the
    commands read from the repository: models, examples/data/mlp, ..."""
    folders = set()
    for command in commands:
        for token in words(command):
            path = token.split("=", 1)[-1]
            if path.split("/", 1)[0] in REPO_FOLDERS:
                folders.add(os.path.dirname(path) or path)
    return sorted(folders)


def snapshot(folder):
    """Each entry of `folder`: its type, size and modification time."""
    entries = {}
    for name in sorted(os.listdir(folder)):
        info = os.lstat(os.path.join(folder, name))
        entries[name] = (stat.S_IFMT(info.st_mode), info.st_size, info.st_mtime_ns)
    return entries


def device_identity(path):
    info = os.lstat(path)
    return (stat.S_IFMT(info.st_mode), info.st_rdev, info.st_ino)


def unavailable_backends(kiln, env, prefix):
    """Backends that `kiln backends`, run as the tour's user (a driver's
    cache it creates belongs to that user), lists as unavailable, with the
    line that says why."""
    result = subprocess.run(prefix + [kiln, "backends"], env=env, capture_output=True, text=True, timeout=120)
    unavailable = {}
    for line in (result.stdout + result.stderr).splitlines():
        match = re.match(r"\s*(\w+)\b.*\bunavailable\b", line)
        if match:
            unavailable[match.group(1)] = line.strip()
    return unavailable


def required_backends():
    return {name.strip() for name in os.environ.get("KILN_REQUIRE_BACKENDS", "").split(",") if name.strip()}


def run_tour(source, kiln, commands, as_user):
    """Runs every command once in a fresh working directory; as_user is
    None (this process's user) or a (uid, gid, prefix) to drop to."""
    who = "nobody" if as_user else ("root" if os.geteuid() == 0 else "this user")
    print(f"== the README tour as {who}", flush=True)
    work = tempfile.mkdtemp(prefix="kiln-readme-tour-")
    try:
        for folder in REPO_FOLDERS:
            os.symlink(os.path.join(source, folder), os.path.join(work, folder))
        home = os.path.join(work, "home")
        os.mkdir(home)
        if as_user:
            for path in (work, home):
                os.chown(path, as_user[0], as_user[1])
        env = dict(os.environ)
        env.pop("KILN_PLUGIN_PATH", None)
        env["PATH"] = os.path.dirname(kiln) + os.pathsep + env.get("PATH", "/usr/bin:/bin")
        env["HOME"] = home
        env["XDG_CACHE_HOME"] = os.path.join(home, ".cache")
        prefix = as_user[2] if as_user else []

        watched = {folder: snapshot(os.path.join(source, folder)) for folder in repo_folders_read(commands)}
        outside = {}
        for command in commands:
            for output in named_outputs(command):
                path = os.path.normpath(os.path.join(work, output))
                if not path.startswith(work + os.sep) and os.path.lexists(path):
                    outside[path] = device_identity(path)
        unavailable = unavailable_backends(kiln, env, prefix)
        required = required_backends()

        for command in commands:
            backend = re.search(r"--backend\s+(\w+)", command)
            if backend and backend.group(1) in unavailable and backend.group(1) not in required:
                print(f"SKIP {command}\n     {unavailable[backend.group(1)]}", flush=True)
                continue
            started = time.monotonic()
            result = subprocess.run(prefix + ["bash", "-o", "pipefail", "-c", command], cwd=work, env=env,
                                    capture_output=True, text=True, timeout=600)
            seconds = time.monotonic() - started
            print(f"{'ok  ' if result.returncode == 0 else 'FAIL'} {seconds:6.1f} s  {command}", flush=True)
            if result.returncode != 0:
                fail(f"as {who}: `{command}` exited {result.returncode}\n"
                     f"stdout: {result.stdout[-2000:]}\nstderr: {result.stderr[-4000:]}")
                continue
            for output in named_outputs(command):
                path = os.path.normpath(os.path.join(work, output))
                if path.startswith(work + os.sep) and not os.path.exists(path):
                    fail(f"as {who}: `{command}` did not write {output}")

        for path, identity in outside.items():
            if not os.path.lexists(path) or device_identity(path) != identity:
                fail(f"as {who}: {path} was replaced (it was {identity}, "
                     f"it is {device_identity(path) if os.path.lexists(path) else 'gone'})")
        if os.path.lexists("/dev/null") and not stat.S_ISCHR(os.lstat("/dev/null").st_mode):
            fail(f"as {who}: /dev/null is no longer a character device")
        for folder, before in watched.items():
            after = snapshot(os.path.join(source, folder))
            if after != before:
                changed = sorted(set(before.items()) ^ set(after.items()))
                fail(f"as {who}: the tour changed {folder}/ in the repository: {changed}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def unprivileged_prefix():
    """How root runs a command as nobody, or None when neither tool exists."""
    if shutil.which("setpriv"):
        return ["setpriv", f"--reuid={NOBODY_UID}", f"--regid={NOBODY_GID}", "--clear-groups", "--"]
    if shutil.which("runuser"):
        return ["runuser", "-u", "nobody", "--"]
    return None


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    source, kiln = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    commands = tour_commands(os.path.join(source, "README.md"))
    if not commands:
        sys.exit("README.md: the tour has no commands")
    run_tour(source, kiln, commands, None)
    if os.geteuid() == 0:
        prefix = unprivileged_prefix()
        if prefix is None:
            print("SKIP the tour as nobody: neither setpriv nor runuser is installed", flush=True)
        else:
            run_tour(source, kiln, commands, (NOBODY_UID, NOBODY_GID, prefix))
    if failures:
        print(f"{len(failures)} failure(s)", flush=True)
        sys.exit(1)
    print("the README tour ran as written", flush=True)


if __name__ == "__main__":
    main()
