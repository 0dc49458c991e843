#!/bin/sh
# System programs that some tests use beyond pip's packages: Graphviz's `dot` (ember.viz
# renders SVG/PNG through it) and Chromium (the TensorBoard browser test).  Installs the
# missing ones with apt-get where apt-get exists (as root, or through sudo); elsewhere it
# changes nothing and those tests report themselves skipped.
set -eu
missing=""
command -v dot >/dev/null 2>&1 || missing="$missing graphviz"
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
if [ -n "$missing" ] && command -v apt-get >/dev/null 2>&1; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends $missing
fi
