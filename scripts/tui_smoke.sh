#!/usr/bin/env bash
# Run credit-tui in a detached tmux session, send keys, and print the captured screen after each step.
#
# Usage:
#   scripts/tui_smoke.sh [--size COLSxROWS] [--wait SECONDS] [--step SECONDS] [--keys "K1;K2 K3;..."] \
#                        [--session] [-- CREDIT_TUI_ARGS...]
#
#   --size     terminal size (default 80x24)
#   --wait     seconds to wait for the first screen (default 4)
#   --step     seconds to wait after each step (default 1)
#   --keys     steps separated by ';'; each step is a list of tmux key names sent together
#              (e.g. "1 0 0;Enter;f;Escape;m;q"). The screen is printed after every step.
#   --session  a whole advisor session (search, REVIEW-undecided queue, open, every tab, what-if,
#              decide with a justification, letter, decisions, quit) with a fresh audit log and
#              letters folder in a temporary directory
#
# Example:
#   scripts/tui_smoke.sh --session                                  # the demo at 80x24
#   scripts/tui_smoke.sh --size 200x60 --keys "Enter;m;Escape;q" -- --model models/default --clients data/raw/application_test.csv
#
# Exit code: 0 when the app ran and exited (or was killed at the end), 1 when tmux could not start it.
set -euo pipefail

size="80x24"
wait_first=4
step=1
keys=""
session=0
while [[ $# -gt 0 ]]; do
    case "$1" in
        --size) size="$2"; shift 2 ;;
        --wait) wait_first="$2"; shift 2 ;;
        --step) step="$2"; shift 2 ;;
        --keys) keys="$2"; shift 2 ;;
        --session) session=1; shift ;;
        --) shift; break ;;
        -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
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

if [[ "$session" == 1 ]]; then
    work="$(mktemp -d)"
    set -- "$@" --audit-db "$work/audit.sqlite3" --letters-dir "$work" --advisor smoke
    # Steps: search by ID prefix and leave the box; the REVIEW-undecided queue; open its first client;
    # every tab (Why, Profile, History, Portfolio + next feature, What-if, Decisions); a what-if on the
    # credit amount; leave the form and drop the what-if; refuse with a justification (Enter without a
    # reason code is refused and focuses the code: pick "Adverse information"); write the letter;
    # the Decisions tab; everyone's decisions; back; quit.
    keys="/;1 0 0;Escape;x;u;Enter;1;2;3;4;f;5;C-u;1 5 0 0 0 0;Escape;w;r;"
    keys+="i n c o m e Space n o t Space v e r i f i e d Space t o d a y;Enter;Enter;Down Down Down Down Down;Enter;Tab;Enter;l;6;h;Escape;Escape;q"
fi

cols="${size%x*}"
rows="${size#*x}"
session="credit-tui-smoke-$$"
args=""
for a in "$@"; do args+=" $(printf '%q' "$a")"; done

cleanup() { tmux kill-session -t "$session" 2>/dev/null || true; }
trap cleanup EXIT
if [[ "$session" == 1 ]]; then trap 'cleanup; ls "$work"; rm -rf "$work"' EXIT; fi

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
