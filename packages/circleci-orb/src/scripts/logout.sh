#!/bin/bash
# Logs Docker out of Toolkit's registries. It needs no token, so it works in any step, also after a
# failure (the command's step runs `when: always`), and with the docker CLI alone when there is no Node.
# Environment:
#   PARAM_REGISTRY                regular | volatile | both | none | host[:port], comma or newline separated
#   PARAM_REGISTRY_HOST           the host `regular` stands for (empty: registry.console.elementai.com)
#   PARAM_VOLATILE_REGISTRY_HOST  the host `volatile` stands for (empty: volatile-registry.console.elementai.com)
#   TOOLKIT_CI_MODE, TOOLKIT_CI_CMD  from the install step, when it ran
# A host that cannot be logged out of is a warning: the job's container is thrown away anyway. When
# toolkit-ci fails (it could not be fetched, say), the docker CLI logs out instead.
# Parameters arrive in the environment only: CircleCI would expand its parameter syntax (a double
# less-than sign) even here, so this file has none, not even in a here-document.

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

if [ "${TOOLKIT_CI_MODE:-}" = cli ]; then
  cli=()
  read -r -a cli < <(printf '%s\n' "${TOOLKIT_CI_CMD:-}")
  args=(logout --registry "${PARAM_REGISTRY:-regular}")
  if [ -n "${PARAM_REGISTRY_HOST:-}" ]; then args+=(--registry-host "$PARAM_REGISTRY_HOST"); fi
  if [ -n "${PARAM_VOLATILE_REGISTRY_HOST:-}" ]; then
    args+=(--volatile-registry-host "$PARAM_VOLATILE_REGISTRY_HOST")
  fi
  if "${cli[@]}" "${args[@]}"; then
    exit 0
  fi
  # A clean-up step must not depend on the CLI: the docker CLI alone can log out too.
  echo "warning: toolkit-ci logout failed; logging out with the docker CLI instead."
fi

resolve_hosts
if [ "${#hosts[@]}" -eq 0 ]; then
  echo "registry none: no docker logout."
  exit 0
fi
if ! command -v docker >/dev/null 2>&1; then
  echo "warning: the docker CLI is not installed in this executor: nothing to log out of."
  exit 0
fi
for host in "${hosts[@]}"; do
  if output="$(docker logout "$host" 2>&1)"; then
    echo "Logged out of $host"
  else
    printf 'warning: docker logout %s failed: %s\n' "$host" "$output"
  fi
done
