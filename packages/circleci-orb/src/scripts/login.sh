#!/bin/bash
# Logs Docker in to Toolkit's registries with the token held by the environment variable NAMED by
# PARAM_ENV_VAR_NAME. The token is read by indirect expansion and never printed: toolkit-ci gets the
# variable's name, docker gets the token on stdin, and $BASH_ENV gets a reference to the variable, never
# its value.
# Environment:
#   PARAM_ENV_VAR_NAME            the name of the variable that holds the token (default EAI_TOKEN)
#   PARAM_REGISTRY                regular | volatile | both | none | host[:port], comma or newline separated
#   PARAM_REGISTRY_HOST           the host `regular` stands for (empty: registry.console.elementai.com)
#   PARAM_VOLATILE_REGISTRY_HOST  the host `volatile` stands for (empty: volatile-registry.console.elementai.com)
#   PARAM_API_URL                 the Toolkit API (empty: $EAI_CONSOLE_URL, else https://console.elementai.com)
#   PARAM_VERIFY                  true: check the token with GET /v1/me first (needs the CLI)
#   PARAM_EXPORT_ENV              true: later steps get EAI_TOKEN (and EAI_CONSOLE_URL)
#   TOOLKIT_CI_MODE, TOOLKIT_CI_CMD  from the install step
# Exit codes, as toolkit-ci's: 2 usage, 3 a registry refused the token, 6 docker failed or is missing.
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

# --- registry hosts (the same block in login.sh, logout.sh and build-push.sh; a test keeps them equal) ---
# Resolves PARAM_REGISTRY into the array `hosts` (in order, without repeats), or says what is wrong and
# exits 2. The words, separators (commas, new lines) and defaults are toolkit-ci's, for executors without
# Node; a host needs a dot or a port here (or is localhost), so a mistyped word is not taken for a host.
resolve_hosts() {
  local regular="${PARAM_REGISTRY_HOST:-registry.console.elementai.com}"
  local volatile="${PARAM_VOLATILE_REGISTRY_HOST:-volatile-registry.console.elementai.com}"
  local label='[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?'
  local host_re="^((${label}(\\.${label})+|localhost)(:[0-9]{1,5})?|${label}:[0-9]{1,5}|\\[[0-9A-Fa-f:.]+\\](:[0-9]{1,5})?)\$"
  local item word items=() words=()
  for word in "$regular" "$volatile"; do
    if ! [[ "$word" =~ $host_re ]]; then
      printf 'error: registry host "%s" is not a host[:port] (no scheme, no path).\n' "$word" >&2
      exit 2
    fi
  done
  IFS=$',\n' read -r -d '' -a items < <(printf '%s\0' "${PARAM_REGISTRY:-regular}") || true
  for item in "${items[@]}"; do
    item="${item#"${item%%[![:space:]]*}"}"
    item="${item%"${item##*[![:space:]]}"}"
    if [ -n "$item" ]; then words+=("$item"); fi
  done
  hosts=()
  for word in "${words[@]}"; do
    case "${word,,}" in
      regular) add_host "$regular" ;;
      volatile) add_host "$volatile" ;;
      both) add_host "$regular" && add_host "$volatile" ;;
      none)
        if [ "${#words[@]}" -gt 1 ]; then
          echo "error: registry combines none with other registries: use none alone." >&2
          exit 2
        fi
        ;;
      *)
        if ! [[ "$word" =~ $host_re ]]; then
          printf 'error: registry "%s" is not regular, volatile, both, none or a host[:port].\n' "$word" >&2
          exit 2
        fi
        add_host "$word"
        ;;
    esac
  done
}

add_host() {
  local known
  for known in "${hosts[@]}"; do
    if [ "$known" = "$1" ]; then return 0; fi
  done
  hosts+=("$1")
}
# --- end registry hosts ---

# Hides the token and each half of an ACCESS:SECRET key in text from docker, which should never hold
# them; this is a second line of defence, not the first.
redact() {
  local text="$1" part
  text="${text//"$token"/***}"
  if [[ "$token" =~ ^[^:]+:[^:]+$ ]]; then
    for part in "${token%%:*}" "${token#*:}"; do
      text="${text//"$part"/***}"
    done
  fi
  printf '%s' "$text"
}

# Logs in to every host with the docker CLI alone, the token on stdin; on a failure, logs out of the
# hosts already done, so a failed step leaves no credential behind.
docker_login_all() {
  local host output done_host logged_in=()
  local refused='401|403|[Uu]nauthorized|[Ff]orbidden'
  if [ "${#hosts[@]}" -eq 0 ]; then
    echo "registry none: no docker login."
    return 0
  fi
  if ! command -v docker >/dev/null 2>&1; then
    echo "error: the docker CLI is not installed in this executor; use one that has it." >&2
    exit 6
  fi
  for host in "${hosts[@]}"; do
    # docker gets the token on stdin only: the subshell unsets the variable that holds it, so docker's
    # environment does not carry it either.
    if output="$(printf '%s' "$token" | (unset "$token_name" && exec docker login -u console --password-stdin "$host") 2>&1)"; then
      logged_in+=("$host")
      echo "Logged in to $host"
      continue
    fi
    printf '%s\n' "$(redact "$output")" >&2
    for done_host in "${logged_in[@]}"; do
      docker logout "$done_host" >/dev/null 2>&1 || true
      echo "Logged out of $done_host again (rollback)"
    done
    if [[ "$output" =~ $refused ]]; then
      echo "error: registry $host refused the token in ${token_label} (invalid, expired or revoked?)." >&2
      exit 3
    fi
    echo "error: docker login to $host failed." >&2
    exit 6
  done
}

require_token_var
mode="${TOOLKIT_CI_MODE:-}"

if [ "$mode" = cli ]; then
  cli=()
  read -r -a cli < <(printf '%s\n' "${TOOLKIT_CI_CMD:-}")
  args=(login --token-env "$token_name" --registry "${PARAM_REGISTRY:-regular}" --export none)
  if [ -n "${PARAM_REGISTRY_HOST:-}" ]; then args+=(--registry-host "$PARAM_REGISTRY_HOST"); fi
  if [ -n "${PARAM_VOLATILE_REGISTRY_HOST:-}" ]; then
    args+=(--volatile-registry-host "$PARAM_VOLATILE_REGISTRY_HOST")
  fi
  if [ -n "${PARAM_API_URL:-}" ]; then args+=(--api-url "$PARAM_API_URL"); fi
  if [ "${PARAM_VERIFY:-true}" = false ]; then args+=(--no-verify); fi
  "${cli[@]}" "${args[@]}" || exit $?
elif [ "$mode" = docker ]; then
  resolve_hosts
  token="${!token_name}"
  trimmed="${token#"${token%%[![:space:]]*}"}"
  trimmed="${trimmed%"${trimmed##*[![:space:]]}"}"
  if [ "$trimmed" != "$token" ]; then
    echo "warning: ${token_label} has whitespace around the token (a trailing newline?): it is trimmed."
    token="$trimmed"
  fi
  if [ -z "$token" ] || [[ "$token" =~ [[:space:][:cntrl:]] ]]; then
    echo "error: ${token_label} does not hold a token: it is blank or has whitespace inside." >&2
    exit 2
  fi
  if [ "${PARAM_VERIFY:-true}" = true ]; then
    echo "No Node here, so the token is not checked with GET /v1/me: each registry checks it instead."
  fi
  docker_login_all
else
  echo "error: toolkit-ci is not set up in this job: run the toolkit-ci/install command first." >&2
  exit 2
fi

if [ "${PARAM_EXPORT_ENV:-true}" = true ]; then
  if [ "$token_name" != EAI_TOKEN ]; then
    # The line names the variable instead of holding its value: CircleCI puts project and context
    # variables in every step's environment, so the reference resolves there and no file holds the token.
    # shellcheck disable=SC2016
    printf 'export EAI_TOKEN="${%s}"\n' "$token_name" >>"$BASH_ENV"
    echo "Later steps of this job get EAI_TOKEN from ${token_label}."
  fi
  if [ -n "${PARAM_API_URL:-}" ]; then
    printf 'export EAI_CONSOLE_URL=%q\n' "$PARAM_API_URL" >>"$BASH_ENV"
    echo "Later steps of this job get EAI_CONSOLE_URL=${PARAM_API_URL}."
  fi
fi
