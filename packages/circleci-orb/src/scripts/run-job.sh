#!/bin/bash
# Submits a Toolkit job with toolkit-ci, records its id for later steps (TOOLKIT_CI_JOB_ID in $BASH_ENV,
# also for the cancel step that runs when this one fails or times out), then waits for it to end, with its
# log, and fails unless it SUCCEEDED (exit 7). It needs Node: the JobSpec and the API are toolkit-ci's.
# Environment:
#   PARAM_ENV_VAR_NAME   the name of the variable that holds the token; toolkit-ci reads it (--token-env)
#   PARAM_API_URL        empty: $EAI_CONSOLE_URL, else https://console.elementai.com
#   PARAM_IMAGE, PARAM_COMMAND (a shell script run with /bin/sh -c, or a JSON array), PARAM_NAME,
#   PARAM_CPU, PARAM_MEM, PARAM_GPU, PARAM_GPU_MEM, PARAM_GPU_MODEL, PARAM_ROLE, PARAM_ACCOUNT,
#   PARAM_WORKDIR, PARAM_MAX_RUN_TIME, PARAM_SPEC (a JobSpec file), PARAM_RESTARTABLE, PARAM_PREEMPTABLE
#   PARAM_ENV            one NAME=VALUE or NAME per line; NAME alone takes the value from this step's
#                        environment, so a secret stays off every command line
#   PARAM_DATA, PARAM_TAGS  one mount / one KEY=VALUE per line
#   PARAM_WAIT, PARAM_FOLLOW, PARAM_TIMEOUT_MINUTES (0: no limit)
#   TOOLKIT_CI_MODE, TOOLKIT_CI_CMD  from the install step
# Exit codes are toolkit-ci's: 2 usage, 3 auth, 4 unreachable, 5 api, 7 the job did not succeed.
# Parameters arrive in the environment only: CircleCI would expand its parameter syntax (a double
# less-than sign) even here, so this file has none, not even in a here-document.

# --- token variable (the same block in every script that reads the token; a test keeps them equal) ---
# How messages name the token's variable: by its name when it looks like one (MY_TOKEN), else by its
# length only, in case the token itself was put where the name belongs.
token_var_label() {
  if [[ "$1" =~ ^[A-Z_][A-Z0-9_]{0,63}$ ]]; then
    printf 'the environment variable %s' "$1"
  else
    printf 'the environment variable named by token_env_var (a %s-character name)' "${#1}"
  fi
}

# Checks PARAM_ENV_VAR_NAME and that its variable holds something; sets token_name and token_label.
require_token_var() {
  token_name="${PARAM_ENV_VAR_NAME:-EAI_TOKEN}"
  token_label="$(token_var_label "$token_name")"
  if ! [[ "$token_name" =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]]; then
    echo "error: token_env_var must be the name of an environment variable (letters, digits and _)," >&2
    echo "not the token: put the token in a project environment variable or a context and name it." >&2
    exit 2
  fi
  if [ -z "${!token_name:-}" ]; then
    echo "error: ${token_label} is empty or not set." >&2
    echo "Add the Toolkit token to Project Settings > Environment Variables, or to a context this job uses," >&2
    echo "and pass that variable's name as token_env_var." >&2
    exit 2
  fi
}
# --- end token variable ---

# Adds `flag line` to args for every non-blank line of $2.
add_lines() {
  local flag="$1" line
  while IFS= read -r line || [ -n "$line" ]; do
    line="${line#"${line%%[![:space:]]*}"}"
    line="${line%"${line##*[![:space:]]}"}"
    if [ -n "$line" ]; then args+=("$flag" "$line"); fi
  done < <(printf '%s\n' "$2")
}

# Adds `flag value` to args when the value is not empty.
add_value() {
  if [ -n "$2" ]; then args+=("$1" "$2"); fi
}

require_token_var
if [ "${TOOLKIT_CI_MODE:-}" != cli ]; then
  echo "error: run-job needs toolkit-ci, which needs Node 20+: use the orb's default executor, or an image" >&2
  echo "with Node (or set TOOLKIT_CI_CLI). The docker-only fallback covers login and logout only." >&2
  exit 2
fi
cli=()
read -r -a cli < <(printf '%s\n' "${TOOLKIT_CI_CMD:-}")
common=(--token-env "$token_name")
if [ -n "${PARAM_API_URL:-}" ]; then common+=(--api-url "$PARAM_API_URL"); fi

args=(job submit)
add_value --image "${PARAM_IMAGE:-}"
add_value --command "${PARAM_COMMAND:-}"
add_value --name "${PARAM_NAME:-}"
add_value --cpu "${PARAM_CPU:-}"
add_value --mem "${PARAM_MEM:-}"
add_value --gpu "${PARAM_GPU:-}"
add_value --gpu-mem "${PARAM_GPU_MEM:-}"
add_value --gpu-model "${PARAM_GPU_MODEL:-}"
add_value --role "${PARAM_ROLE:-}"
add_value --account "${PARAM_ACCOUNT:-}"
add_value --workdir "${PARAM_WORKDIR:-}"
add_value --max-run-time "${PARAM_MAX_RUN_TIME:-}"
add_value --spec "${PARAM_SPEC:-}"
add_lines --env "${PARAM_ENV:-}"
add_lines --data "${PARAM_DATA:-}"
add_lines --tag "${PARAM_TAGS:-}"
if [ "${PARAM_RESTARTABLE:-false}" = true ]; then args+=(--restartable); fi
if [ "${PARAM_PREEMPTABLE:-false}" = true ]; then args+=(--preemptable); fi

# toolkit-ci prints the job's id alone on stdout (its messages go to stderr).
job_id="$("${cli[@]}" "${args[@]}" "${common[@]}")" || exit $?
if ! [[ "$job_id" =~ ^[A-Za-z0-9._-]+$ ]]; then
  echo "error: toolkit-ci did not answer a job id." >&2
  exit 5
fi
printf 'export TOOLKIT_CI_JOB_ID=%q\n' "$job_id" >>"$BASH_ENV"
echo "Toolkit job ${job_id} (later steps get TOOLKIT_CI_JOB_ID)"

if [ "${PARAM_WAIT:-true}" != true ]; then
  exit 0
fi
wait_args=(job wait "$job_id")
if [ "${PARAM_FOLLOW:-true}" = true ]; then wait_args+=(--follow); fi
timeout="${PARAM_TIMEOUT_MINUTES:-0}"
if [ -n "$timeout" ] && [ "$timeout" != 0 ]; then wait_args+=(--timeout-minutes "$timeout"); fi
"${cli[@]}" "${wait_args[@]}" "${common[@]}" || exit $?
