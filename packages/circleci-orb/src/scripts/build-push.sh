#!/bin/bash
# Builds an image and pushes it to one Toolkit registry as HOST/ORG.ACCOUNT/NAME:TAG, for each tag. The
# push-image job runs it after setup_remote_docker and the login command.
# Environment:
#   PARAM_REGISTRY                regular | volatile | one host[:port]
#   PARAM_REGISTRY_HOST           the host `regular` stands for (empty: registry.console.elementai.com)
#   PARAM_VOLATILE_REGISTRY_HOST  the host `volatile` stands for (empty: volatile-registry.console.elementai.com)
#   PARAM_IMAGE                   ORG.ACCOUNT/NAME, e.g. acme.ml/trainer
#   PARAM_TAGS                    tags, comma or space separated; $VAR and ${VAR} are taken from the
#                                 environment (without eval), e.g. $CIRCLE_SHA1 or ${CIRCLE_TAG}
#   PARAM_DOCKERFILE, PARAM_CONTEXT
#   PARAM_BUILD_ARGS              one NAME=VALUE or NAME per line; NAME alone passes the variable's value
#                                 from the environment, so a secret stays off the command line
#   PARAM_ENV_VAR_NAME            the token's variable, which a tag may not reference
# Later steps get TOOLKIT_CI_IMAGE, the first reference pushed.
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

# Replaces $NAME and ${NAME} in $1 with the variables' values, without eval (a tag is data, not code);
# the token's variables are refused, so a tag can never carry the token.
expand_vars() {
  local text="$1" out="" name
  # shellcheck disable=SC2016 # a regular expression that matches a literal $, not an expansion
  local re='^([^$]*)\$(\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))(.*)$'
  while [[ "$text" =~ $re ]]; do
    name="${BASH_REMATCH[3]:-${BASH_REMATCH[4]}}"
    if [ "$name" = EAI_TOKEN ] || [ "$name" = "${PARAM_ENV_VAR_NAME:-EAI_TOKEN}" ]; then
      echo "error: a tag may not use the token's variable." >&2
      exit 2
    fi
    out+="${BASH_REMATCH[1]}${!name:-}"
    text="${BASH_REMATCH[5]}"
  done
  printf '%s' "$out$text"
}

resolve_hosts
if [ "${#hosts[@]}" -ne 1 ]; then
  echo "error: push-image pushes to one registry: registry must be regular, volatile or one host." >&2
  exit 2
fi
host="${hosts[0]}"

image="${PARAM_IMAGE:-}"
name_re='^[a-z0-9]+([._-][a-z0-9]+)*(/[a-z0-9]+([._-][a-z0-9]+)*)+$'
if ! [[ "$image" =~ $name_re ]]; then
  printf 'error: image "%s" is not ORG.ACCOUNT/NAME in lower case (e.g. acme.ml/trainer).\n' "$image" >&2
  exit 2
fi

refs=()
words=()
IFS=$', \t\n' read -r -d '' -a words < <(printf '%s\0' "${PARAM_TAGS:-}") || true
for word in "${words[@]}"; do
  tag="$(expand_vars "$word")" || exit $?
  if ! [[ "$tag" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$ ]]; then
    # Names the tag as written, not as expanded: a variable's value is not this step's to print.
    printf 'error: tag "%s" does not give a valid Docker tag; is a variable in it empty?\n' "$word" >&2
    exit 2
  fi
  refs+=("${host}/${image}:${tag}")
done
if [ "${#refs[@]}" -eq 0 ]; then
  echo "error: give at least one tag." >&2
  exit 2
fi

build=(build --file "${PARAM_DOCKERFILE:-Dockerfile}")
for ref in "${refs[@]}"; do build+=(--tag "$ref"); done
while IFS= read -r line || [ -n "$line" ]; do
  line="${line#"${line%%[![:space:]]*}"}"
  line="${line%"${line##*[![:space:]]}"}"
  if [ -z "$line" ]; then continue; fi
  if ! [[ "$line" =~ ^[A-Za-z_][A-Za-z0-9_]*(=.*)?$ ]]; then
    echo "error: each line of build_args must be NAME=VALUE or NAME." >&2
    exit 2
  fi
  build+=(--build-arg "$line")
done < <(printf '%s\n' "${PARAM_BUILD_ARGS:-}")
build+=("${PARAM_CONTEXT:-.}")

echo "Building ${refs[*]}"
docker "${build[@]}"
for ref in "${refs[@]}"; do
  docker push "$ref"
  echo "Pushed $ref"
done
printf 'export TOOLKIT_CI_IMAGE=%q\n' "${refs[0]}" >>"$BASH_ENV"
