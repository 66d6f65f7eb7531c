#!/bin/bash
# Decides, once per job, how the orb's later steps run toolkit-ci, and records the choice in $BASH_ENV,
# which CircleCI sources at the start of every step:
#   TOOLKIT_CI_MODE=cli     TOOLKIT_CI_CMD is the command that runs the CLI (words split on spaces)
#   TOOLKIT_CI_MODE=docker  no usable Node: login and logout use the docker CLI alone; run-job needs Node
# Environment:
#   PARAM_VERSION   the exact toolkit-ci version npx runs (pinned: a range would change under a build)
#   TOOLKIT_CI_CLI  optional: a command that replaces npx, e.g. a preinstalled `toolkit-ci`
# Parameters arrive in the environment only: CircleCI would expand its parameter syntax (a double
# less-than sign) even here, so this file has none, not even in a here-document.

if [ -n "${TOOLKIT_CI_MODE:-}" ]; then
  echo "toolkit-ci is already set up in this job (mode: ${TOOLKIT_CI_MODE})."
  exit 0
fi

if [ -z "${BASH_ENV:-}" ]; then
  echo "error: BASH_ENV is not set. The orb's commands run in CircleCI jobs, where it always is." >&2
  exit 2
fi

version="${PARAM_VERSION:-}"
if ! [[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]]; then
  echo "error: version must be an exact toolkit-ci version such as 1.2.3, not a range or a tag." >&2
  exit 2
fi

# The major version of the node on PATH, or nothing when there is none or it cannot run.
node_major() {
  local major
  major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null)" || return 0
  if [[ "$major" =~ ^[0-9]+$ ]]; then printf '%s' "$major"; fi
}

mode=docker
cmd=""
if [ -n "${TOOLKIT_CI_CLI:-}" ]; then
  mode=cli
  cmd="$TOOLKIT_CI_CLI"
  echo "Using toolkit-ci from TOOLKIT_CI_CLI."
elif command -v node >/dev/null 2>&1 && command -v npx >/dev/null 2>&1; then
  major="$(node_major)"
  if [ -n "$major" ] && [ "$major" -ge 20 ]; then
    mode=cli
    cmd="npx --yes toolkit-ci@${version}"
    echo "Using toolkit-ci ${version} through npx (Node ${major})."
  else
    echo "Node ${major:-of unknown version} is older than 20, which toolkit-ci needs: using the docker CLI alone."
  fi
else
  echo "No Node on this executor: login and logout use the docker CLI alone (run-job needs Node 20+)."
fi

if [ "$mode" = cli ]; then
  cli=()
  read -r -a cli < <(printf '%s\n' "$cmd")
  # Runs it once now: npx downloads the pinned package here (later steps reuse npm's cache), and a
  # broken setup fails in this step, with its own message, rather than in the middle of a login.
  if ! installed="$("${cli[@]}" --version)"; then
    echo "error: could not run toolkit-ci (${cmd}). Check that the executor can reach the npm registry," >&2
    echo "or set TOOLKIT_CI_CLI to a toolkit-ci command that is already installed." >&2
    exit 1
  fi
  echo "toolkit-ci ${installed}"
fi

{
  printf 'export TOOLKIT_CI_MODE=%q\n' "$mode"
  printf 'export TOOLKIT_CI_CMD=%q\n' "$cmd"
} >>"$BASH_ENV"
