#!/usr/bin/env bash
# Deploys against a real `dynod up` (DYNOD_BUILD_TIMEOUT=3 for the hang case):
# the examples (shell-only and Python, from their folders), a .tar.gz (whose
# slug is the tarball itself: same content address), a git work tree (HEAD,
# the short sha in the description, a warning about uncommitted changes),
# build output arriving line by line while the build runs, a custom
# buildpack set with buildpacks:set (its compile output shown, a rebuilt
# slug, the cache kept between builds, buildpacks / buildpacks:clear), and
# bad inputs, each refused with one line on stderr and no release: tarballs
# with `..`, absolute paths, symlinks out, device nodes, corrupt and cut
# short; a Procfile with a bad line, with no process types, none at all; a
# buildpack whose bin/compile fails and one that hangs (the build is killed
# at the timeout, leaving no process behind); an unknown app; a path that is
# not there and a folder that is not a buildpack. release-keeper SIGKILLed
# mid-build takes the build with it and sweeps its folder when restarted. A truncated upload and a
# SHA-256 mismatch are refused by release-keeper's upload code, covered by
# tests/unit/test_rel_deploy.c (the CLI cannot be made to send them).
# Also: a build flooding its output (`yes`) is cut at 50,000 lines with one
# truncation line and still times out on time, or finishes; config vars
# reach bin/compile as ENV_DIR files; as root, buildpack programs run as
# nobody and see neither the API token nor the blob store nor the build's
# own work folder; a hard link to a symlink that is then replaced, and an
# archive expanding past DYNOD_BUILD_MAX_MB, are refused; a buildpack whose
# blob left the store fails the deploy with a clear line; a failed build's
# reason is shown once (the error), not also as output; destroying an app
# removes its build cache.
# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

EXAMPLES=$(cd "$(dirname "$0")/../../examples" && pwd) || bail "no examples folder"
export DYNOD_BUILD_TIMEOUT=3
# Archives may expand to 2 MB per build here (the decompression bomb case).
export DYNOD_BUILD_MAX_MB=2
start_up || bail "dynod up did not get ready"
mkdir -p "$T/work" && cd "$T/work" || bail "cannot enter $T/work"

for app in shell-app python-app tar-app git-app bp-app stream-app bad-app fail-app hang-app kill-app \
    flood-app env-app gone-bp-app; do
    dyno apps:create "$app" >/dev/null 2>"$T/create.err" || bail "apps:create $app: $(cat "$T/create.err")"
done

# jq-like reads of a JSON file: jget FILE EXPR (python expression on `d`).
jget() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }

release_count() {   # release_count APP: number of releases
    dyno releases -a "$1" --json >"$T/rels.json" 2>/dev/null || { echo 0; return; }
    jget "$T/rels.json" 'len(d["releases"]) if isinstance(d, dict) else len(d)'
}

# deploy_ok NAME APP SOURCE: `dyno deploy --json` succeeds; the release.info
# is in $T/NAME.json, the build output (stderr in --json mode) in $T/NAME.log.
deploy_ok() {
    local name=$1 app=$2 src=$3
    if ! dyno deploy "$src" -a "$app" --json >"$T/$name.json" 2>"$T/$name.log"; then
        echo "deploy failed: $(tail -n 2 "$T/$name.log" | tr '\n' ' ')"
        return 1
    fi
}

has_line() {    # has_line FILE TEXT: a line of FILE is exactly TEXT
    grep -qxF -- "$2" "$1" || { echo "no line '$2' in: $(head -c 600 "$1" | tr '\n' '|')"; return 1; }
}

blob_path() { echo "$DATA/release-keeper/blobs/sha256/${1:0:2}/$1"; }

# ---- the examples, from their folders ------------------------------------------

shell_app() {
    dyno deploy "$EXAMPLES/shell-app" -a shell-app >"$T/shell.out" 2>"$T/shell.err" ||
        { echo "deploy failed: $(cat "$T/shell.err")"; return 1; }
    has_line "$T/shell.out" '-----> Building with the built-in buildpack' &&
    has_line "$T/shell.out" '       Procfile declares types -> web, worker' &&
    has_line "$T/shell.out" '-----> Launching... done, v1' || return 1
    dyno releases:info -a shell-app --json >"$T/shell.json" || return 1
    [ "$(jget "$T/shell.json" 'd["process_types"]["web"]')" = ./web.sh ] &&
    [ "$(jget "$T/shell.json" 'd["process_types"]["worker"]')" = ./worker.sh ] ||
        { echo "process types: $(cat "$T/shell.json")"; return 1; }
    local blob
    blob=$(jget "$T/shell.json" 'd["slug"]["blob"]')
    [ -f "$(blob_path "$blob")" ] || { echo "slug blob $blob not stored"; return 1; }
    [[ $(jget "$T/shell.json" 'd["description"]') == "Deploy ${blob:0:7}" ]] ||
        { echo "description: $(jget "$T/shell.json" 'd["description"]')"; return 1; }
}
check deploy_shell_app_folder shell_app

python_app() {
    deploy_ok python python-app "$EXAMPLES/python-app" || return 1
    [ "$(jget "$T/python.json" 'd["process_types"]')" = "{'web': 'python3 app.py'}" ] &&
    [ "$(jget "$T/python.json" 'd["version"]')" = 1 ] ||
        { echo "release: $(cat "$T/python.json")"; return 1; }
    # The slug holds the app's files (the source archive made by the CLI).
    python3 - "$(blob_path "$(jget "$T/python.json" 'd["slug"]["blob"]')")" <<'PY' || return 1
import sys, tarfile
names = set(n[2:] if n.startswith("./") else n for n in tarfile.open(sys.argv[1]).getnames())
missing = {"Procfile", "app.py"} - names
if missing:
    sys.exit("slug lacks %s (has %s)" % (missing, sorted(names)))
PY
}
check deploy_python_app_folder python_app

# ---- a tarball: the slug is the tarball ----------------------------------------

tarball() {
    tar czf "$T/shell.tgz" -C "$EXAMPLES/shell-app" . || return 1
    local sha
    sha=$(sha256sum "$T/shell.tgz" | cut -d' ' -f1)
    deploy_ok tgz tar-app "$T/shell.tgz" || return 1
    [ "$(jget "$T/tgz.json" 'd["slug"]["blob"]')" = "$sha" ] ||
        { echo "slug $(jget "$T/tgz.json" 'd["slug"]["blob"]') is not the tarball $sha"; return 1; }
    [ "$(jget "$T/tgz.json" 'd["slug"]["size"]')" = "$(stat -c %s "$T/shell.tgz")" ] &&
    [ "$(jget "$T/tgz.json" 'd["description"]')" = "Deploy ${sha:0:7}" ] ||
        { echo "release: $(cat "$T/tgz.json")"; return 1; }
    cmp -s "$T/shell.tgz" "$(blob_path "$sha")" || { echo "stored blob differs"; return 1; }
}
check deploy_tarball_slug_is_source tarball

# ---- a git work tree -----------------------------------------------------------

git_tree() {
    local g=$T/gitapp
    mkdir -p "$g" && cp -r "$EXAMPLES/python-app/." "$g/" || return 1
    (cd "$g" && git init -q && git add -A &&
        git -c user.name=t -c user.email=t@example.com commit -qm first) || return 1
    local sha
    sha=$(git -C "$g" rev-parse HEAD)
    echo "not committed" >"$g/extra.txt"
    deploy_ok git git-app "$g" || return 1
    grep -q "warning: '$g' has uncommitted changes; deploying HEAD (${sha:0:7})" "$T/git.log" ||
        { echo "no warning: $(cat "$T/git.log")"; return 1; }
    [ "$(jget "$T/git.json" 'd["description"]')" = "Deploy ${sha:0:7}" ] &&
    [ "$(jget "$T/git.json" 'd["commit"]')" = "$sha" ] ||
        { echo "release: $(cat "$T/git.json")"; return 1; }
    # HEAD went, the uncommitted file did not.
    python3 - "$(blob_path "$(jget "$T/git.json" 'd["slug"]["blob"]')")" <<'PY'
import sys, tarfile
names = set(n[2:] if n.startswith("./") else n for n in tarfile.open(sys.argv[1]).getnames())
if "app.py" not in names or "extra.txt" in names:
    sys.exit("slug names: %s" % sorted(names))
PY
}
check deploy_git_work_tree_head git_tree

git_releases_listing() {
    dyno releases -a git-app >"$T/git-rel.out" || return 1
    grep -q "v1 .*Deploy $(git -C "$T/gitapp" rev-parse --short=7 HEAD)" "$T/git-rel.out" ||
        { echo "releases: $(cat "$T/git-rel.out")"; return 1; }
}
check git_deploy_in_releases git_releases_listing

# ---- buildpacks -----------------------------------------------------------------

# make_buildpack DIR COMPILE-BODY: a buildpack whose detect passes and whose
# compile runs COMPILE-BODY (sh).
make_buildpack() {
    mkdir -p "$1/bin"
    printf '#!/bin/sh\necho Test\n' >"$1/bin/detect"
    printf '#!/bin/sh\n%s\n' "$2" >"$1/bin/compile"
    chmod +x "$1/bin/detect" "$1/bin/compile"
}

custom_buildpack() {
    dyno buildpacks:set "$EXAMPLES/buildpacks/shell" -a bp-app >"$T/bp-set.out" 2>&1 &&
    has_line "$T/bp-set.out" 'Buildpack set. Next release on bp-app will use shell.' || return 1
    dyno buildpacks -a bp-app >"$T/bp-list.out" && has_line "$T/bp-list.out" '1. shell' || return 1
    deploy_ok bp1 bp-app "$EXAMPLES/shell-app" || return 1
    has_line "$T/bp1.log" '-----> Shell app detected' &&
    has_line "$T/bp1.log" '-----> Shell buildpack: preparing scripts' &&
    has_line "$T/bp1.log" '       build 1 of this app with this cache' &&
    has_line "$T/bp1.log" '       Default types for buildpack -> web' || return 1
    tar czf "$T/bp-src.tgz" -C "$EXAMPLES/shell-app" . || return 1
    deploy_ok bp2 bp-app "$T/bp-src.tgz" || return 1
    has_line "$T/bp2.log" '       build 2 of this app with this cache' || return 1
    local slug
    slug=$(jget "$T/bp2.json" 'd["slug"]["blob"]')
    [ "$slug" != "$(sha256sum "$T/bp-src.tgz" | cut -d' ' -f1)" ] || { echo "slug is the source"; return 1; }
    [ "$(jget "$T/bp2.json" 'd["slug"]["buildpacks"]')" = "['shell']" ] || return 1
    python3 - "$(blob_path "$slug")" <<'PY'
import sys, tarfile
t = tarfile.open(sys.argv[1])
names = set(n[2:] if n.startswith("./") else n for n in t.getnames())
if not {".shell-buildpack", "Procfile", "web.sh"} <= names:
    sys.exit("slug names: %s" % sorted(names))
if b"build=2" not in t.extractfile([m for m in t.getmembers() if m.name.endswith(".shell-buildpack")][0]).read():
    sys.exit("compile's file not in the slug")
PY
}
check custom_buildpack_builds custom_buildpack

clear_buildpacks() {
    dyno buildpacks:clear -a bp-app >"$T/bp-clear.out" 2>&1 &&
    has_line "$T/bp-clear.out" 'Buildpacks cleared. Next release on bp-app will use the built-in buildpack.' || return 1
    dyno buildpacks -a bp-app >"$T/bp-list2.out" && grep -q 'has no buildpack set' "$T/bp-list2.out" ||
        { echo "buildpacks: $(cat "$T/bp-list2.out")"; return 1; }
    deploy_ok bp3 bp-app "$EXAMPLES/shell-app" && has_line "$T/bp3.log" '-----> Building with the built-in buildpack'
}
check buildpacks_clear_back_to_builtin clear_buildpacks

# ---- output streams while the build runs ------------------------------------------

streaming() {
    # The compile prints a line, then waits (bounded) for the test to have
    # seen that line at the CLI: only a streamed line can release it. The
    # sign is a file in a folder the build user can see (as root builds
    # see neither $T nor the host's /tmp).
    local sig
    sig=$(mktemp -d /var/tmp/dynod-it-stream.XXXXXX) && chmod 755 "$sig" || return 1
    make_buildpack "$T/bp-stream" "echo 'step one'
i=0; while [ ! -e '$sig/seen-step-one' ] && [ \$i -lt 50 ]; do sleep 0.05; i=\$((i+1)); done
[ -e '$sig/seen-step-one' ] || { echo 'step one was not streamed'; exit 1; }
echo 'step two'"
    dyno buildpacks:set "$T/bp-stream" -a stream-app >/dev/null || { rm -rf "$sig"; return 1; }
    "$DYNO" deploy "$EXAMPLES/shell-app" -a stream-app >"$T/stream.out" 2>"$T/stream.err" &
    local pid=$!
    wait_for 5 grep -qx 'step one' "$T/stream.out" || { kill "$pid"; rm -rf "$sig"; return 1; }
    grep -qx 'step two' "$T/stream.out" && { echo "step two before the line was seen"; rm -rf "$sig"; return 1; }
    touch "$sig/seen-step-one"
    wait "$pid" || { echo "deploy failed: $(cat "$T/stream.err")"; rm -rf "$sig"; return 1; }
    rm -rf "$sig"
    has_line "$T/stream.out" 'step two' && has_line "$T/stream.out" '-----> Launching... done, v1'
}
check build_output_streams_line_by_line streaming

# ---- bad input: one line, no release -----------------------------------------------

# refused NAME APP SOURCE WANT: deploy fails with exit 1, one stderr line
# holding WANT, and the app has no new release.
refused() {
    local app=$1 src=$2 want=$3 before after
    before=$(release_count "$app")
    run dyno deploy "$src" -a "$app"
    expect_rc 1 && one_stderr_line || return 1
    grep -qF -- "$want" "$T/run.err" || { echo "stderr: $(cat "$T/run.err")"; return 1; }
    after=$(release_count "$app")
    [ "$before" = "$after" ] || { echo "releases went from $before to $after"; return 1; }
}

# hostile NAME KIND: a .tar.gz built with python's tarfile.
hostile() {
    python3 - "$T/$1.tgz" "$2" <<'PY'
import io, sys, tarfile
path, kind = sys.argv[1], sys.argv[2]
def add(t, name, data=b"", type=tarfile.REGTYPE, link=""):
    ti = tarfile.TarInfo(name)
    ti.type, ti.linkname = type, link
    ti.size = len(data) if type == tarfile.REGTYPE else 0
    t.addfile(ti, io.BytesIO(data) if ti.size else None)
with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT) as t:
    add(t, "Procfile", b"web: ./web.sh\n")
    if kind == "dotdot":
        add(t, "../escape.txt", b"boom")
    elif kind == "absolute":
        add(t, "/tmp/dynod-abs-escape.txt", b"boom")
    elif kind == "symlink":
        add(t, "etc", type=tarfile.SYMTYPE, link="../../../../etc")
    elif kind == "device":
        add(t, "null", type=tarfile.CHRTYPE)
PY
}

for kind in dotdot absolute symlink device; do
    hostile "$kind" "$kind" || bail "cannot build the $kind tarball"
done
check refused_dotdot_entry refused bad-app "$T/dotdot.tgz" "tarball entry '../escape.txt' escapes the build directory"
check refused_absolute_path refused bad-app "$T/absolute.tgz" "tarball entry '/tmp/dynod-abs-escape.txt' is an absolute path"
check refused_symlink_out refused bad-app "$T/symlink.tgz" "tarball entry 'etc' is a symlink to '../../../../etc', outside the build directory"
check refused_device_node refused bad-app "$T/device.tgz" "tarball entry 'null' is a device node"
nothing_escaped() {
    [ ! -e "$T/escape.txt" ] && [ ! -e /tmp/dynod-abs-escape.txt ] &&
        [ -z "$(find "$DATA" -name escape.txt)" ] || { echo "an entry landed outside"; return 1; }
}
check hostile_entries_never_written nothing_escaped

head -c 3000 /dev/urandom >"$T/corrupt.tgz"
check refused_corrupt_tarball refused bad-app "$T/corrupt.tgz" "tarball is not a valid .tar.gz"
head -c 20000 /dev/urandom >"$T/big.bin"
tar czf "$T/whole.tgz" -C "$T" big.bin || bail "cannot make a tarball"
head -c $(($(stat -c %s "$T/whole.tgz") / 2)) "$T/whole.tgz" >"$T/half.tgz"
check refused_truncated_tarball refused bad-app "$T/half.tgz" "tarball is corrupt or truncated"

procfile_case() {   # procfile_case DIR CONTENT: a source folder with that Procfile (or none)
    mkdir -p "$T/$1" && echo "hello" >"$T/$1/index.html"
    [ -n "$2" ] && printf '%b' "$2" >"$T/$1/Procfile"
    return 0
}
procfile_case badline 'web: ./web.sh\nthis line is wrong\n'
procfile_case notypes '# nothing here\n\n'
procfile_case noprocfile ''
check refused_procfile_bad_line refused bad-app "$T/badline" "Procfile line 2: 'this line is wrong' is not 'name: command'"
check refused_procfile_no_types refused bad-app "$T/notypes" "Procfile declares no process types"
check refused_no_procfile refused bad-app "$T/noprocfile" "no Procfile"

failing_compile() {
    make_buildpack "$T/bp-fail" 'echo "compiling..."; echo "oops" >&2; exit 1'
    dyno buildpacks:set "$T/bp-fail" -a fail-app >/dev/null || return 1
    refused fail-app "$EXAMPLES/shell-app" "build failed: bin/compile exited with status 1" || return 1
    grep -qx 'oops' "$T/run.out" || { echo "compile's stderr not shown: $(cat "$T/run.out")"; return 1; }
}
check refused_failing_compile failing_compile

reason_once() {     # the reason is the error line only, not also build output
    grep -q 'build failed' "$T/run.out" && { echo "reason in the output: $(cat "$T/run.out")"; return 1; }
    grep -q '^ !' "$T/run.out" && { echo "a ' !' line in the output"; return 1; }
    return 0
}
check failed_build_reason_shown_once reason_once

# ---- output floods -----------------------------------------------------------------

TRUNCATED='-----> output truncated: over 50000 lines or 4 MB; the rest is not shown'

flood_timeout() {
    # Endless output: the build is still killed at its timeout (the loop is
    # never starved), and the CLI gets the capped lines and one truncation.
    make_buildpack "$T/bp-flood" 'echo flooding; exec yes'
    dyno buildpacks:set "$T/bp-flood" -a flood-app >/dev/null || return 1
    local t0=$(now_ms)
    refused flood-app "$EXAMPLES/shell-app" "build timed out after 3 s" || return 1
    local took=$(($(now_ms) - t0)) lines
    [ "$took" -lt 10000 ] || { echo "took $took ms"; return 1; }
    has_line "$T/run.out" "$TRUNCATED" || return 1
    lines=$(wc -l <"$T/run.out")
    [ "$lines" -le 50010 ] || { echo "$lines lines of output"; return 1; }
    # release-keeper kept its heartbeats through it.
    ! grep -q 'actor release-keeper@[^ ]* down' "$UP_ERR" ||
        { echo "release-keeper was dropped: $(grep 'release-keeper@' "$UP_ERR" | tail -n 1)"; return 1; }
}
check flood_output_capped_timeout_on_time flood_timeout

flood_ends() {
    # A flood that ends: the rest is drained (the build never blocks on a
    # full pipe) and not shown; the deploy succeeds.
    make_buildpack "$T/bp-flood2" 'yes | head -n 120000; echo after-the-flood'
    dyno buildpacks:set "$T/bp-flood2" -a flood-app >/dev/null || return 1
    deploy_ok flood flood-app "$EXAMPLES/shell-app" || return 1
    has_line "$T/flood.log" "$TRUNCATED" || return 1
    grep -qx 'after-the-flood' "$T/flood.log" && { echo "a line past the cap was shown"; return 1; }
    [ "$(jget "$T/flood.json" 'd["version"]')" = 1 ] || { echo "release: $(cat "$T/flood.json")"; return 1; }
}
check flood_output_drained_build_finishes flood_ends

# ---- config vars and the build's isolation ---------------------------------------------

env_and_isolation() {
    dyno config:set SECRET=s3 "MULTI=a b" -a env-app >/dev/null || return 1
    make_buildpack "$T/bp-env" "echo \"secret=\$(cat \"\$3/SECRET\")\"
echo \"multi=\$(cat \"\$3/MULTI\")\"
echo \"env-mode=\$(stat -c %a:%U \"\$3/SECRET\")\"
echo \"user=\$(id -un)\"
cat '$DATA/api-token' >/dev/null 2>&1 && echo token-readable || echo token-hidden
ls '$DATA/release-keeper/blobs' >/dev/null 2>&1 && echo store-visible || echo store-hidden
ls '$DATA/release-keeper/builds' >/dev/null 2>&1 && echo work-visible || echo work-hidden"
    dyno buildpacks:set "$T/bp-env" -a env-app >/dev/null || return 1
    deploy_ok env env-app "$EXAMPLES/shell-app" || return 1
    has_line "$T/env.log" 'secret=s3' && has_line "$T/env.log" 'multi=a b' || return 1
    if [ "$(id -u)" = 0 ]; then
        has_line "$T/env.log" 'env-mode=600:nobody' && has_line "$T/env.log" 'user=nobody' &&
        has_line "$T/env.log" 'token-hidden' && has_line "$T/env.log" 'store-hidden' &&
        has_line "$T/env.log" 'work-hidden' || return 1
    else
        has_line "$T/env.log" "env-mode=600:$(id -un)" || return 1
    fi
}
check config_vars_in_env_dir_and_build_isolated env_and_isolation

# ---- more hostile archives -------------------------------------------------------------

hardlink_to_symlink() {
    # `a` -> /etc, `h` a hard link to `a` (a symlink on disk), then `a`
    # replaced by a regular file: `h` would still lead to /etc.
    python3 - "$T/hlink.tgz" <<'PY' || return 1
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w:gz", format=tarfile.PAX_FORMAT) as t:
    def add(name, data=b"", type=tarfile.REGTYPE, link=""):
        ti = tarfile.TarInfo(name)
        ti.type, ti.linkname = type, link
        ti.size = len(data) if type == tarfile.REGTYPE else 0
        t.addfile(ti, io.BytesIO(data) if ti.size else None)
    add("Procfile", b"web: ./web.sh\n")
    add("a", type=tarfile.SYMTYPE, link="/etc")
    add("h", type=tarfile.LNKTYPE, link="a")
    add("a", b"plain file\n")
PY
    refused bad-app "$T/hlink.tgz" "tarball entry 'a' replaces a symlink made earlier in the archive"
}
check refused_hardlink_to_replaced_symlink hardlink_to_symlink

bomb() {
    # 3 MB of zeros compress to a few KB; DYNOD_BUILD_MAX_MB=2 here.
    mkdir -p "$T/bomb" && echo 'web: ./web.sh' >"$T/bomb/Procfile" &&
        head -c 3000000 /dev/zero >"$T/bomb/zeros" && tar czf "$T/bomb.tgz" -C "$T/bomb" . || return 1
    [ "$(stat -c %s "$T/bomb.tgz")" -lt 100000 ] || { echo "the bomb is not small"; return 1; }
    refused bad-app "$T/bomb.tgz" "tarball expands to over 2 MB, the limit for a build"
}
check refused_decompression_bomb bomb

buildpack_blob_gone() {
    make_buildpack "$T/bp-gone" 'echo compiling'
    dyno buildpacks:set "$T/bp-gone" -a gone-bp-app >/dev/null || return 1
    dyno buildpacks -a gone-bp-app --json >"$T/gone.json" || return 1
    local sha
    sha=$(jget "$T/gone.json" 'd[0]["blob"]')
    # Gone from the store and from the broker's vault, which would give it back.
    local vault="$DATA/vault/sha256/${sha:0:2}/$sha"
    wait_for 10 test -f "$vault" || { echo "buildpack $sha never reached the broker's vault"; return 1; }
    rm -f "$(blob_path "$sha")" "$vault" || return 1
    refused gone-bp-app "$EXAMPLES/shell-app" \
        "buildpack 'bp-gone' (${sha:0:7}) is not in the store; run dyno buildpacks:set again"
}
check refused_buildpack_not_in_store buildpack_blob_gone

strays() { pgrep -f 'sleep 98765' >/dev/null && { echo "left running: $(pgrep -af 'sleep 98765')"; return 1; }; return 0; }

hanging_compile() {
    local escape=
    # As root builds get their own PID namespace: even a process that left
    # the build's session dies with it.
    [ "$(id -u)" = 0 ] && escape='setsid sleep 987653 </dev/null >/dev/null 2>&1 &'
    make_buildpack "$T/bp-hang" "echo 'hanging...'; sleep 987651 & $escape
sleep 987652"
    dyno buildpacks:set "$T/bp-hang" -a hang-app >/dev/null || return 1
    local t0=$(now_ms)
    refused hang-app "$EXAMPLES/shell-app" "build timed out after 3 s" || return 1
    local took=$(($(now_ms) - t0))
    [ "$took" -lt 10000 ] || { echo "took $took ms"; return 1; }
    wait_for 5 strays
}
check refused_hanging_compile_timeout_no_strays hanging_compile

keeper_killed_mid_build() {
    # release-keeper dies (SIGKILL) while a build runs: the build dies with
    # it, the restarted keeper sweeps the build's folder away.
    make_buildpack "$T/bp-hang2" "echo 'hanging too...'; sleep 987661"
    dyno buildpacks:set "$T/bp-hang2" -a kill-app >/dev/null || return 1
    "$DYNO" deploy "$EXAMPLES/shell-app" -a kill-app >"$T/kill.out" 2>&1 &
    local cli=$! rk
    wait_for 5 grep -qx 'hanging too...' "$T/kill.out" || { kill "$cli"; return 1; }
    rk=$(child_pid release-keeper)
    [ -n "$rk" ] && kill -KILL "$rk" || { kill "$cli"; echo "no release-keeper pid"; return 1; }
    kill "$cli"
    wait "$cli" 2>/dev/null
    if [ "$(id -u)" = 0 ]; then
        gone() { ! pgrep -f 'sleep 987661' >/dev/null; }
        wait_for 5 gone || { echo "the build outlived release-keeper"; return 1; }
    fi
    wait_for 20 sq restarted release-keeper "$rk" || return 1
    swept() { [ -z "$(find "$DATA/release-keeper" -maxdepth 2 -path '*builds*' -mindepth 1)" ]; }
    wait_for 10 swept || { echo "left: $(find "$DATA/release-keeper" -maxdepth 2 -path '*builds*')"; return 1; }
}
check keeper_killed_mid_build_no_leftovers keeper_killed_mid_build

check refused_unknown_app refused nope-app "$EXAMPLES/shell-app" "app 'nope-app' does not exist"
check refused_missing_path refused bad-app "$T/not-there" "cannot deploy '$T/not-there'"
not_buildpack() {
    mkdir -p "$T/notbp"
    run dyno buildpacks:set "$T/notbp" -a bad-app
    expect_rc 1 && one_stderr_line && grep -q "is not a buildpack: it has no executable bin/detect" "$T/run.err"
}
check refused_not_a_buildpack not_buildpack

no_build_leftovers() {     # build folders are removed once builds end
    local left
    left=$(find "$DATA/release-keeper/builds" -mindepth 1 -maxdepth 1 2>/dev/null)
    [ -z "$left" ] || { echo "left: $left"; return 1; }
}
check build_folders_removed wait_for 10 no_build_leftovers

cache_removed_with_app() {
    local cache=$DATA/release-keeper/cache/bp-app
    [ -d "$cache" ] || { echo "bp-app has no build cache to remove"; return 1; }
    dyno apps:destroy -a bp-app --confirm bp-app >/dev/null || return 1
    gone() { [ ! -e "$cache" ] && [ -z "$(find "$DATA/release-keeper/cache" -maxdepth 1 -name '.gone-*')" ]; }
    wait_for 5 gone || { echo "left: $(ls -a "$DATA/release-keeper/cache")"; return 1; }
}
check build_cache_removed_with_app cache_removed_with_app

finish
