#!/bin/sh
# System programs that some tests use beyond pip's packages: Graphviz's `dot` (ember.viz
# renders SVG/PNG through it) and Chromium (the TensorBoard browser test).  Installs the
# missing ones with apt-get where apt-get exists (as root, or through sudo).  Where that
# is impossible (no apt-get, no network, no rights) it says so and still succeeds: those
# tests then report themselves skipped, and everything else runs.
missing=""
command -v dot >/dev/null 2>&1 || missing="$missing graphviz"
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
[ -z "$missing" ] && exit 0
if command -v apt-get >/dev/null 2>&1; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    if $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends $missing
    then
        exit 0
    fi
fi
echo "system_deps.sh: could not install$missing; the tests that need them will be skipped" >&2
exit 0
