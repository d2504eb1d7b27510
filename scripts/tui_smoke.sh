#!/usr/bin/env bash
# Run credit-tui in a detached tmux session, send keys, and print the captured screen after each step.
#
# Usage:
#   scripts/tui_smoke.sh [--size COLSxROWS] [--wait SECONDS] [--step SECONDS] [--keys "K1;K2 K3;..."] \
#                        [-- CREDIT_TUI_ARGS...]
#
#   --size   terminal size (default 80x24)
#   --wait   seconds to wait for the first screen (default 4)
#   --step   seconds to wait after each step (default 1)
#   --keys   steps separated by ';'; each step is a list of tmux key names sent together
#            (e.g. "1 0 0;Enter;f;Escape;m;q"). The screen is printed after every step.
#
# Example:
#   scripts/tui_smoke.sh --size 200x60 --keys "Enter;m;Escape;q" -- --model models/default --clients data/raw/application_test.csv
#
# Exit code: 0 when the app ran and exited (or was killed at the end), 1 when tmux could not start it.
set -euo pipefail

size="80x24"
wait_first=4
step=1
keys=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --size) size="$2"; shift 2 ;;
        --wait) wait_first="$2"; shift 2 ;;
        --step) step="$2"; shift 2 ;;
        --keys) keys="$2"; shift 2 ;;
        --) shift; break ;;
        -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
        *) echo "tui_smoke.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

if ! command -v tmux >/dev/null 2>&1; then
    echo "tui_smoke.sh: installing tmux" >&2
    apt-get install -y tmux >/dev/null
fi

here="$(cd "$(dirname "$0")/.." && pwd)"
bin="credit-tui"
if [[ -x "$here/.venv/bin/credit-tui" ]]; then bin="$here/.venv/bin/credit-tui"; fi

cols="${size%x*}"
rows="${size#*x}"
session="credit-tui-smoke-$$"
args=""
for a in "$@"; do args+=" $(printf '%q' "$a")"; done

cleanup() { tmux kill-session -t "$session" 2>/dev/null || true; }
trap cleanup EXIT

tmux new-session -d -s "$session" -x "$cols" -y "$rows" \
    "TERM=xterm-256color $bin$args; echo \"[credit-tui exited with code \$?]\"; sleep 30" || exit 1
tmux set-option -t "$session" status off >/dev/null

show() {
    echo "=================== $1 (${cols}x${rows}) ==================="
    tmux capture-pane -p -t "$session"
}

sleep "$wait_first"
show "first screen"
if [[ -n "$keys" ]]; then
    IFS=';' read -ra steps <<< "$keys"
    for s in "${steps[@]}"; do
        # shellcheck disable=SC2086
        tmux send-keys -t "$session" $s
        sleep "$step"
        show "after: $s"
    done
fi
